//! The test harness: a real server on port 0 over a fresh database.

#![allow(dead_code)]

use std::sync::Arc;

use frontdesk_core::model::Role;
use frontdesk_server::config::Settings;
use frontdesk_server::startup::Application;
use frontdesk_server::state::AppState;
use frontdesk_store::{Actor, NewUser, Store};
use serde_json::{json, Value};
use sqlx::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server for tests: `FRONTDESK_TEST_POSTGRES_URL`. Missing
/// it is a failure under `CI=true`, a loud skip otherwise.
pub fn postgres_base_url() -> Option<String> {
    match std::env::var("FRONTDESK_TEST_POSTGRES_URL") {
        Ok(u) if !u.trim().is_empty() => Some(u),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true but FRONTDESK_TEST_POSTGRES_URL is not set: PostgreSQL tests are required in CI");
            }
            eprintln!("SKIPPED: PostgreSQL test (set FRONTDESK_TEST_POSTGRES_URL to run it)");
            None
        }
    }
}

/// A database that exists for one test.
pub enum TestDb {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, name: String, url: String, data_dir: tempfile::TempDir },
}

impl TestDb {
    pub async fn create(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => Some(TestDb::Sqlite(tempfile::tempdir().expect("temp dir"))),
            Backend::Postgres => {
                let admin_url = postgres_base_url()?;
                let name = format!("fdtest_{}_{}", std::process::id(), rand_suffix());
                let mut conn = sqlx::PgConnection::connect(&admin_url).await.expect("connect to PostgreSQL");
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create test database");
                let url = match admin_url.rsplit_once('/') {
                    Some((base, _)) => format!("{base}/{name}"),
                    None => panic!("FRONTDESK_TEST_POSTGRES_URL must end with /database"),
                };
                Some(TestDb::Postgres { admin_url, name, url, data_dir: tempfile::tempdir().expect("temp dir") })
            }
        }
    }

    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite(dir) => format!("sqlite://{}", dir.path().join("frontdesk.db").display()),
            TestDb::Postgres { url, .. } => url.clone(),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name, .. } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside async context: use a small runtime on a thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                rt.block_on(async {
                    let mut conn = sqlx::PgConnection::connect(&admin_url).await.ok()?;
                    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await.ok()
                })
            })
            .join();
        }
    }
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{t}_{}", N.fetch_add(1, Ordering::Relaxed))
}

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub client: reqwest::Client,
    pub admin_key: String,
    pub admin_id: i64,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    pub db: Arc<TestDb>,
}

pub fn test_settings(db: &TestDb) -> Settings {
    let data_dir = match db {
        TestDb::Sqlite(d) => d.path().to_path_buf(),
        TestDb::Postgres { data_dir, .. } => data_dir.path().to_path_buf(),
    };
    Settings {
        listen: "127.0.0.1:0".into(),
        data_dir,
        database_url: db.url(),
        worker_poll_ms: 50,
        sweep_interval_secs: 3600,
        // BM25 only by default: stories stay fast and deterministic; the
        // embeddings story turns vectors on.
        embeddings: false,
        models_dir: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models"),
        ..Settings::default()
    }
}

impl TestApp {
    /// Starts the server on a fresh database; `None` when the backend is unavailable (skipped).
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        let db = Arc::new(TestDb::create(backend).await?);
        Some(Self::spawn_on(db, |_| {}).await)
    }

    /// Starts the server on a fresh database with adjusted settings.
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> Option<TestApp> {
        let db = Arc::new(TestDb::create(backend).await?);
        Some(Self::spawn_on(db, tweak).await)
    }

    /// Starts the server on an existing database (e.g. after a restart).
    pub async fn spawn_on(db: Arc<TestDb>, tweak: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = test_settings(&db);
        tweak(&mut settings);
        let app = Application::build(settings).await.expect("build the application");
        let addr = app.local_addr().expect("bound address");
        let state = app.state.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        let admin = match state.store.find_user_by_email("admin@test.example").await.unwrap() {
            Some((u, _)) => u,
            None => create_user(state.store.as_ref(), "admin@test.example", Role::Admin, true).await,
        };
        let (admin_key, _) = frontdesk_engine::service::users::new_api_key(
            state.store.as_ref(),
            &Actor::system("test"),
            admin.id,
            "test",
        )
        .await
        .expect("api key");
        TestApp {
            base: format!("http://{addr}"),
            state,
            client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            admin_key,
            admin_id: admin.id,
            shutdown: Some(tx),
            handle: Some(handle),
            db,
        }
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) -> Arc<TestDb> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(10), h).await;
        }
        self.db.clone()
    }

    pub fn store(&self) -> &dyn Store {
        self.state.store.as_ref()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A user with `role` and an API key for them.
    pub async fn user_with_key(&self, email: &str, role: Role, paid_seat: bool) -> (i64, String) {
        let u = create_user(self.store(), email, role, paid_seat).await;
        let (key, _) =
            frontdesk_engine::service::users::new_api_key(self.state.store.as_ref(), &Actor::system("test"), u.id, "k")
                .await
                .unwrap();
        (u.id, key)
    }

    /// Calls the admin API with `key`; returns status and JSON body (Null when empty).
    pub async fn api(&self, key: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut rb = self.client.request(method, self.url(path)).bearer_auth(key);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("request");
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.api(&self.admin_key.clone(), method, path, body).await
    }

    /// Starts a visitor conversation; returns (id, token).
    pub async fn visitor(&self, body: Value) -> (i64, String) {
        let r = self.client.post(self.url("/api/v1/chat/sessions")).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        (v["conversation_id"].as_i64().unwrap(), v["visitor_token"].as_str().unwrap().to_owned())
    }

    pub async fn say(&self, id: i64, token: &str, text: &str) -> (u16, Value) {
        let r = self
            .client
            .post(self.url(&format!("/api/v1/chat/conversations/{id}/messages")))
            .bearer_auth(token)
            .json(&json!({ "text": text }))
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn messages(&self, id: i64, token: &str) -> Vec<Value> {
        let r = self
            .client
            .get(self.url(&format!("/api/v1/chat/conversations/{id}/messages?after=0")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json::<Vec<Value>>().await.unwrap()
    }

    /// Waits until no source is pending or syncing; returns them all. Up to a
    /// minute: a sync waits in the slow lane behind any embedding job, and with
    /// multilingual-e5-small installed a loaded machine embeds slowly.
    pub async fn settled_sources(&self) -> Vec<Value> {
        for _ in 0..1200 {
            let (_, v) = self.admin(reqwest::Method::GET, "/api/v1/sources", None).await;
            let list = v.as_array().unwrap().clone();
            if list.iter().all(|s| s["status"] != "pending" && s["status"] != "syncing") {
                return list;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("sources did not settle");
    }

    /// Seeds the agent "Luma" and a few short answers through the API.
    pub async fn seed_agent(&self) {
        let (s, _) = self
            .admin(reqwest::Method::PUT, "/api/v1/agent", Some(json!({"name": "Luma", "personality": "friendly"})))
            .await;
        assert_eq!(s, 200);
        for (q, a) in [
            ("What are your opening hours?", "We are open from 9:00 to 18:00, Monday to Friday."),
            ("How much does the Pro plan cost?", "The Pro plan costs 12 euros per user per month."),
            ("How do I reset my password?", "Click 'Forgot password' on the sign-in page."),
        ] {
            let (s, _) = self
                .admin(reqwest::Method::POST, "/api/v1/short-answers", Some(json!({"question": q, "answer": a})))
                .await;
            assert_eq!(s, 201);
        }
    }
}

pub async fn create_user(store: &dyn Store, email: &str, role: Role, paid_seat: bool) -> frontdesk_store::User {
    store
        .create_user(
            &Actor::system("test"),
            NewUser {
                email: email.into(),
                name: email.split('@').next().unwrap().into(),
                // A fixed hash of "password123" keeps tests fast.
                password_hash: frontdesk_engine::tokens::hash_password("password123").unwrap(),
                role,
                paid_seat,
            },
        )
        .await
        .expect("create user")
}

/// Runs an async story against SQLite and PostgreSQL as two tests, `name::sqlite`
/// and `name::postgres` (a missing PostgreSQL is a loud skip, a failure with
/// `CI=true`). The one macro of the suite; its options:
///
/// - `both_backends!(story)`: `story(app: TestApp)` on a fresh server;
/// - `both_backends!(story, private_networks)`: the same with
///   `allow_private_networks` on (fake endpoints live on loopback);
/// - `both_backends!(story, settings = |s| …)`: settings adjusted by the
///   closure (`private_networks, settings = …` combines both);
/// - `both_backends!(story, backend)`: `story(backend: Backend)` starts its
///   own servers (restarts, several apps on one database).
#[macro_export]
macro_rules! both_backends {
    ($story:ident) => {
        $crate::both_backends!(@apps $story, |_| {});
    };
    ($story:ident, private_networks) => {
        $crate::both_backends!(@apps $story, |s| s.allow_private_networks = true);
    };
    ($story:ident, settings = $tweak:expr) => {
        $crate::both_backends!(@apps $story, $tweak);
    };
    ($story:ident, private_networks, settings = $tweak:expr) => {
        $crate::both_backends!(@apps $story, |s| {
            s.allow_private_networks = true;
            let tweak: fn(&mut frontdesk_server::config::Settings) = $tweak;
            tweak(s);
        });
    };
    ($story:ident, backend) => {
        mod $story {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$story($crate::common::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$story($crate::common::Backend::Postgres).await;
            }
        }
    };
    (@apps $story:ident, $tweak:expr) => {
        mod $story {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let tweak: fn(&mut frontdesk_server::config::Settings) = $tweak;
                if let Some(app) = $crate::common::TestApp::spawn_with($crate::common::Backend::Sqlite, tweak).await {
                    super::$story(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let tweak: fn(&mut frontdesk_server::config::Settings) = $tweak;
                if let Some(app) = $crate::common::TestApp::spawn_with($crate::common::Backend::Postgres, tweak).await {
                    super::$story(app).await;
                }
            }
        }
    };
}

/// The CSRF token of a console page's first form.
pub fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"_csrf\" value=\"").expect("a CSRF field on the page") + "name=\"_csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// Signs in with the console's form (users from `create_user` have the
/// password "password123"); returns the session cookie.
pub async fn sign_in(app: &TestApp, email: &str) -> String {
    let r = app
        .client
        .post(app.url("/login"))
        .form(&[("email", email), ("password", "password123"), ("next", "/console")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned()
}

/// The text of the agent's last message in a conversation's admin detail.
pub fn last_agent_text(detail: &Value) -> String {
    detail["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .rev()
        .find(|m| m["author"] == "agent")
        .expect("an agent message")["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A signed-in console session: pages and forms as a browser sends them
/// (session cookie, CSRF token in each form).
pub struct Console<'a> {
    pub app: &'a TestApp,
    pub cookie: String,
    pub csrf: String,
}

/// A console form's answer: status, redirect target and body.
pub struct Posted {
    pub status: u16,
    pub location: String,
    pub body: String,
}

impl<'a> Console<'a> {
    /// Signs in (see [`sign_in`]) and reads the session's CSRF token.
    pub async fn sign_in(app: &'a TestApp, email: &str) -> Console<'a> {
        let cookie = sign_in(app, email).await;
        let mut c = Console { app, cookie, csrf: String::new() };
        let (s, html) = c.get("/console").await;
        assert_eq!(s, 200, "{html}");
        c.csrf = csrf_of(&html);
        c
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let r = self.app.client.get(self.app.url(path)).header("cookie", &self.cookie).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Posted {
        let mut fields = vec![("_csrf", self.csrf.as_str())];
        fields.extend_from_slice(form);
        let r =
            self.app.client.post(self.app.url(path)).header("cookie", &self.cookie).form(&fields).send().await.unwrap();
        let status = r.status().as_u16();
        let location = r.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
        Posted { status, location, body: r.text().await.unwrap() }
    }
}

/// A channel written straight to the store, as if saved when its host still
/// pointed to a public address (the API refuses private targets when saving):
/// for the network guard's checks at connection time. Returns its id and
/// inbound key.
pub async fn stored_channel(
    app: &TestApp,
    kind: frontdesk_core::model::Channel,
    config: Value,
    secrets: &[(&str, &str)],
) -> (i64, String) {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let key = format!("fdch_stored_{}_{n}", kind.as_str());
    let row = app
        .store()
        .create_channel(
            &Actor::system("test"),
            frontdesk_store::NewChannel {
                kind,
                name: format!("{} (stored {n})", kind.as_str()),
                agent_deployed: true,
                destination: "inbox".into(),
                config,
                secrets: secrets.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                key_hash: Some(frontdesk_engine::tokens::token_hash(&key)),
            },
        )
        .await
        .expect("create channel");
    (row.id, key)
}
