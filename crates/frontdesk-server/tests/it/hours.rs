//! Working hours per channel (C4): outside its hours the agent takes no new
//! conversation (it goes to the Unassigned view, the widget drops "Powered by
//! AI"); inside them it answers. Bad schedules are refused field by field,
//! changes are audited and survive a restart; the console edits them.

use frontdesk_core::model::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::common::{create_user, csrf_of, sign_in, TestApp};

const ZONE: &str = "Europe/Rome";

/// The day `offset` days from today in `ZONE`, as the API spells it.
fn day(offset: i64) -> &'static str {
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::get(ZONE).unwrap()).date();
    let d = today.checked_add(jiff::Span::new().days(offset)).unwrap();
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][d.weekday().to_monday_zero_offset() as usize]
}

/// Hours that cannot include now: only a day three days away (so a test
/// running across midnight is still outside them).
fn closed_now() -> Value {
    json!({"mode": "during", "time_zone": ZONE, "ranges": [{"day": day(3), "start": "00:00", "end": "24:00"}]})
}

async fn assignee(app: &TestApp, id: i64) -> String {
    let (s, d) = app.admin(Method::GET, &format!("/api/v1/conversations/{id}"), None).await;
    assert_eq!(s, 200);
    d["conversation"]["assignee_kind"].as_str().unwrap().to_owned()
}

async fn powered_by_ai(app: &TestApp) -> bool {
    let cfg: Value = app.client.get(app.url("/api/v1/chat/config")).send().await.unwrap().json().await.unwrap();
    cfg["powered_by_ai"].as_bool().unwrap()
}

async fn outside_hours_new_conversations_go_to_humans(app: TestApp) {
    app.seed_agent().await;
    let (s, all) = app.admin(Method::GET, "/api/v1/agent/hours", None).await;
    assert_eq!(s, 200);
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 5, "every channel, all hours by default");
    assert!(all.iter().all(|h| h["mode"] == "all_hours" && h["open"] == true && h["updated_at"].is_null()));
    let (old, old_token) = app.visitor(json!({})).await;
    assert_eq!(assignee(&app, old).await, "agent");

    // Hours that exclude now.
    let (s, saved) = app.admin(Method::PUT, "/api/v1/agent/hours/live_chat", Some(closed_now())).await;
    assert_eq!(s, 200, "{saved}");
    assert_eq!(saved["open"], false);
    assert_eq!(saved["time_zone"], ZONE);
    assert!(!powered_by_ai(&app).await, "the header follows the hours");
    let cfg: Value = app.client.get(app.url("/api/v1/chat/config")).send().await.unwrap().json().await.unwrap();
    assert!(cfg["greeting"].is_null(), "no AI greeting outside hours: {cfg}");
    let (_, st) = app.admin(Method::GET, "/api/v1/agent/hours/live_chat/status", None).await;
    assert_eq!(st["open"], false);
    let next: jiff::Timestamp = st["next_change"].as_str().unwrap().parse().unwrap();
    assert!(next > jiff::Timestamp::now(), "{st}");

    let (new, new_token) = app.visitor(json!({})).await;
    assert_eq!(assignee(&app, new).await, "none");
    app.say(new, &new_token, "what are your opening hours").await;
    assert_eq!(app.messages(new, &new_token).await.len(), 1, "the agent does not answer");
    let (_, unassigned) = app.admin(Method::GET, "/api/v1/conversations?view=unassigned", None).await;
    let ids: Vec<i64> = unassigned.as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![new]);
    // The agent keeps the conversation it already had.
    app.say(old, &old_token, "what are your opening hours").await;
    assert_eq!(app.messages(old, &old_token).await.last().unwrap()["author"], "agent");

    // "Only outside" the same hours includes now: the agent answers again.
    let mut outside = closed_now();
    outside["mode"] = json!("outside");
    let (s, saved) = app.admin(Method::PUT, "/api/v1/agent/hours/live_chat", Some(outside)).await;
    assert_eq!(s, 200, "{saved}");
    assert_eq!(saved["open"], true);
    assert!(powered_by_ai(&app).await);
    let (id, token) = app.visitor(json!({})).await;
    assert_eq!(assignee(&app, id).await, "agent");
    app.say(id, &token, "what are your opening hours").await;
    let ms = app.messages(id, &token).await;
    assert_eq!(ms.len(), 2);
    assert_eq!(ms[1]["author"], "agent");

    // "Only during" hours around now (yesterday to tomorrow, whole days).
    let ranges: Vec<Value> = (-1..=1).map(|o| json!({"day": day(o), "start": "00:00", "end": "24:00"})).collect();
    let during = json!({"mode": "during", "time_zone": ZONE, "ranges": ranges});
    let (s, saved) = app.admin(Method::PUT, "/api/v1/agent/hours/live_chat", Some(during)).await;
    assert_eq!(s, 200, "{saved}");
    assert_eq!(saved["open"], true);
    let (id, _) = app.visitor(json!({})).await;
    assert_eq!(assignee(&app, id).await, "agent");

    // Another channel's hours do not touch the live chat.
    let (s, _) = app.admin(Method::PUT, "/api/v1/agent/hours/email", Some(closed_now())).await;
    assert_eq!(s, 200);
    let (id, _) = app.visitor(json!({})).await;
    assert_eq!(assignee(&app, id).await, "agent");
    let (_, email) = app.admin(Method::GET, "/api/v1/agent/hours/email", None).await;
    assert_eq!(email["open"], false);

    // Every change is audited, with before and after.
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=working_hours", None).await;
    let audit = audit.as_array().unwrap();
    let rows: Vec<(&str, &str)> =
        audit.iter().map(|a| (a["action"].as_str().unwrap(), a["entity_id"].as_str().unwrap())).collect();
    assert_eq!(
        rows,
        [("create", "email"), ("update", "live_chat"), ("update", "live_chat"), ("create", "live_chat")],
        "newest first"
    );
    assert_eq!(audit[2]["before"]["mode"], "during");
    assert_eq!(audit[2]["after"]["mode"], "outside");
    assert_eq!(audit[3]["after"]["time_zone"], ZONE);
    assert_eq!(audit[3]["actor_label"], "admin@test.example");
}
both_backends!(outside_hours_new_conversations_go_to_humans);

async fn bad_schedules_are_refused_by_field(app: TestApp) {
    let put = |body: Value| {
        let app = &app;
        async move { app.admin(Method::PUT, "/api/v1/agent/hours/live_chat", Some(body)).await }
    };
    let r = |day: &str, start: &str, end: &str| json!({"day": day, "start": start, "end": end});
    let cases = [
        (
            json!({"mode": "during", "time_zone": "Mars/Olympus_Mons", "ranges": [r("mon", "09:00", "17:00")]}),
            "time_zone",
        ),
        (json!({"mode": "all_hours", "time_zone": "Europe/Atlantis"}), "time_zone"),
        (
            json!({"mode": "during", "time_zone": ZONE, "ranges": [r("mon", "09:00", "12:00"), r("mon", "11:00", "13:00")]}),
            "ranges[1]",
        ),
        (json!({"mode": "during", "time_zone": ZONE, "ranges": []}), "ranges"),
        (json!({"mode": "outside", "time_zone": ZONE}), "ranges"),
        (
            json!({"mode": "during", "time_zone": ZONE, "ranges": [r("mon", "09:00", "12:00"), r("tue", "09:00", "12:00"), r("wed", "18:00", "08:00")]}),
            "ranges[2].end",
        ),
        (json!({"mode": "during", "time_zone": ZONE, "ranges": [r("tue", "10:00", "10:00")]}), "ranges[0].end"),
        (json!({"mode": "during", "time_zone": ZONE, "ranges": [r("tue", "7am", "10:00")]}), "ranges[0].start"),
        (json!({"mode": "during", "time_zone": ZONE, "ranges": [r("funday", "09:00", "10:00")]}), "ranges[0].day"),
        (json!({"mode": "sometimes", "time_zone": ZONE}), "mode"),
    ];
    for (body, field) in cases {
        let (s, e) = put(body.clone()).await;
        assert_eq!(s, 422, "{body}: {e}");
        assert_eq!(e["field"], field, "{body}: {e}");
        assert_eq!(e["code"], "validation_failed", "{e}");
    }
    let (_, e) = put(cases_overlap()).await;
    assert!(e["message"].as_str().unwrap().contains("overlaps ranges[0]"), "{e}");

    // Unknown fields and channels.
    let (s, _) = put(json!({"mode": "all_hours", "timezone": ZONE})).await;
    assert_eq!(s, 422);
    let (s, _) = app.admin(Method::PUT, "/api/v1/agent/hours/fax", Some(json!({"mode": "all_hours"}))).await;
    assert_eq!(s, 404);

    // Nothing was saved or audited.
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=working_hours", None).await;
    assert!(audit.as_array().unwrap().is_empty(), "{audit}");
    let (_, h) = app.admin(Method::GET, "/api/v1/agent/hours/live_chat", None).await;
    assert_eq!(h["mode"], "all_hours");

    // Human agents see the hours but cannot change them.
    let (_, key) = app.user_with_key("agent@test.example", Role::Agent, true).await;
    let (s, _) = app.api(&key, Method::GET, "/api/v1/agent/hours", None).await;
    assert_eq!(s, 200);
    let (s, _) = app.api(&key, Method::PUT, "/api/v1/agent/hours/live_chat", Some(closed_now())).await;
    assert_eq!(s, 403);
}
both_backends!(bad_schedules_are_refused_by_field);

fn cases_overlap() -> Value {
    json!({"mode": "during", "time_zone": ZONE, "ranges": [
        {"day": "fri", "start": "09:00", "end": "12:00"},
        {"day": "fri", "start": "10:00", "end": "11:00"},
    ]})
}

async fn hours_survive_a_restart(app: TestApp) {
    app.seed_agent().await;
    let (s, _) = app.admin(Method::PUT, "/api/v1/agent/hours/live_chat", Some(closed_now())).await;
    assert_eq!(s, 200);
    let db = app.stop().await;

    let app = crate::common::TestApp::spawn_on(db, |_| {}).await;
    let (_, h) = app.admin(Method::GET, "/api/v1/agent/hours/live_chat", None).await;
    assert_eq!(h["mode"], "during");
    assert_eq!(h["time_zone"], ZONE);
    assert_eq!(h["ranges"][0]["day"], day(3));
    assert!(!powered_by_ai(&app).await);
    let (id, _) = app.visitor(json!({})).await;
    assert_eq!(assignee(&app, id).await, "none", "the restarted server applies the stored hours");
}
both_backends!(hours_survive_a_restart);

async fn the_console_edits_hours_per_channel(app: TestApp) {
    app.seed_agent().await;
    create_user(app.store(), "ed@test.example", Role::Editor, true).await;
    let cookie = sign_in(&app, "ed@test.example").await;
    let page = app.client.get(app.url("/console/hours")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<h1>Working hours</h1>") && html.contains("Facebook Messenger"), "{html}");
    assert!(html.contains("<datalist id=\"time-zones\">") && html.contains("America/New_York"));
    assert!(html.contains("href=\"/console/hours\""), "in the navigation");
    let csrf = csrf_of(&html);
    let post = |form: Vec<(&'static str, String)>| {
        let (app, cookie, csrf) = (&app, &cookie, &csrf);
        async move {
            let mut form = form;
            form.push(("_csrf", csrf.clone()));
            app.client
                .post(app.url("/console/hours/live_chat"))
                .header("cookie", cookie)
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };

    // A line that is not a day and times: the page comes back with the line named and the text kept.
    let r = post(vec![
        ("mode", "during".into()),
        ("time_zone", ZONE.into()),
        ("ranges", "Mon 09:00-12:30\nMonday nine to five".into()),
    ])
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("line 2"), "{html}");
    assert!(html.contains("Monday nine to five"), "the text is kept");
    // A zone that does not exist.
    let r = post(vec![
        ("mode", "during".into()),
        ("time_zone", "Europe/Nowhere".into()),
        ("ranges", "Mon 09:00-10:00".into()),
    ])
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Europe/Nowhere"));

    let r = post(vec![
        ("mode", "during".into()),
        ("time_zone", ZONE.into()),
        ("ranges", format!("{} 00:00-24:00", day(3))),
    ])
    .await;
    assert_eq!(r.status(), 303);
    let (_, h) = app.admin(Method::GET, "/api/v1/agent/hours/live_chat", None).await;
    assert_eq!(h["mode"], "during");
    assert_eq!(h["open"], false);
    let (id, _) = app.visitor(json!({})).await;
    assert_eq!(assignee(&app, id).await, "none");
    let html =
        app.client.get(app.url("/console/hours")).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Outside its hours now"), "{html}");
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=working_hours", None).await;
    assert_eq!(audit[0]["actor_label"], "ed@test.example");

    // A human agent sees the page, read-only, and cannot post.
    create_user(app.store(), "ag@test.example", Role::Agent, true).await;
    let vcookie = sign_in(&app, "ag@test.example").await;
    let html = app
        .client
        .get(app.url("/console/hours"))
        .header("cookie", &vcookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<fieldset disabled>"), "read-only without EditAgent");
    let r = app
        .client
        .post(app.url("/console/hours/live_chat"))
        .header("cookie", &vcookie)
        .form(&[("mode", "all_hours"), ("time_zone", "UTC"), ("ranges", ""), ("_csrf", &csrf_of(&html))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}
both_backends!(the_console_edits_hours_per_channel);
