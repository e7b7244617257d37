//! The console: a person signs in with the form, sees the queue, replies,
//! and edits the agent; forms need the CSRF token.

use frontdesk_core::model::Role;
use serde_json::json;

use crate::both_backends;
use crate::common::TestApp;

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"_csrf\" value=\"").expect("a CSRF field on the page") + "name=\"_csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_owned()
}

async fn a_person_works_from_the_console(app: TestApp) {
    app.seed_agent().await;
    app.user_with_key("lee@test.example", Role::Admin, true).await;
    let (id, token) = app.visitor(json!({"name": "Visitor Vic"})).await;
    app.say(id, &token, "Can I speak to a real person?").await;

    // Signed out: the console sends us to the login page.
    let r = app.client.get(app.url("/console/conversations")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/login?next="));
    let r = app
        .client
        .post(app.url("/login"))
        .form(&[("email", "lee@test.example"), ("password", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().to_lowercase().contains("wrong email or password"));
    let r = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("email", "lee@test.example"),
            ("password", "password123"),
            ("next", "/console/conversations?view=unassigned"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/console/conversations?view=unassigned");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();

    let page = app
        .client
        .get(app.url("/console/conversations?view=unassigned"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Visitor Vic"), "the handed-off conversation waits in Unassigned");
    let csrf = csrf_of(&html);

    // The conversation page shows the history and the agent's reasoning.
    let html = app
        .client
        .get(app.url(&format!("/console/conversations/{id}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Can I speak to a real person?"));
    assert!(html.contains("visitor asked for a human"), "the trace says why it handed off");

    // A form without the CSRF token is refused and changes nothing.
    let r = app
        .client
        .post(app.url(&format!("/console/conversations/{id}/reply")))
        .header("cookie", &cookie)
        .form(&[("text", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // With it, the reply reaches the visitor.
    let r = app
        .client
        .post(app.url(&format!("/console/conversations/{id}/assign")))
        .header("cookie", &cookie)
        .form(&[("_csrf", csrf.as_str()), ("assignee", "me")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = app
        .client
        .post(app.url(&format!("/console/conversations/{id}/reply")))
        .header("cookie", &cookie)
        .form(&[("_csrf", csrf.as_str()), ("text", "Hello Vic, Lee here.")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let ms = app.messages(id, &token).await;
    assert!(!ms.iter().any(|m| m["text"] == "forged"));
    assert_eq!(ms.last().unwrap()["author"], "human");
    assert_eq!(ms.last().unwrap()["text"], "Hello Vic, Lee here.");
    // An empty reply is a clear error on the page.
    let r = app
        .client
        .post(app.url(&format!("/console/conversations/{id}/reply")))
        .header("cookie", &cookie)
        .form(&[("_csrf", csrf.as_str()), ("text", "  ")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);

    // The agent's profile from the console, audited with the person's name.
    let r = app
        .client
        .post(app.url("/console/agent"))
        .header("cookie", &cookie)
        .form(&[
            ("_csrf", csrf.as_str()),
            ("name", "Nova"),
            ("personality", "empathetic"),
            ("brand_voice", ""),
            ("default_lang", "en"),
            ("inactivity_close_minutes", "60"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status() == 303 || r.status() == 200, "{}", r.status());
    let (_, p) = app.admin(reqwest::Method::GET, "/api/v1/agent", None).await;
    assert_eq!(p["name"], "Nova");
    assert_eq!(p["personality"], "empathetic");
    assert_eq!(p["enabled"], false, "an unchecked switch is off");
    let (_, audit) = app.admin(reqwest::Method::GET, "/api/v1/audit?entity_type=agent_profile", None).await;
    assert_eq!(audit[0]["actor_label"], "lee@test.example");
    assert_eq!(audit[0]["action"], "unpublish");
}
both_backends!(a_person_works_from_the_console);
