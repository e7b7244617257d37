//! `frontdesk`: the one binary. Thin: parses the command line, loads the
//! settings, and calls into the server and store crates.

#[cfg(feature = "bench")]
mod bench;
mod eval;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use frontdesk_server::config::Settings;
use frontdesk_store::{Actor, NewUser};

#[derive(Parser)]
#[command(name = "frontdesk", version, about = "Self-hosted AI customer agent with the help desk around it")]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Process settings; each overrides the settings file and `FRONTDESK_*` variables.
#[derive(Args, Clone, Default)]
struct GlobalArgs {
    /// Settings file (TOML). Default: ./frontdesk.toml when it exists.
    #[arg(long, global = true, env = "FRONTDESK_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long, global = true)]
    listen: Option<String>,
    /// Data directory (default ./data).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Database URL: postgres://… for PostgreSQL; default a SQLite file in the data dir.
    #[arg(long, global = true)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (HTTP API, console, widget, job worker).
    Serve {
        /// Create the demo workspace (admin, agent "Luma", short answers, /demo page) if missing.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API keys.
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
    /// Run the agent's saved tests (K3) against the current configuration.
    AgentTests {
        #[command(subcommand)]
        command: AgentTestsCommand,
    },
    /// Measure answer quality on labelled questions.
    Eval {
        #[command(subcommand)]
        command: eval::EvalCommand,
    },
    /// Benchmarks that print figures (built with the `bench` feature).
    #[cfg(feature = "bench")]
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
}

#[derive(Subcommand)]
enum AgentTestsCommand {
    /// Save a test: a question and what the agent must do with it.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        question: String,
        /// Expectations as JSON, e.g. '[{"kind":"contains","text":"9:00"}]' or '[{"kind":"hands_off"}]'.
        #[arg(long)]
        expect: String,
    },
    /// Run every saved test, record the run, print each case; exits with 1 when one fails.
    Run {
        /// Print one JSON object (the run and its comparison with the previous one).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; prints a generated password unless --password is given.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, editor, agent or viewer
        #[arg(long, default_value = "agent")]
        role: String,
        #[arg(long, env = "FRONTDESK_NEW_USER_PASSWORD")]
        password: Option<String>,
        /// The user has no paid seat (cannot edit the agent or receive conversations).
        #[arg(long)]
        no_seat: bool,
    },
    /// Remove a user's two-factor authentication (a lost phone): they sign in
    /// with the password alone and can set it up again. Audited.
    #[command(name = "reset-2fa")]
    Reset2fa {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum ApikeyCommand {
    /// Create an API key acting as the given user; the key is printed once.
    Create {
        /// Email of the user the key acts as.
        #[arg(long)]
        user: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

fn load_settings(g: &GlobalArgs) -> anyhow::Result<Settings> {
    let path = g.config.clone().or_else(|| {
        let p = PathBuf::from("frontdesk.toml");
        p.exists().then_some(p)
    });
    let text = match &path {
        Some(p) => {
            Some(std::fs::read_to_string(p).with_context(|| format!("reading the settings file {}", p.display()))?)
        }
        None => None,
    };
    let mut s = Settings::layered(text.as_deref(), std::env::vars())?;
    if let Some(v) = &g.listen {
        s.listen = v.clone();
    }
    if let Some(v) = &g.data_dir {
        s.data_dir = v.clone();
    }
    if let Some(v) = &g.database_url {
        s.database_url = v.clone();
    }
    Ok(s)
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("FRONTDESK_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let json = std::env::var("FRONTDESK_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn generated_password() -> anyhow::Result<(String, String)> {
    let password = frontdesk_engine::tokens::random_token("")[..20].to_owned();
    let hash = frontdesk_engine::tokens::hash_password(&password)?;
    Ok((password, hash))
}

async fn open_store(s: &Settings) -> anyhow::Result<std::sync::Arc<dyn frontdesk_store::Store>> {
    std::fs::create_dir_all(&s.data_dir).with_context(|| format!("creating the data dir {}", s.data_dir.display()))?;
    let url = s.effective_database_url();
    frontdesk_store::open(&url).await.with_context(|| format!("opening the database {}", redact(&url)))
}

/// Hides a password in a database URL.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(a), Some(b)) if b > a => match url[a + 3..b].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..a + 3], &url[b..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

fn main() -> anyhow::Result<()> {
    // An extraction child (the server re-executes this binary to read one file under
    // CPU, memory and time limits): checked first, before a runtime starts threads.
    if std::env::args_os().nth(1).is_some_and(|a| a == frontdesk_engine::extract_child::CHILD_ARG) {
        std::process::exit(frontdesk_engine::extract_child::child_main());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let result = runtime.block_on(run(Cli::parse()));
    // Work on a blocking thread cannot be cancelled (e.g. an extraction a
    // stopped job left running): do not wait for it, so a shutdown ends
    // within its grace period.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    result
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    init_tracing();
    match cli.command {
        Command::Serve { demo } => {
            let settings = load_settings(&cli.global)?;
            let store = open_store(&settings).await?;
            if demo {
                if let Some(password) = frontdesk_server::demo::seed(store.as_ref(), generated_password).await? {
                    println!("Demo admin created. Sign in at /login with:");
                    println!("  email:    {}", frontdesk_server::demo::DEMO_ADMIN_EMAIL);
                    println!("  password: {password}");
                    println!("(shown once; run `frontdesk user add` to create more users)");
                } else {
                    println!("Demo workspace already exists; admin: {}", frontdesk_server::demo::DEMO_ADMIN_EMAIL);
                }
            }
            let app = frontdesk_server::startup::Application::with_store(settings, store).await?;
            let addr = app.local_addr()?;
            println!("Frontdesk listening on http://{addr}  (console: /console, demo: /demo, API docs: /api/docs)");
            app.run_until(shutdown_signal()).await
        }
        Command::Migrate => {
            let settings = load_settings(&cli.global)?;
            let store = open_store(&settings).await?;
            println!("migrations applied ({})", store.backend());
            Ok(())
        }
        Command::User { command: UserCommand::Add { email, name, role, password, no_seat } } => {
            let settings = load_settings(&cli.global)?;
            let store = open_store(&settings).await?;
            let input = frontdesk_engine::service::users::UserInput {
                email,
                name,
                password: password.clone().unwrap_or_else(|| generated_password().map(|p| p.0).unwrap_or_default()),
                role,
                paid_seat: !no_seat,
            };
            let shown = if password.is_none() { Some(input.password.clone()) } else { None };
            let new: NewUser = input.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
            let user = store.create_user(&Actor::system("cli"), new).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("user {} created (id {}, role {})", user.email, user.id, user.role);
            if let Some(p) = shown {
                println!("password: {p}");
            }
            Ok(())
        }
        Command::User { command: UserCommand::Reset2fa { email } } => {
            let settings = load_settings(&cli.global)?;
            let store = open_store(&settings).await?;
            let (u, _) =
                store.find_user_by_email(&email).await?.with_context(|| format!("no user with email {email}"))?;
            let removed = frontdesk_engine::service::login::reset(store.as_ref(), &Actor::system("cli"), u.id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if removed {
                println!("two-factor authentication of {} was reset; they sign in with the password alone", u.email);
            } else {
                println!("{} has no two-factor authentication; nothing changed", u.email);
            }
            Ok(())
        }
        Command::Apikey { command: ApikeyCommand::Create { user, name } } => {
            let settings = load_settings(&cli.global)?;
            let store = open_store(&settings).await?;
            let (u, _) =
                store.find_user_by_email(&user).await?.with_context(|| format!("no user with email {user}"))?;
            let (secret, key) =
                frontdesk_engine::service::users::new_api_key(store.as_ref(), &Actor::system("cli"), u.id, &name)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("API key {} (id {}) for {}; it is shown only once:", key.name, key.id, u.email);
            println!("{secret}");
            Ok(())
        }
        Command::AgentTests { command: AgentTestsCommand::Add { name, question, expect } } => {
            let settings = load_settings(&cli.global)?;
            let store = open_store(&settings).await?;
            let expect: Vec<serde_json::Value> =
                serde_json::from_str(&expect).context("--expect must be a JSON array of expectations")?;
            let new = frontdesk_engine::service::test_cases::AgentTestInput { name, question, expect }
                .parse()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let t = store.create_agent_test(&Actor::system("cli"), new).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("agent test {} saved (id {})", t.name, t.id);
            Ok(())
        }
        Command::AgentTests { command: AgentTestsCommand::Run { json } } => {
            let mut settings = load_settings(&cli.global)?;
            // The index is a cache: rebuild it in a scratch directory so a running server's is untouched.
            settings.database_url = settings.effective_database_url();
            let scratch = tempfile::tempdir()?;
            settings.data_dir = scratch.path().to_path_buf();
            settings.listen = "127.0.0.1:0".into();
            settings.run_worker = false;
            let app = frontdesk_server::startup::Application::build(settings).await?;
            let report = frontdesk_agent::test_cases::run_suite(&app.state.agent, &Actor::system("cli")).await?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                for r in &report.run.results {
                    println!("{} #{} {}: {}", if r.passed { "PASS" } else { "FAIL" }, r.test_id, r.name, r.question);
                    for c in r.checks.iter().filter(|c| !c.passed) {
                        println!("     expected: {}; got: {}", c.expectation.describe(), c.detail);
                    }
                }
                print!("score: {}/{} passed", report.run.passed, report.run.total);
                match report.previous {
                    Some(p) => println!(
                        " (previous run #{}: {}/{}; {} regressed, {} fixed)",
                        p.run_id,
                        p.passed,
                        p.total,
                        report.regressions.len(),
                        report.fixed.len()
                    ),
                    None => println!(" (first run)"),
                }
            }
            if report.run.passed < report.run.total {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Eval { command } => eval::run(command, load_settings(&cli.global)?).await,
        #[cfg(feature = "bench")]
        Command::Bench { command } => bench::run(command, cli.global.database_url.clone()).await,
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redacts_database_passwords() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
    }
}
