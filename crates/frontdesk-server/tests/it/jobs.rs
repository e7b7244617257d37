//! The jobs table: claiming is exclusive, failures retry then die visibly,
//! and the inactivity sweep closes idle conversations.

use std::collections::HashSet;
use std::time::Duration;

use frontdesk_store::NewJob;
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::Connection;

use crate::both_backends;
use crate::common::{TestApp, TestDb};

fn job(kind: &str, run_at: i64, max_attempts: i64, dedupe: Option<&str>) -> NewJob {
    NewJob { kind: kind.into(), payload: json!({}), run_at, max_attempts, dedupe_key: dedupe.map(Into::into) }
}

async fn wait_for(app: &TestApp, path: &str, pred: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..200 {
        let (_, v) = app.admin(Method::GET, path, None).await;
        if pred(&v) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting on {path}");
}

async fn claims_are_exclusive_and_failures_end_dead(app: TestApp) {
    let store = app.state.store.clone();
    // Far-future jobs only these claimers can see (they pass a far-future "now").
    let far = 4_000_000_000_000i64;
    for _ in 0..40 {
        store.enqueue_job(job("bench_noop", far, 3, None)).await.unwrap();
    }
    let mut handles = Vec::new();
    for w in 0..4 {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(j) = store.claim_job(&format!("w{w}"), far, 60_000).await.unwrap() {
                got.push(j.id);
            }
            got
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 40, "every job claimed");
    assert_eq!(unique.len(), 40, "no job claimed twice");

    // A dedupe key keeps one queued.
    assert!(store.enqueue_job(job("x", far, 1, Some("k"))).await.unwrap().is_some());
    assert!(store.enqueue_job(job("x", far, 1, Some("k"))).await.unwrap().is_none());

    // An unknown kind fails; with attempts used up it is dead and visible.
    let id = store.enqueue_job(job("no_such_kind", 0, 1, None)).await.unwrap().unwrap();
    let dead =
        wait_for(&app, "/api/v1/jobs?status=dead", |v| v.as_array().unwrap().iter().any(|j| j["id"] == id)).await;
    let j = dead.as_array().unwrap().iter().find(|j| j["id"] == id).unwrap();
    assert!(j["last_error"].as_str().unwrap().contains("unknown job kind"));
    assert_eq!(j["attempts"], 1);
    let (s, _) = app.admin(Method::POST, &format!("/api/v1/jobs/{id}/retry"), None).await;
    assert_eq!(s, 202);
    wait_for(&app, "/api/v1/jobs?status=dead", |v| {
        v.as_array().unwrap().iter().any(|j| j["id"] == id && j["attempts"] == 1)
    })
    .await;
    let (s, _) = app.admin(Method::POST, "/api/v1/jobs/424242/retry", None).await;
    assert_eq!(s, 404);
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=job", None).await;
    assert_eq!(audit.as_array().unwrap().len(), 1);

    // A failure with attempts left is retried later, with backoff.
    let id = store.enqueue_job(job("no_such_kind", 0, 5, None)).await.unwrap().unwrap();
    let queued = wait_for(&app, "/api/v1/jobs?status=queued", |v| {
        v.as_array().unwrap().iter().any(|j| j["id"] == id && j["attempts"] == 1)
    })
    .await;
    let j = queued.as_array().unwrap().iter().find(|j| j["id"] == id).unwrap();
    assert!(j["run_at"].as_i64().unwrap() > frontdesk_store::now_ms(), "retried later, not at once");
}
both_backends!(claims_are_exclusive_and_failures_end_dead);

/// Moves a conversation's last activity into the past, as time passing would.
async fn age_conversation(db: &TestDb, id: i64) {
    let sql = "UPDATE conversations SET last_activity_at = 0 WHERE id = $1";
    match db {
        TestDb::Sqlite(_) => {
            let mut c = sqlx::SqliteConnection::connect(&db.url()).await.unwrap();
            sqlx::query(sql).bind(id).execute(&mut c).await.unwrap();
        }
        TestDb::Postgres { .. } => {
            let mut c = sqlx::PgConnection::connect(&db.url()).await.unwrap();
            sqlx::query(sql).bind(id).execute(&mut c).await.unwrap();
        }
    }
}

async fn inactive_conversations_are_closed_by_the_sweep(app: TestApp) {
    app.seed_agent().await;
    let (idle, idle_token) = app.visitor(json!({})).await;
    let (active, _) = app.visitor(json!({})).await;
    app.say(idle, &idle_token, "hello").await;
    age_conversation(&app.db, idle).await;
    frontdesk_engine::worker::schedule_periodic(&app.state).await.unwrap();
    let closed = wait_for(&app, "/api/v1/conversations?view=closed", |v| !v.as_array().unwrap().is_empty()).await;
    let closed_ids: Vec<i64> = closed.as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(closed_ids, vec![idle]);
    let (_, d) = app.admin(Method::GET, &format!("/api/v1/conversations/{idle}"), None).await;
    let ev = d["events"].as_array().unwrap().iter().find(|e| e["kind"] == "closed").unwrap().clone();
    assert_eq!(ev["data"]["reason"], "inactivity");
    let (_, open) = app.admin(Method::GET, "/api/v1/conversations?view=open", None).await;
    assert!(open.as_array().unwrap().iter().any(|c| c["id"] == active));

    // The visitor coming back reopens it, and the agent (still its owner) answers.
    app.say(idle, &idle_token, "what are your opening hours").await;
    let (_, d) = app.admin(Method::GET, &format!("/api/v1/conversations/{idle}"), None).await;
    assert_eq!(d["conversation"]["status"], "open");
    assert_eq!(app.messages(idle, &idle_token).await.last().unwrap()["author"], "agent");
}
both_backends!(inactive_conversations_are_closed_by_the_sweep);

/// A web server that accepts connections and never answers: a crawl of it
/// keeps running (each fetch until the crawler's own timeout). Returns its
/// base URL.
pub(crate) async fn hanging_site() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((c, _)) = listener.accept().await {
            held.push(c);
        }
    });
    base
}

/// Starts a crawl of a site that never answers and waits until its job runs;
/// returns the source's id and the running job.
pub(crate) async fn start_hanging_crawl(app: &TestApp) -> (i64, Value) {
    let site = hanging_site().await;
    let body = json!({"url": format!("{site}/help"), "import_related": true});
    let (s, r) = app.admin(Method::POST, "/api/v1/sources/url", Some(body)).await;
    assert_eq!(s, 202, "{r}");
    let source = r["source"]["id"].as_i64().unwrap();
    let running = wait_for(app, "/api/v1/jobs?status=running", |v| {
        v.as_array().unwrap().iter().any(|j| j["kind"] == "crawl_source")
    })
    .await;
    let job = running.as_array().unwrap().iter().find(|j| j["kind"] == "crawl_source").unwrap().clone();
    (source, job)
}

async fn job_by_id(app: &TestApp, id: &Value) -> Value {
    let (_, all) = app.admin(Method::GET, "/api/v1/jobs", None).await;
    all.as_array().unwrap().iter().find(|j| &j["id"] == id).cloned().unwrap_or(Value::Null)
}

/// A job that runs past its lane's time limit is stopped and retried later
/// (with backoff), its error naming the limit and the setting; on its last
/// attempt it is dead and its source says why, rather than "syncing" for ever.
async fn an_overrunning_job_is_stopped_and_retried_naming_the_limit(app: TestApp) {
    let (source, job) = start_hanging_crawl(&app).await;
    let started = std::time::Instant::now();
    let mut retried = Value::Null;
    while started.elapsed() < Duration::from_secs(5) {
        retried = job_by_id(&app, &job["id"]).await;
        if retried["status"] == "queued" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(retried["status"], "queued", "stopped after 1 s (the crawl itself waits 15 s per page): {retried}");
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    let error = retried["last_error"].as_str().unwrap();
    assert!(error.contains("slow lane's limit of 1 s") && error.contains("job_timeout_slow_secs"), "{error}");
    assert!(retried["run_at"].as_i64().unwrap() > frontdesk_store::now_ms(), "retried with backoff, not at once");
    assert_eq!(retried["attempts"], 1);

    // The last attempt (the test makes the second one last, and due now):
    // dead, and the source in error naming the limit.
    let store = app.state.store.clone();
    let id = job["id"].as_i64().unwrap();
    make_next_attempt_last(&app, id).await;
    let dead =
        wait_for(&app, "/api/v1/jobs?status=dead", |v| v.as_array().unwrap().iter().any(|j| j["id"] == id)).await;
    let dead = dead.as_array().unwrap().iter().find(|j| j["id"] == id).unwrap().clone();
    assert!(dead["last_error"].as_str().unwrap().contains("job_timeout_slow_secs"), "{dead}");
    let s = store.get_source(source).await.unwrap();
    assert_eq!(s.status, frontdesk_store::source_status::ERROR);
    assert!(s.error.as_deref().unwrap_or_default().contains("job_timeout_slow_secs"), "{:?}", s.error);
}
both_backends!(
    an_overrunning_job_is_stopped_and_retried_naming_the_limit,
    private_networks,
    settings = |s| s.job_timeout_slow_secs = 1
);

/// A queued job's next attempt becomes its last, and due now.
async fn make_next_attempt_last(app: &TestApp, id: i64) {
    let sql = "UPDATE jobs SET max_attempts = attempts + 1, run_at = 0 WHERE id = $1 AND status = 'queued'";
    let done = match app.db.as_ref() {
        TestDb::Sqlite(_) => {
            let mut c = sqlx::SqliteConnection::connect(&app.db.url()).await.unwrap();
            sqlx::query(sql).bind(id).execute(&mut c).await.unwrap().rows_affected()
        }
        TestDb::Postgres { .. } => {
            let mut c = sqlx::PgConnection::connect(&app.db.url()).await.unwrap();
            sqlx::query(sql).bind(id).execute(&mut c).await.unwrap().rows_affected()
        }
    };
    assert_eq!(done, 1);
}

/// On shutdown a job still running after the grace period is stopped and
/// handed back at once — queued, due now, its claim released and the
/// interrupted attempt not counted — rather than waiting out its lease; and
/// the process stops within the grace period.
async fn shutdown_hands_back_running_jobs(app: TestApp) {
    let (_, job) = start_hanging_crawl(&app).await;
    assert_eq!(job["attempts"], 1);
    let store = app.state.store.clone();
    let stopping = std::time::Instant::now();
    let db = app.stop().await;
    let took = stopping.elapsed();
    assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(3), "the grace period, then out: {took:?}");
    let jobs = store.list_jobs(Some(frontdesk_core::model::JobStatus::Queued), 50).await.unwrap();
    let back = jobs.iter().find(|j| json!(j.id) == job["id"]).expect("the crawl is queued again");
    assert_eq!(back.attempts, 0, "the interrupted attempt is not counted");
    assert!(back.run_at <= frontdesk_store::now_ms(), "due at once");
    // The next process takes it over at once, though the lease is a minute.
    let app = TestApp::spawn_on(db, |s| s.allow_private_networks = true).await;
    let running =
        wait_for(&app, "/api/v1/jobs?status=running", |v| v.as_array().unwrap().iter().any(|j| j["id"] == job["id"]))
            .await;
    assert!(running.to_string().contains("crawl_source"));
}
both_backends!(shutdown_hands_back_running_jobs, private_networks, settings = |s| s.shutdown_grace_secs = 1);
