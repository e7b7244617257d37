//! The Performance tab in the console: the reports page (G1–G11) with its
//! figures, charts, tables and CSV links, the reporting time zone, and the
//! knowledge gaps (H1–H4) from real unanswered chats to a short answer the
//! agent uses at once; who may see and do what.

use frontdesk_core::model::{Channel, EventKind, Role};
use frontdesk_store::{HistoryConversation, HistoryEvent};
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::common::{create_user, Console, TestApp};

const MIN: i64 = 60_000;
const H: i64 = 60 * MIN;
/// 2026-03-03T10:00:00Z, a Tuesday: the week of Monday 2026-03-02.
const T: i64 = 1_772_532_000_000;
const WEEK: &str = "from=2026-03-02&to=2026-03-08";

fn ev(kind: EventKind, actor: &str, user: Option<i64>, at: i64, data: Value) -> HistoryEvent {
    HistoryEvent { kind, actor_kind: actor.into(), actor_user_id: user, data, at }
}

/// A conversation the agent took at `at`, with its first visitor message.
fn conversation(channel: Channel, at: i64, mut rest: Vec<HistoryEvent>) -> HistoryConversation {
    let mut events = vec![
        ev(EventKind::ConversationCreated, "visitor", None, at, json!({"channel": channel, "preview": false})),
        ev(EventKind::Assigned, "system", None, at, json!({"to": "agent", "user_id": null, "cause": "initial"})),
        ev(EventKind::Message, "visitor", None, at, json!({"author": "visitor", "message_id": 1, "cited": false})),
    ];
    let closed = rest.iter().any(|e| e.kind == EventKind::Closed);
    events.append(&mut rest);
    HistoryConversation { channel, is_preview: false, created_at: at, closed, events }
}

fn reply(at: i64, id: i64, cited: bool) -> HistoryEvent {
    ev(
        EventKind::Message,
        "agent",
        None,
        at,
        json!({"author": "agent", "message_id": id, "cited": cited, "outcome": "answered", "actions": []}),
    )
}

fn feedback(at: i64, id: i64, helpful: bool) -> HistoryEvent {
    ev(EventKind::Feedback, "visitor", None, at, json!({"message_id": id, "helpful": helpful}))
}

/// The week of 2 March 2026: four handled conversations, two resolved in a
/// minute each, three deflected, one helpful and one unhelpful feedback;
/// and one conversation of today still waiting for its verdict.
fn history(person: i64) -> Vec<HistoryConversation> {
    let now = frontdesk_store::now_ms();
    vec![
        // Cited, liked → resolved in 1 min, deflected.
        conversation(Channel::LiveChat, T, vec![reply(T + MIN, 11, true), feedback(T + 2 * MIN, 11, true)]),
        // The visitor asks for a person, who closes it → handed off, not resolved.
        conversation(
            Channel::LiveChat,
            T + 1000,
            vec![
                reply(T + 1000 + 2 * MIN, 21, false),
                ev(EventKind::Handoff, "agent", None, T + 3 * MIN, json!({"trigger": "visitor_asked"})),
                ev(
                    EventKind::Assigned,
                    "agent",
                    None,
                    T + 3 * MIN,
                    json!({"to": "human", "user_id": person, "cause": "agent"}),
                ),
                ev(
                    EventKind::Message,
                    "human",
                    Some(person),
                    T + 4 * MIN,
                    json!({"author": "human", "message_id": 22}),
                ),
                ev(EventKind::Closed, "human", Some(person), T + H, json!({"reason": null})),
            ],
        ),
        // Email, cited but disliked → not resolved, deflected.
        conversation(
            Channel::Email,
            T + 2000,
            vec![reply(T + 2000 + 3 * MIN, 31, true), feedback(T + 4 * MIN, 31, false)],
        ),
        // WhatsApp, cited → resolved in 1 min, deflected.
        conversation(Channel::WhatsApp, T + 3000, vec![reply(T + 3000 + MIN, 41, true)]),
        // Today: replied an hour ago, the verdict is 71 hours away.
        conversation(Channel::LiveChat, now - H, vec![reply(now - H + MIN, 51, true)]),
    ]
}

/// The `<span class="num">` of a G1 figure card.
fn figure(html: &str, key: &str) -> String {
    let marker = format!("data-figure=\"{key}\"><span class=\"num\">");
    let at = html.find(&marker).unwrap_or_else(|| panic!("no figure {key}")) + marker.len();
    html[at..].split('<').next().unwrap().to_owned()
}

async fn reports_page_shows_figures_charts_and_csv_links(app: TestApp) {
    let person = create_user(app.store(), "ana@test.example", Role::Agent, true).await.id;
    app.store().import_history(&history(person)).await.unwrap();
    // Decide the verdicts that are due (the worker may have done so already: same verdicts).
    frontdesk_engine::reports::evaluate_due(&app.state, T + 100 * H).await.unwrap();
    let admin = Console::sign_in(&app, "admin@test.example").await;

    // G1 for the week of 2 March, as figure cards.
    let (s, html) = admin.get(&format!("/console/reports?{WEEK}")).await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("Impact in the week of 2 Mar 2026"), "{html}");
    assert_eq!(figure(&html, "resolved"), "2");
    assert_eq!(figure(&html, "handled"), "4");
    assert_eq!(figure(&html, "avg_time_to_resolution"), "1 min");
    assert_eq!(figure(&html, "deflection_rate"), "75%");
    assert_eq!(figure(&html, "helpful_share"), "50%");
    assert!(!html.contains("data-lag"), "no verdict pending in that week");
    // Every other report: a chart (server-rendered SVG), a table with totals, a CSV link.
    for kind in frontdesk_core::reports::ReportKind::ALL {
        let name = kind.name();
        let csv =
            format!("href=\"/api/v1/reports/{name}?from=2026-03-02&#38;to=2026-03-08&#38;bucket=week&#38;format=csv\"");
        assert!(html.contains(&csv), "{name}: {csv}");
        if name != "impact" {
            assert!(html.contains(kind.title()), "{name}");
            assert!(html.contains(&format!("id=\"chart-{name}-0\"")), "{name} has a chart");
        }
    }
    assert!(html.matches("<svg").count() >= 9, "{html}");
    assert!(html.contains("role=\"img\"") && html.contains("<title>Resolved, week of 2 Mar 2026: 2</title>"));
    assert!(html.contains("data-period=\"total\""));
    assert!(html.contains(">Live chat</th>") && html.contains(">WhatsApp</th>"), "G3 by channel");
    assert!(html.contains(">ana</th>"), "G9 names the person who closed one");
    assert!(html.contains(">Customer agent</th>"));
    assert!(html.contains("<td class=\"num\">50%</td>"), "G6 resolution rate: 2 of 4 decided");
    // The CSV link works with the console session.
    let r = app
        .client
        .get(app.url("/api/v1/reports/handled?from=2026-03-02&to=2026-03-08&bucket=week&format=csv"))
        .header("cookie", &admin.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().starts_with("period,handled,resolved,handed_off\n2026-03-02,4,2,1\n"));

    // Filtered by channel and by day: the links keep the filters.
    let (s, html) = admin.get(&format!("/console/reports?{WEEK}&channel=email&bucket=day")).await;
    assert_eq!(s, 200);
    assert_eq!(figure(&html, "handled"), "1");
    assert_eq!(figure(&html, "resolved"), "0");
    assert!(html.contains(
        "href=\"/api/v1/reports/deflection?from=2026-03-02&#38;to=2026-03-08&#38;bucket=day&#38;channel=email&#38;format=csv\""
    ));
    assert!(html.contains("<option value=\"email\" selected>"));
    assert!(html.contains("data-period=\"2026-03-05\""), "one row a day");

    // The default range holds today: the current week lags.
    let (s, html) = admin.get("/console/reports").await;
    assert_eq!(s, 200);
    assert!(html.contains("Impact this week"), "{html}");
    assert!(html.contains("data-lag") && html.contains("The current week lags"), "{html}");
    assert!(html.contains("72 hours after the agent's last reply"));

    // Bad filters are shown on the field, not as a server error.
    for (q, field, says) in [
        ("from=2026-03-10&to=2026-03-01", "from", "must not be after to"),
        ("from=2026-13-01", "from", "is not a date"),
        ("channel=fax", "channel", "must be live_chat"),
        ("bucket=month", "bucket", "must be week or day"),
    ] {
        let (s, html) = admin.get(&format!("/console/reports?{q}")).await;
        assert_eq!(s, 422, "{q}");
        assert!(html.contains(&format!("data-field-error=\"{field}\"")) && html.contains(says), "{q}: {html}");
        assert!(!html.contains("<svg"), "{q}");
    }

    // The time zone: checked, saved, used.
    assert!(html_has_tz_form(&admin.get("/console/reports").await.1));
    let r = admin.post("/console/reports/settings", &[("time_zone", "Mars/Olympus")]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("data-field-error=\"time_zone\"") && r.body.contains("Mars/Olympus"), "{}", r.body);
    let r = admin.post("/console/reports/settings", &[("time_zone", "Europe/Rome")]).await;
    assert_eq!((r.status, r.location.as_str()), (303, "/console/reports?flash=saved"));
    let (_, html) = admin.get("/console/reports?flash=saved").await;
    assert!(html.contains("<strong data-time-zone>Europe/Rome</strong>") && html.contains("Saved."));
    let (_, v) = app.admin(Method::GET, "/api/v1/reports/settings", None).await;
    assert_eq!(v["time_zone"], "Europe/Rome");

    // A viewer sees the reports, not the time zone form, not the gaps.
    create_user(app.store(), "vic@test.example", Role::Viewer, false).await;
    let viewer = Console::sign_in(&app, "vic@test.example").await;
    let (s, html) = viewer.get(&format!("/console/reports?{WEEK}")).await;
    assert_eq!(s, 200);
    assert_eq!(figure(&html, "handled"), "4");
    assert!(html.contains("<svg"));
    assert!(!html_has_tz_form(&html));
    assert!(html.contains("href=\"/console/reports\" aria-current=\"page\">Reports</a>"), "in the navigation");
    assert!(!html.contains("href=\"/console/gaps\""), "the gaps are not for viewers");
    assert_eq!(viewer.get("/console/gaps").await.0, 403);
    assert_eq!(viewer.post("/console/reports/settings", &[("time_zone", "UTC")]).await.status, 403);
    let (_, html) = admin.get("/console").await;
    assert!(html.contains("href=\"/console/reports\"") && html.contains("href=\"/console/gaps\""));
}
both_backends!(reports_page_shows_figures_charts_and_csv_links);

/// Text as askama escapes it in HTML.
fn escaped(s: &str) -> String {
    s.replace('&', "&#38;").replace('<', "&#60;").replace('>', "&#62;").replace('"', "&#34;").replace('\'', "&#39;")
}

fn html_has_tz_form(html: &str) -> bool {
    html.contains("action=\"/console/reports/settings\"")
}

/// Topic ids by label, from the API.
async fn topics(app: &TestApp) -> Vec<(i64, String, i64)> {
    let (s, v) = app.admin(Method::GET, "/api/v1/gaps", None).await;
    assert_eq!(s, 200, "{v}");
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (t["id"].as_i64().unwrap(), t["label"].as_str().unwrap().to_owned(), t["conversations"].as_i64().unwrap())
        })
        .collect()
}

fn topic_about(list: &[(i64, String, i64)], word: &str) -> (i64, String, i64) {
    list.iter().find(|(_, l, _)| l.to_lowercase().contains(word)).cloned().unwrap_or_else(|| panic!("{word}: {list:?}"))
}

/// An htmx request from the console (session cookie, CSRF header).
async fn htmx_post(console: &Console<'_>, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let r = console
        .app
        .client
        .post(console.app.url(path))
        .header("cookie", &console.cookie)
        .header("x-csrf-token", &console.csrf)
        .header("hx-request", "true")
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn gaps_become_short_answers_or_are_dismissed(app: TestApp) {
    app.seed_agent().await;
    // Questions the agent cannot answer: it hands off and records them.
    let mut asked = Vec::new();
    for text in [
        "Do you ship orders to Norway?",
        "Do you ship orders to Norway or Sweden?",
        "Can I pay with a gift card?",
        "Is there a student discount?",
    ] {
        let (id, token) = app.visitor(json!({})).await;
        let (s, v) = app.say(id, &token, text).await;
        assert_eq!(s, 201, "{v}");
        asked.push(id);
    }
    let list = topics(&app).await;
    let (norway, norway_label, n) = topic_about(&list, "norway");
    assert_eq!(n, 2, "both Norway questions are one topic: {list:?}");
    let (gift, _, _) = topic_about(&list, "gift card");
    let (student, _, _) = topic_about(&list, "student");

    create_user(app.store(), "ed@test.example", Role::Editor, true).await;
    let ed = Console::sign_in(&app, "ed@test.example").await;

    // H1: the table, with links and the CSV download.
    let (s, html) = ed.get("/console/gaps").await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains(&format!("<a href=\"/console/gaps/{norway}\">")), "{html}");
    assert!(html.contains(&format!("data-topic=\"{gift}\"")) && html.contains(&format!("data-topic=\"{student}\"")));
    assert!(html.contains("href=\"/api/v1/gaps?format=csv\""));
    assert!(html.contains("aria-current=\"page\">Knowledge gaps</a>"));
    let norway_row = html.split(&format!("data-topic=\"{norway}\"")).nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(norway_row.contains("<td class=\"num\">2</td>"), "two conversations: {norway_row}");
    let today = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    assert!(norway_row.contains(&today), "the latest date: {norway_row}");

    // H2: the topic's questions, with their conversations, and the actions.
    let (s, html) = ed.get(&format!("/console/gaps/{norway}")).await;
    assert_eq!(s, 200);
    for id in &asked[..2] {
        assert!(html.contains(&format!("href=\"/console/conversations/{id}\"")), "{html}");
    }
    assert!(html.contains("<td>en</td>"));
    assert!(html.contains("Dismiss selected") && html.contains("Dismiss topic") && html.contains("Create and resolve"));
    assert!(html.contains(&format!("name=\"question\" value=\"{}\"", escaped(&norway_label))), "prefilled: {html}");

    // Without a paid seat an editor sees the topic but may change nothing.
    create_user(app.store(), "free@test.example", Role::Editor, false).await;
    let free = Console::sign_in(&app, "free@test.example").await;
    let (s, html) = free.get(&format!("/console/gaps/{norway}")).await;
    assert_eq!(s, 200);
    assert!(!html.contains("Dismiss selected") && !html.contains("Create and resolve"));
    let answer = "Yes: we ship to Norway and Sweden within 5 working days.";
    for (path, form) in [
        ("preview", vec![("question", "Do you ship to Norway?"), ("answer", answer)]),
        ("resolve", vec![("question", "Do you ship to Norway?"), ("answer", answer)]),
        ("dismiss", vec![("question_ids", "1")]),
        ("dismiss-topic", vec![]),
    ] {
        let r = free.post(&format!("/console/gaps/{norway}/{path}"), &form).await;
        assert_eq!(r.status, 403, "{path}: {}", r.body);
    }

    // H3: the preview answers with the draft, stores nothing.
    let (s, fragment) = htmx_post(
        &ed,
        &format!("/console/gaps/{norway}/preview"),
        &[("question", "Do you ship to Norway?"), ("answer", answer), ("message", "")],
    )
    .await;
    assert_eq!(s, 200);
    assert!(fragment.contains(answer) && fragment.contains("data-verdict=\"uses-draft\""), "{fragment}");
    assert!(!fragment.contains("<html"), "a fragment");
    let (s, fragment) = htmx_post(
        &ed,
        &format!("/console/gaps/{norway}/preview"),
        &[("question", "Do you ship to Norway?"), ("answer", " ")],
    )
    .await;
    assert_eq!(s, 200);
    assert!(fragment.contains("role=\"alert\"") && fragment.contains("Answer"), "{fragment}");
    // Without htmx the page comes back with the preview and the draft.
    let r = ed
        .post(
            &format!("/console/gaps/{norway}/preview"),
            &[("question", "Do you ship to Norway?"), ("answer", answer), ("message", "ship to Norway?")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("data-verdict=\"uses-draft\"") && r.body.contains(&format!(">{answer}</textarea>")));
    let (_, sas) = app.admin(Method::GET, "/api/v1/short-answers", None).await;
    assert_eq!(sas.as_array().unwrap().len(), 3, "the preview saved nothing");

    // A bad draft is shown on its field.
    let r = ed.post(&format!("/console/gaps/{norway}/resolve"), &[("question", ""), ("answer", answer)]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("data-field-error=\"question\""), "{}", r.body);

    // Create and resolve: the short answer exists, the topic leaves the table.
    let r = ed
        .post(&format!("/console/gaps/{norway}/resolve"), &[("question", "Do you ship to Norway?"), ("answer", answer)])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let sa: i64 = r.location.strip_prefix("/console/gaps?resolved=").expect(&r.location).parse().unwrap();
    let (s, html) = ed.get(&r.location).await;
    assert_eq!(s, 200);
    assert!(html.contains(&format!("href=\"/console/short-answers/{sa}\"")), "{html}");
    assert!(!html.contains(&format!("data-topic=\"{norway}\"")), "resolved topics leave the table");
    let (s, v) = app.admin(Method::GET, &format!("/api/v1/short-answers/{sa}"), None).await;
    assert_eq!((s, v["answer"].as_str()), (200, Some(answer)), "{v}");
    assert_eq!(ed.get(&format!("/console/short-answers/{sa}")).await.0, 200);
    // The agent uses it at once.
    let (id, token) = app.visitor(json!({})).await;
    app.say(id, &token, "Do you ship to Norway?").await;
    let last = app.messages(id, &token).await.into_iter().rev().find(|m| m["author"] == "agent").unwrap();
    assert!(last["text"].as_str().unwrap().contains("Norway and Sweden"), "{last}");
    // The resolved topic says so and offers nothing more.
    let (_, html) = ed.get(&format!("/console/gaps/{norway}")).await;
    assert!(html.contains("data-topic-status=\"resolved\"") && html.contains(&format!("short answer #{sa}")));
    assert!(!html.contains("Create and resolve") && !html.contains("Dismiss selected"));
    let r = ed.post(&format!("/console/gaps/{norway}/resolve"), &[("question", "Again?"), ("answer", "Again.")]).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("already resolved"));

    // H4: dismiss selected questions; none selected is an error on the page.
    let r = ed.post(&format!("/console/gaps/{gift}/dismiss"), &[]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("data-field-error=\"question_ids\""), "{}", r.body);
    let (_, detail) = app.admin(Method::GET, &format!("/api/v1/gaps/{gift}"), None).await;
    let qid = detail["items"][0]["id"].as_i64().unwrap().to_string();
    let r = ed.post(&format!("/console/gaps/{gift}/dismiss"), &[("question_ids", qid.as_str())]).await;
    assert_eq!((r.status, r.location.as_str()), (303, "/console/gaps?dismissed=questions"), "{}", r.body);
    // ... and a whole topic.
    let r = ed.post(&format!("/console/gaps/{student}/dismiss-topic"), &[]).await;
    assert_eq!((r.status, r.location.as_str()), (303, "/console/gaps?dismissed=topic"), "{}", r.body);
    let (_, html) = ed.get("/console/gaps?dismissed=topic").await;
    assert!(html.contains("The topic was dismissed"));
    assert!(!html.contains(&format!("data-topic=\"{gift}\"")) && !html.contains(&format!("data-topic=\"{student}\"")));
    assert!(html.contains("No knowledge gaps"), "{html}");
    let (_, html) = ed.get(&format!("/console/gaps/{student}")).await;
    assert!(html.contains("This topic was dismissed") && !html.contains("Dismiss topic"));
    // The CSV is empty but for its header.
    let r = app.client.get(app.url("/api/v1/gaps?format=csv")).header("cookie", &ed.cookie).send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), "topic,conversations,questions,latest\n");
}
both_backends!(gaps_become_short_answers_or_are_dismissed);
