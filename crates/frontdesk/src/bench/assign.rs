//! `frontdesk bench assign`: the assignment decision of a handoff with 1,000
//! users in 100 teams — the turn's transaction reading the route's
//! candidates (availability, seat, open load, last routed) and assigning
//! round robin — timed per handoff, sequentially and from concurrent tasks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use frontdesk_core::model::{Author, Availability, Channel, HandoffTrigger, Role};
use frontdesk_core::routing::{HandoffProcess, WhenUnassigned};
use frontdesk_store::{Actor, HandoffRoute, NewConversation, NewMessage, NewUser, Store, Turn, TurnReply, UserPatch};
use serde_json::json;

use super::retrieval::pct;

fn message(conversation_id: i64, author: Author, text: &str) -> NewMessage {
    NewMessage {
        conversation_id,
        author,
        user_id: None,
        text: text.into(),
        citations: vec![],
        trace: None,
        event_data: json!({}),
    }
}

async fn handoff(store: &dyn Store, route: &HandoffRoute, n: usize) -> anyhow::Result<Duration> {
    let c = store
        .create_conversation(NewConversation {
            channel: Channel::LiveChat,
            contact_id: None,
            visitor_token_hash: format!("bench-assign-{n}-{}", rand_suffix()),
            assign_to_agent: true,
            is_preview: false,
            channel_id: None,
            handle: None,
            subject: None,
        })
        .await?;
    let turn = Turn {
        visitor: message(c.id, Author::Visitor, "I want to talk to a human"),
        reply: Some(TurnReply {
            message: message(c.id, Author::Agent, "Connecting you with our team."),
            handoff: Some(HandoffTrigger::VisitorAsked),
            unanswered_lang: None,
            route: Some(route.clone()),
            email_ask: None,
        }),
        inbound: None,
    };
    let started = Instant::now();
    store.append_turn(turn).await?;
    Ok(started.elapsed())
}

fn rand_suffix() -> u64 {
    use rand::Rng;
    rand::thread_rng().gen()
}

fn report(label: &str, mut v: Vec<Duration>, wall: Duration) {
    v.sort();
    println!(
        "  {label}: {} handoffs in {:.2} s = {:.0}/s; per handoff p50 {:.2} ms, p99 {:.2} ms",
        v.len(),
        wall.as_secs_f64(),
        v.len() as f64 / wall.as_secs_f64(),
        pct(&v, 0.5),
        pct(&v, 0.99)
    );
}

pub async fn run(users: usize, teams: usize, handoffs: usize, database_url: Option<String>) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let url = database_url.unwrap_or_else(|| format!("sqlite://{}", tmp.path().join("bench.db").display()));
    let backend = if url.starts_with("postgres") { "postgres" } else { "sqlite" };
    println!("bench assign: backend={backend}, {users} users in {teams} teams, {handoffs} handoffs per run");
    let store = frontdesk_store::open(&url).await?;
    let actor = Actor::system("bench");
    let started = Instant::now();
    let mut ids = Vec::with_capacity(users);
    for i in 0..users {
        let u = store
            .create_user(
                &actor,
                NewUser {
                    email: format!("agent{i}-{}@bench.example", rand_suffix()),
                    name: format!("Agent {i}"),
                    password_hash: "x".into(),
                    role: Role::Agent,
                    paid_seat: i % 10 != 9,
                },
            )
            .await?;
        if i % 4 == 3 {
            store
                .update_user(&actor, u.id, UserPatch { availability: Some(Availability::Away), ..Default::default() })
                .await?;
        }
        ids.push(u.id);
    }
    let per_team = users.div_ceil(teams.max(1));
    let mut team_ids = Vec::new();
    for (t, members) in ids.chunks(per_team).enumerate() {
        let team = store.create_team(&actor, &format!("Team {t} {}", rand_suffix())).await?;
        store.set_team_members(&actor, team.id, members).await?;
        team_ids.push(team.id);
    }
    println!(
        "  {} users (1 in 10 without a seat, 1 in 4 away) and {} teams created in {:.1} s",
        ids.len(),
        team_ids.len(),
        started.elapsed().as_secs_f64()
    );
    let route = HandoffRoute {
        process: HandoffProcess::Live,
        members: ids.clone(),
        when_unassigned: WhenUnassigned::KeepOpen,
        workflow: None,
    };

    let wall = Instant::now();
    let mut seq = Vec::with_capacity(handoffs);
    for n in 0..handoffs {
        seq.push(handoff(store.as_ref(), &route, n).await?);
    }
    report("sequential", seq, wall.elapsed());

    let store: Arc<dyn Store> = store;
    let wall = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..8 {
        let store = store.clone();
        let route = route.clone();
        tasks.push(tokio::spawn(async move {
            let mut v = Vec::new();
            for n in 0..handoffs / 8 {
                v.push(handoff(store.as_ref(), &route, w * 100_000 + n).await?);
            }
            anyhow::Ok(v)
        }));
    }
    let mut conc = Vec::new();
    for t in tasks {
        conc.extend(t.await??);
    }
    report("8 concurrent tasks", conc, wall.elapsed());
    Ok(())
}
