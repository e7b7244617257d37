//! Credits (D1): replies are paid from a ledger in the reply's own
//! transaction; when credits run out the agent takes no new conversations
//! until credits are added; automatic top-ups; concurrency never drives the
//! balance below zero; the preview costs nothing.

use frontdesk_core::model::{AssigneeKind, Channel, Role};
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::common::TestApp;

const PRICE_QUESTION: &str = "How much does the Pro plan cost?";

async fn set_credits(app: &TestApp, settings: Value) -> Value {
    let (s, v) = app.admin(Method::PUT, "/api/v1/credits/settings", Some(settings)).await;
    assert_eq!(s, 200, "{v}");
    v
}

async fn status(app: &TestApp) -> Value {
    let (s, v) = app.admin(Method::GET, "/api/v1/credits", None).await;
    assert_eq!(s, 200, "{v}");
    v
}

/// The ledger, oldest first.
async fn ledger(app: &TestApp) -> Vec<Value> {
    let (s, v) = app.admin(Method::GET, "/api/v1/credits/ledger?limit=1000", None).await;
    assert_eq!(s, 200, "{v}");
    let mut rows = v.as_array().unwrap().clone();
    rows.reverse();
    rows
}

/// Every row's balance follows from the one before it, and none is negative.
fn assert_consistent(rows: &[Value]) -> i64 {
    let mut balance = 0;
    for r in rows {
        let after = r["balance_after"].as_i64().unwrap();
        assert!(after >= 0, "negative balance: {r}");
        assert_eq!(balance + r["amount"].as_i64().unwrap(), after, "ledger does not add up at {r}");
        balance = after;
    }
    balance
}

fn kinds(rows: &[Value]) -> Vec<&str> {
    rows.iter().map(|r| r["kind"].as_str().unwrap()).collect()
}

async fn assignee(app: &TestApp, id: i64) -> AssigneeKind {
    app.store().get_conversation(id).await.unwrap().assignee_kind
}

async fn replies_are_debited_and_usage_is_reported(app: TestApp) {
    app.seed_agent().await;
    // Off by default: unlimited, nothing recorded.
    let s = status(&app).await;
    assert_eq!(s["settings"]["enabled"], false);
    assert_eq!(s["out_of_credits"], false);
    let (id, token) = app.visitor(json!({})).await;
    app.say(id, &token, PRICE_QUESTION).await;
    assert!(ledger(&app).await.is_empty());

    let s =
        set_credits(&app, json!({"enabled": true, "cost_per_reply": 2, "monthly_allowance": 10, "reset_day": 1})).await;
    assert_eq!(s["balance"], 10, "the period's allowance is due: {s}");
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=credit_settings", None).await;
    assert_eq!(audit[0]["action"], "update");
    assert_eq!(audit[0]["before"]["enabled"], false);
    assert_eq!(audit[0]["after"]["cost_per_reply"], 2);

    let (s, _) = app.say(id, &token, PRICE_QUESTION).await;
    assert_eq!(s, 201);
    let ms = app.messages(id, &token).await;
    let reply_id = ms.last().unwrap()["id"].as_i64().unwrap();
    let rows = ledger(&app).await;
    assert_eq!(kinds(&rows), ["allowance", "reply"]);
    assert_eq!(rows[0]["amount"], 10);
    assert_eq!(rows[1]["amount"], -2);
    assert_eq!(rows[1]["balance_after"], 8);
    assert_eq!(rows[1]["channel"], "live_chat");
    assert_eq!(rows[1]["conversation_id"], id);
    assert_eq!(rows[1]["message_id"], reply_id);

    // Another channel, through the engine (the public API is the live chat).
    let started =
        frontdesk_engine::conversation::start_conversation(&app.state, Channel::Email, None, None).await.unwrap();
    assert_eq!(started.conversation.assignee_kind, AssigneeKind::Agent);
    frontdesk_engine::conversation::visitor_message(&app.state, &started.conversation, PRICE_QUESTION.into())
        .await
        .unwrap();

    // The preview answers but costs nothing and records nothing.
    let before = ledger(&app).await.len();
    let (s, v) = app.admin(Method::POST, "/api/v1/agent/preview", Some(json!({"message": PRICE_QUESTION}))).await;
    assert_eq!(s, 200, "{v}");
    assert!(v["text"].as_str().unwrap().contains("12 euros"), "{v}");
    assert_eq!(ledger(&app).await.len(), before);

    let s = status(&app).await;
    assert_eq!(s["balance"], 6);
    assert_eq!(s["used_this_period"], 4);
    assert_eq!(assert_consistent(&ledger(&app).await), 6);

    let (s, u) = app.admin(Method::GET, "/api/v1/credits/usage", None).await;
    assert_eq!(s, 200, "{u}");
    assert_eq!(u["total"]["replies"], 2);
    assert_eq!(u["total"]["credits"], 4);
    let days = u["days"].as_array().unwrap();
    assert_eq!(days.len(), 1);
    assert_eq!(days[0]["key"], frontdesk_core::credits::day_of(frontdesk_store::now_ms()));
    assert_eq!(days[0]["credits"], 4);
    let channels: Vec<(String, i64)> = u["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["key"].as_str().unwrap().to_owned(), c["credits"].as_i64().unwrap()))
        .collect();
    assert_eq!(channels, [("email".to_owned(), 2), ("live_chat".to_owned(), 2)]);
    // A range without replies.
    let (s, u) = app.admin(Method::GET, "/api/v1/credits/usage?from=2020-01-01&to=2020-01-31", None).await;
    assert_eq!(s, 200);
    assert_eq!(u["total"]["replies"], 0);
    assert!(u["days"].as_array().unwrap().is_empty());

    // The console page shows the balance and the usage.
    let r = app.client.get(app.url("/console/credits")).bearer_auth(&app.admin_key).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-balance>6<"), "{html}");
    assert!(html.contains("live_chat") && html.contains("email"));
    assert!(!html.contains("out of credits: new conversations"));
}
both_backends!(replies_are_debited_and_usage_is_reported);

async fn running_out_sends_new_conversations_to_the_team(app: TestApp) {
    app.seed_agent().await;
    set_credits(&app, json!({"enabled": true, "cost_per_reply": 1, "monthly_allowance": 2, "reset_day": 28})).await;
    let (a, token) = app.visitor(json!({})).await;
    assert_eq!(assignee(&app, a).await, AssigneeKind::Agent);
    app.say(a, &token, PRICE_QUESTION).await;
    app.say(a, &token, "What are your opening hours?").await;
    let s = status(&app).await;
    assert_eq!(s["balance"], 0);
    assert_eq!(s["out_of_credits"], true);
    assert_eq!(s["message"], "The agent is out of credits: new conversations go to your team");

    // A new conversation goes to the team, not the agent.
    let (b, token_b) = app.visitor(json!({})).await;
    assert_eq!(assignee(&app, b).await, AssigneeKind::None);
    app.say(b, &token_b, PRICE_QUESTION).await;
    assert_eq!(app.messages(b, &token_b).await.len(), 1, "the agent does not answer it");

    // The conversation it holds is still answered, never below zero: the
    // shortfall is noted.
    app.say(a, &token, PRICE_QUESTION).await;
    assert_eq!(app.messages(a, &token).await.len(), 6);
    let rows = ledger(&app).await;
    let last = rows.last().unwrap();
    assert_eq!(
        (last["kind"].as_str(), last["amount"].as_i64(), last["balance_after"].as_i64()),
        (Some("reply"), Some(0), Some(0))
    );
    assert!(last["note"].as_str().unwrap().contains("unpaid"), "{last}");
    assert_eq!(assert_consistent(&rows), 0);

    // The console says so.
    let r = app.client.get(app.url("/console/credits")).bearer_auth(&app.admin_key).send().await.unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("The agent is out of credits: new conversations go to your team"), "{html}");

    // Adding credits restores the agent (audited, in the ledger).
    let (s, g) =
        app.admin(Method::POST, "/api/v1/credits/grants", Some(json!({"amount": 5, "note": "bought a pack"}))).await;
    assert_eq!(s, 201, "{g}");
    assert_eq!(g["kind"], "grant");
    assert_eq!(g["balance_after"], 5);
    let s = status(&app).await;
    assert_eq!((s["balance"].as_i64(), s["out_of_credits"].as_bool()), (Some(5), Some(false)));
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=credits", None).await;
    assert_eq!(audit[0]["action"], "grant");
    assert_eq!(audit[0]["after"]["amount"], 5);
    let (c, _) = app.visitor(json!({})).await;
    assert_eq!(assignee(&app, c).await, AssigneeKind::Agent);
}
both_backends!(running_out_sends_new_conversations_to_the_team);

async fn auto_top_up_adds_a_pack_when_exhausted(app: TestApp) {
    app.seed_agent().await;
    set_credits(
        &app,
        json!({"enabled": true, "cost_per_reply": 3, "monthly_allowance": 2, "reset_day": 1,
               "auto_top_up": 5, "max_top_ups_per_period": 1}),
    )
    .await;
    assert_eq!(status(&app).await["out_of_credits"], false, "a top-up is available");
    let (id, token) = app.visitor(json!({})).await;
    app.say(id, &token, PRICE_QUESTION).await;
    let rows = ledger(&app).await;
    assert_eq!(kinds(&rows), ["allowance", "top_up", "reply"]);
    assert_eq!((rows[1]["amount"].as_i64(), rows[1]["balance_after"].as_i64()), (Some(5), Some(7)));
    assert_eq!(rows[1]["conversation_id"], id);
    assert_eq!(rows[2]["balance_after"], 4);
    app.say(id, &token, PRICE_QUESTION).await; // 4 → 1
    let s = status(&app).await;
    assert_eq!((s["balance"].as_i64(), s["top_ups_this_period"].as_i64()), (Some(1), Some(1)));
    assert_eq!(s["out_of_credits"], true, "the cap of one top-up is used");
    app.say(id, &token, PRICE_QUESTION).await; // pays 1 of 3
    let rows = ledger(&app).await;
    assert_eq!(kinds(&rows), ["allowance", "top_up", "reply", "reply", "reply"]);
    assert_eq!(rows[4]["amount"], -1);
    assert_eq!(assert_consistent(&rows), 0);
}
both_backends!(auto_top_up_adds_a_pack_when_exhausted);

async fn concurrent_replies_never_drive_the_balance_negative(app: TestApp) {
    app.seed_agent().await;
    set_credits(&app, json!({"enabled": true, "cost_per_reply": 1, "monthly_allowance": 10, "reset_day": 1})).await;
    let mut convs = Vec::new();
    for _ in 0..30 {
        convs.push(app.visitor(json!({})).await);
    }
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = convs
        .iter()
        .cloned()
        .map(|(id, token)| {
            let app = app.clone();
            tokio::spawn(async move { app.say(id, &token, PRICE_QUESTION).await.0 })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 201);
    }
    let rows = ledger(&app).await;
    let replies: Vec<&Value> = rows.iter().filter(|r| r["kind"] == "reply").collect();
    assert_eq!(replies.len(), 30, "every stored reply has its row");
    assert_eq!(rows.iter().filter(|r| r["kind"] == "allowance").count(), 1, "one allowance per period");
    let charged: i64 = replies.iter().map(|r| -r["amount"].as_i64().unwrap()).sum();
    assert_eq!(charged, 10);
    assert_eq!(assert_consistent(&rows), 0);
    let s = status(&app).await;
    assert_eq!((s["balance"].as_i64(), s["out_of_credits"].as_bool()), (Some(0), Some(true)));
    let (_, u) = app.admin(Method::GET, "/api/v1/credits/usage", None).await;
    assert_eq!((u["total"]["replies"].as_i64(), u["total"]["credits"].as_i64()), (Some(30), Some(10)));
}
both_backends!(concurrent_replies_never_drive_the_balance_negative);

async fn credit_input_is_validated_by_field(app: TestApp) {
    let base = json!({"enabled": true, "cost_per_reply": 1, "monthly_allowance": 10, "reset_day": 1});
    for (patch, field) in [
        (json!({"reset_day": 31}), "reset_day"),
        (json!({"reset_day": 0}), "reset_day"),
        (json!({"cost_per_reply": 0}), "cost_per_reply"),
        (json!({"monthly_allowance": -5}), "monthly_allowance"),
        (json!({"auto_top_up": 0}), "auto_top_up"),
        (json!({"max_top_ups_per_period": 3}), "max_top_ups_per_period"),
    ] {
        let mut body = base.clone();
        body.as_object_mut().unwrap().extend(patch.as_object().unwrap().clone());
        let (s, v) = app.admin(Method::PUT, "/api/v1/credits/settings", Some(body)).await;
        assert_eq!(s, 422, "{v}");
        assert_eq!(v["field"], field, "{v}");
    }
    let (s, v) = app.admin(Method::PUT, "/api/v1/credits/settings", Some(json!({"enabled": true, "bonus": 1}))).await;
    assert!(s == 400 || s == 422, "{s} {v}");
    let (s, v) = app.admin(Method::POST, "/api/v1/credits/grants", Some(json!({"amount": 0}))).await;
    assert_eq!((s, v["field"].as_str()), (422, Some("amount")), "{v}");
    let (s, v) = app.admin(Method::GET, "/api/v1/credits/usage?from=2023-02-30", None).await;
    assert_eq!((s, v["field"].as_str()), (422, Some("from")), "{v}");
    let (s, v) = app.admin(Method::GET, "/api/v1/credits/usage?from=2024-05-02&to=2024-05-01", None).await;
    assert_eq!((s, v["field"].as_str()), (422, Some("to")), "{v}");
    // Nothing was saved.
    assert_eq!(status(&app).await["settings"]["enabled"], false);
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=credit_settings", None).await;
    assert!(audit.as_array().unwrap().is_empty());

    // Billing is for administrators: an editor reads, but cannot change or add.
    let (_, key) = app.user_with_key("ed@example.com", Role::Editor, true).await;
    let (s, _) = app.api(&key, Method::GET, "/api/v1/credits", None).await;
    assert_eq!(s, 200);
    let (s, _) = app.api(&key, Method::PUT, "/api/v1/credits/settings", Some(base)).await;
    assert_eq!(s, 403);
    let (s, _) = app.api(&key, Method::POST, "/api/v1/credits/grants", Some(json!({"amount": 5}))).await;
    assert_eq!(s, 403);

    // The console form names the field too and keeps the values.
    let cookie = crate::common::sign_in(&app, "ed@example.com").await;
    let r = app.client.get(app.url("/console/credits")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(!r.text().await.unwrap().contains("/console/credits/settings"), "no settings form for editors");
}
both_backends!(credit_input_is_validated_by_field);

async fn console_saves_settings_and_adds_credits(app: TestApp) {
    crate::common::create_user(app.store(), "boss@example.com", Role::Admin, true).await;
    let cookie = crate::common::sign_in(&app, "boss@example.com").await;
    let html = app
        .client
        .get(app.url("/console/credits"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::common::csrf_of(&html);
    let post = |path: &'static str, form: Vec<(&'static str, String)>| {
        let (app, cookie, csrf) = (&app, cookie.clone(), csrf.clone());
        async move {
            let mut form = form;
            form.push(("_csrf", csrf));
            let r = app.client.post(app.url(path)).header("cookie", cookie).form(&form).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap_or_default())
        }
    };
    let form = |reset_day: &str| {
        vec![
            ("enabled", "on".to_owned()),
            ("cost_per_reply", "2".to_owned()),
            ("monthly_allowance", "50".to_owned()),
            ("reset_day", reset_day.to_owned()),
            ("auto_top_up", "".to_owned()),
            ("max_top_ups_per_period", "".to_owned()),
        ]
    };
    let (s, html) = post("/console/credits/settings", form("31")).await;
    assert_eq!(s, 422);
    assert!(html.contains("reset_day: must be between 1 and 28"), "{html}");
    let (s, _) = post("/console/credits/settings", form("15")).await;
    assert_eq!(s, 303);
    let (s, _) = post("/console/credits/grants", vec![("amount", "7".into()), ("note", "goodwill".into())]).await;
    assert_eq!(s, 303);
    let st = status(&app).await;
    assert_eq!(st["settings"]["reset_day"], 15);
    assert_eq!(st["balance"], 57);
    assert!(st["period"]["key"].as_str().unwrap().ends_with("-15"));
}
both_backends!(console_saves_settings_and_adds_credits);
