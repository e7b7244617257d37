//! Knowledge gaps (H1–H4) through the API: questions the agent could not
//! answer in real chats are grouped into topics; a topic is answered with
//! a short answer (preview, then create and resolve) and leaves the table;
//! questions and topics are dismissed; every action needs the editor
//! permission and a paid seat, and is audited; all of it survives a restart.

use frontdesk_core::model::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::TestApp;

/// Asks `text` in a new conversation; returns the conversation id.
async fn ask(app: &TestApp, text: &str) -> i64 {
    let (id, token) = app.visitor(json!({})).await;
    let (s, v) = app.say(id, &token, text).await;
    assert_eq!(s, 201, "{v}");
    id
}

async fn topics(app: &TestApp) -> Vec<Value> {
    let (s, v) = app.admin(Method::GET, "/api/v1/gaps", None).await;
    assert_eq!(s, 200, "{v}");
    v.as_array().unwrap().clone()
}

async fn detail(app: &TestApp, id: i64) -> Value {
    let (s, v) = app.admin(Method::GET, &format!("/api/v1/gaps/{id}"), None).await;
    assert_eq!(s, 200, "{v}");
    v
}

/// The topic whose questions are exactly these conversations'.
async fn find(app: &TestApp, convs: &[i64]) -> Value {
    for t in topics(app).await {
        let d = detail(app, t["id"].as_i64().unwrap()).await;
        let mut ids: Vec<i64> =
            d["items"].as_array().unwrap().iter().map(|q| q["conversation_id"].as_i64().unwrap()).collect();
        ids.sort();
        let mut want = convs.to_vec();
        want.sort();
        if ids == want {
            return d;
        }
    }
    panic!("no topic with exactly the questions of {convs:?}: {:?}", topics(app).await);
}

async fn gaps_close_themselves(app: TestApp) {
    app.seed_agent().await;
    let invoices = [
        ask(&app, "How can I export my invoices as PDF files?").await,
        ask(&app, "Can I download all my invoices in PDF?").await,
        ask(&app, "Is there a way to export the invoices to PDF?").await,
    ];
    let norway = [ask(&app, "Do you ship parcels to Norway?").await, ask(&app, "Do you ship orders to Norway?").await];
    let rate = ask(&app, "What is the rate limit of the webhooks API?").await;

    // H1: grouped, most conversations first; the label is one of the questions.
    let list = topics(&app).await;
    assert_eq!(list.len(), 3, "{list:?}");
    assert_eq!(list[0]["conversations"], 3, "{list:?}");
    assert_eq!(list[1]["conversations"], 2);
    assert_eq!(list[2]["conversations"], 1);
    assert!(list[0]["label"].as_str().unwrap().to_lowercase().contains("invoices"), "{list:?}");
    assert!(list[0]["latest_at"].as_str().unwrap().starts_with("20"));

    // H2: the exact questions, their dates, languages and conversations.
    let inv = find(&app, &invoices).await;
    let topic = inv["id"].as_i64().unwrap();
    let items = inv["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|q| q["lang"] == "en" && q["created_at"].is_string()));
    assert!(items.iter().any(|q| q["question"] == "Can I download all my invoices in PDF?"));
    assert_eq!(items[0]["conversation_url"], format!("/console/conversations/{}", items[0]["conversation_id"]));
    let no = find(&app, &norway).await;
    find(&app, &[rate]).await;

    // Permissions (I2): an agent, or an editor without a seat, cannot act.
    let (_, agent_key) = app.user_with_key("agent@test.example", Role::Agent, true).await;
    let (_, unseated) = app.user_with_key("editor@test.example", Role::Editor, false).await;
    let (_, viewer) = app.user_with_key("viewer@test.example", Role::Viewer, true).await;
    let draft = json!({"question": "How do I export my invoices as PDF?", "answer": "Open Billing, then Invoices, and click Download PDF."});
    for key in [&agent_key, &unseated] {
        for action in ["preview", "resolve", "dismiss"] {
            let (s, _) =
                app.api(key, Method::POST, &format!("/api/v1/gaps/{topic}/{action}"), Some(draft.clone())).await;
            assert_eq!(s, 403, "{action}");
        }
    }
    let (s, _) = app.api(&viewer, Method::GET, "/api/v1/gaps", None).await;
    assert_eq!(s, 403);

    // H3: preview shows how the agent would now reply to the visitors' words.
    let (s, p) = app.admin(Method::POST, &format!("/api/v1/gaps/{topic}/preview"), Some(draft.clone())).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["uses_draft"], true, "{p}");
    assert!(p["text"].as_str().unwrap().contains("Download PDF"), "{p}");
    assert_eq!(p["message"], inv["label"]);
    // Nothing was created by the preview.
    let (_, sas) = app.admin(Method::GET, "/api/v1/short-answers", None).await;
    assert_eq!(sas.as_array().unwrap().len(), 3);

    // Bad input names the field.
    let (s, v) = app
        .admin(Method::POST, &format!("/api/v1/gaps/{topic}/resolve"), Some(json!({"question": "Q?", "answer": "  "})))
        .await;
    assert_eq!((s, v["field"].as_str()), (422, Some("answer")), "{v}");
    let (s, _) = app.admin(Method::POST, "/api/v1/gaps/999999/resolve", Some(draft.clone())).await;
    assert_eq!(s, 404);

    // Create and resolve: the short answer exists, the topic leaves the table.
    let (s, r) = app.admin(Method::POST, &format!("/api/v1/gaps/{topic}/resolve"), Some(draft.clone())).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["topic"]["status"], "resolved");
    let sa = r["short_answer"]["id"].as_i64().unwrap();
    let (s, got) = app.admin(Method::GET, &format!("/api/v1/short-answers/{sa}"), None).await;
    assert_eq!((s, got["question"].as_str()), (200, Some("How do I export my invoices as PDF?")));
    assert_eq!(topics(&app).await.len(), 2);
    let (s, v) = app.admin(Method::POST, &format!("/api/v1/gaps/{topic}/resolve"), Some(draft.clone())).await;
    assert_eq!(s, 409, "resolved once: {v}");

    // The agent uses it at once; the answered question opens no gap.
    let (id, token) = app.visitor(json!({})).await;
    app.say(id, &token, "How can I export my invoices as PDF?").await;
    let ms = app.messages(id, &token).await;
    let reply = ms.iter().rev().find(|m| m["author"] == "agent").unwrap();
    assert!(reply["text"].as_str().unwrap().contains("Download PDF"), "{reply}");
    assert_eq!(reply["citations"][0]["title"], "How do I export my invoices as PDF?", "{reply}");
    assert_eq!(topics(&app).await.len(), 2, "the topic does not come back");

    // H4: dismiss one question, then the whole topic.
    let q = no["items"][0]["id"].as_i64().unwrap();
    let no_id = no["id"].as_i64().unwrap();
    let other = inv["items"][0]["id"].as_i64().unwrap();
    let (s, v) =
        app.admin(Method::POST, &format!("/api/v1/gaps/{no_id}/dismiss"), Some(json!({"question_ids": [other]}))).await;
    assert_eq!((s, v["field"].as_str()), (422, Some("question_ids")), "not this topic's question: {v}");
    let (s, v) =
        app.admin(Method::POST, &format!("/api/v1/gaps/{no_id}/dismiss"), Some(json!({"question_ids": [q]}))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!((v["dismissed"].as_i64(), v["topic"]["conversations"].as_i64()), (Some(1), Some(1)));
    assert_eq!(detail(&app, no_id).await["items"].as_array().unwrap().len(), 1);
    let (s, v) = app.admin(Method::POST, &format!("/api/v1/gaps/{no_id}/dismiss"), Some(json!({}))).await;
    assert_eq!((s, v["topic"]["status"].as_str()), (200, Some("dismissed")), "{v}");
    let left = topics(&app).await;
    assert_eq!(left.len(), 1);
    assert!(left[0]["label"].as_str().unwrap().contains("rate limit"));

    // CSV of the table (K4).
    let res = app.client.get(app.url("/api/v1/gaps?format=csv")).bearer_auth(&app.admin_key).send().await.unwrap();
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = res.text().await.unwrap();
    assert!(csv.starts_with("topic,conversations,questions,latest\n"), "{csv}");
    assert!(csv.contains("What is the rate limit of the webhooks API?,1,1,"), "{csv}");

    // Audited: the resolution, the short answer, the dismissals.
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit", None).await;
    let text = audit.to_string();
    for needle in ["\"gap_topic\"", "\"short_answer\"", "\"gap_questions\"", "\"resolve\"", "\"dismiss\""] {
        assert!(text.contains(needle), "{needle} in {text}");
    }

    // After a restart the table is the same.
    let db = app.stop().await;
    let app = TestApp::spawn_on(db, |_| {}).await;
    let again = topics(&app).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0]["id"], left[0]["id"]);
}

crate::both_backends!(gaps_close_themselves);
