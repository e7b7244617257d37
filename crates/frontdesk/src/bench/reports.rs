//! `frontdesk bench reports`: generates conversations with their event
//! histories (a year of traffic on every channel: cited answers, actions,
//! requests for a human, transfers by the agent, rules and people, tickets,
//! feedback, preview traffic, and the resolution verdicts the 72-hour job
//! would have recorded), rebuilds the rollup from the events, then times
//! every report over HTTP against a real server on the same database.

use std::time::{Duration, Instant};

use anyhow::Context;
use frontdesk_core::model::{Channel, EventKind, Role};
use frontdesk_core::reports::{self as core_reports, ReportKind};
use frontdesk_store::{Actor, HistoryConversation, HistoryEvent, NewUser, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::retrieval::pct;

const MIN: i64 = 60_000;
const H: i64 = 60 * MIN;
const DAY: i64 = 24 * H;

fn ev(kind: EventKind, actor: &str, user: Option<i64>, at: i64, data: serde_json::Value) -> HistoryEvent {
    HistoryEvent { kind, actor_kind: actor.into(), actor_user_id: user, data, at }
}

/// One synthetic conversation created at `at`.
fn conversation(rng: &mut StdRng, at: i64, now: i64, people: &[i64]) -> HistoryConversation {
    let channel = match rng.gen_range(0..100) {
        0..=59 => Channel::LiveChat,
        60..=79 => Channel::Email,
        80..=89 => Channel::WhatsApp,
        90..=95 => Channel::Messenger,
        _ => Channel::Custom,
    };
    let preview = rng.gen_ratio(1, 50);
    let handled = rng.gen_ratio(9, 10);
    let mut events = vec![
        ev(EventKind::ConversationCreated, "visitor", None, at, json!({"channel": channel, "preview": preview})),
        ev(
            EventKind::Assigned,
            "system",
            None,
            at,
            json!({"to": if handled {"agent"} else {"none"}, "user_id": null, "cause": "initial"}),
        ),
        ev(EventKind::Message, "visitor", None, at, json!({"author": "visitor", "message_id": 0, "cited": false})),
    ];
    let mut t = at;
    let mut closed = false;
    let person = people[rng.gen_range(0..people.len())];
    if handled {
        let replies = rng.gen_range(1..=3);
        let mut last_id = 0;
        for k in 0..replies {
            t += rng.gen_range(MIN / 6..5 * MIN);
            last_id = k + 1;
            let cited = rng.gen_ratio(7, 10);
            let actions = if rng.gen_ratio(1, 10) {
                json!([{"name": "lookup_order", "ok": rng.gen_ratio(9, 10)}])
            } else {
                json!([])
            };
            events.push(ev(
                EventKind::Message,
                "agent",
                None,
                t,
                json!({"author": "agent", "message_id": last_id, "cited": cited, "outcome": "answered", "actions": actions}),
            ));
        }
        if rng.gen_ratio(1, 5) {
            t += MIN;
            events.push(ev(
                EventKind::Feedback,
                "visitor",
                None,
                t,
                json!({"message_id": last_id, "helpful": rng.gen_ratio(3, 4)}),
            ));
        }
        match rng.gen_range(0..100) {
            // The visitor asks for a human; the agent hands off.
            0..=9 => {
                t += MIN;
                events.push(ev(EventKind::Handoff, "agent", None, t, json!({"trigger": "visitor_asked"})));
                events.push(ev(
                    EventKind::Assigned,
                    "agent",
                    None,
                    t,
                    json!({"to": "human", "user_id": person, "cause": "agent"}),
                ));
                t += rng.gen_range(MIN..2 * H);
                events.push(ev(
                    EventKind::Message,
                    "human",
                    Some(person),
                    t,
                    json!({"author": "human", "message_id": 9, "cited": false}),
                ));
                if rng.gen_ratio(4, 5) {
                    t += rng.gen_range(MIN..DAY);
                    events.push(ev(EventKind::Closed, "human", Some(person), t, json!({"reason": null})));
                    closed = true;
                }
            }
            // A rule moves it to the team with a ticket.
            10..=14 => {
                t += MIN;
                events.push(ev(EventKind::Ticket, "agent", None, t, json!({"ticket_id": 0, "action": "created"})));
                events.push(ev(
                    EventKind::Assigned,
                    "system",
                    None,
                    t,
                    json!({"to": "human", "user_id": person, "cause": "rule"}),
                ));
                if rng.gen_ratio(4, 5) {
                    t += rng.gen_range(H..3 * DAY);
                    events.push(ev(
                        EventKind::Ticket,
                        "human",
                        Some(person),
                        t,
                        json!({"ticket_id": 0, "action": "closed"}),
                    ));
                }
            }
            // Someone takes it by hand.
            15..=17 => {
                t += rng.gen_range(MIN..H);
                events.push(ev(
                    EventKind::Assigned,
                    "human",
                    Some(person),
                    t,
                    json!({"to": "human", "user_id": person, "cause": "manual"}),
                ));
            }
            // The agent cannot answer: to the unassigned queue.
            18..=24 => {
                events.push(ev(EventKind::Handoff, "agent", None, t, json!({"trigger": "cannot_answer"})));
                events.push(ev(
                    EventKind::Assigned,
                    "agent",
                    None,
                    t,
                    json!({"to": "none", "user_id": null, "cause": "agent"}),
                ));
            }
            _ => {}
        }
    } else {
        t += rng.gen_range(MIN..4 * H);
        events.push(ev(
            EventKind::Message,
            "human",
            Some(person),
            t,
            json!({"author": "human", "message_id": 9, "cited": false}),
        ));
        t += rng.gen_range(MIN..DAY);
        events.push(ev(EventKind::Closed, "human", Some(person), t, json!({"reason": null})));
        closed = true;
    }
    // Conversations idle for a day were closed by the inactivity job.
    if !closed && t + DAY < now {
        t += DAY;
        events.push(ev(EventKind::Closed, "system", None, t, json!({"reason": "inactivity"})));
        closed = true;
    }
    // What the evaluation job would have recorded by now.
    events.retain(|e| e.at <= now);
    let log: Vec<core_reports::LogEvent> = events
        .iter()
        .map(|e| core_reports::LogEvent {
            kind: e.kind,
            actor_kind: e.actor_kind.clone(),
            actor_user_id: e.actor_user_id,
            data: e.data.clone(),
            at: e.at,
        })
        .collect();
    if !preview {
        if let Some(data) = core_reports::evaluation(&log, now) {
            let at = data["due_at"].as_i64().unwrap_or(now);
            events.push(ev(EventKind::Resolution, "system", None, at, data));
        }
    }
    HistoryConversation { channel, is_preview: preview, created_at: at, closed, events }
}

pub async fn run(
    conversations: usize,
    runs: usize,
    database_url: Option<String>,
    generate: bool,
) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let url = database_url.clone().unwrap_or_else(|| format!("sqlite://{}", tmp.path().join("bench.db").display()));
    let store = frontdesk_store::open(&url).await?;
    println!("store: {}", store.backend());
    let actor = Actor::system("bench");
    let now = frontdesk_store::now_ms();
    let start = now - 364 * DAY;
    let people = if generate {
        generate_history(store.as_ref(), conversations, now, start).await?
    } else {
        store.list_users().await?.into_iter().filter(|u| u.role == Role::Admin).map(|u| u.id).take(1).collect()
    };
    let admin = *people.first().context("no admin user in the store")?;
    let (key, _) = frontdesk_engine::service::users::new_api_key(store.as_ref(), &actor, admin, "bench")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    drop(store);
    let server = super::start_server(Some(url)).await?;
    let client = reqwest::Client::new();
    let ranges = [
        ("12 weeks (default)", String::new()),
        ("52 weeks", format!("from={}", core_reports::local_date(start, &core_reports::zone("Europe/Rome")))),
        (
            "52 weeks by day",
            format!("from={}&bucket=day", core_reports::local_date(start, &core_reports::zone("Europe/Rome"))),
        ),
        ("12 weeks, email", "channel=email".to_owned()),
    ];
    println!("\n{:<20} {:<20} {:>9} {:>9} {:>9}", "report", "range", "p50 ms", "p95 ms", "max ms");
    let mut worst = Duration::ZERO;
    for kind in ReportKind::ALL {
        for (label, query) in &ranges {
            let url = format!("{}/api/v1/reports/{}?{}", server.base, kind.name(), query);
            let mut times = Vec::with_capacity(runs);
            for i in 0..=runs {
                let t = Instant::now();
                let res = client.get(&url).bearer_auth(&key).send().await?;
                let status = res.status();
                let body = res.text().await?;
                anyhow::ensure!(status.is_success(), "{url}: {status} {body}");
                if i > 0 {
                    times.push(t.elapsed());
                }
            }
            times.sort();
            worst = worst.max(*times.last().context("no runs")?);
            println!(
                "{:<20} {:<20} {:>9.1} {:>9.1} {:>9.1}",
                kind.name(),
                label,
                pct(&times, 0.5),
                pct(&times, 0.95),
                times.last().unwrap().as_secs_f64() * 1e3
            );
        }
    }
    println!("\nslowest single report request: {:.1} ms", worst.as_secs_f64() * 1e3);
    drop(server);
    Ok(())
}

/// The steady state: new conversations arrive and the rollup is refreshed
/// for them (what a report request or the periodic job does).
async fn incremental(store: &dyn Store, rng: &mut StdRng, now: i64, people: &[i64]) -> anyhow::Result<()> {
    let convs: Vec<_> = (0..1_000)
        .map(|_| {
            let at = now - rng.gen_range(0..DAY);
            conversation(rng, at, now, people)
        })
        .collect();
    store.import_history(&convs).await?;
    let started = Instant::now();
    let mut refreshed = 0;
    loop {
        let s = store.refresh_reports(500).await?;
        refreshed += s.conversations;
        if s.remaining == 0 || s.conversations == 0 {
            break;
        }
    }
    let took = started.elapsed();
    println!(
        "refresh after 1,000 new conversations: {refreshed} refreshed in {:.0} ms ({:.2} ms per conversation)",
        took.as_secs_f64() * 1e3,
        took.as_secs_f64() * 1e3 / refreshed.max(1) as f64
    );
    Ok(())
}

/// Fills the store with `conversations` over the year before `now`, rebuilds
/// the rollup and measures an incremental refresh; returns the people (the first an admin).
async fn generate_history(store: &dyn Store, conversations: usize, now: i64, start: i64) -> anyhow::Result<Vec<i64>> {
    let actor = Actor::system("bench");
    let mut people = Vec::new();
    for i in 0..20 {
        let u = store
            .create_user(
                &actor,
                NewUser {
                    email: format!("agent{i}-{}@bench.example", std::process::id()),
                    name: format!("Agent {i}"),
                    password_hash: "x".into(),
                    role: if i == 0 { Role::Admin } else { Role::Agent },
                    paid_seat: true,
                },
            )
            .await?;
        people.push(u.id);
    }
    store.set_report_time_zone(&actor, "Europe/Rome").await?;

    // A year of traffic up to now.
    let mut rng = StdRng::seed_from_u64(7);
    let started = Instant::now();
    let mut events = 0usize;
    let batch = 1_000;
    let mut done = 0;
    while done < conversations {
        let n = batch.min(conversations - done);
        let convs: Vec<_> = (0..n)
            .map(|_| {
                let at = rng.gen_range(start..now);
                conversation(&mut rng, at, now, &people)
            })
            .collect();
        events += convs.iter().map(|c| c.events.len()).sum::<usize>();
        store.import_history(&convs).await?;
        done += n;
        if done % 100_000 == 0 {
            println!("  generated {done} conversations, {events} events ({:.0} s)", started.elapsed().as_secs_f64());
        }
    }
    println!("generated {done} conversations with {events} events in {:.1} s", started.elapsed().as_secs_f64());

    let started = Instant::now();
    let stats = store.rebuild_reports().await?;
    println!(
        "rollup rebuilt from {} events of {} conversations in {:.1} s",
        stats.events,
        stats.conversations,
        started.elapsed().as_secs_f64()
    );
    incremental(store, &mut rng, now, &people).await?;
    Ok(people)
}
