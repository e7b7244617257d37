//! The first working slice: a visitor chats, the agent answers from short
//! answers, a human takes over what it cannot answer.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::common::TestApp;

fn event_kinds(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect()
}

async fn visitor_gets_an_answer_then_asks_for_a_human(app: TestApp) {
    app.seed_agent().await;
    let cfg: Value = app.client.get(app.url("/api/v1/chat/config")).send().await.unwrap().json().await.unwrap();
    assert_eq!(cfg["agent_name"], "Luma");
    assert_eq!(cfg["powered_by_ai"], true);

    let (id, token) = app.visitor(json!({"name": "Ann", "email": "Ann@Example.com"})).await;
    // Case, accents, punctuation and word order do not matter.
    let (s, body) = app.say(id, &token, "PRO plan: how much does it cost??").await;
    assert_eq!(s, 201);
    let visitor_msg_id = body["id"].as_i64().unwrap();
    let ms = app.messages(id, &token).await;
    assert_eq!(ms.len(), 2, "{ms:?}");
    assert_eq!(ms[0]["author"], "visitor");
    assert_eq!(ms[0]["id"].as_i64(), Some(visitor_msg_id));
    assert_eq!(ms[1]["author"], "agent");
    assert!(ms[1]["text"].as_str().unwrap().contains("12 euros per user per month"), "{}", ms[1]);
    assert_eq!(ms[1]["citations"][0]["title"], "How much does the Pro plan cost?");
    assert!(ms[1]["created_at"].as_str().unwrap().ends_with('Z'));

    // ?after= returns only later messages.
    let r: Vec<Value> = app
        .client
        .get(app.url(&format!("/api/v1/chat/conversations/{id}/messages?after={visitor_msg_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["author"], "agent");

    // Feedback on the agent's reply is an event.
    let agent_msg = ms[1]["id"].as_i64().unwrap();
    let r = app
        .client
        .post(app.url(&format!("/api/v1/chat/conversations/{id}/messages/{agent_msg}/feedback")))
        .bearer_auth(&token)
        .json(&json!({"helpful": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    // …but not on the visitor's own message.
    let r = app
        .client
        .post(app.url(&format!("/api/v1/chat/conversations/{id}/messages/{visitor_msg_id}/feedback")))
        .bearer_auth(&token)
        .json(&json!({"helpful": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // The contact was created from the visitor and matched by email.
    let (_, contacts) = app.admin(Method::GET, "/api/v1/contacts", None).await;
    assert_eq!(contacts.as_array().unwrap().len(), 1);
    assert_eq!(contacts[0]["email"], "Ann@example.com");
    let (id2, _) = app.visitor(json!({"email": "ann@EXAMPLE.com", "name": "Ann B"})).await;
    let (_, contacts) = app.admin(Method::GET, "/api/v1/contacts", None).await;
    assert_eq!(contacts.as_array().unwrap().len(), 2, "email local parts are case-sensitive; domains are not");
    let _ = id2;

    // Asking for a human (in Italian) hands off at once.
    let (s, _) = app.say(id, &token, "Voglio parlare con un operatore, per favore").await;
    assert_eq!(s, 201);
    let ms = app.messages(id, &token).await;
    let last = ms.last().unwrap();
    assert_eq!(last["author"], "agent");
    assert!(last["text"].as_str().unwrap().contains("La metto in contatto"), "{last}");
    let (_, detail) = app.admin(Method::GET, &format!("/api/v1/conversations/{id}"), None).await;
    assert_eq!(detail["conversation"]["assignee_kind"], "none");
    let events = detail["events"].as_array().unwrap().clone();
    let handoff = events.iter().find(|e| e["kind"] == "handoff").expect("handoff event");
    assert_eq!(handoff["data"]["trigger"], "visitor_asked");
    let last_assign = events.iter().rev().find(|e| e["kind"] == "assigned").unwrap();
    assert_eq!(last_assign["data"]["cause"], "agent");
    assert_eq!(last_assign["data"]["to"], "none");
    let kinds = event_kinds(&events);
    assert_eq!(&kinds[..2], &["conversation_created", "assigned"]);
    assert!(kinds.contains(&"feedback".to_owned()));
    // The agent's answer recorded that it cited a source.
    let cited = events.iter().find(|e| e["kind"] == "message" && e["data"]["author"] == "agent").unwrap();
    assert_eq!(cited["data"]["cited"], true);
    // The stored reply carries the trace (K2).
    let agent_row = detail["messages"].as_array().unwrap().iter().find(|m| m["author"] == "agent").unwrap();
    assert_eq!(agent_row["trace"]["responder"], "built_in");
    assert!(agent_row["trace"]["decision"].as_str().unwrap().contains("threshold"));

    // After the handoff the agent stops replying.
    let before = app.messages(id, &token).await.len();
    app.say(id, &token, "How much does the Pro plan cost?").await;
    let after = app.messages(id, &token).await;
    assert_eq!(after.len(), before + 1);
    assert_eq!(after.last().unwrap()["author"], "visitor");

    // The conversation waits in the Unassigned view.
    let (_, list) = app.admin(Method::GET, "/api/v1/conversations?view=unassigned", None).await;
    assert!(list.as_array().unwrap().iter().any(|c| c["id"] == id));
}
both_backends!(visitor_gets_an_answer_then_asks_for_a_human);

async fn unanswerable_question_is_recorded_and_handed_off(app: TestApp) {
    app.seed_agent().await;
    let (id, token) = app.visitor(json!({})).await;
    let (s, _) = app.say(id, &token, "¿Puedo pagar con transferencia bancaria desde Argentina?").await;
    assert_eq!(s, 201);
    let ms = app.messages(id, &token).await;
    assert_eq!(ms[1]["author"], "agent");
    assert!(ms[1]["text"].as_str().unwrap().starts_with("No puedo responder"), "{}", ms[1]);
    assert_eq!(ms[1]["citations"], json!([]));
    let (_, unanswered) = app.admin(Method::GET, "/api/v1/unanswered", None).await;
    let u = &unanswered[0];
    assert_eq!(u["conversation_id"], id);
    assert_eq!(u["lang"], "es");
    assert!(u["question"].as_str().unwrap().contains("transferencia"));
    let (_, detail) = app.admin(Method::GET, &format!("/api/v1/conversations/{id}"), None).await;
    let handoff = detail["events"].as_array().unwrap().iter().find(|e| e["kind"] == "handoff").unwrap().clone();
    assert_eq!(handoff["data"]["trigger"], "cannot_answer");
    // A greeting is small talk, not a handoff.
    let (id2, token2) = app.visitor(json!({})).await;
    app.say(id2, &token2, "Hello!").await;
    let ms = app.messages(id2, &token2).await;
    assert!(ms[1]["text"].as_str().unwrap().contains("Luma"));
    let (_, d2) = app.admin(Method::GET, &format!("/api/v1/conversations/{id2}"), None).await;
    assert_eq!(d2["conversation"]["assignee_kind"], "agent");
}
both_backends!(unanswerable_question_is_recorded_and_handed_off);

async fn a_visitor_token_opens_only_its_own_conversation(app: TestApp) {
    let (a, token_a) = app.visitor(json!({})).await;
    let (b, token_b) = app.visitor(json!({})).await;
    app.say(b, &token_b, "secret of b").await;
    for path in [
        format!("/api/v1/chat/conversations/{b}/messages"),
        format!("/api/v1/chat/conversations/{b}/stream"),
        "/api/v1/chat/conversations/999999/messages".to_string(),
    ] {
        let r = app.client.get(app.url(&path)).bearer_auth(&token_a).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body, json!({"message": "conversation not found", "code": "not_found", "type": "invalid_request"}));
    }
    let (s, _) = app.say(b, &token_a, "intrusion").await;
    assert_eq!(s, 404);
    // No token at all: 401.
    let r = app.client.get(app.url(&format!("/api/v1/chat/conversations/{a}/messages"))).send().await.unwrap();
    assert_eq!(r.status(), 401);
    // Nothing was written into b.
    let ms = app.messages(b, &token_b).await;
    assert!(ms.iter().all(|m| m["text"] != "intrusion"));
}
both_backends!(a_visitor_token_opens_only_its_own_conversation);

/// One real browser: headless Chromium loads /demo, chats in the widget and sees the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn widget_in_a_real_browser() {
    let Some(browser) = crate::browser::Browser::start().await.expect("start the browser") else { return };
    let app = TestApp::spawn(crate::common::Backend::Sqlite).await.unwrap();
    app.seed_agent().await;
    let text = crate::browser::widget_conversation(
        &browser,
        &app.base,
        "Luma",
        "what are your opening hours?",
        "9:00 to 18:00",
    )
    .await
    .expect("the widget shows the agent's answer");
    assert!(text.contains("Monday to Friday"), "{text}");
    // Switching the agent off removes "Powered by AI" from the header live.
    app.admin(Method::PUT, "/api/v1/agent", Some(json!({"enabled": false}))).await;
    browser
        .wait_for(
            "(() => { const h = document.querySelector('[data-frontdesk-root]'); const r = h && h.shadowRoot; return r && !r.querySelector('[data-fd=\"powered-by-ai\"]:not([hidden])'); })()",
            std::time::Duration::from_secs(10),
        )
        .await
        .expect("the header drops 'Powered by AI'");
}
