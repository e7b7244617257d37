//! WhatsApp and Messenger (C1, J4) end to end: Meta's signed webhooks in, the
//! agent's answer out to a fake Graph API on loopback that records every call
//! and can be told to fail; delivery statuses from Meta move forward only.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Json;
use frontdesk_core::model::JobStatus;
use frontdesk_store::{Job, NewContact};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::both_backends;
use crate::common::TestApp;

const APP_SECRET: &str = "meta-app-secret";
const TOKEN: &str = "EAAG-page-or-system-user-token";
const VERIFY: &str = "my-verify-token";
const PHONE_ID: &str = "106540352242922";
const PAGE_ID: &str = "1234567890";

// ------------------------------------------------------------ fake Graph API

/// One call the fake Graph API received.
#[derive(Debug, Clone)]
struct Call {
    path: String,
    auth: String,
    body: Value,
}

#[derive(Default)]
struct GraphInner {
    calls: Vec<Call>,
    /// Answer this status to the next `n` calls (`usize::MAX`: forever).
    fail: Option<(u16, usize)>,
    /// Answer 500 to these calls (1-based, counting every call).
    fail_calls: Vec<usize>,
    sent: usize,
}

#[derive(Clone, Default)]
struct Graph(Arc<Mutex<GraphInner>>);

impl Graph {
    fn calls(&self) -> Vec<Call> {
        self.0.lock().unwrap().calls.clone()
    }
    fn fail_next(&self, status: u16, n: usize) {
        self.0.lock().unwrap().fail = Some((status, n));
    }
}

async fn graph_messages(
    State(g): State<Graph>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let mut g = g.0.lock().unwrap();
    g.calls.push(Call { path: format!("/{account}/messages"), auth, body: body.clone() });
    if g.fail_calls.contains(&g.calls.len()) {
        return (StatusCode::BAD_GATEWAY, "<html>bad gateway</html>").into_response();
    }
    if let Some((status, n)) = g.fail {
        if n > 0 {
            g.fail = if n == usize::MAX { Some((status, n)) } else { Some((status, n - 1)) };
            let error = if status == 429 {
                json!({"error": {"message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429}})
            } else {
                json!({"error": {"message": "An unexpected error has occurred. Please retry your request later.",
                                 "type": "OAuthException", "code": 2, "is_transient": true}})
            };
            return (StatusCode::from_u16(status).unwrap(), Json(error)).into_response();
        }
    }
    g.sent += 1;
    let n = g.sent;
    if body["messaging_product"] == "whatsapp" {
        let to = body["to"].clone();
        Json(json!({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                    "messages": [{"id": format!("wamid.OUT{n}"), "message_status": "accepted"}]}))
        .into_response()
    } else {
        Json(json!({"recipient_id": body["recipient"]["id"], "message_id": format!("m_OUT{n}")})).into_response()
    }
}

/// The fake Graph API on 127.0.0.1:0; returns its base URL.
async fn fake_graph() -> (String, Graph) {
    let g = Graph::default();
    let router = axum::Router::new().route("/v21.0/{account}/messages", post(graph_messages)).with_state(g.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (format!("http://{addr}/v21.0"), g)
}

// ------------------------------------------------------------ Meta's side

/// HMAC-SHA256 (RFC 2104), as Meta signs a webhook body with the app secret.
fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(msg).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().into()
}

fn signature(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac_sha256(secret.as_bytes(), body)))
}

#[test]
fn hmac_matches_rfc_4231() {
    assert_eq!(
        hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

/// POSTs `body` to a webhook signed with `secret` (`None`: no signature header).
async fn post_webhook(app: &TestApp, kind: &str, channel: i64, body: &Value, secret: Option<&str>) -> u16 {
    let bytes = serde_json::to_vec(body).unwrap();
    let mut rb = app
        .client
        .post(app.url(&format!("/webhooks/{kind}/{channel}")))
        .header("content-type", "application/json")
        .body(bytes.clone());
    if let Some(s) = secret {
        rb = rb.header("x-hub-signature-256", signature(s, &bytes));
    }
    rb.send().await.unwrap().status().as_u16()
}

async fn whatsapp(app: &TestApp, channel: i64, body: &Value) {
    assert_eq!(post_webhook(app, "whatsapp", channel, body, Some(APP_SECRET)).await, 200);
}

async fn messenger(app: &TestApp, channel: i64, body: &Value) {
    assert_eq!(post_webhook(app, "messenger", channel, body, Some(APP_SECRET)).await, 200);
}

fn wa_value(value: Value) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [
        {"value": value, "field": "messages"}]}]})
}

fn wa_metadata() -> Value {
    json!({"display_phone_number": "15550783881", "phone_number_id": PHONE_ID})
}

/// A customer's text (shape of Meta's "messages" webhook).
fn wa_text(from: &str, name: &str, wamid: &str, text: &str) -> Value {
    wa_value(json!({
        "messaging_product": "whatsapp",
        "metadata": wa_metadata(),
        "contacts": [{"profile": {"name": name}, "wa_id": from}],
        "messages": [{"from": from, "id": wamid, "timestamp": "1749416383", "type": "text", "text": {"body": text}}]
    }))
}

fn wa_status(wamid: &str, status: &str, to: &str) -> Value {
    wa_value(json!({
        "messaging_product": "whatsapp",
        "metadata": wa_metadata(),
        "statuses": [{"id": wamid, "status": status, "timestamp": "1750263773", "recipient_id": to,
                      "pricing": {"billable": false, "pricing_model": "PMP", "category": "service"}}]
    }))
}

fn ms_event(event: Value) -> Value {
    json!({"object": "page", "entry": [{"id": PAGE_ID, "time": 1458692752478i64, "messaging": [event]}]})
}

fn ms_text(psid: &str, mid: &str, text: &str) -> Value {
    ms_event(json!({"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": 1458692752478i64,
                    "message": {"mid": mid, "text": text}}))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

// ------------------------------------------------------------ helpers

async fn meta_channel(app: &TestApp, kind: &str, account: &str, graph: &str) -> i64 {
    let (s, v) = app
        .admin(
            Method::POST,
            "/api/v1/channels",
            Some(json!({"kind": kind, "name": format!("{kind} support"),
                "config": {"account_id": account, "verify_token": VERIFY, "graph_base_url": graph},
                "secrets": {"access_token": TOKEN, "app_secret": APP_SECRET}})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert!(v.get("key").is_none(), "Meta channels are authenticated by signature, not a key: {v}");
    v["id"].as_i64().unwrap()
}

async fn conversation_of(app: &TestApp, channel: i64, handle: &str) -> Option<i64> {
    app.store().open_conversation_by_handle(channel, handle).await.unwrap().map(|c| c.id)
}

async fn detail(app: &TestApp, id: i64) -> Value {
    let (s, v) = app.admin(Method::GET, &format!("/api/v1/conversations/{id}"), None).await;
    assert_eq!(s, 200, "{v}");
    v
}

fn texts(detail: &Value, author: &str) -> Vec<String> {
    detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["author"] == author)
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

async fn deliveries(app: &TestApp, conversation: i64) -> Vec<Value> {
    let (s, v) = app.admin(Method::GET, &format!("/api/v1/conversations/{conversation}/deliveries"), None).await;
    assert_eq!(s, 200, "{v}");
    v.as_array().unwrap().clone()
}

/// Polls the conversation's deliveries until `pred` holds (10 s at most).
async fn wait_deliveries(app: &TestApp, conversation: i64, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..200 {
        let d = deliveries(app, conversation).await;
        if pred(&d) {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("deliveries of {conversation} never matched: {:?}", deliveries(app, conversation).await);
}

fn all_sent(d: &[Value]) -> bool {
    !d.is_empty() && d.iter().all(|d| d["status"] == "sent")
}

// ------------------------------------------------------------ stories

async fn webhooks_are_authenticated(app: TestApp) {
    let (graph, calls) = fake_graph().await;
    let wa = meta_channel(&app, "whatsapp", PHONE_ID, &graph).await;
    let ms = meta_channel(&app, "messenger", PAGE_ID, &graph).await;

    // The subscription handshake answers the challenge only with the channel's token.
    let hs = |kind: &str, id: i64, token: &str| {
        app.url(&format!("/webhooks/{kind}/{id}?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444"))
    };
    let r = app.client.get(hs("whatsapp", wa, VERIFY)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert_eq!(r.text().await.unwrap(), "1158201444");
    let r = app.client.get(hs("messenger", ms, VERIFY)).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.text().await.unwrap()), (200, "1158201444".to_owned()));
    assert_eq!(app.client.get(hs("whatsapp", wa, "wrong")).send().await.unwrap().status(), 403);
    let unsubscribe =
        app.url(&format!("/webhooks/whatsapp/{wa}?hub.mode=unsubscribe&hub.verify_token={VERIFY}&hub.challenge=1"));
    assert_eq!(app.client.get(unsubscribe).send().await.unwrap().status(), 403);
    assert_eq!(app.client.get(app.url(&format!("/webhooks/whatsapp/{wa}"))).send().await.unwrap().status(), 403);
    // A channel of the other kind, or none, is not found.
    assert_eq!(app.client.get(hs("messenger", wa, VERIFY)).send().await.unwrap().status(), 404);
    assert_eq!(app.client.get(hs("whatsapp", 424242, VERIFY)).send().await.unwrap().status(), 404);
    assert_eq!(app.client.get(hs("whatsapp", 0, VERIFY).replace("/0?", "/nope?")).send().await.unwrap().status(), 404);

    // A POST without a signature, or signed with another secret, is refused and nothing is stored.
    let body = wa_text("16505551234", "Sheena Nelson", "wamid.AUTH1", "What are your opening hours?");
    assert_eq!(post_webhook(&app, "whatsapp", wa, &body, None).await, 401);
    assert_eq!(post_webhook(&app, "whatsapp", wa, &body, Some("not-the-secret")).await, 403);
    let r = app
        .client
        .post(app.url(&format!("/webhooks/whatsapp/{wa}")))
        .header("x-hub-signature-256", "sha256=zz")
        .body(serde_json::to_vec(&body).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The right signature on another channel kind's URL, or an unknown channel: 404.
    assert_eq!(post_webhook(&app, "messenger", wa, &body, Some(APP_SECRET)).await, 404);
    assert_eq!(post_webhook(&app, "whatsapp", 424242, &body, Some(APP_SECRET)).await, 404);
    assert_eq!(conversation_of(&app, wa, "16505551234").await, None);
    assert!(!app.store().inbound_seen(wa, "wamid.AUTH1").await.unwrap());
    let (_, list) = app.admin(Method::GET, "/api/v1/conversations", None).await;
    assert_eq!(list.as_array().map(Vec::len), Some(0), "{list}");

    // A channel without an app secret trusts nothing.
    let (s, _) =
        app.admin(Method::PATCH, &format!("/api/v1/channels/{wa}"), Some(json!({"secrets": {"app_secret": ""}}))).await;
    assert_eq!(s, 200);
    assert_eq!(post_webhook(&app, "whatsapp", wa, &body, Some(APP_SECRET)).await, 403);
    assert_eq!(conversation_of(&app, wa, "16505551234").await, None);

    // Signed junk is acknowledged (Meta would resend it forever) and ignored.
    assert_eq!(post_webhook(&app, "messenger", ms, &json!({"hello": "world"}), Some(APP_SECRET)).await, 200);
    assert!(calls.calls().is_empty());
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("inbound_total{channel=\"whatsapp\",result=\"refused\"}"), "{metrics}");
}
both_backends!(webhooks_are_authenticated, private_networks);

async fn whatsapp_text_is_answered_and_statuses_move_forward(app: TestApp) {
    app.seed_agent().await;
    let (graph, g) = fake_graph().await;
    let wa = meta_channel(&app, "whatsapp", PHONE_ID, &graph).await;
    // A contact known from elsewhere with this phone (J4).
    let known = app
        .store()
        .upsert_contact(NewContact {
            email: Some("sheena@shop.example".into()),
            name: Some("Sheena N.".into()),
            phone: Some("+16505551234".into()),
        })
        .await
        .unwrap();

    let body = wa_text("16505551234", "Sheena Nelson", "wamid.IN1", "What are your opening hours?");
    whatsapp(&app, wa, &body).await;
    let id = conversation_of(&app, wa, "16505551234").await.expect("a conversation for the sender");
    let d = detail(&app, id).await;
    assert_eq!(d["conversation"]["channel"], "whatsapp", "{d}");
    assert_eq!(d["conversation"]["contact_id"].as_i64(), Some(known.id), "matched by phone across channels: {d}");
    assert_eq!(texts(&d, "visitor"), ["What are your opening hours?"]);
    let answer = texts(&d, "agent").pop().expect("the agent answered");
    assert!(answer.contains("9:00 to 18:00"), "{answer}");

    // The answer goes to the sender through the Graph API, once.
    let sent = wait_deliveries(&app, id, all_sent).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["external_id"], "wamid.OUT1");
    let calls = g.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].path, format!("/{PHONE_ID}/messages"));
    assert_eq!(calls[0].auth, format!("Bearer {TOKEN}"));
    assert_eq!(calls[0].body["messaging_product"], "whatsapp");
    assert_eq!(calls[0].body["to"], "16505551234");
    assert_eq!(calls[0].body["type"], "text");
    assert_eq!(calls[0].body["text"]["body"], answer.as_str());

    // Meta's statuses move the delivery forward, never back.
    let status = |s: &str| wa_status("wamid.OUT1", s, "16505551234");
    whatsapp(&app, wa, &status("delivered")).await;
    assert_eq!(deliveries(&app, id).await[0]["status"], "delivered");
    whatsapp(&app, wa, &status("read")).await;
    assert_eq!(deliveries(&app, id).await[0]["status"], "read");
    whatsapp(&app, wa, &status("sent")).await;
    whatsapp(&app, wa, &status("delivered")).await;
    assert_eq!(deliveries(&app, id).await[0]["status"], "read");
    // A status for a message we never sent changes nothing.
    whatsapp(&app, wa, &wa_status("wamid.SOMEONE_ELSES", "failed", "16505551234")).await;

    // Meta retries the same webhook: processed once, answered once.
    whatsapp(&app, wa, &body).await;
    let d = detail(&app, id).await;
    assert_eq!(texts(&d, "visitor").len(), 1, "{d}");
    assert_eq!(texts(&d, "agent").len(), 1, "{d}");
    assert_eq!(deliveries(&app, id).await.len(), 1);

    // Echoes of messages sent from the WhatsApp Business app are ignored.
    let echo = json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{
        "value": {"messaging_product": "whatsapp", "metadata": wa_metadata(),
                  "message_echoes": [{"from": "15550783881", "to": "16505551234", "id": "wamid.ECHO", "timestamp": "1749417000",
                                      "type": "text", "text": {"body": "I'll check with the warehouse."}}]},
        "field": "smb_message_echoes"}]}]});
    whatsapp(&app, wa, &echo).await;
    let d = detail(&app, id).await;
    assert_eq!(d["messages"].as_array().unwrap().len(), 2, "{d}");

    // The next message continues the same conversation; a human's reply is delivered too.
    whatsapp(&app, wa, &wa_text("16505551234", "Sheena Nelson", "wamid.IN2", "How much does the Pro plan cost?")).await;
    assert_eq!(conversation_of(&app, wa, "16505551234").await, Some(id));
    let (s, v) = app
        .admin(
            Method::POST,
            &format!("/api/v1/conversations/{id}/messages"),
            Some(json!({"text": "Hi Sheena, Ann here."})),
        )
        .await;
    assert!(s == 200 || s == 201, "{s} {v}");
    let sent = wait_deliveries(&app, id, |d| d.len() == 3 && d.iter().all(|d| d["status"] != "queued")).await;
    assert!(sent.iter().all(|d| d["status"] == "sent" || d["status"] == "read"), "{sent:?}");
    let calls = g.calls();
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(calls.iter().any(|c| c.body["text"]["body"] == "Hi Sheena, Ann here."), "{calls:?}");
    assert!(calls.iter().all(|c| c.body["to"] == "16505551234"));

    // A contact unknown so far is created with their WhatsApp name and phone.
    whatsapp(&app, wa, &wa_text("393331234567", "Giulia", "wamid.IN3", "What are your opening hours?")).await;
    let other = conversation_of(&app, wa, "393331234567").await.unwrap();
    let contact_id = detail(&app, other).await["conversation"]["contact_id"].as_i64().unwrap();
    let contact = app.store().get_contact(contact_id).await.unwrap();
    assert_eq!((contact.name.as_deref(), contact.phone.as_deref()), (Some("Giulia"), Some("+393331234567")));
}
both_backends!(whatsapp_text_is_answered_and_statuses_move_forward, private_networks);

async fn media_is_stored_and_answered_politely(app: TestApp) {
    app.seed_agent().await;
    let (graph, g) = fake_graph().await;
    let wa = meta_channel(&app, "whatsapp", PHONE_ID, &graph).await;
    // An image with a caption and a sticker in one batch (shapes of Meta's media webhooks).
    let media = wa_value(json!({
        "messaging_product": "whatsapp",
        "metadata": wa_metadata(),
        "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
        "messages": [
            {"from": "16505551234", "id": "wamid.IMAGE", "timestamp": "1749416400", "type": "image",
             "image": {"caption": "This is the damaged box", "mime_type": "image/jpeg",
                       "sha256": "u6sbr8WkGrOUgHuMHPcdoiR4P5ZUPpW5HHmOIvTS3n4=", "id": "1003383421387256"}},
            {"from": "16505551234", "id": "wamid.STICKER", "timestamp": "1749416401", "type": "sticker",
             "sticker": {"mime_type": "image/webp", "sha256": "4Gv/mmJ6yvu8Q1SInRqwV5GXTYXSF+uQ6M1G5GB6TwE=",
                         "id": "1154473879282839", "animated": false}}
        ]
    }));
    whatsapp(&app, wa, &media).await;
    let id = conversation_of(&app, wa, "16505551234").await.unwrap();
    let d = detail(&app, id).await;
    assert_eq!(texts(&d, "visitor"), ["[image] This is the damaged box", "[sticker]"], "{d}");
    // One polite answer for the burst, in English, delivered.
    assert_eq!(
        texts(&d, "agent"),
        ["Sorry, I can only read text messages. Could you write your question in a message?"],
        "{d}"
    );
    wait_deliveries(&app, id, all_sent).await;
    assert_eq!(g.calls().len(), 1);
    assert_eq!(g.calls()[0].body["text"]["body"], texts(&d, "agent")[0].as_str());
    // A reaction is stored, and not answered.
    let reaction = wa_value(json!({"messaging_product": "whatsapp", "metadata": wa_metadata(),
        "messages": [{"from": "16505551234", "id": "wamid.REACTION", "timestamp": "1749416403", "type": "reaction",
                      "reaction": {"message_id": "wamid.OUT1", "emoji": "\u{1F44D}"}}]}));
    whatsapp(&app, wa, &reaction).await;
    let d = detail(&app, id).await;
    assert_eq!(texts(&d, "visitor").last().unwrap(), "[reaction]");
    assert_eq!(texts(&d, "agent").len(), 1);

    // In the visitor's language when it shows.
    let photo = wa_value(json!({"messaging_product": "whatsapp", "metadata": wa_metadata(),
        "contacts": [{"profile": {"name": "Giulia"}, "wa_id": "393331234567"}],
        "messages": [{"from": "393331234567", "id": "wamid.IT", "timestamp": "1749416500", "type": "image",
                      "image": {"caption": "Questa è la scatola che non è arrivata come volevo", "mime_type": "image/jpeg", "id": "1"}}]}));
    whatsapp(&app, wa, &photo).await;
    let it = conversation_of(&app, wa, "393331234567").await.unwrap();
    assert_eq!(
        texts(&detail(&app, it).await, "agent"),
        ["Mi dispiace, posso leggere solo messaggi di testo. Puoi scrivere la tua domanda in un messaggio?"]
    );
}
both_backends!(media_is_stored_and_answered_politely, private_networks);

async fn graph_failures_are_retried_then_visible(app: TestApp) {
    app.seed_agent().await;
    let (graph, g) = fake_graph().await;
    let wa = meta_channel(&app, "whatsapp", PHONE_ID, &graph).await;

    // 429 once, then 200: retried by the job with backoff (2 s), sent once.
    g.fail_next(429, 1);
    whatsapp(&app, wa, &wa_text("16505551234", "Sheena", "wamid.R1", "What are your opening hours?")).await;
    let id = conversation_of(&app, wa, "16505551234").await.unwrap();
    let first = wait_deliveries(&app, id, |d| d.len() == 1 && d[0]["last_error"].is_string()).await;
    assert_eq!(first[0]["status"], "queued", "waiting for its retry: {first:?}");
    assert!(first[0]["last_error"].as_str().unwrap().contains("429"), "{first:?}");
    let sent = wait_deliveries(&app, id, all_sent).await;
    assert_eq!(sent[0]["attempts"], 2, "{sent:?}");
    assert!(sent[0]["last_error"].is_null(), "{sent:?}");
    let calls = g.calls();
    assert_eq!(calls.len(), 2, "one refused call, one that sent: {calls:?}");
    assert_eq!(calls[0].body, calls[1].body);

    // 500 forever: retried until the last attempt, then failed with the Graph error visible.
    // (The job's backoff doubles from 2 s over 8 attempts — minutes; the last attempt is driven
    // here directly, as the worker would run it.)
    g.fail_next(500, usize::MAX);
    whatsapp(&app, wa, &wa_text("16505551234", "Sheena", "wamid.R2", "How much does the Pro plan cost?")).await;
    let d = wait_deliveries(&app, id, |d| d.len() == 2 && d[1]["last_error"].is_string()).await;
    assert_eq!(d[1]["status"], "queued");
    let delivery_id = d[1]["id"].as_i64().unwrap();
    let last = Job {
        id: 0,
        kind: "deliver".into(),
        payload: json!({"delivery_id": delivery_id}),
        status: JobStatus::Running,
        attempts: frontdesk_store::DELIVERY_MAX_ATTEMPTS,
        max_attempts: frontdesk_store::DELIVERY_MAX_ATTEMPTS,
        run_at: 0,
        last_error: None,
        created_at: 0,
        updated_at: 0,
    };
    frontdesk_engine::worker::run_job(&app.state, &last).await.unwrap();
    let d = deliveries(&app, id).await;
    assert_eq!(d[1]["status"], "failed", "{d:?}");
    let error = d[1]["last_error"].as_str().unwrap();
    assert!(error.contains("gave up after 8 attempts"), "{error}");
    assert!(error.contains("500") && error.contains("An unexpected error has occurred"), "{error}");
    // Never sent again once failed.
    let n = g.calls().len();
    frontdesk_engine::worker::run_job(&app.state, &last).await.unwrap();
    assert_eq!(g.calls().len(), n);

    // Without an access token: failed at once, saying what to fix, nothing called.
    g.fail_next(500, 0);
    let (s, _) = app
        .admin(Method::PATCH, &format!("/api/v1/channels/{wa}"), Some(json!({"secrets": {"access_token": ""}})))
        .await;
    assert_eq!(s, 200);
    whatsapp(&app, wa, &wa_text("16505551234", "Sheena", "wamid.R3", "How do I reset my password?")).await;
    let d = wait_deliveries(&app, id, |d| d.len() == 3 && d[2]["status"] == "failed").await;
    assert!(d[2]["last_error"].as_str().unwrap().contains("access token"), "{d:?}");
    assert_eq!(d[2]["attempts"], 1);
    assert_eq!(g.calls().len(), n);
}
both_backends!(graph_failures_are_retried_then_visible, private_networks);

async fn messenger_text_is_answered_to_the_psid(app: TestApp) {
    app.seed_agent().await;
    let (graph, g) = fake_graph().await;
    let ms = meta_channel(&app, "messenger", PAGE_ID, &graph).await;
    let psid = "6783920012345678";

    messenger(&app, ms, &ms_text(psid, "mid.1457764197618:41d102a3e1ae206a38", "How much does the Pro plan cost?"))
        .await;
    let id = conversation_of(&app, ms, psid).await.expect("a conversation for the PSID");
    let d = detail(&app, id).await;
    assert_eq!(d["conversation"]["channel"], "messenger");
    let answer = texts(&d, "agent").pop().unwrap();
    assert!(answer.contains("12 euros"), "{answer}");
    let sent = wait_deliveries(&app, id, all_sent).await;
    assert_eq!(sent[0]["external_id"], "m_OUT1");
    let calls = g.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].path, format!("/{PAGE_ID}/messages"));
    assert_eq!(calls[0].auth, format!("Bearer {TOKEN}"));
    assert_eq!(
        calls[0].body,
        json!({"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": {"text": answer}})
    );

    // Echoes — of our own message, or a person answering from the Page inbox — are ignored.
    for (mid, app_id) in [("m_OUT1", 1517776481860111i64), ("m_FROM_INBOX", 263902037430900)] {
        let echo =
            ms_event(json!({"sender": {"id": PAGE_ID}, "recipient": {"id": psid}, "timestamp": 1700000000789i64,
            "message": {"is_echo": true, "app_id": app_id, "mid": mid, "text": "Thanks, we are on it."}}));
        messenger(&app, ms, &echo).await;
    }
    assert_eq!(detail(&app, id).await["messages"].as_array().unwrap().len(), 2);

    // Delivery with ids, then a read watermark (no ids): the delivery ends read.
    messenger(
        &app,
        ms,
        &ms_event(json!({"sender": {"id": psid}, "recipient": {"id": PAGE_ID},
        "delivery": {"mids": ["m_OUT1"], "watermark": now_ms()}})),
    )
    .await;
    assert_eq!(deliveries(&app, id).await[0]["status"], "delivered");
    messenger(
        &app,
        ms,
        &ms_event(json!({"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": now_ms(),
        "read": {"watermark": now_ms()}})),
    )
    .await;
    assert_eq!(deliveries(&app, id).await[0]["status"], "read");

    // A sticker gets the polite answer; a postback's title is read as text.
    messenger(
        &app,
        ms,
        &ms_event(json!({"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": 1700000000456i64,
        "message": {"mid": "m_STICKER", "sticker_id": 369239263222822i64,
                    "attachments": [{"type": "image", "payload": {"url": "https://scontent.xx.fbcdn.net/v/sticker.png",
                                                                  "sticker_id": 369239263222822i64}}]}})),
    )
    .await;
    let d = detail(&app, id).await;
    assert_eq!(texts(&d, "visitor").last().unwrap(), "[sticker]");
    assert!(texts(&d, "agent").last().unwrap().starts_with("Sorry, I can only read text"), "{d}");
    messenger(
        &app,
        ms,
        &ms_event(json!({"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": 1700000001000i64,
        "postback": {"mid": "m_POSTBACK", "title": "What are your opening hours?", "payload": "HOURS"}})),
    )
    .await;
    assert!(texts(&detail(&app, id).await, "agent").last().unwrap().contains("9:00 to 18:00"));
    let sent = wait_deliveries(&app, id, |d| d.len() == 3 && d.iter().all(|d| d["status"] != "queued")).await;
    assert_eq!(sent[0]["status"], "read");
    let calls = g.calls();
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|c| c.body["recipient"]["id"] == psid));
}
both_backends!(messenger_text_is_answered_to_the_psid, private_networks);

async fn long_answers_are_split_and_resume_after_a_failed_part(app: TestApp) {
    let (graph, g) = fake_graph().await;
    let ms = meta_channel(&app, "messenger", PAGE_ID, &graph).await;
    // Straight to humans: the agent stays out of it.
    let (s, _) =
        app.admin(Method::PATCH, &format!("/api/v1/channels/{ms}"), Some(json!({"agent_deployed": false}))).await;
    assert_eq!(s, 200);
    let psid = "99887766554433";
    messenger(&app, ms, &ms_text(psid, "m_HELLO", "Hello, I have a long question")).await;
    let id = conversation_of(&app, ms, psid).await.unwrap();
    assert!(texts(&detail(&app, id).await, "agent").is_empty());

    // A human's 3,000-character answer: two Messenger messages (2,000 at most each), in order.
    // The second part fails once: the retry sends only what is missing.
    let para = "This paragraph explains one more detail of the answer. ".repeat(18);
    let long = format!("{}\n\n{}\n\n{}", para.trim(), para.trim(), para.trim());
    assert!(long.chars().count() > 2000 && long.chars().count() <= 4000);
    g.0.lock().unwrap().fail_calls = vec![2];
    let (s, v) =
        app.admin(Method::POST, &format!("/api/v1/conversations/{id}/messages"), Some(json!({"text": long}))).await;
    assert!(s == 200 || s == 201, "{s} {v}");
    let sent = wait_deliveries(&app, id, all_sent).await;
    let calls = g.calls();
    let parts: Vec<&str> = calls.iter().map(|c| c.body["message"]["text"].as_str().unwrap()).collect();
    assert_eq!(parts.len(), 3, "part 1, part 2 refused, part 2 again: {parts:?}");
    assert_eq!(parts[1], parts[2]);
    assert!(parts.iter().all(|p| p.chars().count() <= 2000), "{parts:?}");
    assert!(calls.iter().all(|c| c.body["recipient"]["id"] == psid && c.path == format!("/{PAGE_ID}/messages")));
    let squash = |s: &str| s.split_whitespace().collect::<String>();
    assert_eq!(squash(&[parts[0], parts[2]].concat()), squash(&long));
    assert_eq!(sent[0]["external_id"], "m_OUT2", "the last part's id");
    assert_eq!(sent[0]["attempts"], 2);
}
both_backends!(long_answers_are_split_and_resume_after_a_failed_part, private_networks);

async fn one_meta_app_may_serve_several_numbers(app: TestApp) {
    app.seed_agent().await;
    let (graph, g) = fake_graph().await;
    let first = meta_channel(&app, "whatsapp", PHONE_ID, &graph).await;
    let second = meta_channel(&app, "whatsapp", "220000000000001", &graph).await;
    // Meta posts every number of the app to the one callback URL configured there.
    let mut body = wa_text("16505551234", "Sheena", "wamid.SECOND", "What are your opening hours?");
    body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = json!("220000000000001");
    whatsapp(&app, first, &body).await;
    assert_eq!(conversation_of(&app, first, "16505551234").await, None);
    let id = conversation_of(&app, second, "16505551234").await.expect("handled as the second number's");
    wait_deliveries(&app, id, all_sent).await;
    assert_eq!(g.calls()[0].path, "/220000000000001/messages", "answered from the number written to");
    // Its statuses reach the second number's delivery too.
    whatsapp(&app, first, &wa_status("wamid.OUT1", "read", "16505551234")).await;
    assert_eq!(deliveries(&app, id).await[0]["status"], "read");

    // A number no channel of ours has is skipped, not answered from another number.
    let mut body = wa_text("16505550000", "Nobody", "wamid.UNKNOWN", "Hello?");
    body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = json!("999");
    whatsapp(&app, first, &body).await;
    assert_eq!(conversation_of(&app, first, "16505550000").await, None);
    assert_eq!(conversation_of(&app, second, "16505550000").await, None);
    // A channel of another app (another secret) is never chosen.
    let (s, _) = app
        .admin(Method::PATCH, &format!("/api/v1/channels/{second}"), Some(json!({"secrets": {"app_secret": "other"}})))
        .await;
    assert_eq!(s, 200);
    let mut body = wa_text("16505551111", "Eve", "wamid.OTHER_APP", "Hello?");
    body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = json!("220000000000001");
    whatsapp(&app, first, &body).await;
    assert_eq!(conversation_of(&app, second, "16505551111").await, None);
}
both_backends!(one_meta_app_may_serve_several_numbers, private_networks);

/// The network guard (issue 15): with the default settings a `graph_base_url`
/// on a private address is refused when saved, and a stored one (a name that
/// pointed elsewhere when saved) is refused when connecting — the fake Graph
/// API on loopback is never called, so the access token never leaves, and the
/// delivery's error names the address and the setting.
async fn a_private_graph_base_url_is_refused_and_the_token_stays(app: TestApp) {
    app.seed_agent().await;
    let (graph, g) = fake_graph().await;
    let port = graph.trim_start_matches("http://127.0.0.1:").split('/').next().unwrap().to_owned();
    for (target, shown) in [
        (graph.clone(), "127.0.0.1"),
        (format!("http://[::127.0.0.1]:{port}/v21.0"), "::7f00:1"),
        (format!("http://[64:ff9b::127.0.0.1]:{port}/v21.0"), "64:ff9b::7f00:1"),
        (format!("http://localhost:{port}/v21.0"), "localhost"),
    ] {
        let (s, e) = app
            .admin(
                Method::POST,
                "/api/v1/channels",
                Some(json!({"kind": "whatsapp", "name": "WA",
                    "config": {"account_id": PHONE_ID, "verify_token": VERIFY, "graph_base_url": target},
                    "secrets": {"access_token": TOKEN, "app_secret": APP_SECRET}})),
            )
            .await;
        assert_eq!((s, e["field"].as_str()), (422, Some("config.graph_base_url")), "{target}: {e}");
        let m = e["message"].as_str().unwrap();
        assert!(m.contains("private") && m.contains("allow_private_networks"), "{target}: {m}");
        assert!(m.contains(shown) || shown == "localhost", "{target}: {m}");
    }
    assert!(app.store().list_channels().await.unwrap().is_empty());

    // Stored anyway (the name resolved elsewhere when saved): refused when connecting.
    for (n, target) in [graph.clone(), format!("http://localhost:{port}/v21.0")].into_iter().enumerate() {
        let account = format!("10654035224292{n}");
        let config = json!({"account_id": account, "verify_token": VERIFY, "graph_base_url": target});
        let (wa, _) = crate::common::stored_channel(
            &app,
            frontdesk_core::model::Channel::WhatsApp,
            config,
            &[("access_token", TOKEN), ("app_secret", APP_SECRET)],
        )
        .await;
        let mut body = wa_text("16505551234", "Sheena", &format!("wamid.P{n}"), "What are your opening hours?");
        body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = json!(account);
        whatsapp(&app, wa, &body).await;
        let id = conversation_of(&app, wa, "16505551234").await.expect("a conversation");
        let d = wait_deliveries(&app, id, |d| d.len() == 1 && d[0]["status"] == "failed").await;
        let error = d[0]["last_error"].as_str().unwrap();
        assert!(error.contains("graph_base_url") && error.contains("allow_private_networks"), "{error}");
        assert!(error.contains("127.0.0.1") || error.contains("::1"), "the address is named: {error}");
        assert_eq!(d[0]["attempts"], 1, "refused at once, not retried: {d:?}");
    }
    assert!(g.calls().is_empty(), "the private Graph API was called: {:?}", g.calls());
}
both_backends!(a_private_graph_base_url_is_refused_and_the_token_stays);

/// An answer that is not a Graph API error (a proxy's page, an internal
/// service's answer) is never quoted in the delivery's error agents see.
async fn a_non_graph_answer_is_not_quoted(app: TestApp) {
    app.seed_agent().await;
    let (graph, g) = fake_graph().await;
    g.0.lock().unwrap().fail_calls = vec![1];
    let wa = meta_channel(&app, "whatsapp", PHONE_ID, &graph).await;
    whatsapp(&app, wa, &wa_text("16505551234", "Sheena", "wamid.Q1", "What are your opening hours?")).await;
    let id = conversation_of(&app, wa, "16505551234").await.unwrap();
    let d = wait_deliveries(&app, id, |d| d.len() == 1 && d[0]["last_error"].is_string()).await;
    let error = d[0]["last_error"].as_str().unwrap();
    assert!(error.contains("502") && error.contains("not shown"), "{error}");
    assert!(!error.contains("bad gateway</html>"), "the body is not quoted: {error}");
}
both_backends!(a_non_graph_answer_is_not_quoted, private_networks);
