//! A deploy, as an operator runs one: the real `frontdesk serve` gets
//! SIGTERM while a widget's live stream is open and a crawl is running. The
//! stream ends at once, the process exits within its grace period, a new
//! process on the same data (started while the old one drains) starts
//! without waiting on the old one's search index, and picks up the crawl
//! the old one handed back at once, not after its lease. On SQLite and on
//! PostgreSQL (`FRONTDESK_TEST_POSTGRES_URL`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const GRACE_SECS: u64 = 5;

fn frontdesk(data_dir: &std::path::Path, database_url: Option<&str>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_frontdesk"));
    c.env("FRONTDESK_DATA_DIR", data_dir)
        .env("FRONTDESK_LOG", "info")
        .env("FRONTDESK_LISTEN", "127.0.0.1:0")
        .env("FRONTDESK_EMBEDDINGS", "false")
        .env("FRONTDESK_ALLOW_PRIVATE_NETWORKS", "true")
        .env("FRONTDESK_WORKER_POLL_MS", "50")
        .env("FRONTDESK_SHUTDOWN_GRACE_SECS", GRACE_SECS.to_string());
    match database_url {
        Some(u) => c.env("FRONTDESK_DATABASE_URL", u),
        None => c.env_remove("FRONTDESK_DATABASE_URL"),
    };
    c
}

/// A running `frontdesk serve`, its address and what it logged.
struct Server {
    child: Child,
    addr: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn start(data_dir: &std::path::Path, database_url: Option<&str>) -> Server {
        let mut child = frontdesk(data_dir, database_url)
            .arg("serve")
            // The crawled site is a listener on loopback.
            .env("FRONTDESK_ALLOW_PRIVATE_NETWORKS", "true")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start frontdesk serve");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("Frontdesk listening on http://") {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or_default().to_owned());
                }
            }
        });
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().ok();
                std::thread::sleep(Duration::from_millis(200));
                panic!("frontdesk serve did not start ({status:?}):\n{}", log.lock().unwrap());
            }
        };
        Server { child, addr, log }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn terminate(&self) {
        let ok = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap().success();
        assert!(ok, "kill -TERM failed");
    }

    /// Waits up to `within` for the process to exit.
    fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(s) = self.child.try_wait().unwrap() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request over a fresh connection; the status and the body.
fn http(addr: &str, method: &str, path: &str, key: Option<&str>, body: Option<&Value>) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let auth = key.map(|k| format!("Authorization: Bearer {k}\r\n")).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = if head.to_lowercase().contains("transfer-encoding: chunked") { dechunk(rest) } else { rest.to_owned() };
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

/// Opens a widget's live stream; the returned channel receives when it ends.
fn open_stream(addr: &str, conversation: i64, token: &str) -> mpsc::Receiver<Instant> {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET /api/v1/chat/conversations/{conversation}/stream?token={token} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(s);
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    assert!(status.contains(" 200 "), "the stream opens: {status}");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while matches!(reader.read(&mut buf), Ok(n) if n > 0) {}
        let _ = tx.send(Instant::now());
    });
    rx
}

/// A web server that accepts connections and never answers: a crawl of it
/// stays running.
fn hanging_site() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming().flatten() {
            held.push(c);
        }
    });
    format!("http://{addr}")
}

fn running_crawls(addr: &str, key: &str) -> Vec<Value> {
    let (s, v) = http(addr, "GET", "/api/v1/jobs?status=running", Some(key), None);
    assert_eq!(s, 200, "{v}");
    v.as_array().unwrap().iter().filter(|j| j["kind"] == "crawl_source").cloned().collect()
}

fn wait_until<T>(within: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sigterm_drains_in_seconds_and_the_next_process_starts_at_once(database_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| {
        let out = frontdesk(dir.path(), database_url).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    cli(&["migrate"]);
    cli(&["user", "add", "--email", "ops@example.com", "--name", "Ops", "--role", "admin"]);
    let out = cli(&["apikey", "create", "--user", "ops@example.com", "--name", "deploy"]);
    let key = out.lines().last().unwrap().trim().to_owned();

    let mut old = Server::start(dir.path(), database_url);
    // A crawl that keeps running, and a widget with its live stream open.
    let site = hanging_site();
    let body = json!({"url": format!("{site}/help"), "import_related": true});
    let (s, v) = http(&old.addr, "POST", "/api/v1/sources/url", Some(&key), Some(&body));
    assert_eq!(s, 202, "{v}");
    let crawl = wait_until(Duration::from_secs(20), "the crawl runs", || running_crawls(&old.addr, &key).pop());
    let (s, v) = http(&old.addr, "POST", "/api/v1/chat/sessions", None, Some(&json!({})));
    assert_eq!(s, 201, "{v}");
    let stream_ended =
        open_stream(&old.addr, v["conversation_id"].as_i64().unwrap(), v["visitor_token"].as_str().unwrap());
    assert!(stream_ended.recv_timeout(Duration::from_millis(500)).is_err(), "the stream stays open while serving");

    let sigterm = Instant::now();
    old.terminate();
    // The stream ends at once: the widget reconnects to the next process.
    let ended = stream_ended.recv_timeout(Duration::from_secs(2)).expect("the live stream ends on SIGTERM");
    assert!(ended - sigterm < Duration::from_secs(2));
    // The next process starts while the old one still drains: no LockBusy on the index.
    assert!(old.child.try_wait().unwrap().is_none(), "the old process is still draining");
    let mut new = Server::start(dir.path(), database_url);
    // The old one exits within its grace period (plus a little).
    let status = old.wait_exit(Duration::from_secs(GRACE_SECS + 5)).unwrap_or_else(|| {
        panic!("the old process did not exit within {}s of SIGTERM:\n{}", GRACE_SECS + 5, old.log())
    });
    let exited = sigterm.elapsed();
    assert!(status.success(), "{status:?}\n{}", old.log());
    assert!(
        exited >= Duration::from_secs(GRACE_SECS) - Duration::from_millis(200),
        "the crawl had its grace period (exited after {exited:?}):\n{}",
        old.log()
    );
    assert!(old.log().contains("handed back"), "{}", old.log());
    // The crawl it handed back runs again on the new process at once (its
    // lease, 60 s, is not waited out), with the interrupted attempt not counted.
    let again = wait_until(Duration::from_secs(5), "the new process runs the crawl", || {
        running_crawls(&new.addr, &key).into_iter().find(|j| j["id"] == crawl["id"])
    });
    assert_eq!(again["attempts"], crawl["attempts"], "{again}");
    assert!(!new.log().contains("LockBusy"), "{}", new.log());

    new.terminate();
    let status = new.wait_exit(Duration::from_secs(GRACE_SECS + 5)).expect("the new process exits too");
    assert!(status.success(), "{status:?}\n{}", new.log());
}

#[test]
fn sigterm_drains_in_seconds_and_the_next_process_starts_at_once_sqlite() {
    sigterm_drains_in_seconds_and_the_next_process_starts_at_once(None);
}

#[test]
fn sigterm_drains_in_seconds_and_the_next_process_starts_at_once_postgres() {
    let Some(admin_url) = std::env::var("FRONTDESK_TEST_POSTGRES_URL").ok().filter(|u| !u.trim().is_empty()) else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but FRONTDESK_TEST_POSTGRES_URL is not set: PostgreSQL tests are required in CI");
        }
        eprintln!("SKIPPED: PostgreSQL test (set FRONTDESK_TEST_POSTGRES_URL to run it)");
        return;
    };
    let db = TestDatabase::create(&admin_url);
    sigterm_drains_in_seconds_and_the_next_process_starts_at_once(Some(&db.url));
}

/// A PostgreSQL database for one test, dropped after it.
struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    fn create(admin_url: &str) -> TestDatabase {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let name = format!("fddeploy_{}_{t}", std::process::id());
        Self::exec(admin_url, &format!("CREATE DATABASE {name}"));
        let (base, _) = admin_url.rsplit_once('/').expect("FRONTDESK_TEST_POSTGRES_URL must end with /database");
        TestDatabase { admin_url: admin_url.to_owned(), url: format!("{base}/{name}"), name }
    }

    fn exec(url: &str, sql: &str) {
        use sqlx::Connection;
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let mut conn = sqlx::PgConnection::connect(url).await.expect("connect to PostgreSQL");
            sqlx::query(sql).execute(&mut conn).await.expect(sql);
        });
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        Self::exec(&self.admin_url, &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}
