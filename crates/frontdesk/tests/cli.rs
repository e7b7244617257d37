//! The binary's commands, run as a user would run them.

use std::process::Command;

fn frontdesk(data_dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_frontdesk"));
    c.env_remove("FRONTDESK_DATABASE_URL").env("FRONTDESK_DATA_DIR", data_dir).env("FRONTDESK_LOG", "warn");
    c
}

fn run(c: &mut Command) -> (bool, String, String) {
    let out = c.output().expect("run frontdesk");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn migrate_user_add_and_apikey_create() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(frontdesk(dir.path()).arg("migrate"));
    assert!(ok, "{err}");
    assert!(out.contains("migrations applied (sqlite)"), "{out}");
    assert!(dir.path().join("frontdesk.db").exists(), "FRONTDESK_DATA_DIR chose where the database lives");

    let (ok, out, err) = run(frontdesk(dir.path()).args([
        "user",
        "add",
        "--email",
        "ops@example.com",
        "--name",
        "Ops",
        "--role",
        "admin",
    ]));
    assert!(ok, "{err}");
    assert!(out.contains("user ops@example.com created"), "{out}");
    let password =
        out.lines().find_map(|l| l.strip_prefix("password: ")).expect("a generated password is printed once");
    assert!(password.len() >= 16);

    let (ok, _, err) = run(frontdesk(dir.path()).args(["user", "add", "--email", "ops@example.com", "--name", "Ops"]));
    assert!(!ok);
    assert!(err.contains("already exists"), "{err}");
    let (ok, _, err) = run(frontdesk(dir.path()).args(["user", "add", "--email", "not-an-email", "--name", "X"]));
    assert!(!ok);
    assert!(err.contains("email"), "{err}");

    let (ok, out, err) =
        run(frontdesk(dir.path()).args(["apikey", "create", "--user", "ops@example.com", "--name", "deploy"]));
    assert!(ok, "{err}");
    let key = out.lines().last().unwrap().trim();
    assert!(key.starts_with("fdk_") && key.len() > 30, "{out}");
    let (ok, _, err) = run(frontdesk(dir.path()).args(["apikey", "create", "--user", "nobody@example.com"]));
    assert!(!ok);
    assert!(err.contains("no user with email"), "{err}");
}

#[test]
fn flags_override_the_environment_and_the_settings_file() {
    let dir = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("frontdesk.toml");
    std::fs::write(&cfg, format!("data_dir = {:?}\n", dir.path().join("from-file"))).unwrap();
    // File only.
    let (ok, _, err) = run(Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .env_remove("FRONTDESK_DATA_DIR")
        .env_remove("FRONTDESK_DATABASE_URL")
        .args(["--config", cfg.to_str().unwrap(), "migrate"]));
    assert!(ok, "{err}");
    assert!(dir.path().join("from-file/frontdesk.db").exists());
    // The environment beats the file; the flag beats both.
    let (ok, _, err) =
        run(frontdesk(&other.path().join("from-env")).args(["--config", cfg.to_str().unwrap(), "migrate"]));
    assert!(ok, "{err}");
    assert!(other.path().join("from-env/frontdesk.db").exists());
    let flag_dir = other.path().join("from-flag");
    let (ok, _, err) = run(frontdesk(&other.path().join("from-env")).args([
        "--config",
        cfg.to_str().unwrap(),
        "--data-dir",
        flag_dir.to_str().unwrap(),
        "migrate",
    ]));
    assert!(ok, "{err}");
    assert!(flag_dir.join("frontdesk.db").exists());
    // A bad settings file is a clear error.
    std::fs::write(&cfg, "listn = 1\n").unwrap();
    let (ok, _, err) =
        run(Command::new(env!("CARGO_BIN_EXE_frontdesk")).args(["--config", cfg.to_str().unwrap(), "migrate"]));
    assert!(!ok);
    assert!(err.contains("listn"), "{err}");
}
