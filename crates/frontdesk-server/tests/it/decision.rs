//! The answer-or-hand-off decision on passages (issue 13): every signal and
//! the calibrated probability are in the trace; a passage that matches far
//! better beats a short answer matched near its threshold; a question the
//! content does not answer is handed off.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::common::TestApp;

async fn preview(app: &TestApp, message: &str) -> Value {
    let (s, v) = app.admin(Method::POST, "/api/v1/agent/preview", Some(json!({"message": message}))).await;
    assert_eq!(s, 200, "{v}");
    v
}

async fn publish(app: &TestApp, title: &str, body: &str) {
    let (s, a) = app.admin(Method::POST, "/api/v1/articles", Some(json!({"title": title, "body": body}))).await;
    assert_eq!(s, 201, "{a}");
    let id = a["id"].as_i64().unwrap();
    let (s, p) = app.admin(Method::POST, &format!("/api/v1/articles/{id}/publish"), None).await;
    assert_eq!(s, 202, "{p}");
}

async fn answers_weigh_their_evidence(app: TestApp) {
    app.seed_agent().await;
    publish(
        &app,
        "Deleted files and the Trash",
        "Deleted files stay in the Trash for 30 days. After 30 days they are erased for good and cannot be recovered. \
         To restore a file, open the Trash, select it and choose Restore.",
    )
    .await;
    publish(
        &app,
        "Invoices and VAT",
        "Invoices are sent by email on the first day of each month. Business customers in the EU can add their VAT \
         number under Settings, Billing, and it appears on every later invoice.",
    )
    .await;
    publish(
        &app,
        "Renting an e-bike",
        "You can rent an e-bike at any of our city stations with the app. Renting an e-bike costs 3 euros per hour, \
         a helmet and a lock included, and the first 15 minutes are free.",
    )
    .await;
    app.settled_sources().await;

    let r = preview(&app, "How many days do deleted files stay in the trash before they are erased?").await;
    assert_eq!(r["outcome"], "answered", "{r}");
    assert_eq!(r["citations"][0]["title"], "Deleted files and the Trash", "{r}");
    assert!(r["text"].as_str().unwrap().contains("30 days"), "{r}");
    let e = &r["trace"]["evidence"];
    assert_eq!(e["answered"], true, "{r}");
    assert!(e["probability"].as_f64().unwrap() >= e["threshold"].as_f64().unwrap(), "{e}");
    let names: Vec<&str> = e["signals"].as_array().unwrap().iter().map(|s| s[0].as_str().unwrap()).collect();
    for n in ["margin", "cosine", "agree", "coverage", "same_lang", "missing_specific"] {
        assert!(names.contains(&n), "signal {n} missing from {e}");
    }

    // A short answer near its threshold ("How much does the Pro plan cost?")
    // does not beat the passage that is about renting an e-bike.
    let r = preview(&app, "How much does it cost to rent an e-bike?").await;
    assert_eq!(r["outcome"], "answered", "{r}");
    assert_eq!(r["citations"][0]["title"], "Renting an e-bike", "{r}");
    assert!(r["text"].as_str().unwrap().contains("3 euros"), "{r}");
    // A clear short-answer match is still answered from the short answer.
    let r = preview(&app, "How much does the Pro plan cost?").await;
    assert_eq!(r["citations"][0]["source_kind"], "short_answer", "{r}");

    // Nothing in the content answers this: handed off, and the trace says why.
    let r = preview(&app, "Can I pay my invoices with a cheque sent by post to your office in Lyon?").await;
    assert_eq!(r["outcome"], "handoff", "{r}");
    if let Some(e) = r["trace"]["evidence"].as_object() {
        assert_eq!(e["answered"], false, "{r}");
        assert!(e["probability"].as_f64().unwrap() < e["threshold"].as_f64().unwrap(), "{r}");
    }
}
both_backends!(answers_weigh_their_evidence);
