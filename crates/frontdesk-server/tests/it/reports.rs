//! Reports (G1–G11): a deterministic scenario generator writes conversations
//! with known histories, and every figure is asserted exactly through the
//! API (JSON and CSV), in the workspace's time zone, on both backends; the
//! incremental rollup must equal a rebuild from the events. A second story
//! drives real chats and shows the 72-hour verdict is frozen.

use frontdesk_core::model::{Channel, EventKind, Role};
use frontdesk_store::{HistoryConversation, HistoryEvent};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{create_user, TestApp};

const MIN: i64 = 60_000;
const H: i64 = 60 * MIN;
/// 2026-03-03T10:00:00Z, a Tuesday (11:00 in Rome).
const T: i64 = 1_772_532_000_000;
/// 2026-03-08T23:30:00Z: Sunday in UTC, already Monday 00:30 in Rome.
const SUNDAY_NIGHT: i64 = 1_773_012_600_000;
/// 2026-03-11T12:00:00Z.
const WEDNESDAY: i64 = 1_773_230_400_000;
/// When the scenario is evaluated.
const NOW: i64 = 1_773_273_600_000;

/// Builds one conversation's history, event by event.
struct Conv {
    c: HistoryConversation,
}

fn ev(kind: EventKind, actor: &str, user: Option<i64>, at: i64, data: Value) -> HistoryEvent {
    HistoryEvent { kind, actor_kind: actor.into(), actor_user_id: user, data, at }
}

impl Conv {
    /// Created at `at`, assigned to the agent (or to nobody when it is not deployed).
    fn new(channel: Channel, at: i64, agent: bool) -> Conv {
        let c = HistoryConversation {
            channel,
            is_preview: false,
            created_at: at,
            closed: false,
            events: vec![
                ev(EventKind::ConversationCreated, "visitor", None, at, json!({"channel": channel, "preview": false})),
                ev(
                    EventKind::Assigned,
                    "system",
                    None,
                    at,
                    json!({"to": if agent {"agent"} else {"none"}, "user_id": null, "cause": "initial"}),
                ),
                ev(
                    EventKind::Message,
                    "visitor",
                    None,
                    at,
                    json!({"author": "visitor", "message_id": 1, "cited": false}),
                ),
            ],
        };
        Conv { c }
    }
    fn preview(mut self) -> Conv {
        self.c.is_preview = true;
        self.c.events[0].data["preview"] = json!(true);
        self
    }
    fn reply(mut self, at: i64, id: i64, cited: bool, action_ok: Option<bool>) -> Conv {
        let actions = match action_ok {
            Some(ok) => json!([{"name": "lookup_order", "ok": ok}]),
            None => json!([]),
        };
        self.c.events.push(ev(
            EventKind::Message,
            "agent",
            None,
            at,
            json!({"author": "agent", "message_id": id, "cited": cited, "outcome": "answered", "actions": actions}),
        ));
        self
    }
    fn feedback(mut self, at: i64, id: i64, helpful: bool) -> Conv {
        self.c.events.push(ev(EventKind::Feedback, "visitor", None, at, json!({"message_id": id, "helpful": helpful})));
        self
    }
    fn handoff(mut self, at: i64, trigger: &str) -> Conv {
        self.c.events.push(ev(EventKind::Handoff, "agent", None, at, json!({"trigger": trigger})));
        self
    }
    fn assign(mut self, at: i64, to: &str, user: Option<i64>, cause: &str) -> Conv {
        let actor = match cause {
            "agent" => "agent",
            "manual" => "human",
            _ => "system",
        };
        self.c.events.push(ev(
            EventKind::Assigned,
            actor,
            None,
            at,
            json!({"to": to, "user_id": user, "cause": cause}),
        ));
        self
    }
    fn human(mut self, at: i64, user: i64) -> Conv {
        self.c.events.push(ev(
            EventKind::Message,
            "human",
            Some(user),
            at,
            json!({"author": "human", "message_id": 9, "cited": false}),
        ));
        self
    }
    fn close(mut self, at: i64, user: i64) -> Conv {
        self.c.closed = true;
        self.c.events.push(ev(EventKind::Closed, "human", Some(user), at, json!({"reason": null})));
        self
    }
    fn ticket(mut self, at: i64, action: &str) -> Conv {
        self.c.events.push(ev(EventKind::Ticket, "system", None, at, json!({"ticket_id": 1, "action": action})));
        self
    }
}

/// The scenario; comments give each conversation's expected verdict.
fn scenario(u1: i64, u2: i64) -> Vec<HistoryConversation> {
    use Channel::*;
    let t = |i: i64| T + i * 1000; // distinct creation times, same day
    vec![
        // C1 cited reply → resolved in 1 min, deflected.
        Conv::new(LiveChat, t(1), true).reply(t(1) + MIN, 101, true, None),
        // C2 an action done → resolved in 2 min.
        Conv::new(LiveChat, t(2), true).reply(t(2) + 2 * MIN, 201, false, Some(true)),
        // C3 a failed action, nothing cited → not resolved, deflected.
        Conv::new(LiveChat, t(3), true).reply(t(3) + MIN, 301, false, Some(false)),
        // C4 the visitor asks for a human → not resolved; handoff by the agent; U1 closes it.
        Conv::new(LiveChat, t(4), true)
            .reply(t(4) + MIN, 401, true, None)
            .handoff(t(4) + 3 * MIN, "visitor_asked")
            .assign(t(4) + 3 * MIN, "human", Some(u1), "agent")
            .human(t(4) + 5 * MIN, u1)
            .close(t(4) + H, u1),
        // C5 negative feedback on the last reply → not resolved.
        Conv::new(LiveChat, t(5), true)
            .reply(t(5) + MIN, 501, true, None)
            .reply(t(5) + 2 * MIN, 502, false, None)
            .feedback(t(5) + 3 * MIN, 502, false),
        // C6 negative on an earlier reply, positive on the last → resolved in 3 min.
        Conv::new(LiveChat, t(6), true)
            .reply(t(6) + MIN, 601, true, None)
            .feedback(t(6) + 2 * MIN, 601, false)
            .reply(t(6) + 3 * MIN, 602, true, None)
            .feedback(t(6) + 4 * MIN, 602, true),
        // C7 a reply 71 h 59 min after the first restarts the wait; negative
        // feedback on it before the new verdict time → not resolved.
        Conv::new(LiveChat, t(7), true)
            .reply(t(7) + MIN, 701, true, None)
            .reply(t(7) + MIN + 71 * H + 59 * MIN, 702, false, None)
            .feedback(t(7) + MIN + 72 * H + 30 * MIN, 702, false),
        // C8 a reply exactly 72 h after comes too late: decided on the first → resolved in 1 min.
        Conv::new(LiveChat, t(8), true)
            .reply(t(8) + MIN, 801, true, None)
            .reply(t(8) + MIN + 72 * H, 802, false, None)
            .feedback(t(8) + MIN + 73 * H, 802, false),
        // C9 after the verdict: a human request, a transfer and negative
        // feedback → still resolved (1 min), but no longer deflected.
        Conv::new(LiveChat, t(9), true)
            .reply(t(9) + MIN, 901, true, None)
            .handoff(t(9) + 100 * H, "visitor_asked")
            .assign(t(9) + 100 * H, "human", Some(u2), "agent")
            .feedback(t(9) + 100 * H, 901, false),
        // C10 a rule moves it to U1 with a ticket, closed 5 h after the agent took it.
        Conv::new(LiveChat, t(10), true)
            .reply(t(10) + MIN, 1001, true, None)
            .ticket(t(10) + 10 * MIN, "created")
            .assign(t(10) + 10 * MIN, "human", Some(u1), "rule")
            .ticket(t(10) + 5 * H, "closed"),
        // C11 U2 takes it by hand before the agent replies.
        Conv::new(LiveChat, t(11), true)
            .assign(t(11) + 20 * MIN, "human", Some(u2), "manual")
            .human(t(11) + 21 * MIN, u2),
        // C12 email without the agent: not handled; U2 closes it.
        Conv::new(Email, t(12), false).human(t(12) + H, u2).close(t(12) + 2 * H, u2),
        // C13 preview traffic: counts nowhere.
        Conv::new(LiveChat, t(13), true).preview().reply(t(13) + MIN, 1301, true, None).feedback(
            t(13) + 2 * MIN,
            1301,
            true,
        ),
        // C14 WhatsApp, cited → resolved in 1 min.
        Conv::new(WhatsApp, t(14), true).reply(t(14) + MIN, 1401, true, None),
        // C15 Sunday night in UTC, Monday in Rome → the second week; resolved in 1 min.
        Conv::new(LiveChat, SUNDAY_NIGHT, true).reply(SUNDAY_NIGHT + MIN, 1501, true, None),
        // C16 replied less than 72 h before NOW → pending.
        Conv::new(LiveChat, WEDNESDAY, true).reply(WEDNESDAY + MIN, 1601, true, None),
        // C17 email, the agent cannot answer and hands off to the queue → not resolved.
        Conv::new(Email, t(17), true)
            .reply(t(17) + MIN, 1701, false, None)
            .handoff(t(17) + MIN, "cannot_answer")
            .assign(t(17) + MIN, "none", None, "agent"),
    ]
    .into_iter()
    .map(|c| c.c)
    .collect()
}

async fn report(app: &TestApp, name: &str, query: &str) -> Value {
    let (s, v) = app.admin(Method::GET, &format!("/api/v1/reports/{name}?{query}"), None).await;
    assert_eq!(s, 200, "{name}?{query}: {v}");
    v
}

/// Column `col` of the row for `period`.
fn cell(r: &Value, period: &str, col: &str) -> Value {
    let i = r["columns"].as_array().unwrap().iter().position(|c| c == col).unwrap_or_else(|| panic!("no {col} in {r}"));
    let row = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["period"] == period)
        .unwrap_or_else(|| panic!("no {period} in {r}"));
    row["values"][i].clone()
}

fn total(r: &Value, col: &str) -> Value {
    let i = r["columns"].as_array().unwrap().iter().position(|c| c == col).unwrap();
    r["totals"][i].clone()
}

const W1: &str = "2026-03-02";
const RANGE: &str = "from=2026-03-02&to=2026-03-15";

/// Every counter of the rollup, for comparing the cache with a rebuild.
async fn all_counts(app: &TestApp) -> Vec<(String, String, String, String, i64)> {
    use frontdesk_core::reports::metric::*;
    let metrics = [
        CONVERSATIONS,
        HANDLED,
        RESOLVED,
        UNRESOLVED,
        PENDING,
        RESOLUTION_MS,
        DEFLECTED,
        HANDOFFS,
        TICKETS,
        TICKETS_CLOSED,
        TICKET_CLOSE_MS,
        FEEDBACK,
        RESOLVED_BY,
    ];
    let mut rows: Vec<_> = app
        .store()
        .report_counts(&metrics, "0000-01-01", "9999-12-31", None, true)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.metric, r.day, r.channel, r.dim, r.value))
        .collect();
    rows.sort();
    rows
}

async fn every_report_exact(app: TestApp) {
    let u1 = create_user(app.store(), "u1@test.example", Role::Agent, true).await.id;
    let u2 = create_user(app.store(), "u2@test.example", Role::Agent, true).await.id;
    let (s, v) = app.admin(Method::PUT, "/api/v1/reports/settings", Some(json!({"time_zone": "Mars/Olympus"}))).await;
    assert_eq!((s, v["field"].as_str()), (422, Some("time_zone")), "{v}");
    let (s, v) = app.admin(Method::PUT, "/api/v1/reports/settings", Some(json!({"time_zone": "Europe/Rome"}))).await;
    assert_eq!(s, 200, "{v}");
    app.store().import_history(&scenario(u1, u2)).await.unwrap();

    // Before any verdict: everything with a reply is pending.
    let r = report(&app, "resolution", RANGE).await;
    assert_eq!(cell(&r, W1, "pending"), json!(12), "{r}");
    assert_eq!(cell(&r, W1, "resolved"), json!(0));
    assert!(r["note"].as_str().unwrap().contains("72 hours"), "{r}");

    // The job 72 hours after the first replies: what is due is decided; C2,
    // C5, C6 (replied a minute or two later) and C7 (restarted) still wait.
    let first_due = T + 20_000 + MIN + 72 * H;
    let decided = frontdesk_engine::reports::evaluate_due(&app.state, first_due).await.unwrap();
    assert_eq!(decided, 8, "C1 C3 C4 C8 C9 C10 C14 C17");
    let r = report(&app, "resolution", RANGE).await;
    assert_eq!(
        [cell(&r, W1, "resolved"), cell(&r, W1, "unresolved"), cell(&r, W1, "pending")],
        [json!(5), json!(3), json!(4)],
        "C1 C8 C9 C10 C14 resolved; C3 C4 C17 not; C2 C5 C6 C7 wait: {r}"
    );

    // Now every verdict but C16's.
    let decided = frontdesk_engine::reports::evaluate_due(&app.state, NOW).await.unwrap();
    assert_eq!(decided, 5, "C2 C5 C6 C7 C15");
    assert_eq!(frontdesk_engine::reports::evaluate_due(&app.state, NOW).await.unwrap(), 0, "decided once");

    // G6, G7
    let r = report(&app, "resolution", RANGE).await;
    assert_eq!(r["time_zone"], "Europe/Rome");
    assert_eq!(
        r["columns"],
        json!(["handled", "resolved", "unresolved", "pending", "resolution_rate", "avg_time_to_resolution_s"])
    );
    assert_eq!(r["rows"][0]["values"], json!([13, 7, 5, 0, 7.0 / 12.0, 600.0 / 7.0]), "{r}");
    assert_eq!(r["rows"][1]["values"], json!([2, 1, 0, 1, 1.0, 60.0]), "{r}");
    assert_eq!(r["totals"], json!([15, 8, 5, 1, 8.0 / 13.0, 660.0 / 8.0]));
    assert_eq!(r["pending_evaluation"], 1);
    // The whole table, pinned (insta): columns, periods, labels, totals, note.
    insta::assert_json_snapshot!("resolution_report", r);

    // G2: handled = assigned to the agent (C12 was not), resolved, handed off.
    let r = report(&app, "handled", RANGE).await;
    assert_eq!(r["rows"][0]["values"], json!([13, 7, 5]), "{r}");
    assert_eq!(r["rows"][1]["values"], json!([2, 1, 0]));

    // G3
    let r = report(&app, "handled-by-channel", RANGE).await;
    assert_eq!(r["columns"], json!(["live_chat", "email", "whatsapp", "messenger", "custom"]));
    assert_eq!(r["rows"][0]["values"], json!([11, 1, 1, 0, 0]), "{r}");
    assert_eq!(r["rows"][1]["values"], json!([2, 0, 0, 0, 0]));

    // G4: by the day feedback was given (C13's preview feedback excluded).
    let r = report(&app, "feedback", RANGE).await;
    assert_eq!(r["rows"][0]["values"], json!([1, 5, 6]), "{r}");
    assert_eq!(r["rows"][1]["values"], json!([0, 0, 0]));

    // G5
    let r = report(&app, "handle-rate", RANGE).await;
    assert_eq!(r["rows"][0]["values"], json!([14, 13, 13.0 / 14.0]), "{r}");
    assert_eq!(r["rows"][1]["values"], json!([2, 2, 1.0]));

    // G8: no human message, no assignment to a human, no transfer.
    let r = report(&app, "deflection", RANGE).await;
    assert_eq!(r["rows"][0]["values"], json!([13, 8, 8.0 / 13.0]), "{r}");
    assert_eq!(r["rows"][1]["values"], json!([2, 2, 1.0]));

    // G9: the agent's resolutions beside the people who closed the rest.
    let r = report(&app, "team", RANGE).await;
    assert_eq!(r["labels"][0], "Customer agent");
    assert_eq!(cell(&r, W1, "agent"), json!(7));
    assert_eq!(cell(&r, W1, &format!("user:{u1}")), json!(1), "C4; C10 is the agent's: {r}");
    assert_eq!(cell(&r, W1, &format!("user:{u2}")), json!(1), "C12");
    assert_eq!(total(&r, "agent"), json!(8));
    assert!(r["labels"].as_array().unwrap().contains(&json!("u1")), "{r}");

    // G10: every transfer, by cause.
    let r = report(&app, "handoffs", RANGE).await;
    assert_eq!(r["columns"], json!(["handled", "handed_off", "handoff_rate", "by_agent", "by_rule", "manual"]));
    assert_eq!(r["rows"][0]["values"], json!([13, 5, 5.0 / 13.0, 3, 1, 1]), "{r}");

    // G11: C10's ticket, closed 5 h after the agent's assignment.
    let r = report(&app, "handoff-outcome", RANGE).await;
    assert_eq!(r["rows"][0]["values"], json!([13, 1, 1.0 / 13.0, 1, 18_000.0]), "{r}");

    // G1 for the week holding 2026-03-08.
    let r = report(&app, "impact", "to=2026-03-08").await;
    assert_eq!(r["from"], W1);
    assert_eq!(r["rows"].as_array().unwrap().len(), 1);
    assert_eq!(r["rows"][0]["values"], json!([7, 13, 600.0 / 7.0, 8.0 / 13.0, 1.0 / 6.0, 6]), "{r}");

    // By day, and filtered by channel.
    let r = report(&app, "handled", "from=2026-03-08&to=2026-03-09&bucket=day").await;
    assert_eq!(
        r["rows"],
        json!([{"period": "2026-03-08", "values": [0, 0, 0]}, {"period": "2026-03-09", "values": [1, 1, 0]}])
    );
    let r = report(&app, "handle-rate", &format!("{RANGE}&channel=email")).await;
    assert_eq!(r["rows"][0]["values"], json!([2, 1, 0.5]), "{r}");

    // CSV (K4).
    let res = app
        .client
        .get(app.url(&format!("/api/v1/reports/handoffs?{RANGE}&format=csv")))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("frontdesk-handoffs-2026-03-02-2026-03-15.csv"));
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "period,handled,handed_off,handoff_rate,by_agent,by_rule,manual");
    assert_eq!(lines[1], format!("2026-03-02,13,5,{},3,1,1", 5.0 / 13.0));
    assert_eq!(lines[3], format!("total,15,5,{},3,1,1", 5.0 / 15.0));
    insta::assert_snapshot!("handoffs_report_csv", csv);

    // Bad input names the field.
    for (q, field) in [
        ("from=2026-13-01", "from"),
        ("from=2026-03-10&to=2026-03-01", "from"),
        ("from=2020-01-01&to=2026-03-01", "from"),
        ("channel=fax", "channel"),
        ("bucket=month", "bucket"),
        ("format=xml", "format"),
    ] {
        let (s, v) = app.admin(Method::GET, &format!("/api/v1/reports/handled?{q}"), None).await;
        assert_eq!((s, v["field"].as_str()), (422, Some(field)), "{q}: {v}");
    }
    let (s, _) = app.admin(Method::GET, "/api/v1/reports/nope", None).await;
    assert_eq!(s, 404);

    // The cache equals a rebuild from the events.
    let incremental = all_counts(&app).await;
    assert!(!incremental.is_empty());
    let (s, v) = app.admin(Method::POST, "/api/v1/reports/rebuild", None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["conversations"], 17, "{v}");
    assert_eq!(all_counts(&app).await, incremental);

    // Another zone moves C15 into the first week; back again, as before.
    app.admin(Method::PUT, "/api/v1/reports/settings", Some(json!({"time_zone": "UTC"}))).await;
    let r = report(&app, "handled", RANGE).await;
    assert_eq!((r["rows"][0]["values"][0].clone(), r["rows"][1]["values"][0].clone()), (json!(14), json!(1)), "{r}");
    app.admin(Method::PUT, "/api/v1/reports/settings", Some(json!({"time_zone": "Europe/Rome"}))).await;
    report(&app, "handled", RANGE).await;
    assert_eq!(all_counts(&app).await, incremental);

    // Changing the zone is audited.
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit", None).await;
    assert!(audit.to_string().contains("report_settings"), "{audit}");

    // Survives a restart: the verdicts are events, the rollup is rebuilt from them.
    let db = app.stop().await;
    let app = TestApp::spawn_on(db, |s| s.run_worker = false).await;
    let r = report(&app, "resolution", RANGE).await;
    assert_eq!(r["rows"][0]["values"], json!([13, 7, 5, 0, 7.0 / 12.0, 600.0 / 7.0]));
    app.store().rebuild_reports().await.unwrap();
    assert_eq!(all_counts(&app).await, incremental);
}

crate::both_backends!(every_report_exact, settings = |s| s.run_worker = false);

/// Real chats: a cited answer, decided by the job 72 hours later, stays
/// resolved whatever happens next; a visitor who asks for a human is not.
async fn verdict_is_frozen(app: TestApp) {
    app.seed_agent().await;
    let (a, ta) = app.visitor(json!({})).await;
    let (s, reply) = app.say(a, &ta, "How do I reset my password?").await;
    assert_eq!(s, 201, "{reply}");
    let agent_msg = app.messages(a, &ta).await.into_iter().rev().find(|m| m["author"] == "agent").unwrap();
    assert!(!agent_msg["citations"].as_array().unwrap().is_empty(), "a cited answer: {agent_msg}");
    let (b, tb) = app.visitor(json!({})).await;
    app.say(b, &tb, "How do I reset my password?").await;
    app.say(b, &tb, "I want to talk to a human").await;

    let later = frontdesk_store::now_ms() + 72 * H + MIN;
    assert_eq!(frontdesk_engine::reports::evaluate_due(&app.state, later).await.unwrap(), 2);
    let r = report(&app, "resolution", "bucket=day").await;
    assert_eq!((total(&r, "resolved"), total(&r, "unresolved")), (json!(1), json!(1)), "{r}");

    // After the verdict: the visitor asks for a human and dislikes the answer.
    app.say(a, &ta, "I want to talk to a human").await;
    let res = app
        .client
        .post(app.url(&format!("/api/v1/chat/conversations/{a}/messages/{}/feedback", agent_msg["id"])))
        .bearer_auth(&ta)
        .json(&json!({"helpful": false}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    assert_eq!(frontdesk_engine::reports::evaluate_due(&app.state, later + 100 * H).await.unwrap(), 0);
    let r = report(&app, "resolution", "bucket=day").await;
    assert_eq!((total(&r, "resolved"), total(&r, "unresolved")), (json!(1), json!(1)), "frozen: {r}");
    let r = report(&app, "handoffs", "bucket=day").await;
    assert_eq!(total(&r, "handed_off"), json!(2), "{r}");
    let r = report(&app, "feedback", "bucket=day").await;
    assert_eq!(total(&r, "not_helpful"), json!(1), "{r}");
    let r = report(&app, "impact", "").await;
    assert_eq!(r["rows"][0]["values"][1], json!(2), "handled this week: {r}");
}

crate::both_backends!(verdict_is_frozen);
