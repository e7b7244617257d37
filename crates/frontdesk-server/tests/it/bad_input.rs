//! Bad input gets a clear 4xx with the common error body and changes nothing.

use frontdesk_core::model::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::common::TestApp;

async fn bad_input_is_refused_cleanly(app: TestApp) {
    app.seed_agent().await;
    let (id, token) = app.visitor(json!({})).await;
    let url = app.url(&format!("/api/v1/chat/conversations/{id}/messages"));
    let send_raw = |body: String, ct: &'static str| {
        app.client.post(&url).bearer_auth(&token).header("content-type", ct).body(body).send()
    };

    let check = |r: reqwest::Response, status: u16, code: &'static str, field: Option<&'static str>| async move {
        assert_eq!(r.status().as_u16(), status);
        let b: Value = r.json().await.expect("a JSON error body");
        assert_eq!(b["code"], code, "{b}");
        assert!(b["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(b["type"].is_string());
        assert_eq!(b["field"].as_str(), field, "{b}");
    };
    check(send_raw("{not json".into(), "application/json").await.unwrap(), 400, "invalid_request", None).await;
    check(send_raw("{\"text\": \"hi\"}".into(), "text/plain").await.unwrap(), 415, "unsupported_media_type", None)
        .await;
    check(
        send_raw("{\"text\": \"hi\", \"admin\": true}".into(), "application/json").await.unwrap(),
        422,
        "validation_failed",
        Some("admin"),
    )
    .await;
    check(send_raw("{}".into(), "application/json").await.unwrap(), 422, "validation_failed", Some("text")).await;
    check(send_raw("{\"text\": 5}".into(), "application/json").await.unwrap(), 422, "validation_failed", Some("text"))
        .await;
    check(
        send_raw(json!({"text": "   "}).to_string(), "application/json").await.unwrap(),
        422,
        "validation_failed",
        Some("text"),
    )
    .await;
    check(
        send_raw(json!({"text": "x".repeat(20_000)}).to_string(), "application/json").await.unwrap(),
        422,
        "validation_failed",
        Some("text"),
    )
    .await;
    check(
        send_raw(json!({"text": "x".repeat(300_000)}).to_string(), "application/json").await.unwrap(),
        413,
        "payload_too_large",
        None,
    )
    .await;
    // Unicode, emoji and markup are just text.
    let (s, _) = app.say(id, &token, "<script>alert(1)</script> 🙂 ¿qué?").await;
    assert_eq!(s, 201);
    let ms = app.messages(id, &token).await;
    assert_eq!(ms.iter().filter(|m| m["author"] == "visitor").count(), 1, "only the valid message was stored");
    assert_eq!(ms[0]["text"], "<script>alert(1)</script> 🙂 ¿qué?");

    // Sessions: invalid email, unknown fields.
    let r =
        app.client.post(app.url("/api/v1/chat/sessions")).json(&json!({"email": "not-an-email"})).send().await.unwrap();
    check(r, 422, "validation_failed", Some("email")).await;
    let r = app.client.post(app.url("/api/v1/chat/sessions")).json(&json!({"nmae": "typo"})).send().await.unwrap();
    check(r, 422, "validation_failed", Some("nmae")).await;
    // Ids that are not numbers, unknown routes, unknown views.
    let r =
        app.client.get(app.url("/api/v1/chat/conversations/abc/messages")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = app.client.get(app.url("/api/v1/nope")).send().await.unwrap();
    check(r, 404, "not_found", None).await;
    let (s, e) = app.admin(Method::GET, "/api/v1/conversations?view=everything", None).await;
    assert_eq!((s, e["field"].as_str()), (422, Some("view")));
    let (s, e) = app.admin(Method::PUT, "/api/v1/agent", Some(json!({"personality": "grumpy"}))).await;
    assert_eq!((s, e["field"].as_str()), (422, Some("personality")));
    let (s, e) =
        app.admin(Method::PUT, "/api/v1/agent", Some(json!({"personality": "brand_voice", "brand_voice": ""}))).await;
    assert_eq!((s, e["field"].as_str()), (422, Some("brand_voice")));
    let (s, e) = app.admin(Method::PUT, "/api/v1/agent", Some(json!({"name": ""}))).await;
    assert_eq!((s, e["field"].as_str()), (422, Some("name")));
    let (_, p) = app.admin(Method::GET, "/api/v1/agent", None).await;
    assert_eq!(p["name"], "Luma", "failed updates change nothing");
    assert_eq!(p["personality"], "friendly");
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=agent_profile", None).await;
    assert_eq!(audit.as_array().unwrap().len(), 1);
}
both_backends!(bad_input_is_refused_cleanly);

async fn api_docs_health_and_metrics(app: TestApp) {
    let doc: Value = app.client.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    for p in [
        "/api/v1/chat/sessions",
        "/api/v1/chat/conversations/{id}/messages",
        "/api/v1/chat/conversations/{id}/stream",
        "/api/v1/chat/conversations/{id}/messages/{message_id}/feedback",
        "/api/v1/short-answers",
        "/api/v1/conversations/{id}/assign",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p} is documented");
    }
    assert!(doc["paths"]["/api/v1/chat/sessions"]["post"]["responses"].get("201").is_some());
    let r = app.client.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(app.client.get(app.url("/readyz")).send().await.unwrap().status(), 200);
    let widget = app.client.get(app.url("/widget.js")).send().await.unwrap();
    assert!(widget.headers()["content-type"].to_str().unwrap().contains("javascript"));
    let demo = app.client.get(app.url("/demo")).send().await.unwrap().text().await.unwrap();
    assert!(demo.contains("/widget.js"));

    app.seed_agent().await;
    let (id, token) = app.visitor(json!({})).await;
    app.say(id, &token, "what are your opening hours").await;
    app.say(id, &token, "let me talk to a human").await;
    let m = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    for line in [
        "frontdesk_messages_total{author=\"visitor\"} 2",
        "frontdesk_agent_replies_total{outcome=\"answered\"} 1",
        "frontdesk_handoffs_total{trigger=\"visitor_asked\"} 1",
        "frontdesk_job_queue_depth",
        "frontdesk_http_requests_total",
    ] {
        assert!(m.contains(line), "{line} in\n{m}");
    }
}
both_backends!(api_docs_health_and_metrics);

/// Every kind of API error body, pinned (insta): the same fields (`message`,
/// `code`, `type`, and `field` for validation errors) whatever went wrong, and
/// the same on both backends (both tests compare with one snapshot).
async fn error_bodies_are_pinned(app: TestApp) {
    app.seed_agent().await;
    let (id, token) = app.visitor(json!({})).await;
    let (_, viewer_key) = app.user_with_key("viewer@test.example", Role::Viewer, false).await;
    let messages = app.url(&format!("/api/v1/chat/conversations/{id}/messages"));
    let mut seen: Vec<Value> = Vec::new();
    let mut record = |what: &str, status: reqwest::StatusCode, body: Value| {
        seen.push(json!({"request": what, "status": status.as_u16(), "body": body}));
    };
    let send = |rb: reqwest::RequestBuilder| async move {
        let r = rb.send().await.unwrap();
        let status = r.status();
        (status, r.json::<Value>().await.expect("a JSON error body"))
    };
    let post = |ct: &'static str, body: String| {
        app.client.post(&messages).bearer_auth(&token).header("content-type", ct).body(body)
    };

    let (s, b) = send(post("application/json", "{not json".into())).await;
    record("chat message: malformed JSON", s, b);
    let (s, b) = send(post("text/plain", "{\"text\": \"hi\"}".into())).await;
    record("chat message: text/plain", s, b);
    let (s, b) = send(post("application/json", "{\"text\": \"hi\", \"admin\": true}".into())).await;
    record("chat message: unknown field", s, b);
    let (s, b) = send(post("application/json", "{}".into())).await;
    record("chat message: missing field", s, b);
    let (s, b) = send(post("application/json", json!({"text": "x".repeat(20_000)}).to_string())).await;
    record("chat message: too long", s, b);
    let (s, b) = send(post("application/json", json!({"text": "x".repeat(300_000)}).to_string())).await;
    record("chat message: body too large", s, b);
    let (s, b) = send(app.client.get(app.url("/api/v1/conversations"))).await;
    record("admin API: no key", s, b);
    let (s, b) = send(app.client.get(app.url("/api/v1/conversations")).bearer_auth("fd_not_a_key")).await;
    record("admin API: unknown key", s, b);
    let (s, b) =
        send(app.client.put(app.url("/api/v1/agent")).bearer_auth(&viewer_key).json(&json!({"name": "Robin"}))).await;
    record("admin API: a viewer changes the agent", s, b);
    let (s, b) = send(app.client.get(app.url("/api/v1/nope"))).await;
    record("unknown route", s, b);
    let (s, b) = send(app.client.get(app.url("/api/v1/conversations/999999")).bearer_auth(&app.admin_key)).await;
    record("unknown conversation", s, b);
    let (s, b) = send(
        app.client.put(app.url("/api/v1/agent")).bearer_auth(&app.admin_key).json(&json!({"personality": "grumpy"})),
    )
    .await;
    record("agent: unknown personality", s, b);
    let (s, b) = send(
        app.client
            .put(app.url("/api/v1/reports/settings"))
            .bearer_auth(&app.admin_key)
            .json(&json!({"time_zone": "Mars/Olympus"})),
    )
    .await;
    record("reports: unknown time zone", s, b);
    let (s, b) =
        send(app.client.get(app.url("/api/v1/reports/handled?bucket=month")).bearer_auth(&app.admin_key)).await;
    record("reports: unknown bucket", s, b);
    insta::assert_json_snapshot!("api_error_bodies", seen);
}
both_backends!(error_bodies_are_pinned);
