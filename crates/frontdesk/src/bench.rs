//! `frontdesk bench chat`: simulated visitors over loopback HTTP against a
//! real server, printing messages/s, reply latency percentiles and the
//! server's peak memory. A benchmark, not a test: it prints figures.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Subcommand;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Concurrent visitors chatting with the agent (answers from short answers).
    Chat {
        /// Simulated visitors chatting at once.
        #[arg(long, default_value_t = 200)]
        visitors: usize,
        /// How long to run, in seconds.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Total visitor messages per second to offer, spread over the visitors
        /// (open loop); 0 sends as fast as replies come back (closed loop).
        #[arg(long, default_value_t = 0)]
        rate: u64,
        /// Benchmark a server that is already running (its base URL) instead of starting one.
        #[arg(long)]
        url: Option<String>,
    },
    /// Crawl and index a generated site served on loopback.
    Crawl {
        #[arg(long, default_value_t = 5000)]
        pages: usize,
        /// PostgreSQL URL for the store (default: a temporary SQLite file).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// BM25 search latency over a synthetic multilingual index. With the global
    /// `--database-url` (sqlite://FILE or postgres://…), end to end against that
    /// store: search + loading the hits, and fused with vectors when the model is there.
    Retrieval {
        /// Chunks in the index.
        #[arg(long, default_value_t = 100_000)]
        chunks: usize,
        /// Queries to time.
        #[arg(long, default_value_t = 2_000)]
        queries: usize,
        /// Where the embedding model is (store-backed runs time fused retrieval with it).
        #[arg(long, default_value = "./models")]
        models_dir: std::path::PathBuf,
    },
    /// The assignment decision of a handoff (round robin by load) with many
    /// users and teams; the global `--database-url` picks the store.
    Assign {
        #[arg(long, default_value_t = 1_000)]
        users: usize,
        #[arg(long, default_value_t = 100)]
        teams: usize,
        #[arg(long, default_value_t = 2_000)]
        handoffs: usize,
    },
    /// The agent's reply decision per question over a store of synthetic
    /// chunks (built-in responder, or `--llm` against a scripted model);
    /// the global `--database-url` picks the store (default a temporary SQLite file).
    Reply {
        #[arg(long, default_value_t = 100_000)]
        chunks: usize,
        #[arg(long, default_value_t = 2_000)]
        questions: usize,
        /// Time the LLM responder against a scripted streaming model on loopback.
        #[arg(long)]
        llm: bool,
        /// Retrieve with vectors too: every question is embedded by the real
        /// multilingual-e5-small (from --models-dir) and searched against one
        /// stored vector per chunk (random unit vectors: embedding 100,000
        /// passages would take hours, and a vector's values do not change what
        /// a search costs).
        #[arg(long)]
        embeddings: bool,
        #[arg(long, default_value = "./models")]
        models_dir: std::path::PathBuf,
    },
    /// Knowledge gaps: grouping unanswered questions into topics — speed over
    /// N noisy paraphrases of a labelled multilingual sample, and quality
    /// (pair precision/recall, purity); with embeddings too when the model is there.
    Gaps {
        /// Questions to group.
        #[arg(long, default_value_t = 10_000)]
        questions: usize,
        /// Where the embedding model is (a second run with vectors when present).
        #[arg(long, default_value = "./models")]
        models_dir: std::path::PathBuf,
    },
    /// Reports (G1–G11): generates conversations with their events (a year of
    /// traffic), rebuilds the rollup from the events, then times every report
    /// over HTTP; the global `--database-url` picks the store (default a
    /// temporary SQLite file).
    Reports {
        #[arg(long, default_value_t = 1_000_000)]
        conversations: usize,
        /// Timed requests per report and range.
        #[arg(long, default_value_t = 20)]
        runs: usize,
        /// Time the reports of the store as it is (filled by an earlier run), generating nothing.
        #[arg(long)]
        no_generate: bool,
    },
    /// Ingest throughput: every file under a folder through the upload pipeline
    /// (store file → extract → chunk → store chunks → index); the global
    /// `--database-url` picks the store (default a temporary SQLite file).
    Ingest {
        /// The folder (searched recursively).
        #[arg(long)]
        dir: std::path::PathBuf,
        /// Ingest the folder this many times (as distinct files), for a longer run.
        #[arg(long, default_value_t = 1)]
        repeat: usize,
        /// First write this many generated files of every supported format into the folder.
        #[arg(long)]
        generate: Option<usize>,
    },
    /// Custom-channel webhooks: inbound rate and the delay from an inbound
    /// post to the agent's reply reaching the system's webhook (loopback).
    Webhooks {
        #[arg(long, default_value_t = 2_000)]
        messages: usize,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
    },
    /// IMAP ingest: a mailbox of N messages in a real Dovecot on loopback,
    /// read into conversations with the agent's replies.
    Imap {
        #[arg(long, default_value_t = 10_000)]
        messages: usize,
    },
}

mod assign;
mod channels;
mod corpus;
mod gaps;
mod ingest;
mod reply;
mod reports;
mod retrieval;

/// Questions visitors ask: paraphrases of the demo's short answers.
const QUESTIONS: &[&str] = &[
    "how much does nimbus notes cost?",
    "is there a free trial",
    "How do I reset my password?",
    "how can i cancel my subscription",
    "Does it work offline?",
    "how do i export my notes",
    "Is my data encrypted?",
    "where is my data stored",
    "what is the storage limit",
    "Which platforms are supported?",
];

struct Server {
    child: Option<tokio::process::Child>,
    base: String,
    pid: Option<u32>,
    _dir: Option<tempfile_dir::TempDir>,
}

mod tempfile_dir {
    /// A directory removed on drop.
    pub struct TempDir(pub std::path::PathBuf);
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

async fn start_server(database_url: Option<String>) -> anyhow::Result<Server> {
    let dir = std::env::temp_dir().join(format!("frontdesk-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut cmd = tokio::process::Command::new(std::env::current_exe()?);
    cmd.arg("serve").arg("--demo").arg("--listen").arg("127.0.0.1:0").arg("--data-dir").arg(&dir);
    if let Some(url) = &database_url {
        cmd.arg("--database-url").arg(url);
    }
    cmd.env("FRONTDESK_LOG", "warn").stdout(Stdio::piped()).stderr(Stdio::inherit()).kill_on_drop(true);
    let mut child = cmd.spawn().context("starting the server")?;
    let pid = child.id();
    let stdout = child.stdout.take().context("server stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let base = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(rest) = line.split("listening on ").nth(1) {
                return Ok::<_, anyhow::Error>(rest.split_whitespace().next().unwrap_or_default().to_owned());
            }
        }
        anyhow::bail!("the server exited before listening")
    })
    .await
    .context("waiting for the server to listen")??;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Server { child: Some(child), base, pid, _dir: Some(tempfile_dir::TempDir(dir)) })
}

/// Peak and current resident memory of a process, in MiB (Linux).
pub(crate) fn rss_mib(pid: u32) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

async fn visitor(
    client: reqwest::Client,
    base: Arc<String>,
    n: usize,
    deadline: Instant,
    interval: Option<Duration>,
) -> anyhow::Result<(Vec<Duration>, usize)> {
    let s: Value = client
        .post(format!("{base}/api/v1/chat/sessions"))
        .json(&json!({}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = s["conversation_id"].as_i64().context("conversation_id")?;
    let token = s["visitor_token"].as_str().context("visitor_token")?.to_owned();
    let url = format!("{base}/api/v1/chat/conversations/{id}/messages");
    let mut latencies = Vec::new();
    let mut answered = 0;
    let mut i = n;
    // Open loop: each visitor sends on its own schedule, offset so visitors do not send in lockstep.
    let mut ticker = interval.map(|every| {
        let offset = every.mul_f64((n % 100) as f64 / 100.0);
        let mut t = tokio::time::interval_at(tokio::time::Instant::now() + offset, every);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    while Instant::now() < deadline {
        if let Some(t) = ticker.as_mut() {
            t.tick().await;
            if Instant::now() >= deadline {
                break;
            }
        }
        let q = QUESTIONS[i % QUESTIONS.len()];
        i += 1;
        let t = Instant::now();
        let r = client.post(&url).bearer_auth(&token).json(&json!({"text": q})).send().await?;
        anyhow::ensure!(r.status() == 201, "posting a message answered {}", r.status());
        let created: Value = r.json().await?;
        latencies.push(t.elapsed());
        // Now and then, check that the agent really answered.
        if latencies.len() % 25 == 1 {
            let after = created["id"].as_i64().unwrap_or(0);
            let ms: Value = client.get(format!("{url}?after={after}")).bearer_auth(&token).send().await?.json().await?;
            if ms.as_array().is_some_and(|a| a.iter().any(|m| m["author"] == "agent")) {
                answered += 1;
            } else {
                anyhow::bail!("the agent did not answer {q:?}");
            }
        }
    }
    Ok((latencies, answered))
}

pub async fn run(cmd: BenchCommand, database_url: Option<String>) -> anyhow::Result<()> {
    let (visitors, seconds, rate, url) = match cmd {
        BenchCommand::Chat { visitors, seconds, rate, url } => (visitors, seconds, rate, url),
        BenchCommand::Crawl { pages, database_url } => return bench_crawl(pages, database_url).await,
        BenchCommand::Webhooks { messages, concurrency } => {
            return channels::webhooks(messages, concurrency, database_url).await
        }
        BenchCommand::Imap { messages } => return channels::imap(messages, database_url).await,
        BenchCommand::Assign { users, teams, handoffs } => {
            return assign::run(users, teams, handoffs, database_url).await
        }
        BenchCommand::Reply { chunks, questions, llm, embeddings, models_dir } => {
            let vectors = embeddings.then_some(models_dir);
            return reply::run(chunks, questions, database_url, llm, vectors).await;
        }
        BenchCommand::Gaps { questions, models_dir } => {
            return tokio::task::spawn_blocking(move || gaps::run(questions, &models_dir)).await?
        }
        BenchCommand::Reports { conversations, runs, no_generate } => {
            return reports::run(conversations, runs, database_url, !no_generate).await
        }
        BenchCommand::Ingest { dir, repeat, generate } => {
            return ingest::run(dir, database_url, repeat, generate).await
        }
        BenchCommand::Retrieval { chunks, queries, models_dir } if database_url.is_some() => {
            let url = database_url.unwrap_or_default();
            return retrieval::run(chunks, queries, &url, &models_dir).await;
        }
        BenchCommand::Retrieval { chunks, queries, .. } => {
            let started = Instant::now();
            let (p50, p99) =
                tokio::task::spawn_blocking(move || frontdesk_knowledge::index::bench_search(chunks, queries)).await?;
            println!("bench retrieval: {chunks} chunks, {queries} queries (top 10), BM25");
            println!(
                "  search latency: p50 {p50:.2} ms, p99 {p99:.2} ms (total run incl. indexing {:.1} s)",
                started.elapsed().as_secs_f64()
            );
            return Ok(());
        }
    };
    let interval = (rate > 0).then(|| Duration::from_secs_f64(visitors as f64 / rate as f64));
    let mut server = match url {
        Some(u) => Server { child: None, base: u.trim_end_matches('/').to_owned(), pid: None, _dir: None },
        None => start_server(database_url.clone()).await?,
    };
    let backend = match &database_url {
        Some(u) if u.starts_with("postgres") => "postgres",
        _ => "sqlite",
    };
    let client = reqwest::Client::builder().pool_max_idle_per_host(visitors).build()?;
    let base = Arc::new(server.base.clone());
    // Warm up: one conversation so the answer index is built.
    visitor(client.clone(), base.clone(), 0, Instant::now() + Duration::from_millis(200), None).await?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let tasks: Vec<_> =
        (0..visitors).map(|n| tokio::spawn(visitor(client.clone(), base.clone(), n, deadline, interval))).collect();
    let mut all = Vec::new();
    let mut checked = 0;
    for t in tasks {
        let (lat, ok) = t.await??;
        all.extend(lat);
        checked += ok;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let mode = if rate > 0 { format!("open loop, offered {rate} messages/s") } else { "closed loop".to_owned() };
    println!("bench chat: backend={backend} visitors={visitors} duration={elapsed:.1}s ({mode})");
    println!(
        "  visitor messages: {} ({:.0} messages/s), each answered by the agent ({checked} spot-checked)",
        all.len(),
        all.len() as f64 / elapsed
    );
    println!(
        "  reply latency (message in -> agent reply stored): p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&all, 0.50).as_secs_f64() * 1e3,
        percentile(&all, 0.90).as_secs_f64() * 1e3,
        percentile(&all, 0.99).as_secs_f64() * 1e3,
        all.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    match server.pid.and_then(rss_mib) {
        Some((peak, now)) => println!("  server memory: peak RSS {peak:.1} MiB, current RSS {now:.1} MiB"),
        None => println!("  server memory: not measured (external server)"),
    }
    if let Some(mut c) = server.child.take() {
        let _ = c.kill().await;
    }
    Ok(())
}

const WORDS: &[&str] = &[
    "account", "invoice", "refund", "storage", "password", "sharing", "folder", "sync", "desktop", "mobile", "plan",
    "upgrade", "team", "member", "security", "backup", "version", "restore", "export", "import", "limit", "quota",
    "billing", "receipt", "support", "contact", "hours", "region", "privacy", "download",
];

/// A generated help page: a title, three paragraphs, links to other pages.
fn site_page(i: usize, n: usize) -> String {
    let w = |k: usize| WORDS[(i * 7 + k * 13) % WORDS.len()];
    let links: String = [i + 1, i * 2 + 1, i * 3 + 2, i / 2]
        .iter()
        .map(|j| format!("<a href=\"/help/{}\">Topic {}</a> ", j % n, j % n))
        .collect();
    format!(
        "<html><head><title>Topic {i}</title></head><body><nav>{links}</nav><main><h1>Topic {i}: {} and {}</h1>\
         <p>Article {i} explains how the {} works with your {}. It takes {} minutes and applies to every {} plan.</p>\
         <h2>Details</h2><p>When the {} reaches its {}, contact support. Reference code T{i}-{}.</p>\
         <p>See also the {} and {} guides for more about {}.</p></main><footer>© Bench</footer></body></html>",
        w(0),
        w(1),
        w(2),
        w(3),
        i % 60 + 1,
        w(4),
        w(5),
        w(6),
        i * 31 % 997,
        w(7),
        w(8),
        w(9)
    )
}

async fn bench_crawl(pages: usize, database_url: Option<String>) -> anyhow::Result<()> {
    use axum::extract::{Path as AxPath, State as AxState};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let n = pages.max(1);
    let sitemap: String = (0..n).map(|i| format!("<url><loc>{base}/help/{i}</loc></url>")).collect();
    let sitemap = format!("<urlset>{sitemap}</urlset>");
    let app = axum::Router::new()
        .route("/robots.txt", axum::routing::get(|| async { "User-agent: *\nDisallow: /admin\n" }))
        .route("/sitemap.xml", axum::routing::get(move || async move { sitemap }))
        .route(
            "/help/{i}",
            axum::routing::get(|AxState(n): AxState<usize>, AxPath(i): AxPath<usize>| async move {
                axum::response::Html(site_page(i, n))
            }),
        )
        .with_state(n);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let tmp = tempfile::tempdir()?;
    let url = database_url.unwrap_or_else(|| format!("sqlite://{}", tmp.path().join("bench.db").display()));
    let store = frontdesk_store::open(&url).await?;
    let settings = frontdesk_server::config::Settings {
        data_dir: tmp.path().to_path_buf(),
        allow_private_networks: true,
        crawl_delay_ms: 0,
        crawl_concurrency: 8,
        ..Default::default()
    };
    let knowledge = frontdesk_agent::knowledge::Knowledge::open(tmp.path(), None)?;
    let state = frontdesk_server::state::AppState::new(store, settings, knowledge);
    let actor = frontdesk_store::Actor::system("bench");
    let source = state
        .store
        .create_source(
            &actor,
            frontdesk_store::NewSource {
                kind: frontdesk_store::source_kind::URL.into(),
                title: base.clone(),
                url: Some(format!("{base}/help/0")),
                article_id: None,
                file_id: None,
                citations_enabled: true,
                private: false,
            },
        )
        .await?;
    state.store.set_crawl_settings(source.id, true, n as i64).await?;
    let started = Instant::now();
    loop {
        frontdesk_engine::crawler::crawl(&state, source.id).await?;
        let s = state.store.get_source(source.id).await?;
        if s.status != frontdesk_store::source_status::SYNCING {
            break;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let p = state.store.crawl_progress(source.id).await?;
    let s = state.store.get_source(source.id).await?;
    let backend = if url.starts_with("postgres") { "postgres" } else { "sqlite" };
    println!("bench crawl: backend={backend} site of {n} pages on loopback, concurrency 8");
    println!(
        "  crawled and indexed in {elapsed:.1} s ({:.0} pages/s): found {}, fetched {}, failed {}, skipped {}; {} chunks, {} in the index",
        p.fetched as f64 / elapsed,
        p.found,
        p.fetched,
        p.failed,
        p.skipped,
        s.chunk_count,
        state.agent.knowledge.num_chunks()
    );
    match rss_mib(std::process::id()) {
        Some((peak, _)) => {
            println!("  peak RSS of the process (crawler, store, index and the test site): {peak:.1} MiB")
        }
        None => println!("  peak RSS: not available"),
    }
    Ok(())
}
