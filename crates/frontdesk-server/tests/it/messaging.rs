//! Messaging settings (C2): the agent asks for the visitor's email at the
//! start or before handing off (asked again once when invalid, never of a
//! known contact, saved to the contact), and inactive conversations close
//! after each channel's own period.

use reqwest::Method;
use serde_json::{json, Value};
use sqlx::Connection;

use crate::both_backends;
use crate::common::{TestApp, TestDb};

async fn set(app: &TestApp, channel: &str, body: Value) -> (u16, Value) {
    app.admin(Method::PUT, &format!("/api/v1/messaging-settings/{channel}"), Some(body)).await
}

fn last_agent(messages: &[Value]) -> String {
    messages
        .iter()
        .rev()
        .find(|m| m["author"] == "agent")
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .unwrap_or_default()
}

async fn detail(app: &TestApp, id: i64) -> Value {
    app.admin(Method::GET, &format!("/api/v1/conversations/{id}"), None).await.1
}

async fn the_agent_asks_for_the_email(app: TestApp) {
    app.seed_agent().await;
    // Validation: email and custom channels have no question; the period is bounded.
    let (s, e) = set(&app, "email", json!({"ask_email": "start"})).await;
    assert_eq!((s, e["field"].as_str()), (422, Some("ask_email")), "{e}");
    let (s, e) = set(&app, "live_chat", json!({"ask_email": "start", "close_after_minutes": 1})).await;
    assert_eq!((s, e["field"].as_str()), (422, Some("close_after_minutes")), "{e}");
    let (s, e) = set(&app, "fax", json!({"ask_email": "never"})).await;
    assert_eq!((s, e["field"].as_str()), (422, Some("channel")), "{e}");
    let (s, e) = set(&app, "live_chat", json!({"ask_email": "sometimes"})).await;
    assert_eq!(s, 422, "{e}");

    // At the start: after the first answer, once; an invalid address is asked again once.
    let (s, v) = set(&app, "live_chat", json!({"ask_email": "start"})).await;
    assert_eq!((s, v["ask_email"].as_str()), (200, Some("start")), "{v}");
    let (id, token) = app.visitor(json!({})).await;
    app.say(id, &token, "What are your opening hours?").await;
    let m = app.messages(id, &token).await;
    let reply = last_agent(&m);
    assert!(reply.contains("9:00") && reply.contains("email address"), "{reply}");
    app.say(id, &token, "How much does the Pro plan cost?").await;
    let reply = last_agent(&app.messages(id, &token).await);
    assert!(reply.contains("12 euros") && !reply.contains("email address"), "asked once only: {reply}");
    app.say(id, &token, "it's ada@").await;
    assert!(last_agent(&app.messages(id, &token).await).contains("doesn't look right"));
    app.say(id, &token, "sorry: ada@example.com").await;
    let reply = last_agent(&app.messages(id, &token).await);
    assert!(reply.contains("I've noted ada@example.com"), "{reply}");
    let d = detail(&app, id).await;
    assert_eq!(d["contact"]["email"], "ada@example.com", "{d}");
    assert_eq!(d["conversation"]["assignee_kind"], "agent");
    assert!(d["events"].as_array().unwrap().iter().any(|e| e["kind"] == "contact_updated"), "{d}");

    // A known contact is never asked.
    let (id2, token2) = app.visitor(json!({"name": "Bob", "email": "bob@example.com"})).await;
    app.say(id2, &token2, "What are your opening hours?").await;
    assert!(!last_agent(&app.messages(id2, &token2).await).contains("email"), "a known contact is not asked");

    // Before handing off: the handoff waits for the answer, in the visitor's language.
    set(&app, "live_chat", json!({"ask_email": "before_handoff"})).await;
    let (id3, token3) = app.visitor(json!({})).await;
    app.say(id3, &token3, "What are your opening hours?").await;
    assert!(!last_agent(&app.messages(id3, &token3).await).contains("email"), "no question without a handoff");
    app.say(id3, &token3, "I want to talk to a human").await;
    let reply = last_agent(&app.messages(id3, &token3).await);
    assert!(reply.contains("email address"), "{reply}");
    assert_eq!(detail(&app, id3).await["conversation"]["assignee_kind"], "agent", "not handed off yet");
    app.say(id3, &token3, "cy@example.com").await;
    let d = detail(&app, id3).await;
    assert_eq!(d["contact"]["email"], "cy@example.com", "{d}");
    assert_eq!(d["conversation"]["assignee_kind"], "none", "handed off after the answer: {d}");
    let handoff =
        d["events"].as_array().unwrap().iter().find(|e| e["kind"] == "handoff").expect("a handoff event").clone();
    assert_eq!(handoff["data"]["trigger"], "visitor_asked", "{handoff}");
    assert!(last_agent(&d["messages"].as_array().unwrap().clone()).contains("cy@example.com"));

    // Italian visitor, no address at all: handed off anyway, not nagged.
    let (id4, token4) = app.visitor(json!({})).await;
    app.say(id4, &token4, "Vorrei parlare con un operatore").await;
    assert!(last_agent(&app.messages(id4, &token4).await).contains("indirizzo email"));
    app.say(id4, &token4, "no grazie, preferisco di no").await;
    assert_eq!(detail(&app, id4).await["conversation"]["assignee_kind"], "none");

    // An address another contact already has: the conversation joins that contact (J4).
    let (id5, token5) = app.visitor(json!({})).await;
    app.say(id5, &token5, "I want to talk to a human").await;
    app.say(id5, &token5, "bob@example.com").await;
    let d = detail(&app, id5).await;
    assert_eq!(
        (d["contact"]["email"].as_str(), d["contact"]["name"].as_str()),
        (Some("bob@example.com"), Some("Bob")),
        "{d}"
    );

    // Settings are audited and read back.
    let (_, all) = app.admin(Method::GET, "/api/v1/messaging-settings", None).await;
    let live = all.as_array().unwrap().iter().find(|s| s["channel"] == "live_chat").unwrap().clone();
    assert_eq!(live["ask_email"], "before_handoff");
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=messaging_settings", None).await;
    assert!(audit.to_string().contains("before_handoff"), "{audit}");
}
both_backends!(the_agent_asks_for_the_email);

async fn set_last_activity(db: &TestDb, id: i64, at: i64) {
    let sql = "UPDATE conversations SET last_activity_at = $1 WHERE id = $2";
    match db {
        TestDb::Sqlite(_) => {
            let mut c = sqlx::SqliteConnection::connect(&db.url()).await.unwrap();
            sqlx::query(sql).bind(at).bind(id).execute(&mut c).await.unwrap();
        }
        TestDb::Postgres { .. } => {
            let mut c = sqlx::PgConnection::connect(&db.url()).await.unwrap();
            sqlx::query(sql).bind(at).bind(id).execute(&mut c).await.unwrap();
        }
    }
}

async fn inactive_conversations_close_per_channel(app: TestApp) {
    app.seed_agent().await;
    let (live, token) = app.visitor(json!({})).await;
    app.say(live, &token, "hello").await;
    let (_, custom) = app
        .admin(
            Method::POST,
            "/api/v1/channels",
            Some(json!({"kind": "custom", "name": "CRM", "config": {"webhook_url": "http://127.0.0.1:9/hook"}})),
        )
        .await;
    let key = custom["key"].as_str().unwrap().to_owned();
    let r = app
        .client
        .post(app.url("/api/v1/channels/inbound"))
        .bearer_auth(&key)
        .json(&json!({"external_id": "m1", "contact": {"external_id": "u1"}, "text": "hello"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let from_custom = r.json::<Value>().await.unwrap()["conversation_id"].as_i64().unwrap();
    // Both idle for 30 minutes: live chat closes after 10, custom keeps the default (a day).
    let half_hour_ago = frontdesk_store::now_ms() - 30 * 60_000;
    set_last_activity(&app.db, live, half_hour_ago).await;
    set_last_activity(&app.db, from_custom, half_hour_ago).await;
    let (s, v) = set(&app, "live_chat", json!({"close_after_minutes": 10})).await;
    assert_eq!(s, 200, "{v}");
    let job = frontdesk_store::Job {
        id: 0,
        kind: "close_inactive".into(),
        payload: json!({}),
        status: frontdesk_core::model::JobStatus::Running,
        attempts: 1,
        max_attempts: 1,
        run_at: 0,
        last_error: None,
        created_at: 0,
        updated_at: 0,
    };
    frontdesk_engine::worker::run_job(&app.state, &job).await.unwrap();
    assert_eq!(detail(&app, live).await["conversation"]["status"], "closed");
    assert_eq!(detail(&app, from_custom).await["conversation"]["status"], "open");
    set(&app, "custom", json!({"close_after_minutes": 20})).await;
    frontdesk_engine::worker::run_job(&app.state, &job).await.unwrap();
    assert_eq!(detail(&app, from_custom).await["conversation"]["status"], "closed");
}
both_backends!(inactive_conversations_close_per_channel, private_networks);
