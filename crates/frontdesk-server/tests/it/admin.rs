//! The help desk around the agent: humans take over, the agent switch,
//! short answers, users and teams, and the audit log.

use frontdesk_core::model::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::common::TestApp;

fn ids(list: &Value) -> Vec<i64> {
    list.as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect()
}

async fn a_human_takes_over_replies_and_closes(app: TestApp) {
    app.seed_agent().await;
    let (agent_user, key) = app.user_with_key("marta@test.example", Role::Agent, true).await;
    let (id, token) = app.visitor(json!({"name": "Lee"})).await;
    app.say(id, &token, "I want to talk to a human").await;

    let (_, unassigned) = app.api(&key, Method::GET, "/api/v1/conversations?view=unassigned", None).await;
    assert_eq!(ids(&unassigned), vec![id]);
    assert_eq!(unassigned[0]["contact_name"], "Lee");
    let (s, _) =
        app.api(&key, Method::POST, &format!("/api/v1/conversations/{id}/assign"), Some(json!({"to": "me"}))).await;
    assert_eq!(s, 200);
    let (_, mine) = app.api(&key, Method::GET, "/api/v1/conversations?view=mine", None).await;
    assert_eq!(ids(&mine), vec![id]);
    let (_, unassigned) = app.api(&key, Method::GET, "/api/v1/conversations?view=unassigned", None).await;
    assert!(ids(&unassigned).is_empty());
    // The admin's Mine view is someone else's.
    let (_, admin_mine) = app.admin(Method::GET, "/api/v1/conversations?view=mine", None).await;
    assert!(ids(&admin_mine).is_empty());

    let (s, _) = app
        .api(
            &key,
            Method::POST,
            &format!("/api/v1/conversations/{id}/messages"),
            Some(json!({"text": "Hi Lee, Marta here."})),
        )
        .await;
    assert_eq!(s, 201);
    let ms = app.messages(id, &token).await;
    assert_eq!(ms.last().unwrap()["author"], "human");
    assert_eq!(ms.last().unwrap()["text"], "Hi Lee, Marta here.");
    // The visitor writes again: no agent reply, the human owns it.
    app.say(id, &token, "thanks Marta").await;
    assert_eq!(app.messages(id, &token).await.last().unwrap()["author"], "visitor");

    let (s, c) = app.api(&key, Method::POST, &format!("/api/v1/conversations/{id}/close"), None).await;
    assert_eq!(s, 200);
    assert_eq!(c["status"], "closed");
    let (_, closed) = app.api(&key, Method::GET, "/api/v1/conversations?view=closed", None).await;
    assert_eq!(ids(&closed), vec![id]);
    let (_, open) = app.api(&key, Method::GET, "/api/v1/conversations?view=open", None).await;
    assert!(ids(&open).is_empty());

    // Every assignment change is an event with its cause and actor.
    let (_, detail) = app.admin(Method::GET, &format!("/api/v1/conversations/{id}"), None).await;
    let events = detail["events"].as_array().unwrap();
    let causes: Vec<&str> =
        events.iter().filter(|e| e["kind"] == "assigned").map(|e| e["data"]["cause"].as_str().unwrap()).collect();
    assert_eq!(causes, ["initial", "agent", "manual"]);
    let manual = events.iter().find(|e| e["kind"] == "assigned" && e["data"]["cause"] == "manual").unwrap();
    assert_eq!(manual["actor_user_id"], agent_user);
    assert_eq!(manual["data"]["user_id"], agent_user);
    let closed_ev = events.iter().find(|e| e["kind"] == "closed").unwrap();
    assert_eq!(closed_ev["actor_user_id"], agent_user);

    // Give it back to the agent: it answers again.
    app.api(&key, Method::POST, &format!("/api/v1/conversations/{id}/reopen"), None).await;
    app.api(&key, Method::POST, &format!("/api/v1/conversations/{id}/assign"), Some(json!({"to": "agent"}))).await;
    app.say(id, &token, "what are your opening hours").await;
    assert_eq!(app.messages(id, &token).await.last().unwrap()["author"], "agent");
}
both_backends!(a_human_takes_over_replies_and_closes);

async fn the_agent_switch(app: TestApp) {
    app.seed_agent().await;
    let (old, old_token) = app.visitor(json!({})).await;
    let (s, p) = app.admin(Method::PUT, "/api/v1/agent", Some(json!({"enabled": false}))).await;
    assert_eq!(s, 200);
    assert_eq!(p["enabled"], false);
    let cfg: Value = app.client.get(app.url("/api/v1/chat/config")).send().await.unwrap().json().await.unwrap();
    assert_eq!(cfg["powered_by_ai"], false);
    assert_eq!(cfg["agent_name"], "Luma");

    // A new conversation goes to the Unassigned view and gets no agent reply.
    let (new, new_token) = app.visitor(json!({})).await;
    app.say(new, &new_token, "what are your opening hours").await;
    let ms = app.messages(new, &new_token).await;
    assert_eq!(ms.len(), 1);
    let (_, unassigned) = app.admin(Method::GET, "/api/v1/conversations?view=unassigned", None).await;
    assert_eq!(ids(&unassigned), vec![new]);
    // The agent keeps the conversation it already had.
    app.say(old, &old_token, "what are your opening hours").await;
    assert_eq!(app.messages(old, &old_token).await.last().unwrap()["author"], "agent");

    // Switching is audited as unpublish / publish.
    app.admin(Method::PUT, "/api/v1/agent", Some(json!({"enabled": true}))).await;
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=agent_profile", None).await;
    let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["publish", "unpublish", "create"], "newest first");
    assert_eq!(audit[1]["before"]["enabled"], true);
    assert_eq!(audit[1]["after"]["enabled"], false);
    assert_eq!(audit[1]["actor_label"], "admin@test.example");
}
both_backends!(the_agent_switch);

async fn short_answers_are_managed_audited_and_used_at_once(app: TestApp) {
    let (s, created) = app
        .admin(
            Method::POST,
            "/api/v1/short-answers",
            Some(json!({"question": "Do you ship to Canada?", "answer": "Yes, in 5 to 7 days."})),
        )
        .await;
    assert_eq!(s, 201);
    let sa = created["id"].as_i64().unwrap();
    let (id, token) = app.visitor(json!({})).await;
    app.say(id, &token, "shipping to canada?").await;
    assert!(app.messages(id, &token).await[1]["text"].as_str().unwrap().contains("5 to 7 days"));

    let (s, updated) = app
        .admin(
            Method::PUT,
            &format!("/api/v1/short-answers/{sa}"),
            Some(
                json!({"question": "Do you ship to Canada?", "answer": "Yes, in 3 days.", "citations_enabled": false}),
            ),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(updated["citations_enabled"], false);
    let (id2, token2) = app.visitor(json!({})).await;
    app.say(id2, &token2, "Do you ship to Canada?").await;
    let reply = &app.messages(id2, &token2).await[1];
    assert!(reply["text"].as_str().unwrap().contains("3 days"));
    assert_eq!(reply["citations"], json!([]), "citations off: used but not linked");
    let (_, d) = app.admin(Method::GET, &format!("/api/v1/conversations/{id2}"), None).await;
    let ev = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "message" && e["data"]["author"] == "agent")
        .unwrap()
        .clone();
    assert_eq!(ev["data"]["cited"], true, "the event still records the source used");

    let (s, _) = app.admin(Method::DELETE, &format!("/api/v1/short-answers/{sa}"), None).await;
    assert_eq!(s, 204);
    let (s, _) = app.admin(Method::GET, &format!("/api/v1/short-answers/{sa}"), None).await;
    assert_eq!(s, 404);
    let (id3, token3) = app.visitor(json!({})).await;
    app.say(id3, &token3, "Do you ship to Canada?").await;
    assert!(app.messages(id3, &token3).await[1]["text"].as_str().unwrap().contains("can't answer"));

    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=short_answer", None).await;
    let a = audit.as_array().unwrap();
    assert_eq!(a.iter().map(|x| x["action"].as_str().unwrap()).collect::<Vec<_>>(), ["delete", "update", "create"]);
    assert_eq!(a[1]["before"]["answer"], "Yes, in 5 to 7 days.");
    assert_eq!(a[1]["after"]["answer"], "Yes, in 3 days.");
    assert_eq!(a[0]["after"], Value::Null);
    assert_eq!(a[2]["entity_id"], sa.to_string());

    // Bad input names the field and changes nothing.
    let (s, e) = app.admin(Method::POST, "/api/v1/short-answers", Some(json!({"question": "  ", "answer": "x"}))).await;
    assert_eq!(s, 422);
    assert_eq!(e["field"], "question");
    let (s, e) = app
        .admin(Method::POST, "/api/v1/short-answers", Some(json!({"question": "q", "answer": "x".repeat(5001)})))
        .await;
    assert_eq!(s, 422);
    assert_eq!(e["field"], "answer");
    let (_, all) = app.admin(Method::GET, "/api/v1/short-answers", None).await;
    assert!(all.as_array().unwrap().is_empty());
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=short_answer", None).await;
    assert_eq!(audit.as_array().unwrap().len(), 3);
}
both_backends!(short_answers_are_managed_audited_and_used_at_once);

async fn users_teams_and_keys(app: TestApp) {
    let (s, u) = app
        .admin(
            Method::POST,
            "/api/v1/users",
            Some(json!({"email": "sam@test.example", "name": "Sam", "password": "longenough", "role": "editor"})),
        )
        .await;
    assert_eq!(s, 201, "{u}");
    assert_eq!(u["paid_seat"], true);
    assert!(u.get("password_hash").is_none());
    let uid = u["id"].as_i64().unwrap();
    let (s, e) = app
        .admin(
            Method::POST,
            "/api/v1/users",
            Some(json!({"email": "sam@test.example", "name": "Sam", "password": "longenough", "role": "editor"})),
        )
        .await;
    assert_eq!(s, 409, "{e}");
    let (s, e) = app
        .admin(
            Method::POST,
            "/api/v1/users",
            Some(json!({"email": "x@test.example", "name": "X", "password": "short", "role": "editor"})),
        )
        .await;
    assert_eq!((s, e["field"].as_str()), (422, Some("password")));
    let (s, e) = app
        .admin(
            Method::POST,
            "/api/v1/users",
            Some(json!({"email": "x@test.example", "name": "X", "password": "longenough", "role": "boss"})),
        )
        .await;
    assert_eq!((s, e["field"].as_str()), (422, Some("role")));

    let (s, t) = app.admin(Method::POST, "/api/v1/teams", Some(json!({"name": "Billing"}))).await;
    assert_eq!(s, 201);
    let tid = t["id"].as_i64().unwrap();
    let (s, t) = app
        .admin(Method::PUT, &format!("/api/v1/teams/{tid}/members"), Some(json!({"user_ids": [uid, app.admin_id]})))
        .await;
    assert_eq!(s, 200);
    assert_eq!(t["member_ids"].as_array().unwrap().len(), 2);
    let (s, _) =
        app.admin(Method::PUT, &format!("/api/v1/teams/{tid}/members"), Some(json!({"user_ids": [424242]}))).await;
    assert_eq!(s, 404);
    let (_, teams) = app.admin(Method::GET, "/api/v1/teams", None).await;
    assert_eq!(teams[0]["member_ids"].as_array().unwrap().len(), 2, "a failed update changes nothing");

    // Availability and seat.
    let (s, u) = app
        .admin(
            Method::PATCH,
            &format!("/api/v1/users/{uid}"),
            Some(json!({"availability": "away", "paid_seat": false})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(u["availability"], "away");
    assert_eq!(u["paid_seat"], false);

    // API keys: shown once, hashed, revocable.
    let (s, k) = app.admin(Method::POST, "/api/v1/api-keys", Some(json!({"name": "ci"}))).await;
    assert_eq!(s, 201);
    let secret = k["key"].as_str().unwrap().to_owned();
    let (_, list) = app.admin(Method::GET, "/api/v1/api-keys", None).await;
    assert!(!list.to_string().contains(&secret));
    let (s, _) = app.api(&secret, Method::GET, "/api/v1/me", None).await;
    assert_eq!(s, 200);
    let kid = k["api_key"]["id"].as_i64().unwrap();
    app.admin(Method::DELETE, &format!("/api/v1/api-keys/{kid}"), None).await;
    let (s, _) = app.api(&secret, Method::GET, "/api/v1/me", None).await;
    assert_eq!(s, 401);

    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?limit=50", None).await;
    let types: Vec<&str> = audit.as_array().unwrap().iter().map(|a| a["entity_type"].as_str().unwrap()).collect();
    for t in ["user", "team", "api_key"] {
        assert!(types.contains(&t), "{t} changes are audited: {types:?}");
    }
}
both_backends!(users_teams_and_keys);
