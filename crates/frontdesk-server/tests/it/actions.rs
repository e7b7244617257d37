//! Configured HTTP actions (F2): CRUD with audit, secrets that are never
//! shown again, field-specific validation, and test runs against a real
//! endpoint on loopback that answers JSON, HTML, 500s, 404s and slowly.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use frontdesk_core::model::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::TestApp;

/// What the fake endpoint saw: (path, Authorization header, body).
type Seen = Arc<Mutex<Vec<(String, String, String)>>>;

/// A tiny order API on 127.0.0.1:0; returns its base URL and what it saw.
pub async fn order_api() -> (String, Seen) {
    let seen: Seen = Arc::default();
    async fn order(State(seen): State<Seen>, headers: HeaderMap, Path(n): Path<String>) -> Response {
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        seen.lock().unwrap().push((format!("/orders/{n}"), auth, String::new()));
        match n.as_str() {
            "A-12345" => Json(json!({"status": "shipped", "delivery": {"date": "May 3"}})).into_response(),
            "ORD-5512" => Json(json!({"status": "packed"})).into_response(),
            _ => (StatusCode::NOT_FOUND, Json(json!({"error": "no such order"}))).into_response(),
        }
    }
    async fn html() -> Html<&'static str> {
        Html("<!doctype html><html><body><h1>Login</h1></body></html>")
    }
    async fn boom() -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, "Traceback (most recent call last): secret stack").into_response()
    }
    async fn slow() -> Json<Value> {
        tokio::time::sleep(Duration::from_secs(3)).await;
        Json(json!({"status": "late"}))
    }
    async fn reset(State(seen): State<Seen>, headers: HeaderMap, body: String) -> Response {
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        seen.lock().unwrap().push(("/reset".into(), auth.clone(), body));
        if auth != "Bearer s3cret-token" {
            return (StatusCode::UNAUTHORIZED, Json(json!({"error": "bad key"}))).into_response();
        }
        StatusCode::NO_CONTENT.into_response()
    }
    let router = axum::Router::new()
        .route("/orders/{n}", get(order))
        .route("/html/{n}", get(html))
        .route("/boom/{n}", get(boom))
        .route("/slow/{n}", get(slow))
        .route("/reset", post(reset))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (format!("http://{addr}"), seen)
}

pub fn order_status(base: &str) -> Value {
    json!({
        "name": "order_status",
        "description": "Looks up where an order is",
        "method": "GET",
        "url_template": format!("{base}/orders/{{order_number}}"),
        "headers": [{"name": "Authorization", "value": "Bearer s3cret-token", "secret": true},
                    {"name": "X-Shop", "value": "demo"}],
        "params": [{"name": "order_number", "description": "Order number", "kind": "order_number",
                    "source": {"from": "conversation", "pattern": "order_number"}}],
        "timeout_ms": 2000,
        "response_template": "Your order is {{status}} and will arrive on {{delivery.date}}.",
        "example_phrases": ["Where is my order?", "Dov'è il mio ordine?", "¿Dónde está mi pedido?"]
    })
}

async fn actions_are_managed_with_secrets_kept_and_audited(app: TestApp) {
    let (base, seen) = order_api().await;
    let (s, a) = app.admin(Method::POST, "/api/v1/actions", Some(order_status(&base))).await;
    assert_eq!(s, 201, "{a}");
    let id = a["id"].as_i64().unwrap();
    assert_eq!(a["headers"][0], json!({"name": "Authorization", "secret": true, "set": true}));
    assert_eq!(a["headers"][1], json!({"name": "X-Shop", "value": "demo", "secret": false}));
    for path in ["/api/v1/actions".to_owned(), format!("/api/v1/actions/{id}")] {
        let (s, v) = app.admin(Method::GET, &path, None).await;
        assert_eq!(s, 200);
        assert!(!v.to_string().contains("s3cret"), "{v}");
        assert!(v.to_string().contains(r#""set":true"#), "{v}");
    }

    // An update that does not re-send the secret keeps it; the call still authenticates.
    let mut changed = order_status(&base);
    changed["headers"][0] = json!({"name": "Authorization", "secret": true});
    changed["timeout_ms"] = json!(1500);
    let (s, v) = app.admin(Method::PUT, &format!("/api/v1/actions/{id}"), Some(changed)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["timeout_ms"], 1500);
    assert_eq!(v["headers"][0]["set"], true);
    let (s, r) = app
        .admin(
            Method::POST,
            &format!("/api/v1/actions/{id}/test"),
            Some(json!({"values": {"order_number": "#a-12345"}})),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["reply_text"], "Your order is shipped and will arrive on May 3.");
    assert_eq!(r["status"], 200);
    let calls = seen.lock().unwrap().clone();
    assert_eq!(calls.last().unwrap(), &("/orders/A-12345".to_owned(), "Bearer s3cret-token".to_owned(), String::new()));
    assert!(!r.to_string().contains("s3cret"), "{r}");

    // A second action may not take the same name (it is the tool's name).
    let (s, e) = app.admin(Method::POST, "/api/v1/actions", Some(order_status(&base))).await;
    assert_eq!(s, 409, "{e}");
    assert_eq!(e["field"], "name");

    // Every change is audited, and no audit row holds the secret.
    let (s, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=action", None).await;
    assert_eq!(s, 200);
    let rows = audit.as_array().unwrap();
    let actions: Vec<&str> = rows.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["update", "create"], "{audit}");
    assert!(!audit.to_string().contains("s3cret"), "{audit}");
    assert_eq!(rows[0]["before"]["timeout_ms"], 2000);
    assert_eq!(rows[0]["after"]["timeout_ms"], 1500);
    for store_row in app.store().list_audit(Default::default()).await.unwrap() {
        let text = format!("{:?} {:?}", store_row.before, store_row.after);
        assert!(!text.contains("s3cret"), "{text}");
    }

    // Changing the secret takes the new value.
    let mut rotated = order_status(&base);
    rotated["headers"][0]["value"] = json!("Bearer other");
    let (s, _) = app.admin(Method::PUT, &format!("/api/v1/actions/{id}"), Some(rotated)).await;
    assert_eq!(s, 200);
    let stored = app.store().get_action(id).await.unwrap();
    assert_eq!(stored.def.headers[0].value, "Bearer other");

    let (s, _) = app.admin(Method::DELETE, &format!("/api/v1/actions/{id}"), None).await;
    assert_eq!(s, 204);
    let (s, _) = app.admin(Method::GET, &format!("/api/v1/actions/{id}"), None).await;
    assert_eq!(s, 404);
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=action&action=delete", None).await;
    assert_eq!(audit.as_array().unwrap().len(), 1);
    assert!(!audit.to_string().contains("Bearer other"));
}
crate::both_backends!(actions_are_managed_with_secrets_kept_and_audited, private_networks);

/// A change to a definition.
type Tweak = Box<dyn Fn(&mut Value)>;

async fn bad_definitions_name_the_field(app: TestApp) {
    let base = "https://api.example.com";
    let cases: Vec<(&str, Tweak)> = vec![
        ("name", Box::new(|v| v["name"] = json!("Order Status!"))),
        ("url_template", Box::new(|v| v["url_template"] = json!("https://api.example.com/{order_number}/{ghost}"))),
        ("url_template", Box::new(|v| v["url_template"] = json!("file:///etc/passwd"))),
        ("url_template", Box::new(|v| v["url_template"] = json!("https://{order_number}.evil.example/"))),
        ("timeout_ms", Box::new(|v| v["timeout_ms"] = json!(120_000))),
        (
            "params[1].name",
            Box::new(|v| {
                let p = v["params"][0].clone();
                v["params"].as_array_mut().unwrap().push(p);
            }),
        ),
        ("params[0].source.value", Box::new(|v| v["params"][0]["source"] = json!({"from": "constant", "value": " "}))),
        ("params[0].values", Box::new(|v| v["params"][0]["kind"] = json!("enum"))),
        (
            "params[0].source.pattern",
            Box::new(|v| v["params"][0]["source"] = json!({"from": "conversation", "pattern": "(unclosed"})),
        ),
        ("params[0].kind", Box::new(|v| v["params"][0]["kind"] = json!("colour"))),
        ("headers[0].value", Box::new(|v| v["headers"][0] = json!({"name": "Authorization", "secret": true}))),
        ("headers[1].name", Box::new(|v| v["headers"][1]["name"] = json!("Content-Length"))),
        ("body_template", Box::new(|v| v["body_template"] = json!("{\"a\": 1}"))),
        ("response_template", Box::new(|v| v["response_template"] = json!("Your order is {{status"))),
        ("method", Box::new(|v| v["method"] = json!("TRACE"))),
    ];
    for (field, tweak) in cases {
        let mut def = order_status(base);
        tweak(&mut def);
        let (s, e) = app.admin(Method::POST, "/api/v1/actions", Some(def.clone())).await;
        assert_eq!(s, 422, "{field}: {e}");
        assert_eq!(e["field"], field, "{def}: {e}");
        assert_eq!(e["code"], "validation_failed");
        assert!(!e["message"].as_str().unwrap().is_empty());
    }
    let (s, list) = app.admin(Method::GET, "/api/v1/actions", None).await;
    assert_eq!((s, list), (200, json!([])), "nothing was stored");
}
crate::both_backends!(bad_definitions_name_the_field);

async fn failed_or_slow_actions_get_polite_replies_and_a_clear_trace(app: TestApp) {
    let (base, _) = order_api().await;
    let mut ids = std::collections::HashMap::new();
    for (name, path, timeout) in [
        ("order_status", "orders", 2000),
        ("html_page", "html", 2000),
        ("broken", "boom", 2000),
        ("slow_one", "slow", 300),
    ] {
        let mut def = order_status(&base);
        def["name"] = json!(name);
        def["url_template"] = json!(format!("{base}/{path}/{{order_number}}"));
        def["timeout_ms"] = json!(timeout);
        let (s, a) = app.admin(Method::POST, "/api/v1/actions", Some(def)).await;
        assert_eq!(s, 201, "{a}");
        ids.insert(name, a["id"].as_i64().unwrap());
    }
    let run = |name: &'static str, order: &'static str, lang: &'static str| {
        let id = ids[name];
        let app = &app;
        async move {
            let (s, r) = app
                .admin(
                    Method::POST,
                    &format!("/api/v1/actions/{id}/test"),
                    Some(json!({"values": {"order_number": order}, "lang": lang})),
                )
                .await;
            assert_eq!(s, 200, "{r}");
            r
        }
    };
    let polite = |r: &Value| {
        let t = r["reply_text"].as_str().unwrap();
        for raw in ["HTTP", "500", "HTML", "JSON", "Traceback", "timed out", "127.0.0.1"] {
            assert!(!t.contains(raw), "the visitor's reply leaks {raw:?}: {t}");
        }
        assert!(t.len() > 20, "{t}");
    };

    let r = run("order_status", "A-12345", "en").await;
    assert_eq!(r["ok"], true);
    assert!(r["detail"].as_str().unwrap().starts_with("HTTP 200 from 127.0.0.1"), "{r}");

    let r = run("html_page", "A-1", "en").await;
    assert_eq!((r["ok"].clone(), r["failure"].clone()), (json!(false), json!("not_json")));
    assert!(r["detail"].as_str().unwrap().contains("the response was HTML, not JSON"), "{r}");
    polite(&r);

    let r = run("broken", "A-1", "en").await;
    assert_eq!(r["failure"], "server_error");
    assert_eq!(r["status"], 500);
    assert_eq!(r["detail"], "HTTP 500 from 127.0.0.1");
    polite(&r);

    let started = std::time::Instant::now();
    let r = run("slow_one", "A-1", "en").await;
    assert!(started.elapsed() < Duration::from_secs(2), "the timeout was applied");
    assert_eq!(r["failure"], "timeout");
    assert_eq!(r["detail"], "timed out after 300 ms");
    assert!(r["status"].is_null());
    polite(&r);

    let r = run("order_status", "ZZ-999", "it").await;
    assert_eq!(r["failure"], "not_found");
    assert!(r["detail"].as_str().unwrap().contains("HTTP 404"), "{r}");
    assert!(r["reply_text"].as_str().unwrap().starts_with("Non ho trovato"), "{r}");

    // A field the template needs is missing: no sentence with a hole in it.
    let r = run("order_status", "ORD-5512", "es").await;
    assert_eq!(r["failure"], "missing_fields");
    assert_eq!(r["missing"], json!(["delivery.date"]));
    assert!(r["detail"].as_str().unwrap().contains("delivery.date"), "{r}");
    polite(&r);
    assert!(r["reply_text"].as_str().unwrap().starts_with("Lo siento"), "{r}");

    // Bad sample values are refused naming the parameter; unknown actions are 404.
    let id = ids["order_status"];
    let (s, e) = app
        .admin(Method::POST, &format!("/api/v1/actions/{id}/test"), Some(json!({"values": {"order_number": "??"}})))
        .await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(e["field"], "values.order_number");
    let (s, e) = app.admin(Method::POST, &format!("/api/v1/actions/{id}/test"), Some(json!({"values": {}}))).await;
    assert_eq!((s, e["field"].clone()), (422, json!("values.order_number")));
    let (s, e) =
        app.admin(Method::POST, &format!("/api/v1/actions/{id}/test"), Some(json!({"values": {"ghost": "1"}}))).await;
    assert_eq!((s, e["field"].clone()), (422, json!("values.ghost")));
    let (s, _) = app.admin(Method::POST, "/api/v1/actions/987654/test", Some(json!({}))).await;
    assert_eq!(s, 404);
}
crate::both_backends!(failed_or_slow_actions_get_polite_replies_and_a_clear_trace, private_networks);

async fn post_actions_send_typed_json_bodies_with_secrets(app: TestApp) {
    let (base, seen) = order_api().await;
    let def = json!({
        "name": "reset_password",
        "description": "Sends a password reset link",
        "method": "POST",
        "url_template": format!("{base}/reset"),
        "headers": [{"name": "Authorization", "value": "Bearer s3cret-token", "secret": true}],
        "params": [
            {"name": "email", "kind": "email", "source": {"from": "contact", "property": "email"}},
            {"name": "notify", "kind": "boolean", "source": {"from": "constant", "value": "yes"}},
            {"name": "seats", "kind": "integer", "required": false}
        ],
        "body_template": "{\"email\": \"{email}\", \"notify\": \"{notify}\", \"seats\": \"{seats}\", \"note\": \"for {email}\"}",
        "response_template": "I've sent a reset link to your email address.",
        "example_phrases": ["I forgot my password", "reset my password", "ho dimenticato la password"]
    });
    let (s, a) = app.admin(Method::POST, "/api/v1/actions", Some(def)).await;
    assert_eq!(s, 201, "{a}");
    let id = a["id"].as_i64().unwrap();
    let (s, r) = app
        .admin(
            Method::POST,
            &format!("/api/v1/actions/{id}/test"),
            Some(json!({"values": {"email": "Ann@Example.COM", "seats": "3"}})),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["status"], 204);
    assert_eq!(r["reply_text"], "I've sent a reset link to your email address.");
    let (path, auth, body) = seen.lock().unwrap().last().unwrap().clone();
    assert_eq!((path.as_str(), auth.as_str()), ("/reset", "Bearer s3cret-token"));
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body, json!({"email": "Ann@example.com", "notify": true, "seats": 3, "note": "for Ann@example.com"}));
    // A constant cannot be overridden; the contact's email is required.
    let (s, e) =
        app.admin(Method::POST, &format!("/api/v1/actions/{id}/test"), Some(json!({"values": {"notify": "no"}}))).await;
    assert_eq!((s, e["field"].clone()), (422, json!("values.notify")));
    let (s, e) = app.admin(Method::POST, &format!("/api/v1/actions/{id}/test"), Some(json!({}))).await;
    assert_eq!((s, e["field"].clone()), (422, json!("values.email")));
}
crate::both_backends!(post_actions_send_typed_json_bodies_with_secrets, private_networks);

/// An action stored without the save-time check (one saved while private
/// networks were allowed, or whose name pointed elsewhere then), so the
/// connection-time guard is what refuses it.
async fn stored_unchecked(app: &TestApp, def: Value) -> i64 {
    let def: frontdesk_core::actions::ActionDef = serde_json::from_value(def).unwrap();
    let actor = frontdesk_store::Actor::user(app.admin_id, "admin@test.example");
    app.store().create_action(&actor, def.parse().unwrap()).await.unwrap().def.id
}

async fn private_targets_are_refused_by_default(app: TestApp) {
    let (base, seen) = order_api().await;
    let id = stored_unchecked(&app, order_status(&base)).await;
    let (s, r) = app
        .admin(
            Method::POST,
            &format!("/api/v1/actions/{id}/test"),
            Some(json!({"values": {"order_number": "A-12345"}})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(r["failure"], "refused", "{r}");
    assert!(r["detail"].as_str().unwrap().contains("private or local address"), "{r}");
    // By name too: "localhost" resolves to loopback and is refused by the resolver.
    let mut by_name = order_status(&base.replace("127.0.0.1", "localhost"));
    by_name["name"] = json!("by_name");
    let id = stored_unchecked(&app, by_name).await;
    let (_, r) = app
        .admin(
            Method::POST,
            &format!("/api/v1/actions/{id}/test"),
            Some(json!({"values": {"order_number": "A-12345"}})),
        )
        .await;
    assert_eq!(r["failure"], "refused", "{r}");
    assert!(seen.lock().unwrap().is_empty(), "no request reached the private address");
}
crate::both_backends!(private_targets_are_refused_by_default);

/// The URL template's host is checked when the action is saved, like a
/// webhook URL: a private or loopback address, literal or by name, is refused
/// naming `url_template` (created or changed), and nothing is stored.
async fn private_url_templates_are_refused_when_saved(app: TestApp) {
    for (i, base) in
        ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9", "https://10.1.2.3"].iter().enumerate()
    {
        let mut def = order_status(base);
        def["name"] = json!(format!("private_{i}"));
        let (s, e) = app.admin(Method::POST, "/api/v1/actions", Some(def)).await;
        assert_eq!((s, e["field"].clone()), (422, json!("url_template")), "{base}: {e}");
        assert!(e["message"].as_str().unwrap().contains("private or local address"), "{e}");
        assert!(e["message"].as_str().unwrap().contains("allow_private_networks"), "{e}");
    }
    let (_, list) = app.admin(Method::GET, "/api/v1/actions", None).await;
    assert_eq!(list, json!([]), "nothing was stored");

    // A public one saves; changing it to point at loopback is refused and changes nothing.
    let (s, a) = app.admin(Method::POST, "/api/v1/actions", Some(order_status("https://93.184.215.14"))).await;
    assert_eq!(s, 201, "{a}");
    let id = a["id"].as_i64().unwrap();
    let (s, e) =
        app.admin(Method::PUT, &format!("/api/v1/actions/{id}"), Some(order_status("http://127.0.0.1:9"))).await;
    assert_eq!((s, e["field"].clone()), (422, json!("url_template")), "{e}");
    let (_, a) = app.admin(Method::GET, &format!("/api/v1/actions/{id}"), None).await;
    assert_eq!(a["url_template"], "https://93.184.215.14/orders/{order_number}", "{a}");
}
crate::both_backends!(private_url_templates_are_refused_when_saved);

/// With `allow_private_networks` on, the same templates save.
async fn private_url_templates_save_when_allowed(app: TestApp) {
    let (s, a) = app.admin(Method::POST, "/api/v1/actions", Some(order_status("http://127.0.0.1:9"))).await;
    assert_eq!(s, 201, "{a}");
}
crate::both_backends!(private_url_templates_save_when_allowed, private_networks);

async fn only_editors_change_actions(app: TestApp) {
    let (_, agent_key) = app.user_with_key("agent@tools.example", Role::Agent, true).await;
    let (_, viewer_key) = app.user_with_key("viewer@tools.example", Role::Viewer, true).await;
    let def = order_status("https://api.example.com");
    let (s, _) = app.api(&agent_key, Method::POST, "/api/v1/actions", Some(def.clone())).await;
    assert_eq!(s, 403);
    let (s, _) = app.api(&viewer_key, Method::GET, "/api/v1/actions", None).await;
    assert_eq!(s, 403);
    let (s, a) = app.admin(Method::POST, "/api/v1/actions", Some(def)).await;
    assert_eq!(s, 201);
    let id = a["id"].as_i64().unwrap();
    // An agent may look (ViewAgent) but not test or change.
    let (s, v) = app.api(&agent_key, Method::GET, &format!("/api/v1/actions/{id}"), None).await;
    assert_eq!(s, 200);
    assert!(!v.to_string().contains("s3cret"));
    let (s, _) = app.api(&agent_key, Method::POST, &format!("/api/v1/actions/{id}/test"), Some(json!({}))).await;
    assert_eq!(s, 403);
    let (s, _) = app.api(&agent_key, Method::DELETE, &format!("/api/v1/actions/{id}"), None).await;
    assert_eq!(s, 403);
}
crate::both_backends!(only_editors_change_actions);

async fn actions_in_the_console(app: TestApp) {
    let (base, _) = order_api().await;
    let key = app.admin_key.clone();
    let get = |path: String| {
        let rb = app.client.get(app.url(&path)).bearer_auth(&key);
        async move {
            let r = rb.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (s, html) = get("/console/actions".into()).await;
    assert_eq!(s, 200);
    assert!(html.contains("No actions yet") && html.contains("href=\"/console/actions\""), "nav link");
    let (s, html) = get("/console/actions/new".into()).await;
    assert_eq!(s, 200);
    assert!(html.contains("name=\"h0_name\"") && html.contains("name=\"p0_kind\""));

    let form = vec![
        ("name", "order_status".to_owned()),
        ("description", "Looks up an order".to_owned()),
        ("enabled", "on".to_owned()),
        ("method", "GET".to_owned()),
        ("url_template", format!("{base}/orders/{{order_number}}")),
        ("timeout_ms", "2000".to_owned()),
        ("response_template", "Your order is {{status}}, arriving {{delivery.date}}.".to_owned()),
        ("example_phrases", "where is my order\ndov'è il mio ordine".to_owned()),
        ("h0_name", "Authorization".to_owned()),
        ("h0_value", "Bearer s3cret-token".to_owned()),
        ("h0_secret", "on".to_owned()),
        ("p0_name", "order_number".to_owned()),
        ("p0_kind", "order_number".to_owned()),
        ("p0_required", "on".to_owned()),
        ("p0_source", "conversation".to_owned()),
        ("p0_source_value", "order_number".to_owned()),
    ];
    let r = app.client.post(app.url("/console/actions")).bearer_auth(&key).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/console/actions/"), "{location}");
    let (s, html) = get(location.clone()).await;
    assert_eq!(s, 200);
    assert!(html.contains("•••• (set)"), "the secret shows as set");
    assert!(!html.contains("s3cret"), "the secret is never in a page");
    let id: i64 = location.trim_start_matches("/console/actions/").split('?').next().unwrap().parse().unwrap();

    // Saving without the secret value keeps it.
    let mut again = form.clone();
    again.retain(|(k, _)| *k != "h0_value");
    again.push(("h0_value", String::new()));
    let r = app
        .client
        .post(app.url(&format!("/console/actions/{id}")))
        .bearer_auth(&key)
        .form(&again)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(app.store().get_action(id).await.unwrap().def.headers[0].value, "Bearer s3cret-token");

    // A mistake is shown on the page, naming the problem, without echoing the secret.
    let mut bad = form.clone();
    bad.retain(|(k, _)| *k != "timeout_ms");
    bad.push(("timeout_ms", "5".into()));
    let r =
        app.client.post(app.url(&format!("/console/actions/{id}"))).bearer_auth(&key).form(&bad).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("timeout_ms: must be between 100 and 30000"), "{html}");
    assert!(!html.contains("s3cret"));

    // The test run, as htmx asks for it: a fragment with the result.
    let r = app
        .client
        .post(app.url(&format!("/console/actions/{id}/test")))
        .bearer_auth(&key)
        .header("hx-request", "true")
        .form(&[("v_order_number", "A-12345"), ("lang", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("succeeded") && html.contains("Your order is shipped, arriving May 3."), "{html}");
    assert!(!html.contains("<html"), "a fragment");
    let r = app
        .client
        .post(app.url(&format!("/console/actions/{id}/test")))
        .bearer_auth(&key)
        .header("hx-request", "true")
        .form(&[("v_order_number", "nope nope")])
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("values.order_number"), "{html}");

    let r = app.client.post(app.url(&format!("/console/actions/{id}/delete"))).bearer_auth(&key).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(app.store().list_actions().await.unwrap().is_empty());
}
crate::both_backends!(actions_in_the_console, private_networks);

/// The interface the engine uses: tools loaded once per content version,
/// the built-in responder's trigger (example phrases + parameters found in
/// the question), LLM tool calls by name, and visitor-provided CRM updates.
async fn the_engine_interface_runs_actions_and_updates_contacts(app: TestApp) {
    use frontdesk_agent::actions::{apply_visitor_updates, builtin_action, call_tool, load_tools, ActionReply};
    use frontdesk_core::actions::Failure;
    use frontdesk_core::lang::Lang;

    let (base, _) = order_api().await;
    let v0 = app.store().content_version().await.unwrap();
    let (s, _) = app.admin(Method::POST, "/api/v1/actions", Some(order_status(&base))).await;
    assert_eq!(s, 201);
    for f in [
        json!({"key": "email", "label": "Email", "kind": "email", "agent_read": true}),
        json!({"key": "phone", "label": "Phone", "kind": "phone", "agent_write": true}),
    ] {
        let (s, _) = app.admin(Method::POST, "/api/v1/crm/fields", Some(f)).await;
        assert_eq!(s, 201);
    }
    assert!(app.store().content_version().await.unwrap() >= v0 + 3, "tool changes move the content version");
    let tools = load_tools(&app.state.agent).await.unwrap();
    assert_eq!(tools.actions.len(), 1);
    assert_eq!(tools.actions[0].headers[0].value, "Bearer s3cret-token", "loaded with its secret, to call it");
    assert_eq!(tools.tool_specs()[0]["function"]["name"], "order_status");
    let (conv, _) = app.visitor(json!({"email": "ann@example.com"})).await;

    let reply = builtin_action(&app.state.agent, &tools, conv, "Where is my order #A-12345?", Lang::En).await.unwrap();
    match reply {
        Some(ActionReply::Ran { ref result, ref matched }) => {
            assert_eq!(matched.name, "order_status");
            assert!(result.ok, "{result:?}");
            assert_eq!(result.taken().name, "order_status");
            assert!(result.taken().ok);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(reply.unwrap().text(), "Your order is shipped and will arrive on May 3.");
    let reply =
        builtin_action(&app.state.agent, &tools, conv, "Dov'è il mio ordine?", Lang::It).await.unwrap().unwrap();
    assert!(matches!(reply, ActionReply::NeedsParams { .. }), "{reply:?}");
    assert!(reply.text().contains("order number"), "{}", reply.text());
    assert_eq!(reply.trace()["missing"][0]["name"], "order_number");
    assert!(builtin_action(&app.state.agent, &tools, conv, "What are your opening hours?", Lang::En)
        .await
        .unwrap()
        .is_none());

    let r =
        call_tool(&app.state.agent, &tools, conv, "order_status", &json!({"order_number": "a-12345"}), Lang::En).await;
    assert!(r.unwrap().ok);
    let r =
        call_tool(&app.state.agent, &tools, conv, "order_status", &json!({"order_number": 5}), Lang::Fr).await.unwrap();
    assert_eq!(r.failure, Some(Failure::BadRequest));
    assert!(r.detail.contains("order_number"), "{}", r.detail);
    assert!(r.reply_text.starts_with("Désolé"));
    let r = call_tool(&app.state.agent, &tools, conv, "drop_tables", &json!({}), Lang::En).await.unwrap();
    assert_eq!(r.failure, Some(Failure::BadRequest));

    let changes = apply_visitor_updates(&app.state.agent, &tools, conv, "my phone is +39 333 123 4567").await.unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].after.as_deref(), Some("+393331234567"));
    // The email is not writable: nothing happens.
    assert!(apply_visitor_updates(&app.state.agent, &tools, conv, "write to me at x@example.org")
        .await
        .unwrap()
        .is_empty());
    let events = app.store().list_events(conv).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.kind == frontdesk_core::model::EventKind::ContactUpdated).count(), 1);
}
crate::both_backends!(the_engine_interface_runs_actions_and_updates_contacts, private_networks);
