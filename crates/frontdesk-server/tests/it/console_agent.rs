//! The agent's preview and tests from the console: a person tries an unsaved
//! handoff phrase in the preview, adds tests, runs them and sees the result.

use frontdesk_core::model::Role;

use crate::both_backends;
use crate::common::{create_user, csrf_of, sign_in, TestApp};

async fn preview_and_tests_from_the_console(app: TestApp) {
    app.seed_agent().await;
    create_user(app.store(), "ed@test.example", Role::Editor, true).await;
    let cookie = sign_in(&app, "ed@test.example").await;
    let page = app.client.get(app.url("/console/agent")).header("cookie", &cookie).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("id=\"preview-log\""), "the agent page has the preview");
    let csrf = csrf_of(&html);

    // The preview posts the profile form's unsaved values with the message (as htmx does).
    let form = [
        ("preview_message", "What are your opening hours on holidays?"),
        ("name", "Luma"),
        ("personality", "friendly"),
        ("brand_voice", ""),
        ("enabled", "on"),
        ("default_lang", "en"),
        ("inactivity_close_minutes", "1440"),
        ("handoff_phrases", "holidays"),
        ("topics_to_avoid", ""),
    ];
    let r = app
        .client
        .post(app.url("/console/agent/preview"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .header("hx-request", "true")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let fragment = r.text().await.unwrap();
    assert!(fragment.contains("handoff phrase"), "the trace says why: {fragment}");
    assert!(fragment.contains("preview, handoff"), "{fragment}");
    // Without the unsaved phrase it answers, citing the short answer.
    let mut form2 = form;
    form2[7] = ("handoff_phrases", "");
    let r = app
        .client
        .post(app.url("/console/agent/preview"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .form(&form2)
        .send()
        .await
        .unwrap();
    let fragment = r.text().await.unwrap();
    assert!(fragment.contains("9:00") && fragment.contains("What are your opening hours?"), "{fragment}");
    // The unsaved phrase was not saved.
    let (_, agent) = app.admin(reqwest::Method::GET, "/api/v1/agent", None).await;
    assert_eq!(agent["handoff_phrases"], serde_json::json!([]));

    // Tests: add two, one wrong on purpose, run, see pass and fail.
    for (name, q, kind, value) in [
        ("hours", "what are the opening hours?", "contains", "9:00"),
        ("wrong", "what are the opening hours?", "hands_off", ""),
    ] {
        let r = app
            .client
            .post(app.url("/console/agent/tests"))
            .header("cookie", &cookie)
            .form(&[("_csrf", csrf.as_str()), ("name", name), ("question", q), ("kind", kind), ("value", value)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    }
    let r = app
        .client
        .post(app.url("/console/agent/tests"))
        .header("cookie", &cookie)
        .form(&[("_csrf", csrf.as_str()), ("name", "bad"), ("question", "q"), ("kind", "cites"), ("value", "abc")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("must be a source id"));
    let r = app
        .client
        .post(app.url("/console/agent/tests/run"))
        .header("cookie", &cookie)
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let html = app
        .client
        .get(app.url("/console/agent/tests"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("1/2"), "the score: {html}");
    assert!(html.contains("class=\"pass\"") && html.contains("class=\"fail\""), "{html}");
}
both_backends!(preview_and_tests_from_the_console);
