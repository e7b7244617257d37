//! Everything survives a restart of the server.

use reqwest::Method;
use serde_json::json;

use crate::both_backends;
use crate::common::TestApp;

async fn state_survives_a_restart(app: TestApp) {
    app.seed_agent().await;
    app.admin(Method::PUT, "/api/v1/agent", Some(json!({"personality": "witty", "enabled": false}))).await;
    let (id, token) = app.visitor(json!({"email": "kim@example.com"})).await;
    app.say(id, &token, "hello?").await;
    let before = app.messages(id, &token).await;
    let db = app.stop().await;

    let app = TestApp::spawn_on(db, |_| {}).await;
    let (_, profile) = app.admin(Method::GET, "/api/v1/agent", None).await;
    assert_eq!(profile["name"], "Luma");
    assert_eq!(profile["personality"], "witty");
    assert_eq!(profile["enabled"], false);
    let (_, sas) = app.admin(Method::GET, "/api/v1/short-answers", None).await;
    assert_eq!(sas.as_array().unwrap().len(), 3);
    assert_eq!(app.messages(id, &token).await, before, "the visitor token and history still work");
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=short_answer", None).await;
    assert_eq!(audit.as_array().unwrap().len(), 3);
}
both_backends!(state_survives_a_restart);
