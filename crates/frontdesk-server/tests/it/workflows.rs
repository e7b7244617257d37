//! Condition-based routing (E5, E6, E9): a handoff creates a ticket and a
//! ticket-based workflow assigns it by conditions; no matching rule leaves it
//! unassigned with the "unassigned" message; the built-in template rotates
//! owners per channel; workflows are validated, testable and audited.

use frontdesk_core::model::{Channel, Role};
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::common::{create_user, last_agent_text, TestApp};

async fn hand_off(app: &TestApp, text: &str) -> (i64, Value) {
    let (id, token) = app.visitor(json!({})).await;
    let (s, _) = app.say(id, &token, text).await;
    assert_eq!(s, 201);
    let (_, detail) = app.admin(Method::GET, &format!("/api/v1/conversations/{id}"), None).await;
    (id, detail)
}

async fn workflow(app: &TestApp, body: Value) -> i64 {
    let (s, w) = app.admin(Method::POST, "/api/v1/workflows", Some(body)).await;
    assert_eq!(s, 201, "{w}");
    w["id"].as_i64().unwrap()
}

async fn use_workflow(app: &TestApp, id: i64) {
    let (s, v) = app.admin(Method::PUT, "/api/v1/handoff", Some(json!({"workflow_id": id}))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!((v["workflow_id"].as_i64(), v["destination"].as_str()), (Some(id), Some("help_desk")), "{v}");
}

async fn workflow_routes_by_conditions(app: TestApp) {
    app.seed_agent().await;
    let ann = create_user(app.store(), "ann@test.example", Role::Agent, true).await.id;
    let bob = create_user(app.store(), "bob@test.example", Role::Agent, true).await.id;
    let (_, t) = app.admin(Method::POST, "/api/v1/teams", Some(json!({"name": "Italia"}))).await;
    let team = t["id"].as_i64().unwrap();
    app.admin(Method::PUT, &format!("/api/v1/teams/{team}/members"), Some(json!({"user_ids": [ann]}))).await;
    let id = workflow(
        &app,
        json!({"name": "By language", "rules": [
            {"conditions": [{"type": "language_is", "languages": ["it"]}],
             "actions": [{"type": "assign", "team_ids": [team]}, {"type": "set_priority", "priority": "high"},
                         {"type": "add_note", "text": "Cliente italiano"}]},
            {"conditions": [{"type": "trigger_is", "triggers": ["visitor_asked"]}],
             "actions": [{"type": "assign", "user_ids": [bob]}, {"type": "send_message", "text": "Bob will help you."}]}
        ]}),
    )
    .await;
    use_workflow(&app, id).await;

    // Italian handoffs go to the team, with a priority and a note on the ticket.
    let (c1, d1) = hand_off(&app, "Vorrei parlare con un operatore").await;
    assert_eq!(d1["conversation"]["assignee_user_id"].as_i64(), Some(ann), "{d1}");
    let assigned = d1["events"].as_array().unwrap().iter().rev().find(|e| e["kind"] == "assigned").unwrap().clone();
    assert_eq!(assigned["data"]["cause"], "rule");
    let ticket = app.store().ticket_for_conversation(c1).await.unwrap().expect("a ticket");
    assert_eq!((ticket.priority.as_str(), ticket.status.as_str(), ticket.workflow_id), ("high", "open", Some(id)));
    assert_eq!(ticket.notes.iter().map(|n| n.body.as_str()).collect::<Vec<_>>(), ["Cliente italiano"]);

    // Others go to Bob, and the visitor sees the rule's message.
    let (c2, d2) = hand_off(&app, "I want to talk to a human").await;
    assert_eq!(d2["conversation"]["assignee_user_id"].as_i64(), Some(bob), "{d2}");
    assert_eq!(last_agent_text(&d2), "Bob will help you.");
    assert_eq!(app.store().ticket_for_conversation(c2).await.unwrap().unwrap().priority.as_str(), "normal");

    // No rule matches: unassigned, with the "unassigned" message (E6), and still a ticket.
    let (s, v) = app
        .admin(
            Method::PUT,
            &format!("/api/v1/workflows/{id}"),
            Some(json!({"name": "Email only", "rules": [
                {"conditions": [{"type": "channel_is", "channels": ["email"]}], "actions": [{"type": "assign", "user_ids": [bob]}]}
            ]})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (c3, d3) = hand_off(&app, "I want to talk to a human").await;
    assert_eq!(d3["conversation"]["assignee_kind"], "none", "{d3}");
    assert_eq!(d3["conversation"]["status"], "open");
    assert!(last_agent_text(&d3).contains("we've received your request"), "{d3}");
    assert!(app.store().ticket_for_conversation(c3).await.unwrap().is_some());

    // The admin's own "unassigned" text is used; an assignment finding nobody also leaves it unassigned.
    app.admin(
        Method::PUT,
        "/api/v1/handoff",
        Some(json!({"unassigned": [{"lang": "en", "text": "Ticket received, nobody assigned yet."}]})),
    )
    .await;
    let (s, _) = app
        .admin(
            Method::PUT,
            &format!("/api/v1/workflows/{id}"),
            Some(json!({"name": "Everyone to Bob", "rules": [{"conditions": [], "actions": [{"type": "assign", "user_ids": [bob]}]}]})),
        )
        .await;
    assert_eq!(s, 200);
    let patch = frontdesk_store::UserPatch {
        availability: Some(frontdesk_core::model::Availability::Away),
        ..Default::default()
    };
    app.store().update_user(&frontdesk_store::Actor::system("test"), bob, patch).await.unwrap();
    let (_, d4) = hand_off(&app, "I want to talk to a human").await;
    assert_eq!(d4["conversation"]["assignee_kind"], "none", "{d4}");
    assert_eq!(last_agent_text(&d4), "Ticket received, nobody assigned yet.");

    // Back to routing by users and teams.
    let (s, v) = app.admin(Method::PUT, "/api/v1/handoff", Some(json!({"workflow_id": null}))).await;
    assert_eq!((s, v["workflow_id"].is_null()), (200, true), "{v}");
}
both_backends!(workflow_routes_by_conditions);

async fn agent_handoff_template_rotates_owners_per_channel(app: TestApp) {
    app.seed_agent().await;
    let u1 = create_user(app.store(), "u1@test.example", Role::Agent, true).await.id;
    let u2 = create_user(app.store(), "u2@test.example", Role::Agent, true).await.id;
    let u3 = create_user(app.store(), "u3@test.example", Role::Agent, true).await.id;
    let (s, w) = app
        .admin(
            Method::POST,
            "/api/v1/workflows/templates/agent-handoff",
            Some(json!({"users_per_channel": {"live_chat": [u1, u2], "email": [u3]}})),
        )
        .await;
    assert_eq!(s, 201, "{w}");
    assert_eq!(w["name"], "Reassign tickets for agent handoff");
    assert_eq!(w["rules"].as_array().unwrap().len(), 2, "{w}");
    let id = w["id"].as_i64().unwrap();
    use_workflow(&app, id).await;

    let mut owners = vec![];
    for _ in 0..3 {
        let (c, d) = hand_off(&app, "I want to talk to a human").await;
        owners.push(d["conversation"]["assignee_user_id"].as_i64().unwrap());
        // Each closes at once: loads stay equal, the owner rotates.
        app.admin(Method::POST, &format!("/api/v1/conversations/{c}/close"), None).await;
    }
    assert_eq!(owners, vec![u1, u2, u1]);

    let started =
        frontdesk_engine::conversation::start_conversation(&app.state, Channel::Email, None, None).await.unwrap();
    let cid = started.conversation.id;
    let (s, _) = app.say(cid, &started.visitor_token, "I want to talk to a human").await;
    assert_eq!(s, 201);
    let conv = app.store().get_conversation(cid).await.unwrap();
    assert_eq!(conv.assignee_user_id, Some(u3), "email goes to its own users");

    // The template is an ordinary workflow: it can be edited.
    let (s, v) = app
        .admin(
            Method::PUT,
            &format!("/api/v1/workflows/{id}"),
            Some(json!({"name": "Mine now", "enabled": false, "rules": w["rules"].clone()})),
        )
        .await;
    assert_eq!((s, v["enabled"].as_bool()), (200, Some(false)), "{v}");
}
both_backends!(agent_handoff_template_rotates_owners_per_channel);

async fn workflows_are_validated_tested_and_audited(app: TestApp) {
    let ann = create_user(app.store(), "ann@test.example", Role::Agent, true).await.id;
    let free = create_user(app.store(), "free@test.example", Role::Agent, false).await.id;
    let assign_ann = json!([{"type": "assign", "user_ids": [ann]}]);
    for (body, field) in [
        (json!({"name": "", "rules": [{"actions": assign_ann.clone()}]}), "name"),
        (json!({"name": "Nothing", "rules": []}), "rules"),
        (json!({"name": "x", "rules": [{"conditions": [], "actions": []}]}), "rules[0].actions"),
        (
            json!({"name": "x", "rules": [{"actions": assign_ann.clone()}, {"actions": [{"type": "assign", "user_ids": []}]}]}),
            "rules[1].actions[0].user_ids",
        ),
        (
            json!({"name": "x", "rules": [{"conditions": [{"type": "channel_is", "channels": []}], "actions": assign_ann.clone()}]}),
            "rules[0].conditions[0].channels",
        ),
        (
            json!({"name": "x", "rules": [{"conditions": [{"type": "business_hours", "inside": true}, {"type": "business_hours", "inside": false}], "actions": assign_ann.clone()}]}),
            "rules[0].conditions[1].inside",
        ),
        (
            json!({"name": "x", "rules": [{"actions": [{"type": "assign", "user_ids": [free]}]}]}),
            "rules[0].actions[0].user_ids[0]",
        ),
        (
            json!({"name": "x", "rules": [{"actions": [{"type": "assign", "team_ids": [987654]}]}]}),
            "rules[0].actions[0].team_ids[0]",
        ),
    ] {
        let (s, e) = app.admin(Method::POST, "/api/v1/workflows", Some(body.clone())).await;
        assert_eq!((s, e["field"].as_str()), (422, Some(field)), "{body}: {e}");
    }
    let (s, e) = app
        .admin(
            Method::POST,
            "/api/v1/workflows",
            Some(json!({"name": "x", "rules": [{"conditions": [{"type": "moon"}]}]})),
        )
        .await;
    assert!(s == 400 || s == 422, "{s} {e}");
    let (s, e) = app.admin(Method::PUT, "/api/v1/handoff", Some(json!({"workflow_id": 987654}))).await;
    assert_eq!((s, e["field"].as_str()), (422, Some("workflow_id")), "{e}");

    let id = workflow(
        &app,
        json!({"name": "VIP", "rules": [
            {"conditions": [{"type": "contact_property", "key": "plan", "value": "Enterprise"},
                            {"type": "topic_contains", "words": ["rimborso"]}],
             "actions": [{"type": "set_priority", "priority": "urgent"}, {"type": "assign", "user_ids": [ann]}]}
        ]}),
    )
    .await;
    // Tested against a sample ticket: the actions it would take, nothing written.
    let (s, v) = app
        .admin(
            Method::POST,
            &format!("/api/v1/workflows/{id}/test"),
            Some(json!({"channel": "live_chat", "language": "it", "text": "Voglio un RIMBORSO",
                        "contact": {"plan": "enterprise"}})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["matched_rule"], 0);
    assert_eq!(v["actions"][0], json!({"type": "set_priority", "priority": "urgent"}));
    assert_eq!(v["would_assign_to"]["user_id"].as_i64(), Some(ann), "{v}");
    let (_, v) = app.admin(Method::POST, &format!("/api/v1/workflows/{id}/test"), Some(json!({"text": "hello"}))).await;
    assert_eq!((v["matched_rule"].is_null(), v["unassigned"].as_bool()), (true, Some(true)), "{v}");

    // Audited; in use by the handoff settings it cannot be deleted.
    app.admin(Method::PUT, "/api/v1/handoff", Some(json!({"workflow_id": id}))).await;
    let (s, _) = app.admin(Method::DELETE, &format!("/api/v1/workflows/{id}"), None).await;
    assert_eq!(s, 409);
    app.admin(Method::PUT, "/api/v1/handoff", Some(json!({"workflow_id": null}))).await;
    let (s, _) = app.admin(Method::DELETE, &format!("/api/v1/workflows/{id}"), None).await;
    assert_eq!(s, 204);
    let (s, _) = app.admin(Method::GET, &format!("/api/v1/workflows/{id}"), None).await;
    assert_eq!(s, 404);
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=workflow", None).await;
    let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(actions.len(), 2, "{audit}");
    assert!(actions.contains(&"create") && actions.contains(&"delete"), "{audit}");
}
both_backends!(workflows_are_validated_tested_and_audited);

async fn workflows_from_the_console(app: TestApp) {
    crate::common::create_user(app.store(), "wf-ed@test.example", frontdesk_core::model::Role::Editor, true).await;
    let cookie = crate::common::sign_in(&app, "wf-ed@test.example").await;
    let get = |path: &'static str| {
        let app = &app;
        let cookie = cookie.clone();
        async move { app.client.get(app.url(path)).header("cookie", cookie).send().await.unwrap().text().await.unwrap() }
    };
    let html = get("/console/workflows").await;
    let csrf = crate::common::csrf_of(&html);
    // A bad definition is shown with its field; nothing saved.
    let bad = r#"{"name": "x", "rules": [{"conditions": [], "actions": []}]}"#;
    let r = app
        .client
        .post(app.url("/console/workflows"))
        .header("cookie", &cookie)
        .form(&[("_csrf", csrf.as_str()), ("json", bad)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("rules[0]"));
    // The template creates a workflow that can be tested against a sample ticket.
    let r = app
        .client
        .post(app.url("/console/workflows/template"))
        .header("cookie", &cookie)
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().split('?').next().unwrap().to_owned();
    let facts = r#"{"channel": "live_chat", "language": "en", "text": "help"}"#;
    let r = app
        .client
        .post(app.url(&format!("{location}/test")))
        .header("cookie", &cookie)
        .form(&[("_csrf", csrf.as_str()), ("facts", facts)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("data-test=\"result\""), "{page}");
    let (_, list) = app.admin(reqwest::Method::GET, "/api/v1/workflows", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    // Disable from the list.
    let id = list[0]["id"].as_i64().unwrap();
    let r = app
        .client
        .post(app.url(&format!("/console/workflows/{id}/toggle")))
        .header("cookie", &cookie)
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, w) = app.admin(reqwest::Method::GET, &format!("/api/v1/workflows/{id}"), None).await;
    assert_eq!(w["enabled"], false, "{w}");
}
both_backends!(workflows_from_the_console);

/// The help desk's tickets: listed by status, read with notes, changed by
/// the team through the API and the conversation page; every change is a
/// `ticket` event; bad input is named by field; only paid seats change them.
async fn tickets_are_worked_from_api_and_console(app: TestApp) {
    use crate::common::Console;
    app.seed_agent().await;
    let ann = create_user(app.store(), "tk-ann@test.example", Role::Agent, true).await.id;
    let id = workflow(
        &app,
        json!({"name": "All to Ann", "rules": [{"conditions": [], "actions": [{"type": "assign", "user_ids": [ann]}]}]}),
    )
    .await;
    use_workflow(&app, id).await;
    let (c1, _) = hand_off(&app, "I want to talk to a human").await;
    let (c2, _) = hand_off(&app, "I want to talk to a human").await;

    let (s, list) = app.admin(Method::GET, "/api/v1/tickets?status=open", None).await;
    assert_eq!(s, 200, "{list}");
    let convs: Vec<i64> = list.as_array().unwrap().iter().map(|t| t["conversation_id"].as_i64().unwrap()).collect();
    assert_eq!(convs, vec![c2, c1], "newest first");
    let t1 = list[1]["id"].as_i64().unwrap();

    for (body, field) in [
        (json!({}), "status"),
        (json!({"status": "done"}), "status"),
        (json!({"priority": "asap"}), "priority"),
        (json!({"note": ""}), "note"),
        (json!({"note": "x".repeat(5001)}), "note"),
    ] {
        let (s, e) = app.admin(Method::PATCH, &format!("/api/v1/tickets/{t1}"), Some(body.clone())).await;
        assert_eq!((s, e["field"].as_str()), (422, Some(field)), "{body}: {e}");
    }
    let (s, _) = app.admin(Method::PATCH, "/api/v1/tickets/987654", Some(json!({"status": "closed"}))).await;
    assert_eq!(s, 404);
    let (s, _) = app.admin(Method::GET, "/api/v1/tickets?status=maybe", None).await;
    assert_eq!(s, 422);

    let (s, t) = app
        .admin(
            Method::PATCH,
            &format!("/api/v1/tickets/{t1}"),
            Some(json!({"priority": "urgent", "note": "Called back"})),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!((t["priority"].as_str(), t["notes"][0]["body"].as_str()), (Some("urgent"), Some("Called back")));
    let (s, t) = app.admin(Method::PATCH, &format!("/api/v1/tickets/{t1}"), Some(json!({"status": "closed"}))).await;
    assert_eq!((s, t["status"].as_str()), (200, Some("closed")), "{t}");
    let (_, open) = app.admin(Method::GET, "/api/v1/tickets?status=open", None).await;
    assert_eq!(open.as_array().unwrap().len(), 1);
    let (_, closed) = app.admin(Method::GET, "/api/v1/tickets?status=closed", None).await;
    assert_eq!(closed[0]["id"].as_i64(), Some(t1));

    // Events: created (by the handoff), priority, note, closed.
    let (_, d1) = app.admin(Method::GET, &format!("/api/v1/conversations/{c1}"), None).await;
    let actions: Vec<&str> = d1["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "ticket")
        .map(|e| e["data"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["created", "priority", "note", "closed"], "{d1}");

    // The conversation page shows the ticket and works it.
    let console = Console::sign_in(&app, "tk-ann@test.example").await;
    let (_, html) = console.get(&format!("/console/conversations/{c1}")).await;
    assert!(
        html.contains(&format!("Ticket #{t1}")) && html.contains("Called back") && html.contains("Reopen ticket"),
        "{html}"
    );
    let p = console
        .post(
            &format!("/console/conversations/{c1}/ticket"),
            &[("priority", "urgent"), ("note", ""), ("status", "open")],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(app.store().get_ticket(t1).await.unwrap().status.as_str(), "open");
    let p = console.post(&format!("/console/conversations/{c1}/ticket"), &[("priority", "soon"), ("note", "")]).await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("priority"), "{}", p.body);
    let p = console
        .post(
            &format!("/console/conversations/{c1}/ticket"),
            &[("priority", "low"), ("note", "Waiting for the customer")],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let t = app.store().get_ticket(t1).await.unwrap();
    assert_eq!((t.priority.as_str(), t.notes.len()), ("low", 2));

    // Someone without a paid seat can read tickets but not change them.
    let (_, key) = app.user_with_key("tk-view@test.example", Role::Agent, false).await;
    let (s, _) = app.api(&key, Method::GET, &format!("/api/v1/tickets/{t1}"), None).await;
    assert_eq!(s, 200);
    let (s, _) =
        app.api(&key, Method::PATCH, &format!("/api/v1/tickets/{t1}"), Some(json!({"status": "closed"}))).await;
    assert_eq!(s, 403);
}
both_backends!(tickets_are_worked_from_api_and_console);
