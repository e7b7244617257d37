//! The agent uses actions (F2) and CRM data (F1) in live conversations:
//! the built-in responder triggers an action from its example phrases (and
//! asks for a missing order number), answers from readable contact
//! properties, stores what the visitor tells about themselves; the LLM
//! responder calls the action as a tool. Failed actions reply politely.

use frontdesk_llm::testing::{openai_text, openai_tool_calls, ScriptedServer};
use frontdesk_llm::ToolCall;
use reqwest::Method;
use serde_json::{json, Value};

use crate::actions::{order_api, order_status};
use crate::common::{Backend, TestApp};

async fn agent_reply(app: &TestApp, id: i64) -> (Value, Value) {
    let (_, detail) = app.admin(Method::GET, &format!("/api/v1/conversations/{id}"), None).await;
    let msg = detail["messages"].as_array().unwrap().iter().rev().find(|m| m["author"] == "agent").unwrap().clone();
    let ev = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["kind"] == "message" && e["data"]["author"] == "agent")
        .map(|e| e["data"].clone())
        .unwrap();
    (msg, ev)
}

async fn setup(app: &TestApp, base: &str) {
    app.seed_agent().await;
    let (s, a) = app.admin(Method::POST, "/api/v1/actions", Some(order_status(base))).await;
    assert_eq!(s, 201, "{a}");
    let mut boom = order_status(base);
    boom["name"] = json!("refund_status");
    boom["url_template"] = json!(format!("{base}/boom/{{order_number}}"));
    boom["example_phrases"] = json!(["Where is my refund?"]);
    let (s, a) = app.admin(Method::POST, "/api/v1/actions", Some(boom)).await;
    assert_eq!(s, 201, "{a}");
    for f in [
        json!({"key": "email", "label": "Email", "kind": "email", "agent_read": true, "agent_write": true}),
        json!({"key": "plan", "label": "Plan", "kind": "enum", "values": ["Basic", "Pro"], "agent_read": true}),
        json!({"key": "notes", "label": "Internal notes", "kind": "text"}),
    ] {
        let (s, v) = app.admin(Method::POST, "/api/v1/crm/fields", Some(f)).await;
        assert_eq!(s, 201, "{v}");
    }
}

async fn built_in_responder_uses_actions_and_crm(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.allow_private_networks = true).await else { return };
    let (base, seen) = order_api().await;
    setup(&app, &base).await;

    // The action runs with the order number from the question; it counts for resolution.
    let (id, token) = app.visitor(json!({"name": "Ann"})).await;
    app.say(id, &token, "Where is my order A-12345?").await;
    let (msg, ev) = agent_reply(&app, id).await;
    assert!(msg["text"].as_str().unwrap().contains("Your order is shipped and will arrive on May 3."), "{msg}");
    assert_eq!(ev["actions"], json!([{"name": "order_status", "ok": true}]), "{ev}");
    assert_eq!(ev["outcome"], "answered");
    assert_eq!(msg["trace"]["tools"][0]["name"], "order_status", "{msg}");
    assert_eq!(seen.lock().unwrap().last().unwrap().1, "Bearer s3cret-token");

    // Without the number it asks for it, and the next message supplies it.
    let (id, token) = app.visitor(json!({})).await;
    app.say(id, &token, "Dov'è il mio ordine?").await;
    let (msg, ev) = agent_reply(&app, id).await;
    assert_eq!(ev["outcome"], "small_talk", "{msg}");
    assert!(msg["text"].as_str().unwrap().contains("order number"), "asks in Italian for the parameter: {msg}");
    app.say(id, &token, "A-12345").await;
    let (msg, ev) = agent_reply(&app, id).await;
    assert!(msg["text"].as_str().unwrap().contains("shipped"), "{msg}");
    assert_eq!(msg["trace"]["language"], "it", "a bare order number keeps the conversation's language");
    assert_eq!(ev["actions"][0]["ok"], true);

    // A failing endpoint: a polite reply, never the raw error; the conversation goes to humans.
    let (id, token) = app.visitor(json!({})).await;
    app.say(id, &token, "Where is my refund A-12345?").await;
    let (msg, ev) = agent_reply(&app, id).await;
    let text = msg["text"].as_str().unwrap();
    assert!(!text.contains("Traceback") && !text.contains("500"), "{text}");
    assert_eq!(ev["actions"], json!([{"name": "refund_status", "ok": false}]));
    assert_eq!(ev["outcome"], "handoff", "{msg}");
    assert!(msg["trace"]["decision"].as_str().unwrap().contains("failed"), "{msg}");

    // CRM: what the visitor says about themselves is stored (writable fields only) as an event…
    let (id, token) = app.visitor(json!({})).await;
    app.say(id, &token, "hi, my email is bea@example.org and my notes are secret").await;
    let (_, detail) = app.admin(Method::GET, &format!("/api/v1/conversations/{id}"), None).await;
    let updated: Vec<&Value> =
        detail["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "contact_updated").collect();
    assert_eq!(updated.len(), 1, "{detail}");
    assert_eq!(detail["contact"]["email"], "bea@example.org", "{detail}");
    let contact = detail["contact"]["id"].as_i64().unwrap();
    // …and readable properties answer "which plan am I on?"; non-readable ones never.
    let (s, v) = app
        .admin(
            Method::PATCH,
            &format!("/api/v1/contacts/{contact}/properties"),
            Some(json!({"properties": {"plan": "Pro", "notes": "VIP, angry last week"}})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    app.say(id, &token, "Which plan am I on?").await;
    let (msg, _) = agent_reply(&app, id).await;
    assert!(msg["text"].as_str().unwrap().contains("Pro"), "{msg}");
    app.say(id, &token, "What do my internal notes say?").await;
    let (msg, _) = agent_reply(&app, id).await;
    assert!(!msg["text"].as_str().unwrap().contains("angry"), "{msg}");
}

crate::both_backends!(built_in_responder_uses_actions_and_crm, backend);

async fn llm_calls_actions_and_sees_only_readable_properties(backend: Backend) {
    let server = ScriptedServer::start().await;
    let url = server.base_url();
    let Some(app) = TestApp::spawn_with(backend, move |s| {
        s.allow_private_networks = true;
        s.llm_url = url;
        s.llm_first_token_timeout_ms = 2_000;
    })
    .await
    else {
        return;
    };
    let (base, _) = order_api().await;
    setup(&app, &base).await;
    let (id, token) = app.visitor(json!({"email": "cy@example.org"})).await;
    let (_, detail) = app.admin(Method::GET, &format!("/api/v1/conversations/{id}"), None).await;
    let contact = detail["contact"]["id"].as_i64().unwrap();
    app.admin(
        Method::PATCH,
        &format!("/api/v1/contacts/{contact}/properties"),
        Some(json!({"properties": {"plan": "Basic", "notes": "do not tell: churn risk"}})),
    )
    .await;
    server.push(openai_tool_calls(&[ToolCall::new("c1", "order_status", r#"{"order_number":"A-12345"}"#)]));
    server.push(openai_text(&["It is shipped and arrives May 3."]));
    app.say(id, &token, "Any news on my parcel A-12345?").await;
    let (msg, ev) = agent_reply(&app, id).await;
    assert_eq!(msg["text"], "It is shipped and arrives May 3.");
    assert_eq!(ev["actions"], json!([{"name": "order_status", "ok": true}]), "{ev}");
    let reqs = server.requests();
    assert!(reqs[0].tool_names().contains(&"order_status".to_owned()));
    let system = reqs[0].system_prompt();
    assert!(system.contains("Basic"), "readable properties reach the model: {system}");
    assert!(!system.contains("churn risk"), "non-readable ones never do");
    let tool_msg = reqs[1].messages().last().cloned().unwrap();
    assert_eq!(tool_msg["role"], "tool");
    assert!(tool_msg["content"].as_str().unwrap().contains("shipped"), "{tool_msg}");

    // The model updates writable properties through its tool, validated; others are refused.
    assert!(reqs[0].tool_names().contains(&"update_contact".to_owned()));
    server.clear_requests();
    server.push(openai_tool_calls(&[ToolCall::new(
        "u1",
        "update_contact",
        r#"{"email":"new@example.org","plan":"Pro","notes":"x"}"#,
    )]));
    server.push(openai_text(&["Saved your new email."]));
    app.say(id, &token, "Please change my email to the new one, and put me on Pro").await;
    let (_, detail) = app.admin(Method::GET, &format!("/api/v1/conversations/{id}"), None).await;
    assert_eq!(detail["contact"]["email"], "new@example.org", "{detail}");
    let tool_msg = server.requests()[1].messages().last().cloned().unwrap();
    let content = tool_msg["content"].as_str().unwrap();
    assert!(
        content.contains("saved: email") && content.contains("plan: not a property the agent may update"),
        "{content}"
    );
    let (_, c) = app.admin(Method::GET, &format!("/api/v1/contacts/{contact}"), None).await;
    let plan = c["fields"].as_array().unwrap().iter().find(|f| f["key"] == "plan").unwrap().clone();
    assert_eq!(plan["value"], "Basic", "the model cannot write a read-only property: {c}");
}

crate::both_backends!(llm_calls_actions_and_sees_only_readable_properties, backend);
