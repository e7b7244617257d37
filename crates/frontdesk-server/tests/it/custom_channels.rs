//! Custom channels (C1, J4): any system can be a channel. A channel is
//! created through the API (its key and webhook secret shown once), the
//! system posts messages in with the key, and every reply — the agent's or a
//! team member's — is posted to its webhook, signed, with an idempotency key
//! that stays the same across retries. The receiver here is a real HTTP
//! server on loopback that verifies every signature and can be told to fail
//! or to hang.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use frontdesk_channels::custom as wire;
use frontdesk_core::model::JobStatus;
use frontdesk_server::webhooks::custom as custom_channel;
use reqwest::Method;
use serde_json::{json, Value};
use utoipa::OpenApi as _;

use crate::common::TestApp;

// ---------- harness ----------

/// One call the receiver saw.
#[derive(Debug, Clone)]
struct Call {
    idempotency_key: String,
    /// `frontdesk_channels::custom::verify` with the channel's secret.
    signature: Result<(), String>,
    body: Value,
    /// What the receiver answered (0: it never did).
    answered: u16,
}

#[derive(Default)]
struct ReceiverState {
    secret: String,
    calls: Vec<Call>,
    fail_next: usize,
    hang_next: usize,
}

/// A system receiving a custom channel's webhooks, on 127.0.0.1:0.
#[derive(Clone, Default)]
struct Receiver(Arc<Mutex<ReceiverState>>);

impl Receiver {
    async fn start() -> (String, Receiver) {
        let receiver = Receiver::default();
        async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
            let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            let (index, action) = {
                let mut s = r.0.lock().unwrap();
                let signature = wire::verify(
                    s.secret.as_bytes(),
                    &header(wire::SIGNATURE_HEADER),
                    &body,
                    jiff::Timestamp::now().as_second(),
                    wire::DEFAULT_TOLERANCE_SECS,
                )
                .map_err(|e| e.to_string());
                let action = if s.hang_next > 0 {
                    s.hang_next -= 1;
                    0
                } else if s.fail_next > 0 {
                    s.fail_next -= 1;
                    500
                } else {
                    200
                };
                s.calls.push(Call {
                    idempotency_key: header("idempotency-key"),
                    signature,
                    body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                    answered: action,
                });
                (s.calls.len(), action)
            };
            match action {
                0 => std::future::pending::<Response>().await,
                500 => (StatusCode::INTERNAL_SERVER_ERROR, "database is down").into_response(),
                _ => Json(json!({"id": format!("rcv-{index}"), "ok": true})).into_response(),
            }
        }
        let router = axum::Router::new().route("/hook", axum::routing::post(hook)).with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        (format!("http://{addr}/hook"), receiver)
    }

    fn set_secret(&self, secret: &str) {
        self.0.lock().unwrap().secret = secret.to_owned();
    }

    fn fail_next(&self, n: usize) {
        self.0.lock().unwrap().fail_next = n;
    }

    fn hang_next(&self, n: usize) {
        self.0.lock().unwrap().hang_next = n;
    }

    fn calls(&self) -> Vec<Call> {
        self.0.lock().unwrap().calls.clone()
    }

    /// Waits until `n` calls were acknowledged (2xx); returns every call.
    async fn wait_acks(&self, n: usize, within: Duration) -> Vec<Call> {
        let deadline = Instant::now() + within;
        loop {
            let calls = self.calls();
            if calls.iter().filter(|c| c.answered == 200).count() >= n {
                return calls;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver got {} acknowledged call(s), not {n}: {calls:?}",
                calls.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A custom channel through the API; returns (id, key, webhook secret).
async fn create_channel(app: &TestApp, webhook_url: &str) -> (i64, String, String) {
    let (s, v) = app
        .admin(
            Method::POST,
            "/api/v1/channels",
            Some(json!({"kind": "custom", "name": "Shop app", "config": {"webhook_url": webhook_url}})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let key = v["key"].as_str().expect("the key, shown once").to_owned();
    let secret = v["webhook_secret"].as_str().expect("the webhook secret, shown once").to_owned();
    assert!(key.starts_with("fdch_") && secret.starts_with("whsec_"), "{v}");
    (v["id"].as_i64().unwrap(), key, secret)
}

/// A channel and a receiver that knows its secret.
async fn connected(app: &TestApp) -> (Receiver, i64, String) {
    let (url, receiver) = Receiver::start().await;
    let (id, key, secret) = create_channel(app, &url).await;
    receiver.set_secret(&secret);
    (receiver, id, key)
}

async fn post_raw(app: &TestApp, key: Option<&str>, body: &str, json_type: bool) -> (u16, Value) {
    let mut rb = app.client.post(app.url("/api/v1/channels/inbound")).body(body.to_owned());
    if json_type {
        rb = rb.header("content-type", "application/json");
    }
    if let Some(k) = key {
        rb = rb.bearer_auth(k);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn post(app: &TestApp, key: &str, body: Value) -> (u16, Value) {
    post_raw(app, Some(key), &body.to_string(), true).await
}

fn message(external_id: &str, contact: Value, text: &str) -> Value {
    json!({"external_id": external_id, "contact": contact, "text": text})
}

fn ada() -> Value {
    json!({"external_id": "u-42", "name": "Ada", "email": "ada@x.io", "phone": "+39 333 123 4567"})
}

async fn deliveries(app: &TestApp, conversation: i64) -> Vec<Value> {
    let (s, v) = app.admin(Method::GET, &format!("/api/v1/conversations/{conversation}/deliveries"), None).await;
    assert_eq!(s, 200, "{v}");
    v.as_array().unwrap().clone()
}

/// Waits until the conversation's deliveries satisfy `done`.
async fn wait_deliveries(
    app: &TestApp,
    conversation: i64,
    within: Duration,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + within;
    loop {
        let ds = deliveries(app, conversation).await;
        if done(&ds) {
            return ds;
        }
        assert!(Instant::now() < deadline, "deliveries did not settle: {ds:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn detail(app: &TestApp, conversation: i64) -> Value {
    let (s, v) = app.admin(Method::GET, &format!("/api/v1/conversations/{conversation}"), None).await;
    assert_eq!(s, 200, "{v}");
    v
}

fn by_author<'a>(detail: &'a Value, author: &str) -> Vec<&'a Value> {
    detail["messages"].as_array().unwrap().iter().filter(|m| m["author"] == author).collect()
}

async fn conversation_count(app: &TestApp) -> usize {
    let (s, v) = app.admin(Method::GET, "/api/v1/conversations", None).await;
    assert_eq!(s, 200, "{v}");
    v.as_array().or_else(|| v["conversations"].as_array()).map_or(0, Vec::len)
}

// ---------- stories ----------

async fn a_question_is_answered_through_the_signed_webhook(app: TestApp) {
    app.seed_agent().await;
    let (receiver, channel, key) = connected(&app).await;

    // The key and the secret were shown once: reading the channel never shows them again.
    let secret = receiver.0.lock().unwrap().secret.clone();
    for path in ["/api/v1/channels".to_owned(), format!("/api/v1/channels/{channel}")] {
        let (s, v) = app.admin(Method::GET, &path, None).await;
        assert_eq!(s, 200, "{v}");
        let text = v.to_string();
        assert!(!text.contains(&key) && !text.contains(&secret) && !text.contains("\"key\""), "{v}");
        assert!(text.contains("\"has_key\":true") && text.contains("webhook_secret"), "{v}");
    }

    let (s, v) = post(&app, &key, message("msg-1", ada(), "How much does the Pro plan cost?")).await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(v["duplicate"], false);
    let id = v["conversation_id"].as_i64().unwrap();
    let visitor_message = v["message_id"].as_i64().unwrap();
    assert!(!v.to_string().contains("12 euros"), "the reply goes out through the webhook, not in the answer: {v}");

    // The conversation: on the custom channel, keyed by the contact's id, with the contact.
    let d = detail(&app, id).await;
    assert_eq!(d["conversation"]["channel"], "custom", "{d}");
    assert_eq!(d["conversation"]["channel_id"], channel);
    assert_eq!(d["conversation"]["handle"], "u-42");
    assert_eq!(d["contact"]["email"], "ada@x.io");
    assert_eq!(d["contact"]["name"], "Ada");
    assert_eq!(d["contact"]["phone"], "+393331234567", "the phone is normalised");
    assert_eq!(by_author(&d, "visitor")[0]["id"], visitor_message);
    let answer = by_author(&d, "agent")[0].clone();
    assert!(answer["text"].as_str().unwrap().contains("12 euros"), "{answer}");

    // The answer arrives at the receiver, signed, with the delivery's idempotency key.
    let calls = receiver.wait_acks(1, Duration::from_secs(10)).await;
    assert_eq!(calls.len(), 1, "{calls:?}");
    let call = &calls[0];
    assert_eq!(call.signature, Ok(()), "the signature verifies with the channel's secret");
    let ds = wait_deliveries(&app, id, Duration::from_secs(5), |ds| ds.iter().all(|d| d["status"] == "sent")).await;
    assert_eq!(ds.len(), 1, "{ds:?}");
    assert_eq!(ds[0]["message_id"], answer["id"]);
    assert_eq!(ds[0]["attempts"], 1);
    assert_eq!(ds[0]["last_error"], Value::Null);
    assert_eq!(ds[0]["external_id"], "rcv-1", "the receiver's id is recorded");
    assert_eq!(call.idempotency_key, ds[0]["idempotency_key"].as_str().unwrap());
    let citations: Vec<Value> =
        answer["citations"].as_array().unwrap().iter().map(|c| json!({"title": c["title"], "url": c["url"]})).collect();
    assert!(!citations.is_empty(), "the short answer is cited: {answer}");
    assert_eq!(
        call.body,
        json!({
            "idempotency_key": ds[0]["idempotency_key"],
            "conversation_id": id,
            "contact_external_id": "u-42",
            "message_id": answer["id"],
            "text": answer["text"],
            "citations": citations,
            "author": "agent",
            "created_at": answer["created_at"].as_i64().unwrap() / 1000,
        })
    );
    // A secret other than the channel's does not verify the same call.
    let body = serde_json::to_vec(&call.body).unwrap();
    let forged = wire::sign(b"whsec_other", jiff::Timestamp::now().as_second(), &body);
    assert!(wire::verify(secret.as_bytes(), &forged, &body, jiff::Timestamp::now().as_second(), 300).is_err());

    // The contact's next message continues the same conversation.
    let (s, v) =
        post(&app, &key, message("msg-2", json!({"external_id": "u-42"}), "What are your opening hours?")).await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(v["conversation_id"], id);
    let calls = receiver.wait_acks(2, Duration::from_secs(10)).await;
    assert!(calls[1].body["text"].as_str().unwrap().contains("9:00"), "{calls:?}");
    assert_eq!(calls[1].body["author"], "agent");
    assert_ne!(calls[1].idempotency_key, calls[0].idempotency_key);
}
crate::both_backends!(a_question_is_answered_through_the_signed_webhook, private_networks);

async fn a_team_members_reply_goes_out_as_human(app: TestApp) {
    app.seed_agent().await;
    let (receiver, _, key) = connected(&app).await;
    let (s, v) = post(&app, &key, message("m-1", ada(), "How do I reset my password?")).await;
    assert_eq!(s, 202, "{v}");
    let id = v["conversation_id"].as_i64().unwrap();
    receiver.wait_acks(1, Duration::from_secs(10)).await;

    let (s, v) = app
        .admin(
            Method::POST,
            &format!("/api/v1/conversations/{id}/messages"),
            Some(json!({"text": "Hi Ada, I reset it for you."})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let human_message = v["id"].as_i64().unwrap();
    let calls = receiver.wait_acks(2, Duration::from_secs(10)).await;
    let call = &calls[1];
    assert_eq!(call.signature, Ok(()));
    assert_eq!(call.body["author"], "human", "{call:?}");
    assert_eq!(call.body["message_id"], human_message);
    assert_eq!(call.body["text"], "Hi Ada, I reset it for you.");
    assert_eq!(call.body["contact_external_id"], "u-42");
    assert_eq!(call.body["citations"], json!([]));
    let ds = wait_deliveries(&app, id, Duration::from_secs(5), |ds| {
        ds.len() == 2 && ds.iter().all(|d| d["status"] == "sent")
    })
    .await;
    let human_delivery = ds.iter().find(|d| d["message_id"] == human_message).expect("a delivery for the human reply");
    assert_eq!(call.idempotency_key, human_delivery["idempotency_key"].as_str().unwrap());
}
crate::both_backends!(a_team_members_reply_goes_out_as_human, private_networks);

async fn a_replayed_message_is_processed_once(app: TestApp) {
    app.seed_agent().await;
    let (receiver, channel, key) = connected(&app).await;
    let body = message("msg-7", ada(), "What are your opening hours?");
    let (s, first) = post(&app, &key, body.clone()).await;
    assert_eq!(s, 202, "{first}");
    let id = first["conversation_id"].as_i64().unwrap();
    let (s, again) = post(&app, &key, body.clone()).await;
    assert_eq!((s, again), (200, json!({"duplicate": true})));

    receiver.wait_acks(1, Duration::from_secs(10)).await;
    // A replay after the reply went out changes nothing either.
    let (s, late) = post(&app, &key, body).await;
    assert_eq!((s, late["duplicate"].clone()), (200, json!(true)));
    tokio::time::sleep(Duration::from_millis(500)).await;

    let d = detail(&app, id).await;
    assert_eq!(by_author(&d, "visitor").len(), 1, "one message: {d}");
    assert_eq!(by_author(&d, "agent").len(), 1, "one answer: {d}");
    assert_eq!(deliveries(&app, id).await.len(), 1);
    assert_eq!(receiver.calls().len(), 1, "sent once");
    assert_eq!(conversation_count(&app).await, 1);
    assert!(app.store().inbound_seen(channel, "msg-7").await.unwrap());
}
crate::both_backends!(a_replayed_message_is_processed_once, private_networks);

async fn a_wrong_key_is_refused_and_nothing_is_stored(app: TestApp) {
    app.seed_agent().await;
    let (receiver, channel, key) = connected(&app).await;
    let body = message("msg-1", ada(), "How much does the Pro plan cost?");
    let email_key = {
        let (s, v) = app
            .admin(
                Method::POST,
                "/api/v1/channels",
                Some(json!({"kind": "email", "name": "Support", "config": {"address": "support@shop.example"}})),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        v["key"].as_str().unwrap().to_owned()
    };
    let admin_key = app.admin_key.clone();
    let almost = format!("{key}x");
    for (k, expected) in [
        (Some("fdch_not-a-real-key"), 401),
        (Some(almost.as_str()), 401),
        (Some(""), 401),
        (None, 401),
        (Some(admin_key.as_str()), 401),
        (Some(email_key.as_str()), 403),
    ] {
        let (s, v) = post_raw(&app, k, &body.to_string(), true).await;
        assert_eq!(s, expected, "{k:?}: {v}");
        assert_eq!(v["code"], if expected == 401 { "unauthenticated" } else { "forbidden" }, "{v}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
        // Without the key, even a malformed body is refused for the key.
        let (s, _) = post_raw(&app, k, "{not json", true).await;
        assert_eq!(s, expected);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(conversation_count(&app).await, 0, "nothing stored");
    assert!(!app.store().inbound_seen(channel, "msg-1").await.unwrap());
    assert!(receiver.calls().is_empty());
    // The right key still works afterwards, once.
    let (s, v) = post(&app, &key, body).await;
    assert_eq!(s, 202, "{v}");
}
crate::both_backends!(a_wrong_key_is_refused_and_nothing_is_stored, private_networks);

async fn bad_input_names_the_field(app: TestApp) {
    let (receiver, _, key) = connected(&app).await;
    let u = json!({"external_id": "u-1"});
    for (body, field) in [
        (message("m", u.clone(), ""), "text"),
        (message("m", u.clone(), "   "), "text"),
        (message("m", u.clone(), &"a".repeat(4001)), "text"),
        (json!({"external_id": "m", "contact": {"external_id": "u"}}), "text"),
        (message("m", json!({"name": "Ada"}), "hi"), "contact.external_id"),
        (message("m", json!({"external_id": "  "}), "hi"), "contact.external_id"),
        (json!({"external_id": "m", "text": "hi"}), "contact.external_id"),
        (message("m", json!({"external_id": "u", "email": "not-an-email"}), "hi"), "contact.email"),
        (message("m", json!({"external_id": "u", "phone": "call me"}), "hi"), "contact.phone"),
        (message("m", json!({"external_id": "u", "name": "n".repeat(201)}), "hi"), "contact.name"),
        (message("", u.clone(), "hi"), "external_id"),
        (message("m\n1", u.clone(), "hi"), "external_id"),
        (json!({"external_id": "m", "contact": u.clone(), "text": 5}), "text"),
        (json!({"external_id": "m", "contact": "u-1", "text": "hi"}), "contact"),
    ] {
        let (s, v) = post(&app, &key, body.clone()).await;
        assert_eq!(s, 422, "{body}: {v}");
        assert_eq!(v["code"], "validation_failed", "{v}");
        assert_eq!(v["field"], field, "{body}: {v}");
        assert!(v["message"].as_str().unwrap().contains(field), "{v}");
    }
    // Malformed JSON: the standard error.
    let (s, v) = post_raw(&app, Some(&key), r#"{"external_id": "m", "text": "#, true).await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["code"], "invalid_request", "{v}");
    // Not sent as JSON.
    let (s, v) = post_raw(&app, Some(&key), &message("m", u, "hi").to_string(), false).await;
    assert_eq!(s, 415, "{v}");
    assert_eq!(conversation_count(&app).await, 0, "nothing stored");
    assert!(receiver.calls().is_empty());
}
crate::both_backends!(bad_input_names_the_field, private_networks);

async fn a_failing_receiver_gets_the_same_key_until_it_acknowledges(app: TestApp) {
    app.seed_agent().await;
    let (receiver, _, key) = connected(&app).await;
    receiver.fail_next(2);
    let (s, v) = post(&app, &key, message("m-1", ada(), "How much does the Pro plan cost?")).await;
    assert_eq!(s, 202, "{v}");
    let id = v["conversation_id"].as_i64().unwrap();

    // After the first failure the delivery waits for its retry, with the error visible.
    let ds =
        wait_deliveries(&app, id, Duration::from_secs(10), |ds| ds.len() == 1 && !ds[0]["last_error"].is_null()).await;
    assert_eq!(ds[0]["status"], "queued", "{ds:?}");
    let error = ds[0]["last_error"].as_str().unwrap();
    assert!(error.contains("500") && error.contains("database is down"), "{error}");

    // Backoff is 2 s then 4 s: the third attempt is acknowledged.
    let calls = receiver.wait_acks(1, Duration::from_secs(30)).await;
    let ds = wait_deliveries(&app, id, Duration::from_secs(5), |ds| ds[0]["status"] == "sent").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let calls_later = receiver.calls();
    assert_eq!(calls_later.len(), 3, "two failures and one success, nothing after: {calls_later:?}");
    assert_eq!(calls.iter().map(|c| c.answered).collect::<Vec<_>>(), [500, 500, 200]);
    let expected_key = ds[0]["idempotency_key"].as_str().unwrap();
    for c in &calls {
        assert_eq!(c.idempotency_key, expected_key, "the same key on every retry");
        assert_eq!(c.body["idempotency_key"], expected_key);
        assert_eq!(c.body, calls[0].body, "the same message on every retry");
        assert_eq!(c.signature, Ok(()));
    }
    assert_eq!(ds.len(), 1);
    assert_eq!(ds[0]["attempts"], 3, "{ds:?}");
    assert_eq!(ds[0]["last_error"], Value::Null);
    assert_eq!(ds[0]["external_id"], "rcv-3");
}
crate::both_backends!(a_failing_receiver_gets_the_same_key_until_it_acknowledges, private_networks);

/// A `deliver` job as the worker would claim it, at attempt `attempts`.
fn deliver_job(delivery_id: i64, attempts: i64) -> frontdesk_store::Job {
    frontdesk_store::Job {
        id: 0,
        kind: "deliver".into(),
        payload: json!({"delivery_id": delivery_id}),
        status: JobStatus::Running,
        attempts,
        max_attempts: frontdesk_store::DELIVERY_MAX_ATTEMPTS,
        run_at: 0,
        last_error: None,
        created_at: 0,
        updated_at: 0,
    }
}

/// The worker is off: the test drives the delivery job itself (the real
/// backoff before an eighth attempt would take minutes).
async fn a_receiver_that_never_answers_is_marked_failed(app: TestApp) {
    app.seed_agent().await;
    let (receiver, _, key) = connected(&app).await;
    let (s, v) = post(&app, &key, message("m-1", ada(), "How much does the Pro plan cost?")).await;
    assert_eq!(s, 202, "{v}");
    let id = v["conversation_id"].as_i64().unwrap();
    let ds = deliveries(&app, id).await;
    assert_eq!((ds.len(), ds[0]["status"].as_str()), (1, Some("queued")), "{ds:?}");
    let delivery = ds[0]["id"].as_i64().unwrap();

    // An early attempt that fails transiently asks for a retry; the delivery stays queued.
    receiver.fail_next(1);
    let r = frontdesk_engine::worker::run_job(&app.state, &deliver_job(delivery, 1)).await;
    assert!(r.is_err_and(|e| e.to_string().contains("will retry")));
    let d = app.store().get_delivery(delivery).await.unwrap();
    assert_eq!((d.status.as_str(), d.attempts), ("queued", 1));

    // The last attempt hangs: after the timeout the delivery is failed, with the reason.
    receiver.hang_next(1);
    let started = Instant::now();
    let r =
        frontdesk_engine::worker::run_job(&app.state, &deliver_job(delivery, frontdesk_store::DELIVERY_MAX_ATTEMPTS))
            .await;
    assert!(r.is_ok(), "{r:?}");
    let took = started.elapsed();
    assert!(took >= custom_channel::SEND_TIMEOUT - Duration::from_millis(500), "{took:?}");
    assert!(took < custom_channel::SEND_TIMEOUT + Duration::from_secs(5), "{took:?}");
    let ds = deliveries(&app, id).await;
    assert_eq!(ds[0]["status"], "failed", "{ds:?}");
    assert_eq!(ds[0]["attempts"], 2);
    let error = ds[0]["last_error"].as_str().unwrap();
    assert!(error.contains("timed out") && error.contains("gave up after 8 attempts"), "{error}");
    let calls = receiver.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].idempotency_key, calls[1].idempotency_key);

    // A failed delivery is never sent again.
    frontdesk_engine::worker::run_job(&app.state, &deliver_job(delivery, 1)).await.unwrap();
    assert_eq!(receiver.calls().len(), 2);
}
crate::both_backends!(
    a_receiver_that_never_answers_is_marked_failed,
    private_networks,
    settings = |s| s.run_worker = false
);

async fn a_known_email_or_phone_links_the_contact(app: TestApp) {
    app.seed_agent().await;
    let (receiver, _, key) = connected(&app).await;
    // Ada first wrote on live chat with her email.
    let (live, _) = app.visitor(json!({"name": "Ada", "email": "ada@x.io"})).await;
    let contact = detail(&app, live).await["conversation"]["contact_id"].as_i64().expect("a contact");

    let (s, v) = post(&app, &key, message("m-1", ada(), "How much does the Pro plan cost?")).await;
    assert_eq!(s, 202, "{v}");
    let custom = v["conversation_id"].as_i64().unwrap();
    assert_ne!(custom, live);
    let d = detail(&app, custom).await;
    assert_eq!(d["conversation"]["contact_id"], contact, "linked to the live-chat contact: {d}");
    assert_eq!(d["contact"]["phone"], "+393331234567", "the contact learned her phone: {d}");

    // Another id in the system, the same phone written differently: the same person.
    let (s, v) =
        post(&app, &key, message("m-2", json!({"external_id": "u-99", "phone": "0039 333 1234567"}), "Hello")).await;
    assert_eq!(s, 202, "{v}");
    let other = v["conversation_id"].as_i64().unwrap();
    assert_ne!(other, custom, "a different handle is a different conversation");
    assert_eq!(detail(&app, other).await["conversation"]["contact_id"], contact);

    // A stranger is a new contact.
    let (s, v) = post(&app, &key, message("m-3", json!({"external_id": "u-7", "email": "bob@y.io"}), "Hello")).await;
    assert_eq!(s, 202, "{v}");
    let bob = detail(&app, v["conversation_id"].as_i64().unwrap()).await;
    assert_ne!(bob["conversation"]["contact_id"], contact);
    assert_eq!(bob["contact"]["email"], "bob@y.io");
    receiver.wait_acks(3, Duration::from_secs(10)).await;
}
crate::both_backends!(a_known_email_or_phone_links_the_contact, private_networks);

/// With the default settings a webhook on a private address is refused when
/// saved (the field and the setting named), and one stored anyway (a name that
/// pointed elsewhere when saved) is refused when connecting: never called.
async fn private_webhook_targets_are_refused_by_default(app: TestApp) {
    app.seed_agent().await;
    let (url, receiver) = Receiver::start().await;
    let targets = [url.clone(), url.replace("127.0.0.1", "localhost"), url.replace("127.0.0.1", "[::ffff:7f00:1]")];
    for target in &targets {
        let (s, e) = app
            .admin(
                Method::POST,
                "/api/v1/channels",
                Some(json!({"kind": "custom", "name": "Shop app", "config": {"webhook_url": target}})),
            )
            .await;
        assert_eq!((s, e["field"].as_str()), (422, Some("config.webhook_url")), "{target}: {e}");
        let m = e["message"].as_str().unwrap();
        assert!(m.contains("private or local address") && m.contains("allow_private_networks"), "{m}");
    }
    for (n, target) in targets.iter().take(2).enumerate() {
        let (_, key) = crate::common::stored_channel(
            &app,
            frontdesk_core::model::Channel::Custom,
            json!({"webhook_url": target}),
            &[("webhook_secret", "whsec_test")],
        )
        .await;
        let (s, v) = post(
            &app,
            &key,
            message("m-1", json!({"external_id": format!("u-{n}")}), "How much does the Pro plan cost?"),
        )
        .await;
        assert_eq!(s, 202, "{v}");
        let id = v["conversation_id"].as_i64().unwrap();
        let ds =
            wait_deliveries(&app, id, Duration::from_secs(10), |ds| ds.len() == 1 && ds[0]["status"] == "failed").await;
        let error = ds[0]["last_error"].as_str().unwrap();
        assert!(error.contains("private or local address") && error.contains("allow_private_networks"), "{error}");
        assert_eq!(ds[0]["attempts"], 1, "refused at once, not retried: {ds:?}");
    }
    assert!(receiver.calls().is_empty());
}
crate::both_backends!(private_webhook_targets_are_refused_by_default);

async fn the_api_document_describes_the_endpoint_and_the_webhook(app: TestApp) {
    // The served document lists the route (with or without the detailed entry wired in).
    let r = app.client.get(app.url("/api/openapi.json")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let served: Value = r.json().await.unwrap();
    assert!(served["paths"]["/api/v1/channels/inbound"]["post"].is_object(), "{}", served["paths"]);

    let mut doc = frontdesk_server::openapi::ApiDoc::openapi();
    custom_channel::document(&mut doc);
    let doc = serde_json::to_value(&doc).unwrap();
    let op = &doc["paths"]["/api/v1/channels/inbound"]["post"];
    assert_eq!(
        op["requestBody"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/CustomInbound",
        "{op}"
    );
    assert_eq!(op["security"], json!([{"channel_key": []}]));
    for status in ["200", "202", "400", "401", "403", "415", "422"] {
        assert!(op["responses"][status].is_object(), "{status}: {op}");
    }
    assert!(op["description"].as_str().unwrap().contains("Bearer <key>"));
    assert!(doc["components"]["securitySchemes"]["channel_key"].is_object());
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["CustomInbound"]["example"].is_object(), "{}", schemas["CustomInbound"]);
    let required = schemas["CustomInbound"]["required"].as_array().unwrap();
    assert!(["external_id", "contact", "text"].iter().all(|f| required.contains(&json!(f))), "{required:?}");

    // The webhook: its payload schema matches what is posted, field for field.
    let hook = &doc["webhooks"]["customChannelMessage"]["post"];
    assert_eq!(
        hook["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/CustomWebhook"
    );
    let posted = serde_json::to_value(custom_channel::example_webhook()).unwrap();
    let mut documented: Vec<&String> = schemas["CustomWebhook"]["properties"].as_object().unwrap().keys().collect();
    let mut real: Vec<&String> = posted.as_object().unwrap().keys().collect();
    documented.sort();
    real.sort();
    assert_eq!(documented, real);
    assert_eq!(hook["requestBody"]["content"]["application/json"]["example"], posted);
    let description = hook["description"].as_str().unwrap();
    assert!(description.contains("HMAC-SHA256") && description.contains("Idempotency-Key"), "{description}");
    // The documented signature is real: it verifies the documented body with the documented secret.
    let params = hook["parameters"].as_array().unwrap();
    let signature = params.iter().find(|p| p["name"] == wire::SIGNATURE_HEADER).unwrap()["example"].as_str().unwrap();
    assert!(params.iter().any(|p| p["name"] == custom_channel::IDEMPOTENCY_HEADER && p["in"] == "header"));
    let body = custom_channel::example_webhook().to_json();
    assert_eq!(
        wire::verify(
            custom_channel::EXAMPLE_SECRET.as_bytes(),
            signature,
            &body,
            custom_channel::EXAMPLE_TIMESTAMP,
            wire::DEFAULT_TOLERANCE_SECS
        ),
        Ok(())
    );
    assert!(description.contains(signature));
}
mod the_api_document_describes_the_endpoint_and_the_webhook {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        if let Some(app) = crate::common::TestApp::spawn(crate::common::Backend::Sqlite).await {
            super::the_api_document_describes_the_endpoint_and_the_webhook(app).await;
        }
    }
}

/// A channel that belongs to the help desk (C1): each new conversation is a
/// ticket from the start; without the agent it goes straight to humans.
async fn a_help_desk_channel_makes_tickets(app: TestApp) {
    app.seed_agent().await;
    let body = json!({"kind": "custom", "name": "Desk", "agent_deployed": false, "destination": "help_desk",
                      "config": {"webhook_url": "http://127.0.0.1:9/hook"}});
    let (s, e) = app
        .admin(Method::POST, "/api/v1/channels", Some(json!({"kind": "custom", "name": "X", "destination": "desk", "config": {"webhook_url": "http://127.0.0.1:9/hook"}})))
        .await;
    assert_eq!((s, e["field"].as_str()), (422, Some("destination")), "{e}");
    let (s, ch) = app.admin(Method::POST, "/api/v1/channels", Some(body)).await;
    assert_eq!((s, ch["destination"].as_str()), (201, Some("help_desk")), "{ch}");
    let r = app
        .client
        .post(app.url("/api/v1/channels/inbound"))
        .bearer_auth(ch["key"].as_str().unwrap())
        .json(&json!({"external_id": "d1", "contact": {"external_id": "u1"}, "text": "What are your opening hours?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let conv = r.json::<Value>().await.unwrap()["conversation_id"].as_i64().unwrap();
    let ticket = app.store().ticket_for_conversation(conv).await.unwrap().expect("a ticket from the start");
    assert_eq!(ticket.status.as_str(), "open");
    let (_, d) = app.admin(Method::GET, &format!("/api/v1/conversations/{conv}"), None).await;
    assert_eq!(d["conversation"]["assignee_kind"], "none", "no agent on this channel: {d}");
    assert!(!d["messages"].as_array().unwrap().iter().any(|m| m["author"] == "agent"), "{d}");
    // Moved back to the inbox: later conversations are not tickets.
    let id = ch["id"].as_i64().unwrap();
    let (s, v) =
        app.admin(Method::PATCH, &format!("/api/v1/channels/{id}"), Some(json!({"destination": "inbox"}))).await;
    assert_eq!((s, v["destination"].as_str()), (200, Some("inbox")), "{v}");
}
crate::both_backends!(a_help_desk_channel_makes_tickets, private_networks);

/// A channel reply goes out while ingestion holds the worker: with a crawl
/// running (of a site that never answers), a reply enqueued afterwards is
/// delivered within a second or two — the worker neither waits for the
/// crawl to finish before claiming again, nor lets ingestion take the slots
/// deliveries need.
async fn a_reply_goes_out_while_a_crawl_holds_the_slow_lane(app: TestApp) {
    app.seed_agent().await;
    let (receiver, _, key) = connected(&app).await;
    crate::jobs::start_hanging_crawl(&app).await;
    let sent = Instant::now();
    let (s, v) = post(&app, &key, message("msg-1", ada(), "How much does the Pro plan cost?")).await;
    assert_eq!(s, 202, "{v}");
    let id = v["conversation_id"].as_i64().unwrap();
    let calls = receiver.wait_acks(1, Duration::from_secs(5)).await;
    assert_eq!(calls.len(), 1, "{calls:?}");
    wait_deliveries(&app, id, Duration::from_secs(5), |ds| ds.len() == 1 && ds[0]["status"] == "sent").await;
    assert!(sent.elapsed() < Duration::from_secs(3), "the reply waited behind the crawl: {:?}", sent.elapsed());
    // The crawl is still running meanwhile.
    let (_, running) = app.admin(Method::GET, "/api/v1/jobs?status=running", None).await;
    assert!(running.as_array().unwrap().iter().any(|j| j["kind"] == "crawl_source"), "{running}");
}
crate::both_backends!(a_reply_goes_out_while_a_crawl_holds_the_slow_lane, private_networks);
