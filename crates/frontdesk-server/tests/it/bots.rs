//! Rule-based chatbots (C5): a bot on live chat greets, asks for the email
//! (re-asked when invalid, saved to the contact), asks for the plan and
//! branches: Pro goes to the AI agent, which answers the next question;
//! Free goes to a team. Bots are validated by field and audited.

use frontdesk_core::model::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::common::{create_user, TestApp};

fn agent_texts(messages: &[Value]) -> Vec<String> {
    messages.iter().filter(|m| m["author"] == "agent").map(|m| m["text"].as_str().unwrap().to_owned()).collect()
}

fn bot_body(team: i64) -> Value {
    json!({"name": "Welcome", "channel": "live_chat", "start": "hello", "steps": [
        {"id": "hello", "type": "message", "text": "Hi! I'm the welcome bot.", "next": "email"},
        {"id": "email", "type": "ask", "question": "What's your email?", "property": "email", "next": "plan"},
        {"id": "plan", "type": "ask", "question": "Which plan are you on?", "property": "plan", "next": "route"},
        {"id": "route", "type": "branch", "property": "plan",
         "cases": [{"value": "Pro", "next": "agent"}], "default": "sales"},
        {"id": "agent", "type": "message", "text": "Thanks! Our assistant will help you now.", "next": "to_agent"},
        {"id": "to_agent", "type": "to_agent"},
        {"id": "sales", "type": "to_team", "team_id": team}
    ]})
}

async fn bot_collects_details_then_hands_over(app: TestApp) {
    app.seed_agent().await;
    for f in [
        json!({"key": "email", "label": "Email", "kind": "email", "agent_read": true, "agent_write": true}),
        json!({"key": "plan", "label": "Plan", "kind": "enum", "values": ["Free", "Pro"], "agent_read": true, "agent_write": true}),
        json!({"key": "notes", "label": "Notes", "kind": "text"}),
    ] {
        let (s, v) = app.admin(Method::POST, "/api/v1/crm/fields", Some(f)).await;
        assert_eq!(s, 201, "{v}");
    }
    let ann = create_user(app.store(), "ann@test.example", Role::Agent, true).await.id;
    let (_, t) = app.admin(Method::POST, "/api/v1/teams", Some(json!({"name": "Sales"}))).await;
    let team = t["id"].as_i64().unwrap();
    app.admin(Method::PUT, &format!("/api/v1/teams/{team}/members"), Some(json!({"user_ids": [ann]}))).await;

    // Validation errors name the field.
    let mut bad = bot_body(team);
    bad["steps"][0]["next"] = json!("nowhere");
    let (s, e) = app.admin(Method::POST, "/api/v1/bots", Some(bad)).await;
    assert_eq!((s, e["field"].as_str()), (422, Some("steps[0].next")), "{e}");
    let mut bad = bot_body(team);
    bad["steps"][1]["property"] = json!("notes");
    let (s, e) = app.admin(Method::POST, "/api/v1/bots", Some(bad)).await;
    assert_eq!((s, e["field"].as_str()), (422, Some("steps[1].property")), "{e}");
    let (s, e) = app.admin(Method::POST, "/api/v1/bots", Some(bot_body(team + 1000))).await;
    assert_eq!((s, e["field"].as_str()), (422, Some("steps[6].team_id")), "{e}");
    let mut bad = bot_body(team);
    bad["steps"][4]["next"] = json!("hello");
    bad["steps"][0]["next"] = json!("agent");
    let (s, e) = app.admin(Method::POST, "/api/v1/bots", Some(bad)).await;
    assert_eq!(s, 422, "a loop without a question: {e}");
    let mut bad = bot_body(team);
    bad["start"] = json!("missing");
    let (s, e) = app.admin(Method::POST, "/api/v1/bots", Some(bad)).await;
    assert_eq!((s, e["field"].as_str()), (422, Some("start")), "{e}");

    let (s, b) = app.admin(Method::POST, "/api/v1/bots", Some(bot_body(team))).await;
    assert_eq!(s, 201, "{b}");
    let bot = b["id"].as_i64().unwrap();
    let (s, list) = app.admin(Method::GET, "/api/v1/bots", None).await;
    assert_eq!((s, list.as_array().unwrap().len()), (200, 1));
    let (s, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=bot", None).await;
    assert_eq!(s, 200);
    assert!(audit.to_string().contains("\"bot\""), "{audit}");

    // Pro: email re-asked until valid, stored; then the agent answers.
    let (id, token) = app.visitor(json!({})).await;
    let opening = agent_texts(&app.messages(id, &token).await);
    assert_eq!(opening, ["Hi! I'm the welcome bot.", "What's your email?"]);
    let (s, _) = app.say(id, &token, "my email is... hmm").await;
    assert_eq!(s, 201);
    let texts = agent_texts(&app.messages(id, &token).await);
    assert!(texts.last().unwrap().ends_with("What's your email?") && texts.len() == 3, "{texts:?}");
    app.say(id, &token, "carla@example.org").await;
    app.say(id, &token, "pro").await;
    let texts = agent_texts(&app.messages(id, &token).await);
    assert_eq!(&texts[3..], ["Which plan are you on?", "Thanks! Our assistant will help you now."]);
    let (_, detail) = app.admin(Method::GET, &format!("/api/v1/conversations/{id}"), None).await;
    assert_eq!(detail["contact"]["email"], "carla@example.org", "{detail}");
    let updated = detail["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "contact_updated").count();
    assert_eq!(updated, 2, "email and plan: {detail}");
    assert_eq!(detail["conversation"]["assignee_kind"], "agent");
    app.say(id, &token, "How do I reset my password?").await;
    let texts = agent_texts(&app.messages(id, &token).await);
    assert!(texts.last().unwrap().contains("Forgot password"), "{texts:?}");

    // Free: handed to the team, assigned to its member.
    let (id, token) = app.visitor(json!({})).await;
    app.say(id, &token, "dan@example.org").await;
    app.say(id, &token, "Free").await;
    let (_, detail) = app.admin(Method::GET, &format!("/api/v1/conversations/{id}"), None).await;
    assert_eq!(detail["conversation"]["assignee_user_id"].as_i64(), Some(ann), "{detail}");
    // The bot no longer answers, nor does the agent.
    let before = agent_texts(&app.messages(id, &token).await).len();
    app.say(id, &token, "hello?").await;
    assert_eq!(agent_texts(&app.messages(id, &token).await).len(), before);

    // Disabled: new conversations go straight to the agent.
    let mut body = bot_body(team);
    body["enabled"] = json!(false);
    let (s, v) = app.admin(Method::PUT, &format!("/api/v1/bots/{bot}"), Some(body)).await;
    assert_eq!((s, v["enabled"].as_bool()), (200, Some(false)), "{v}");
    let (id, token) = app.visitor(json!({})).await;
    assert!(app.messages(id, &token).await.is_empty());
    let (s, _) = app.admin(Method::DELETE, &format!("/api/v1/bots/{bot}"), None).await;
    assert_eq!(s, 204);
    let (s, _) = app.admin(Method::GET, &format!("/api/v1/bots/{bot}"), None).await;
    assert_eq!(s, 404);
}
both_backends!(bot_collects_details_then_hands_over);

/// The Bots page: create from JSON (errors shown with their field, nothing
/// saved), the flow outline, edit, disable/enable, delete; viewers read only.
async fn bots_console_page(app: TestApp) {
    use crate::common::Console;
    app.admin(
        Method::POST,
        "/api/v1/crm/fields",
        Some(json!({"key": "email", "label": "Email", "kind": "email", "agent_read": true, "agent_write": true})),
    )
    .await;
    create_user(app.store(), "bot-ed@test.example", Role::Editor, true).await;
    let console = Console::sign_in(&app, "bot-ed@test.example").await;
    let (s, html) = console.get("/console/bots").await;
    assert_eq!(s, 200);
    assert!(html.contains("No bots yet."), "{html}");

    let bad = r#"{"name": "B", "channel": "live_chat", "start": "x", "steps": [{"id": "a", "type": "to_agent"}]}"#;
    let p = console.post("/console/bots", &[("json", bad)]).await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("start"), "the field is named: {}", p.body);
    assert!(app.store().list_bots().await.unwrap().is_empty());

    let good = r#"{"name": "Greeter", "channel": "live_chat", "start": "hi", "steps": [
        {"id": "hi", "type": "message", "text": "Hello there", "next": "mail"},
        {"id": "mail", "type": "ask", "question": "Your email?", "property": "email", "next": "go"},
        {"id": "go", "type": "to_agent"}]}"#;
    let p = console.post("/console/bots", &[("json", good)]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert!(p.location.ends_with("?flash=created"), "{}", p.location);
    let id = app.store().list_bots().await.unwrap()[0].bot.id;
    let (_, html) = console.get(&format!("/console/bots/{id}")).await;
    assert!(html.contains("hi (start): send “Hello there”, then mail"), "{html}");
    assert!(html.contains("mail: ask “Your email?”, save to email, then go"), "{html}");

    // Edit, then disable and enable from the list.
    let p = console.post(&format!("/console/bots/{id}"), &[("json", &good.replace("Greeter", "Greeter 2"))]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(app.store().get_bot(id).await.unwrap().bot.name, "Greeter 2");
    let p = console.post(&format!("/console/bots/{id}/toggle"), &[]).await;
    assert_eq!(p.status, 303);
    assert!(!app.store().get_bot(id).await.unwrap().bot.enabled);
    let (_, html) = console.get("/console/bots").await;
    assert!(html.contains("Greeter 2") && html.contains("disabled") && html.contains(">Enable<"), "{html}");
    console.post(&format!("/console/bots/{id}/toggle"), &[]).await;
    assert!(app.store().get_bot(id).await.unwrap().bot.enabled);

    // Someone without a paid seat reads but cannot change.
    create_user(app.store(), "bot-view@test.example", Role::Agent, false).await;
    let viewer = Console::sign_in(&app, "bot-view@test.example").await;
    let (s, html) = viewer.get("/console/bots").await;
    assert_eq!(s, 200);
    assert!(!html.contains("/toggle"), "{html}");
    assert_eq!(viewer.post(&format!("/console/bots/{id}/delete"), &[]).await.status, 403);

    let p = console.post(&format!("/console/bots/{id}/delete"), &[]).await;
    assert_eq!(p.status, 303);
    assert!(app.store().list_bots().await.unwrap().is_empty());
    let filter = frontdesk_store::AuditFilter { entity_type: Some("bot".into()), limit: 100, ..Default::default() };
    let audit = app.store().list_audit(filter).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(audit.len(), 5, "create, update ×3, delete: {actions:?}");
}
both_backends!(bots_console_page);
