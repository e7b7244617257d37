//! Lead qualification (F3): the agent asks the criteria's questions after
//! its answers, stores the visitor's bare answers in the CRM properties,
//! scores the lead; a qualified lead goes to the sales team with a summary,
//! an unqualified one is only recorded. Settings validated by field and
//! audited; the console page lists the leads.

use frontdesk_core::model::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::common::{create_user, TestApp};

const Q1: &str = "How many people are on your team?";
const Q2: &str = "What is your monthly budget?";

/// CRM fields, a sales team with one member, two criteria; returns (team, member).
async fn seed(app: &TestApp) -> (i64, i64) {
    app.seed_agent().await;
    for f in [
        json!({"key": "team_size", "label": "Team size", "kind": "enum", "values": ["1-10", "11-50", "51+"],
               "agent_read": true, "agent_write": true}),
        json!({"key": "budget", "label": "Budget", "kind": "enum", "values": ["under 100", "100-1000", "over 1000"],
               "agent_read": true, "agent_write": true}),
        json!({"key": "plan", "label": "Plan", "kind": "enum", "values": ["Basic", "Pro"], "agent_read": true}),
    ] {
        let (s, v) = app.admin(Method::POST, "/api/v1/crm/fields", Some(f)).await;
        assert_eq!(s, 201, "{v}");
    }
    let sam = create_user(app.store(), "sam@test.example", Role::Agent, true).await.id;
    let (s, t) = app.admin(Method::POST, "/api/v1/teams", Some(json!({"name": "Sales"}))).await;
    assert_eq!(s, 201, "{t}");
    let team = t["id"].as_i64().unwrap();
    let (s, _) =
        app.admin(Method::PUT, &format!("/api/v1/teams/{team}/members"), Some(json!({"user_ids": [sam]}))).await;
    assert_eq!(s, 200);
    let (s, v) = app.admin(Method::PUT, "/api/v1/leads/settings", Some(settings(team))).await;
    assert_eq!(s, 200, "{v}");
    (team, sam)
}

fn settings(team: i64) -> Value {
    json!({
        "enabled": true,
        "qualify_score": 60,
        "sales_team_id": team,
        "criteria": [
            {"property": "team_size", "question": {"en": Q1, "it": "Quante persone ci sono nel tuo team?"},
             "accepted": ["11-50", "51+"], "weight": 2},
            {"property": "budget", "question": {"en": Q2}, "accepted": ["100-1000", "over 1000"]},
        ],
    })
}

/// The visitor says `text`; returns the agent's reply.
async fn turn(app: &TestApp, id: i64, token: &str, text: &str) -> String {
    let (s, v) = app.say(id, token, text).await;
    assert_eq!(s, 201, "{v}");
    let msgs = app.messages(id, token).await;
    let last = msgs.last().unwrap();
    assert_eq!(last["author"], "agent", "{msgs:?}");
    last["text"].as_str().unwrap().to_owned()
}

async fn conversation(app: &TestApp, id: i64) -> Value {
    let (s, d) = app.admin(Method::GET, &format!("/api/v1/conversations/{id}"), None).await;
    assert_eq!(s, 200);
    d
}

async fn a_qualified_lead_goes_to_the_sales_team(app: TestApp) {
    let (_, sam) = seed(&app).await;
    let (id, token) = app.visitor(json!({"name": "Lea", "email": "lea@client.example"})).await;

    // The agent answers, then asks the first question.
    let r = turn(&app, id, &token, "How much does the Pro plan cost?").await;
    assert!(r.contains("per month. By the way, how many people are on your team?"), "{r}");
    assert!(!r.contains("Anything else"), "one question at the end: {r}");
    // A bare answer is stored; the next question follows.
    let r = turn(&app, id, &token, "11-50").await;
    assert_eq!(r, format!("Thanks, noted. By the way, {}", "what is your monthly budget?"));
    let (_, lead) = app.admin(Method::GET, "/api/v1/leads?status=in_progress", None).await;
    assert_eq!(lead["leads"][0]["conversation_id"], id, "{lead}");
    assert_eq!(conversation(&app, id).await["conversation"]["assignee_kind"], "agent");

    // The last answer qualifies the lead: handed to the sales team's member.
    let r = turn(&app, id, &token, "Over 1000").await;
    assert!(r.contains("sales team"), "{r}");
    let d = conversation(&app, id).await;
    assert_eq!(d["conversation"]["assignee_kind"], "human", "{d}");
    assert_eq!(d["conversation"]["assignee_user_id"].as_i64(), Some(sam), "{d}");
    let handoff = d["events"].as_array().unwrap().iter().find(|e| e["kind"] == "handoff").unwrap().clone();
    assert_eq!(handoff["data"]["trigger"], "qualified_lead", "{d}");
    let contact = d["conversation"]["contact_id"].as_i64().unwrap();
    let (_, c) = app.admin(Method::GET, &format!("/api/v1/contacts/{contact}"), None).await;
    assert_eq!(c["contact"]["properties"]["team_size"], "11-50", "{c}");
    assert_eq!(c["contact"]["properties"]["budget"], "over 1000", "{c}");
    // The trace explains it; the lead record has the summary for the sales team.
    let agent_msg = d["messages"].as_array().unwrap().iter().rev().find(|m| m["author"] == "agent").unwrap().clone();
    assert!(agent_msg["trace"].to_string().contains("the lead is qualified (score 100/100"), "{agent_msg}");
    let (s, leads) = app.admin(Method::GET, "/api/v1/leads?status=qualified", None).await;
    assert_eq!(s, 200);
    let lead = &leads["leads"][0];
    assert_eq!((lead["conversation_id"].as_i64(), lead["score"].as_i64()), (Some(id), Some(100)), "{leads}");
    assert_eq!(lead["qualified"], true);
    let summary = lead["summary"].as_str().unwrap();
    assert!(summary.contains("- team_size: 11-50 (accepted)") && summary.contains("- budget: over 1000"), "{summary}");

    // Another visitor whose answers do not qualify: recorded, no handoff.
    let (id2, token2) = app.visitor(json!({"email": "tom@small.example"})).await;
    let r = turn(&app, id2, &token2, "What are your opening hours?").await;
    assert!(r.contains("9:00") && r.contains(Q1.trim_start_matches("How")), "{r}");
    let r = turn(&app, id2, &token2, "1-10").await;
    assert!(r.ends_with("what is your monthly budget?"), "{r}");
    let r = turn(&app, id2, &token2, "under 100").await;
    assert!(r.starts_with("Thanks for your answers!") && !r.contains("sales"), "{r}");
    let d2 = conversation(&app, id2).await;
    assert_eq!(d2["conversation"]["assignee_kind"], "agent", "{d2}");
    assert!(!d2["events"].as_array().unwrap().iter().any(|e| e["kind"] == "handoff"), "{d2}");
    let (_, leads) = app.admin(Method::GET, "/api/v1/leads?status=unqualified", None).await;
    let lead = &leads["leads"][0];
    assert_eq!((lead["conversation_id"].as_i64(), lead["score"].as_i64()), (Some(id2), Some(0)), "{leads}");
    // A decided lead is not asked again.
    let r = turn(&app, id2, &token2, "How do I reset my password?").await;
    assert!(!r.contains("By the way"), "{r}");
    let (_, all) = app.admin(Method::GET, "/api/v1/leads", None).await;
    assert_eq!(all["leads"].as_array().unwrap().len(), 2, "{all}");
}
both_backends!(a_qualified_lead_goes_to_the_sales_team);

async fn lead_settings_are_validated_and_audited(app: TestApp) {
    let (team, _) = seed(&app).await;
    let base = settings(team);
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = base.clone();
        f(&mut v);
        v
    };
    for (body, field) in [
        (with(&|v| v["criteria"][1]["accepted"] = json!(["a lot"])), "criteria[1].accepted"),
        (with(&|v| v["criteria"][1]["accepted"] = json!([])), "criteria[1].accepted"),
        (with(&|v| v["criteria"][0]["property"] = json!("plan")), "criteria[0].property"),
        (with(&|v| v["criteria"][0]["question"]["en"] = json!("")), "criteria[0].question.en"),
        (with(&|v| v["qualify_score"] = json!(101)), "qualify_score"),
        (with(&|v| v["sales_team_id"] = json!(987654)), "sales_team_id"),
        (with(&|v| v["sales_team_id"] = Value::Null), "sales_team_id"),
    ] {
        let (s, e) = app.admin(Method::PUT, "/api/v1/leads/settings", Some(body.clone())).await;
        assert_eq!((s, e["field"].as_str()), (422, Some(field)), "{body}: {e}");
    }
    let (s, v) = app.admin(Method::GET, "/api/v1/leads/settings", None).await;
    assert_eq!(s, 200);
    assert_eq!(v["criteria"][0]["accepted"], json!(["11-50", "51+"]), "{v}");
    assert_eq!(v["criteria"][1]["weight"], 1, "{v}");
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=lead_settings", None).await;
    assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");
    assert_eq!(audit[0]["after"]["sales_team_id"], team, "{audit}");

    // The console shows the settings and saves them through the same checks.
    create_user(app.store(), "ed@test.example", Role::Editor, true).await;
    let cookie = crate::common::sign_in(&app, "ed@test.example").await;
    let r = app.client.get(app.url("/console/leads")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Lead criteria") && html.contains("team_size") && html.contains("Sales"), "{html}");
    let csrf = crate::common::csrf_of(&html);
    let criteria = serde_json::to_string(&base["criteria"]).unwrap();
    let team_s = team.to_string();
    let form = [
        ("_csrf", csrf.as_str()),
        ("qualify_score", "80"),
        ("sales_team_id", team_s.as_str()),
        ("criteria", criteria.as_str()),
    ];
    let r = app.client.post(app.url("/console/leads")).header("cookie", &cookie).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let (_, v) = app.admin(Method::GET, "/api/v1/leads/settings", None).await;
    assert_eq!((v["enabled"].as_bool(), v["qualify_score"].as_i64()), (Some(false), Some(80)), "{v}");
    let bad = [("_csrf", csrf.as_str()), ("qualify_score", "50"), ("criteria", "[{")];
    let r = app.client.post(app.url("/console/leads")).header("cookie", &cookie).form(&bad).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("criteria:"));
}
both_backends!(lead_settings_are_validated_and_audited);
