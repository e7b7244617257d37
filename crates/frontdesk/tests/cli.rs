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

#[test]
fn agent_tests_are_added_run_and_compared() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(frontdesk(dir.path()).args([
        "agent-tests",
        "add",
        "--name",
        "human",
        "--question",
        "can I talk to a person please",
        "--expect",
        r#"[{"kind":"hands_off","trigger":"visitor_asked"}]"#,
    ]));
    assert!(ok, "{err}");
    assert!(out.contains("agent test human saved"), "{out}");
    let (ok, _, err) =
        run(frontdesk(dir.path()).args(["agent-tests", "add", "--name", "x", "--question", "q", "--expect", "[]"]));
    assert!(!ok);
    assert!(err.contains("expect"), "{err}");
    let (ok, out, err) = run(frontdesk(dir.path()).args(["agent-tests", "run"]));
    assert!(ok, "{err}");
    assert!(out.contains("PASS") && out.contains("score: 1/1 passed (first run)"), "{out}");
    // A failing case makes the command fail, and the comparison names the previous run.
    let (ok, _, err) = run(frontdesk(dir.path()).args([
        "agent-tests",
        "add",
        "--name",
        "impossible",
        "--question",
        "what is the meaning of life",
        "--expect",
        r#"[{"kind":"answers"}]"#,
    ]));
    assert!(ok, "{err}");
    let (ok, out, _) = run(frontdesk(dir.path()).args(["agent-tests", "run"]));
    assert!(!ok, "a failing test fails the command");
    assert!(out.contains("FAIL") && out.contains("score: 1/2 passed (previous run #1: 1/1"), "{out}");
}

#[test]
fn eval_answers_counts_what_the_responder_did() {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("content");
    std::fs::create_dir_all(content.join("en")).unwrap();
    std::fs::write(
        content.join("en/trash.md"),
        "# Deleted files\n\nDeleted files stay in the Trash for 30 days. After that they are erased for good.\n",
    )
    .unwrap();
    std::fs::write(
        content.join("en/plans.md"),
        "# Plans\n\nThe Starter plan costs 5 euros per month. The Business plan costs 12 euros per user per month.\n",
    )
    .unwrap();
    let questions = dir.path().join("q.jsonl");
    std::fs::write(
        &questions,
        [
            r#"{"id":"1","question":"How long do deleted files stay in the trash?","lang":"en","expected_sources":["en/trash.md"],"expected_answer_contains":["30 days"]}"#,
            r#"{"id":"2","question":"How much does the Business plan cost per user?","lang":"en","expected_sources":["en/plans.md"],"expected_answer_contains":["12 euros"]}"#,
            r#"{"id":"3","question":"Can I pay with bitcoin at your shop in Tokyo?","lang":"en","expected_sources":[],"expected_answer_contains":[]}"#,
            r#"{"id":"4","question":"I want to speak to a human","lang":"en","expected_sources":[],"expected_answer_contains":[]}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let (ok, out, err) = run(frontdesk(dir.path()).args([
        "eval",
        "answers",
        "--content",
        content.to_str().unwrap(),
        "--questions",
        questions.to_str().unwrap(),
        "--models-dir",
        "/nonexistent",
        "--json",
    ]));
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    let all = &v["groups"]["all"];
    assert_eq!(all["n"], 4, "{v}");
    assert_eq!(all["answered_right"], 2, "{v}");
    assert_eq!(all["handed_off_when_needed"], 2, "{v}");
    assert_eq!(all["answered_wrong_source"], 0, "{v}");
    assert_eq!(all["answered_unanswerable"], 0, "{v}");
    assert_eq!(all["text_matches"], 2, "{v}");
    assert_eq!(all["precision"], 1.0, "{v}");
    assert_eq!(all["coverage"], 1.0, "{v}");
    assert_eq!(all["handoff_accuracy"], 1.0, "{v}");
    assert_eq!(v["groups"]["lang=en"]["n"], 4, "{v}");
    assert_eq!(v["groups"]["kind=same-language"]["n"], 2, "{v}");
    assert_eq!(v["groups"]["kind=unanswerable"]["n"], 2, "{v}");

    // Retrieval by every retriever, and a fit written as JSON that eval reads back.
    let (ok, out, err) = run(frontdesk(dir.path()).args([
        "eval",
        "retrieval",
        "--content",
        content.to_str().unwrap(),
        "--questions",
        questions.to_str().unwrap(),
        "--models-dir",
        "/nonexistent",
    ]));
    assert!(ok, "{err}");
    assert!(out.contains("bm25 R@1/R@5/MRR") && out.contains("ranked R@1/R@5/MRR"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("all ") && l.contains("1.00 / 1.00 / 1.000")), "{out}");
    let fit = dir.path().join("fit.json");
    let (ok, out, err) = run(frontdesk(dir.path()).args([
        "eval",
        "calibrate",
        "--content",
        content.to_str().unwrap(),
        "--questions",
        questions.to_str().unwrap(),
        "--models-dir",
        "/nonexistent",
        "--out",
        fit.to_str().unwrap(),
    ]));
    assert!(ok, "{err}");
    assert!(out.contains("chosen threshold"), "{out}");
    let m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&fit).unwrap()).unwrap();
    assert_eq!(m["embedder"], serde_json::Value::Null, "{m}");
    assert_eq!(m["ranker"]["weights"].as_array().unwrap().len(), 8, "{m}");
    assert_eq!(m["calibration"]["weights"].as_array().unwrap().len(), 9, "{m}");
    let (ok, _, err) = run(frontdesk(dir.path()).args([
        "eval",
        "answers",
        "--content",
        content.to_str().unwrap(),
        "--questions",
        questions.to_str().unwrap(),
        "--models-dir",
        "/nonexistent",
        "--model",
        fit.to_str().unwrap(),
    ]));
    assert!(ok, "{err}");
}

#[test]
fn user_reset_2fa_removes_the_second_factor() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(frontdesk(dir.path()).args(["user", "add", "--email", "kay@example.com", "--name", "Kay"]));
    assert!(ok, "{err}");
    let url = format!("sqlite://{}", dir.path().join("frontdesk.db").display());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let user_id = rt.block_on(async {
        let store = frontdesk_store::open(&url).await.unwrap();
        let (u, _) = store.find_user_by_email("kay@example.com").await.unwrap().unwrap();
        store.begin_totp(u.id, "JBSWY3DPEHPK3PXP").await.unwrap();
        store.confirm_totp(&frontdesk_store::Actor::system("test"), u.id, 1).await.unwrap();
        u.id
    });
    let (ok, out, err) = run(frontdesk(dir.path()).args(["user", "reset-2fa", "--email", "kay@example.com"]));
    assert!(ok, "{err}");
    assert!(out.contains("two-factor authentication of kay@example.com was reset"), "{out}");
    rt.block_on(async {
        let store = frontdesk_store::open(&url).await.unwrap();
        assert!(store.user_totp(user_id).await.unwrap().is_none());
        let audit = store
            .list_audit(frontdesk_store::AuditFilter {
                entity_type: Some("user_totp".into()),
                limit: 1,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!((audit[0].action.as_str(), audit[0].actor_label.as_str()), ("reset", "cli"));
    });
    let (ok, out, _) = run(frontdesk(dir.path()).args(["user", "reset-2fa", "--email", "kay@example.com"]));
    assert!(ok);
    assert!(out.contains("has no two-factor authentication"), "{out}");
    let (ok, _, err) = run(frontdesk(dir.path()).args(["user", "reset-2fa", "--email", "nobody@example.com"]));
    assert!(!ok);
    assert!(err.contains("no user with email"), "{err}");
}
