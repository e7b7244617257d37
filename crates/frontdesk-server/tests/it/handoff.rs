//! Handoff to humans (E3–E8): live handoff round robin among available
//! people with a paid seat, balanced by load; nobody available; close when
//! unassigned; asynchronous handoff; no handoff at all; messages per
//! language; settings validated and audited.

use frontdesk_core::model::{Availability, Role};
use frontdesk_store::{Actor, UserPatch};
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::common::{create_user, last_agent_text, TestApp};

/// A visitor asks for a human; returns the conversation detail.
async fn hand_off(app: &TestApp, text: &str) -> (i64, String, Value) {
    let (id, token) = app.visitor(json!({})).await;
    let (s, _) = app.say(id, &token, text).await;
    assert_eq!(s, 201);
    let (_, detail) = app.admin(Method::GET, &format!("/api/v1/conversations/{id}"), None).await;
    (id, token, detail)
}

async fn away(app: &TestApp, id: i64) {
    let patch = UserPatch { availability: Some(Availability::Away), ..Default::default() };
    app.store().update_user(&Actor::system("test"), id, patch).await.unwrap();
}

async fn live_handoff_round_robin_and_fallbacks(app: TestApp) {
    app.seed_agent().await;
    let ann = create_user(app.store(), "ann@test.example", Role::Agent, true).await.id;
    let bob = create_user(app.store(), "bob@test.example", Role::Agent, true).await.id;
    let (s, t) = app.admin(Method::POST, "/api/v1/teams", Some(json!({"name": "Support"}))).await;
    assert_eq!(s, 201, "{t}");
    let team = t["id"].as_i64().unwrap();
    let (s, _) =
        app.admin(Method::PUT, &format!("/api/v1/teams/{team}/members"), Some(json!({"user_ids": [bob]}))).await;
    assert_eq!(s, 200);
    let (s, v) = app
        .admin(
            Method::PUT,
            "/api/v1/handoff",
            Some(json!({"process": "live", "user_ids": [ann], "team_ids": [team],
                        "team_available": [{"lang": "it", "text": "Arriva subito un collega!"},
                                           {"lang": "de", "text": "Gleich ist jemand für Sie da!"}]})),
        )
        .await;
    assert_eq!(s, 200, "{v}");

    // Round robin: Ann, then Bob (from the team), each with the cause "agent".
    let (_, _, d1) = hand_off(&app, "I want to talk to a human").await;
    let (_, _, d2) = hand_off(&app, "can I speak to a person please").await;
    let first = d1["conversation"]["assignee_user_id"].as_i64();
    let second = d2["conversation"]["assignee_user_id"].as_i64();
    assert_eq!((first, second), (Some(ann), Some(bob)), "{d1}\n{d2}");
    let assigned = d1["events"].as_array().unwrap().iter().rev().find(|e| e["kind"] == "assigned").unwrap().clone();
    assert_eq!(assigned["data"]["cause"], "agent");
    // Balanced by load: Bob closes his; the next goes to Bob (fewer open).
    let id2 = d2["conversation"]["id"].as_i64().unwrap();
    app.admin(Method::POST, &format!("/api/v1/conversations/{id2}/close"), None).await;
    let (_, _, d3) = hand_off(&app, "operator please").await;
    assert_eq!(d3["conversation"]["assignee_user_id"].as_i64(), Some(bob), "{d3}");
    // The visitor's language picks the admin's message.
    let (_, _, d4) = hand_off(&app, "Vorrei parlare con un operatore").await;
    assert_eq!(last_agent_text(&d4), "Arriva subito un collega!");
    let (_, _, d4) = hand_off(&app, "Ich möchte mit einem Mitarbeiter sprechen").await;
    assert_eq!(last_agent_text(&d4), "Gleich ist jemand für Sie da!");

    // Away people are skipped; with nobody available the conversation waits and the visitor is told.
    away(&app, ann).await;
    away(&app, bob).await;
    let (_, _, d5) = hand_off(&app, "I want to talk to a human").await;
    assert_eq!(d5["conversation"]["assignee_kind"], "none", "{d5}");
    assert_eq!(d5["conversation"]["status"], "open");
    assert!(last_agent_text(&d5).contains("isn't available"), "{d5}");
    // …or is closed, if so configured (E7).
    app.admin(Method::PUT, "/api/v1/handoff", Some(json!({"when_unassigned": "close"}))).await;
    let (_, _, d6) = hand_off(&app, "I want to talk to a human").await;
    assert_eq!(d6["conversation"]["status"], "closed", "{d6}");

    // Asynchronous: assigned to someone who follows up later, even if away now; the visitor is told when.
    app.admin(Method::PUT, "/api/v1/handoff", Some(json!({"process": "async"}))).await;
    let (_, _, d7) = hand_off(&app, "I want to talk to a human").await;
    assert_eq!(d7["conversation"]["assignee_kind"], "human", "{d7}");
    assert!(last_agent_text(&d7).contains("follow up"), "{d7}");

    // No handoff: the request is recorded, the agent keeps the conversation and answers.
    app.admin(Method::PUT, "/api/v1/handoff", Some(json!({"process": "none"}))).await;
    let (id8, token8, d8) = hand_off(&app, "I want to talk to a human").await;
    assert_eq!(d8["conversation"]["assignee_kind"], "agent", "{d8}");
    let h = d8["events"].as_array().unwrap().iter().find(|e| e["kind"] == "handoff").unwrap().clone();
    assert_eq!(h["data"]["recorded_only"], true);
    app.say(id8, &token8, "What are your opening hours?").await;
    let msgs = app.messages(id8, &token8).await;
    assert!(msgs.last().unwrap()["text"].as_str().unwrap().contains("9:00"), "the agent still answers");
}
both_backends!(live_handoff_round_robin_and_fallbacks);

async fn handoff_settings_are_validated_and_audited(app: TestApp) {
    let unseated = create_user(app.store(), "free@test.example", Role::Agent, false).await.id;
    for (body, field) in [
        (json!({"process": "later"}), "process"),
        (json!({"destination": "fax"}), "destination"),
        (json!({"user_ids": [unseated]}), "user_ids[0]"),
        (json!({"user_ids": [987654]}), "user_ids[0]"),
        (json!({"team_ids": [987654]}), "team_ids[0]"),
        (json!({"team_available": [{"lang": "xx", "text": "Hallo"}]}), "team_available[0].lang"),
        (json!({"when_unassigned": "forget"}), "when_unassigned"),
    ] {
        let (s, e) = app.admin(Method::PUT, "/api/v1/handoff", Some(body.clone())).await;
        assert_eq!((s, e["field"].as_str()), (422, Some(field)), "{body}: {e}");
    }
    let (s, v) = app.admin(Method::GET, "/api/v1/handoff", None).await;
    assert_eq!(s, 200);
    assert_eq!((v["process"].as_str(), v["destination"].as_str()), (Some("live"), Some("live_chat")), "{v}");
    let (s, _) = app.admin(Method::PUT, "/api/v1/handoff", Some(json!({"process": "async"}))).await;
    assert_eq!(s, 200);
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=handoff_settings", None).await;
    assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");
    // Every language the agent speaks has its own messages.
    let texts = json!([{"lang": "de", "text": "Gleich ist jemand da!"}, {"lang": "KO", "text": "곧 연결해 드릴게요!"}]);
    let (s, v) = app.admin(Method::PUT, "/api/v1/handoff", Some(json!({"team_available": texts}))).await;
    assert_eq!(s, 200, "{v}");
    // Survives a restart.
    let db = app.stop().await;
    let app = TestApp::spawn_on(db, |_| {}).await;
    let (_, v) = app.admin(Method::GET, "/api/v1/handoff", None).await;
    assert_eq!(v["process"], "async");
    assert_eq!(
        v["messages"]["team_available"],
        json!([["de", "Gleich ist jemand da!"], ["ko", "곧 연결해 드릴게요!"]])
    );
}
both_backends!(handoff_settings_are_validated_and_audited);

async fn handoff_is_set_from_the_console(app: TestApp) {
    let ed = create_user(app.store(), "ed@test.example", Role::Editor, true).await.id;
    let cookie = crate::common::sign_in(&app, "ed@test.example").await;
    let html = app.client.get(app.url("/console/handoff")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(html.status(), 200);
    let html = html.text().await.unwrap();
    assert!(html.contains("Asynchronous handoff") && html.contains("ed@test.example"), "{html}");
    for l in frontdesk_core::lang::Lang::ALL {
        assert!(html.contains(&format!("name=\"team_available_{}\"", l.code())), "{l:?}");
    }
    let csrf = crate::common::csrf_of(&html);
    let ed_s = ed.to_string();
    let form = [
        ("_csrf", csrf.as_str()),
        ("process", "async"),
        ("destination", "help_desk"),
        ("user_ids", ed_s.as_str()),
        ("when_unassigned", "close"),
        ("team_unavailable_fr", "Revenez demain !"),
        ("team_unavailable_ja", "明日またお越しください。"),
    ];
    let r = app.client.post(app.url("/console/handoff")).header("cookie", &cookie).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let (_, v) = app.admin(Method::GET, "/api/v1/handoff", None).await;
    assert_eq!(v["process"], "async");
    assert_eq!(v["destination"], "help_desk");
    assert_eq!(v["user_ids"], json!([ed]));
    assert_eq!(v["when_unassigned"], "close");
    assert_eq!(
        v["messages"]["team_unavailable"],
        json!([["fr", "Revenez demain !"], ["ja", "明日またお越しください。"]]),
        "{v}"
    );
    assert!(v["workflow_id"].is_null(), "{v}");
    // A bad value is shown on the page, nothing saved.
    let bad = [("_csrf", csrf.as_str()), ("process", "later")];
    let r = app.client.post(app.url("/console/handoff")).header("cookie", &cookie).form(&bad).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("must be live, async or none"));
}
both_backends!(handoff_is_set_from_the_console);

async fn conversations_of_someone_who_leaves_are_reassigned(app: TestApp) {
    app.seed_agent().await;
    let ann = create_user(app.store(), "ann@test.example", Role::Agent, true).await.id;
    let bob = create_user(app.store(), "bob@test.example", Role::Agent, true).await.id;
    app.admin(Method::PUT, "/api/v1/handoff", Some(json!({"process": "live", "user_ids": [ann, bob]}))).await;
    let (a1, _, d1) = hand_off(&app, "I want to talk to a human").await;
    let (a2, _, d2) = hand_off(&app, "I want to talk to a person").await;
    assert_eq!(d1["conversation"]["assignee_user_id"].as_i64(), Some(ann));
    assert_eq!(d2["conversation"]["assignee_user_id"].as_i64(), Some(bob));
    // Ann loses her seat: her conversation goes to Bob by the rules, in the same change.
    let (s, _) = app.admin(Method::PATCH, &format!("/api/v1/users/{ann}"), Some(json!({"paid_seat": false}))).await;
    assert_eq!(s, 200);
    let (_, d) = app.admin(Method::GET, &format!("/api/v1/conversations/{a1}"), None).await;
    assert_eq!(d["conversation"]["assignee_user_id"].as_i64(), Some(bob), "{d}");
    let last = d["events"].as_array().unwrap().iter().rev().find(|e| e["kind"] == "assigned").unwrap().clone();
    assert_eq!(last["data"]["cause"], "rule", "{last}");
    // Bob is deleted: nobody eligible is left, both wait in Unassigned; nothing is lost.
    let (s, _) = app.admin(Method::DELETE, &format!("/api/v1/users/{bob}"), None).await;
    assert_eq!(s, 204);
    for id in [a1, a2] {
        let (_, d) = app.admin(Method::GET, &format!("/api/v1/conversations/{id}"), None).await;
        assert_eq!(d["conversation"]["assignee_kind"], "none", "{d}");
        assert_eq!(d["conversation"]["status"], "open");
        assert!(d["messages"].as_array().unwrap().len() >= 2);
    }
    let (_, users) = app.admin(Method::GET, "/api/v1/users", None).await;
    let b = users.as_array().unwrap().iter().find(|u| u["id"] == bob).unwrap().clone();
    assert_eq!(b["disabled"], true, "a deleted user is kept, disabled, for the history");
}
both_backends!(conversations_of_someone_who_leaves_are_reassigned);

/// Two replicas hand off the same conversation at the same moment: exactly
/// one assignment wins (the turn locks the conversation row).
async fn concurrent_handoffs_assign_a_conversation_once(app: TestApp) {
    app.seed_agent().await;
    let ann = create_user(app.store(), "ann@test.example", Role::Agent, true).await.id;
    let bob = create_user(app.store(), "bob@test.example", Role::Agent, true).await.id;
    app.admin(Method::PUT, "/api/v1/handoff", Some(json!({"process": "live", "user_ids": [ann, bob]}))).await;
    let (id, token) = app.visitor(json!({})).await;
    let mut tasks = Vec::new();
    for text in ["I want to talk to a human", "please connect me to a person"] {
        let client = app.client.clone();
        let url = app.url(&format!("/api/v1/chat/conversations/{id}/messages"));
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            client.post(url).bearer_auth(token).json(&json!({"text": text})).send().await.unwrap().status().as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 201);
    }
    let (_, d) = app.admin(Method::GET, &format!("/api/v1/conversations/{id}"), None).await;
    let handoffs = d["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "handoff").count();
    let assigned_to_human = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "assigned" && e["data"]["to"] == "human")
        .count();
    assert_eq!((handoffs, assigned_to_human), (1, 1), "{d}");
    let agent_replies = d["messages"].as_array().unwrap().iter().filter(|m| m["author"] == "agent").count();
    assert_eq!(agent_replies, 1, "the second turn found the conversation already handed off");
}
both_backends!(concurrent_handoffs_assign_a_conversation_once);
