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
