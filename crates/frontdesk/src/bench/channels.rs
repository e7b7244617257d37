//! `frontdesk bench webhooks` and `frontdesk bench imap`: channel throughput
//! against the real server in this process.
//!
//! - webhooks: a custom channel whose webhook is a receiver on loopback; N
//!   inbound messages (each from its own contact) posted by concurrent
//!   clients; prints the inbound rate (messages/s accepted) and the delay
//!   from posting a message to the receiver getting the agent's signed reply.
//! - imap: a mailbox of N messages in a real Dovecot on loopback (the test
//!   harness of `frontdesk-mail`), read by the channel's IMAP poller into
//!   conversations with the agent's replies; prints messages/s.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use frontdesk_core::model::Channel;
use frontdesk_server::config::Settings;
use frontdesk_store::{Actor, NewChannel};
use serde_json::{json, Value};

use super::retrieval::pct;

async fn app(
    database_url: Option<String>,
    tmp: &std::path::Path,
) -> anyhow::Result<frontdesk_server::startup::Application> {
    let url = database_url.unwrap_or_else(|| format!("sqlite://{}", tmp.join("bench.db").display()));
    let settings = Settings {
        database_url: url,
        data_dir: tmp.join("data"),
        listen: "127.0.0.1:0".into(),
        embeddings: false,
        worker_poll_ms: 10,
        // The receiver is on loopback.
        allow_private_networks: true,
        ..Settings::default()
    };
    std::fs::create_dir_all(&settings.data_dir)?;
    let app = frontdesk_server::startup::Application::build(settings).await?;
    let store = app.state.store.clone();
    frontdesk_server::demo::seed(store.as_ref(), || Ok(("bench".into(), "x".into()))).await?;
    Ok(app)
}

type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

/// A webhook receiver on loopback: records when each contact's reply arrives.
async fn receiver(arrivals: Arrivals) -> anyhow::Result<String> {
    use axum::routing::post;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let router = axum::Router::new().route(
        "/hook",
        post(move |body: axum::body::Bytes| {
            let arrivals = arrivals.clone();
            async move {
                if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                    if let Some(c) = v["contact_external_id"].as_str() {
                        arrivals.lock().unwrap().entry(c.to_owned()).or_insert_with(Instant::now);
                    }
                }
                axum::http::StatusCode::OK
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(format!("http://{addr}/hook"))
}

pub async fn webhooks(messages: usize, concurrency: usize, database_url: Option<String>) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let app = app(database_url, tmp.path()).await?;
    let addr = app.local_addr()?;
    let state = app.state.clone();
    let backend = if state.settings.database_url.starts_with("postgres") { "postgres" } else { "sqlite" };
    tokio::spawn(app.run_until(std::future::pending()));
    let arrivals: Arrivals = Default::default();
    let hook = receiver(arrivals.clone()).await?;
    let key = "fdch_bench_key";
    let mut secrets = std::collections::BTreeMap::new();
    secrets.insert("webhook_secret".to_owned(), "whsec_bench".to_owned());
    state
        .store
        .create_channel(
            &Actor::system("bench"),
            NewChannel {
                kind: Channel::Custom,
                name: "bench".into(),
                agent_deployed: true,
                destination: "inbox".into(),
                config: json!({"webhook_url": hook}),
                secrets,
                key_hash: Some(frontdesk_engine::tokens::token_hash(key)),
            },
        )
        .await?;
    println!("bench webhooks: backend={backend}, {messages} inbound messages, {concurrency} concurrent senders");
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/api/v1/channels/inbound");
    let questions = ["how much does nimbus notes cost?", "is there a free trial", "How do I reset my password?"];
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sent_at: Arc<Mutex<HashMap<String, Instant>>> = Default::default();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, next, sent_at) = (client.clone(), url.clone(), next.clone(), sent_at.clone());
        tasks.push(tokio::spawn(async move {
            let mut accept = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= messages {
                    return Ok::<_, anyhow::Error>(accept);
                }
                let contact = format!("c{i}");
                let t = Instant::now();
                sent_at.lock().unwrap().insert(contact.clone(), t);
                let r = client
                    .post(&url)
                    .bearer_auth(key)
                    .json(&json!({"external_id": format!("m{i}"), "contact": {"external_id": contact}, "text": questions[i % 3]}))
                    .send()
                    .await?;
                anyhow::ensure!(r.status().as_u16() == 202, "inbound answered {}", r.status());
                accept.push(t.elapsed());
            }
        }));
    }
    let mut accept = Vec::new();
    for t in tasks {
        accept.extend(t.await??);
    }
    let inbound_secs = started.elapsed().as_secs_f64();
    // Wait for every reply to reach the receiver.
    let deadline = Instant::now() + Duration::from_secs(300);
    while arrivals.lock().unwrap().len() < messages && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let all_secs = started.elapsed().as_secs_f64();
    let arrivals = arrivals.lock().unwrap().clone();
    let sent_at = sent_at.lock().unwrap().clone();
    let mut delays: Vec<Duration> =
        arrivals.iter().filter_map(|(c, at)| sent_at.get(c).map(|s| at.saturating_duration_since(*s))).collect();
    delays.sort();
    accept.sort();
    println!(
        "  inbound: {:.0} messages/s accepted (202), accept latency p50 {:.1} ms, p99 {:.1} ms",
        messages as f64 / inbound_secs,
        pct(&accept, 0.5),
        pct(&accept, 0.99)
    );
    println!(
        "  webhook -> outbound call: {} of {messages} replies delivered in {all_secs:.1} s ({:.0}/s); delay p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        delays.len(),
        delays.len() as f64 / all_secs,
        pct(&delays, 0.5),
        pct(&delays, 0.99),
        pct(&delays, 1.0)
    );
    anyhow::ensure!(delays.len() == messages, "some replies never arrived");
    Ok(())
}

pub async fn imap(messages: usize, database_url: Option<String>) -> anyhow::Result<()> {
    use frontdesk_mail::testing::MailServers;
    let servers = MailServers::start().context("Dovecot/aiosmtpd are not available (scripts/mail-servers.sh)")?;
    let tmp = tempfile::tempdir()?;
    let app = app(database_url, tmp.path()).await?;
    let state = app.state.clone();
    let backend = if state.settings.database_url.starts_with("postgres") { "postgres" } else { "sqlite" };
    tokio::spawn(app.run_until(std::future::pending()));
    // Let the background poller's first round pass: the channel created after it is
    // read only by the timed poll below (else both race for the mailbox).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let imap = servers.imap_config(frontdesk_mail::ImapTls::StartTls);
    let smtp = servers.smtp_config(frontdesk_mail::SmtpSecurity::Plain, false);
    let mut secrets = std::collections::BTreeMap::new();
    secrets.insert("imap_password".to_owned(), imap.password.clone());
    let channel = state
        .store
        .create_channel(
            &Actor::system("bench"),
            NewChannel {
                kind: Channel::Email,
                name: "bench".into(),
                agent_deployed: true,
                destination: "inbox".into(),
                config: json!({"address": "support@shop.test", "max_replies_per_hour": 1000,
                    "imap": {"host": imap.host, "port": imap.port, "security": "starttls", "username": imap.username,
                             "accept_invalid_certs": true, "poll_secs": 3600},
                    "smtp": {"host": smtp.host, "port": smtp.port, "security": "plain"}}),
                secrets,
                key_hash: None,
            },
        )
        .await?;
    let questions = ["How much does Nimbus Notes cost?", "Is there a free trial?", "How do I reset my password?"];
    let mails: Vec<Vec<u8>> = (0..messages)
        .map(|i| {
            format!(
                "From: Customer {i} <c{i}@customer.test>\r\nTo: support@shop.test\r\nSubject: Question {i}\r\n\
                 Message-ID: <q{i}@customer.test>\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n\
                 Content-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
                questions[i % 3]
            )
            .into_bytes()
        })
        .collect();
    servers.deliver_many(&mails);
    println!("bench imap: backend={backend}, a mailbox of {messages} messages (Dovecot on loopback, STARTTLS)");
    let started = Instant::now();
    let processed = frontdesk_engine::channels::email::poll_channel(&state, &channel).await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "  read, parsed, answered and stored: {processed} messages in {secs:.1} s = {:.0} messages/s",
        processed as f64 / secs
    );
    let again = Instant::now();
    let second = frontdesk_engine::channels::email::poll_channel(&state, &channel).await?;
    println!("  a second poll: {second} new messages in {:.0} ms", again.elapsed().as_secs_f64() * 1e3);
    Ok(())
}
