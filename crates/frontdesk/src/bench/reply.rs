//! `frontdesk bench reply`: the agent's whole reply decision (guardrails,
//! short answers, retrieval over the store's chunks, composing, or the LLM
//! loop) timed per question, as `respond` runs it for a visitor — without
//! the HTTP and storage of the turn, which `bench chat` measures.
//!
//! With `--llm` the model is a scripted OpenAI-compatible server on
//! loopback streaming a fixed answer with a fixed delay per token, so the
//! figures separate the model's own time from the time Frontdesk adds.

use std::time::{Duration, Instant};

use frontdesk_agent::respond::{respond, Ask};
use frontdesk_knowledge::index::Synthetic;
use frontdesk_llm::testing::{openai_text, ScriptedServer};
use frontdesk_server::config::Settings;

use super::retrieval::{fill, pct, random_vectors};

fn stats(label: &str, mut v: Vec<Duration>) {
    v.sort();
    println!(
        "  {label}: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(&v, 0.50),
        pct(&v, 0.90),
        pct(&v, 0.99),
        pct(&v, 1.0)
    );
}

pub async fn run(
    chunks: usize,
    questions: usize,
    database_url: Option<String>,
    llm: bool,
    models_dir: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let url = database_url.unwrap_or_else(|| format!("sqlite://{}", tmp.path().join("bench.db").display()));
    let backend = if url.starts_with("postgres") { "postgres" } else { "sqlite" };
    println!(
        "bench reply: backend={backend}, {chunks} chunks, {questions} questions, responder={}, retrieval={}",
        if llm { "llm (scripted server on loopback)" } else { "built-in" },
        if models_dir.is_some() { "bm25 + vectors (e5)" } else { "bm25" }
    );
    let store = frontdesk_store::open(&url).await?;
    fill(store.as_ref(), chunks).await?;
    if models_dir.is_some() {
        let started = Instant::now();
        // Recorded as e5's, so that startup keeps them rather than re-embedding.
        store.switch_embedding_model(&frontdesk_store::Actor::system("bench"), "multilingual-e5-small", 384).await?;
        let n = random_vectors(store.as_ref(), 384).await?;
        println!(
            "  {n} chunk vectors stored in {:.1} s (random unit vectors, 384 dimensions)",
            started.elapsed().as_secs_f64()
        );
    }
    drop(store);
    let server = if llm {
        let s = ScriptedServer::start().await;
        // 12 streamed pieces, 2 ms apart: a fast local model.
        let pieces = ["Deleted ", "files ", "stay ", "in ", "the ", "Trash ", "for ", "30 ", "days ", "[1]", ".", ""];
        s.set_fallback(Some(openai_text(&pieces).delay_each(Duration::from_millis(2))));
        Some(s)
    } else {
        None
    };
    let settings = Settings {
        database_url: url,
        data_dir: tmp.path().join("data"),
        listen: "127.0.0.1:0".into(),
        run_worker: false,
        embeddings: models_dir.is_some(),
        models_dir: models_dir.clone().unwrap_or_default(),
        embedding_model: "multilingual-e5-small".into(),
        llm_url: server.as_ref().map(|s| s.base_url()).unwrap_or_default(),
        ..Settings::default()
    };
    std::fs::create_dir_all(&settings.data_dir)?;
    let app = frontdesk_server::startup::Application::build(settings).await?;
    let state = app.state.clone();
    let agent = state.agent.snapshot().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if models_dir.is_some() {
        let k = &state.agent.knowledge;
        anyhow::ensure!(
            k.embedder().is_some_and(|e| e.name() == "multilingual-e5-small") && k.num_vectors() == chunks,
            "embeddings: multilingual-e5-small must be in --models-dir (scripts/fetch-models.sh e5) and every chunk's vector loaded ({} of {chunks})",
            k.num_vectors()
        );
        println!("  vectors: {} loaded, questions embedded by multilingual-e5-small", k.num_vectors());
    }

    let mut corpus = Synthetic::new();
    for id in 0..chunks {
        let _ = corpus.chunk(id);
    }
    let qs: Vec<String> = (0..questions + 20).map(|_| corpus.query().0).collect();
    // A repeated question's vector comes from the recent questions: say how many repeat.
    let distinct = qs[20..].iter().collect::<std::collections::HashSet<_>>().len();
    println!("  {distinct} distinct questions of {questions} measured");
    let (mut total, mut added, mut first) = (Vec::new(), Vec::new(), Vec::new());
    let mut outcomes = std::collections::BTreeMap::<&'static str, usize>::new();
    for (i, q) in qs.iter().enumerate() {
        let started = Instant::now();
        let reply = respond(&state.agent, &agent, &Ask::new(q.clone())).await;
        let elapsed = started.elapsed();
        if i < 20 {
            continue; // warm-up
        }
        *outcomes.entry(reply.outcome.label()).or_default() += 1;
        total.push(elapsed);
        if let Some(t) = reply.trace.llm {
            added.push(elapsed.saturating_sub(Duration::from_micros(t.model_us)));
            if let Some(ft) = t.first_token_us {
                let before_run = elapsed.saturating_sub(Duration::from_micros(t.total_us));
                first.push(before_run + Duration::from_micros(ft));
            }
        }
    }
    stats("reply decision", total);
    if llm {
        stats("time Frontdesk adds beyond the model's own time", added);
        stats("time to the first streamed token", first);
    }
    println!("  outcomes: {outcomes:?}");
    if let Some((peak, _)) = super::rss_mib(std::process::id()) {
        println!("  peak RSS of the process: {peak:.1} MiB");
    }
    Ok(())
}
