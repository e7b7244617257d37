//! `frontdesk bench retrieval --database-url URL`: retrieval end to end
//! against a store, as the agent does it for each question — search the
//! index (BM25, or fused with vectors) for the top 8, then load those chunks
//! from the store. The store is filled with the synthetic corpus of the
//! in-memory benchmark (50 chunks per source) and the index rebuilt from it
//! as at start-up.
//!
//! Vectors: embedding 100,000 chunks with MiniLM takes hours on this
//! machine (~9 chunks/s), so with the model present every chunk gets a
//! random unit vector instead. Search cost does not depend on the vectors'
//! values (exact search reads them all); the question itself is embedded by
//! the real model, as in production.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use frontdesk_agent::knowledge::{Knowledge, Retriever};
use frontdesk_knowledge::index::Synthetic;
use frontdesk_store::{source_kind, Actor, Extracted, NewChunk, NewSource, Store};

const PER_SOURCE: usize = 50;
const TITLE_PREFIX: &str = "bench-retrieval-";
/// What the agent asks the index for.
const TOP_K: usize = 8;

pub(super) fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3
}

/// Fills an empty store with `n` synthetic chunks, or reuses one this
/// command filled before with the same number.
pub(super) async fn fill(store: &dyn Store, n: usize) -> anyhow::Result<()> {
    let existing = store.list_sources(None).await?;
    if !existing.is_empty() {
        let ours = existing.iter().all(|s| s.title.starts_with(TITLE_PREFIX));
        let count: i64 = existing.iter().map(|s| s.chunk_count).sum();
        anyhow::ensure!(
            ours && count == n as i64,
            "the database holds other content ({} sources, {count} chunks): use a fresh database",
            existing.len()
        );
        println!("  reusing the {count} chunks already in the store");
        return Ok(());
    }
    let started = Instant::now();
    let mut corpus = Synthetic::new();
    let actor = Actor::system("bench");
    let mut id = 0;
    let mut source_no = 0;
    while id < n {
        let source = store
            .create_source(
                &actor,
                NewSource {
                    kind: source_kind::URL.into(),
                    title: format!("{TITLE_PREFIX}{source_no}"),
                    url: Some(format!("https://bench.example/{source_no}")),
                    article_id: None,
                    file_id: None,
                    citations_enabled: true,
                    private: false,
                },
            )
            .await?;
        let chunks: Vec<NewChunk> = (0..PER_SOURCE.min(n - id))
            .map(|k| {
                let c = corpus.chunk(id + k);
                NewChunk {
                    ordinal: k as i64,
                    title: c.title,
                    heading_path: c.heading_path,
                    locator: c.locator,
                    text: c.text,
                    lang: c.lang,
                }
            })
            .collect();
        id += chunks.len();
        let text = chunks.iter().map(|c| c.text.as_str()).collect::<Vec<_>>().join("\n\n");
        let extracted =
            Extracted { title: None, content_hash: format!("bench-{source_no}"), text, chunks, truncated: None };
        store.replace_chunks(source.id, extracted).await?;
        source_no += 1;
    }
    println!("  store filled with {n} chunks in {source_no} sources in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Gives every chunk without one a random unit vector (see the module doc).
pub(super) async fn random_vectors(store: &dyn Store, dims: usize) -> anyhow::Result<usize> {
    let mut seed = 0x1234_5678_9ABC_DEF0u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f32 / (1u64 << 53) as f32 - 0.5
    };
    let mut done = 0;
    loop {
        let batch = store.chunks_missing_embedding(2000).await?;
        if batch.is_empty() {
            return Ok(done);
        }
        let rows: Vec<(i64, Vec<u8>)> = batch
            .iter()
            .map(|(id, _, _)| {
                let mut v: Vec<f32> = (0..dims).map(|_| next()).collect();
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-9);
                v.iter_mut().for_each(|x| *x /= norm);
                (*id, frontdesk_embed::to_bytes(&v))
            })
            .collect();
        store.set_chunk_embeddings(&rows).await?;
        done += rows.len();
    }
}

/// Times `queries` questions: search, then load the hits from the store.
async fn time_queries(
    knowledge: &Knowledge,
    store: &dyn Store,
    queries: &[(String, &'static str)],
    retriever: Retriever,
) -> anyhow::Result<(Vec<Duration>, Vec<Duration>, Vec<Duration>)> {
    let (mut total, mut search, mut load) = (Vec::new(), Vec::new(), Vec::new());
    for (i, (q, lang)) in queries.iter().enumerate() {
        let t = Instant::now();
        let hits = knowledge.search_with(q, lang, TOP_K, retriever).await?;
        let searched = t.elapsed();
        let ids: Vec<i64> = hits.iter().map(|h| h.chunk_id).collect();
        let chunks = store.chunks_by_ids(&ids).await?;
        anyhow::ensure!(chunks.len() == ids.len(), "the store returned {} of {} chunks", chunks.len(), ids.len());
        // The first few warm caches up and are not counted.
        if i >= 20 {
            total.push(t.elapsed());
            search.push(searched);
            load.push(t.elapsed() - searched);
        }
    }
    total.sort();
    search.sort();
    load.sort();
    Ok((total, search, load))
}

fn report(label: &str, (total, search, load): &(Vec<Duration>, Vec<Duration>, Vec<Duration>)) {
    println!(
        "  {label}: {} questions, p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms (search p50 {:.2} / p99 {:.2} ms, loading the hits p50 {:.2} / p99 {:.2} ms)",
        total.len(),
        pct(total, 0.5),
        pct(total, 0.9),
        pct(total, 0.99),
        pct(search, 0.5),
        pct(search, 0.99),
        pct(load, 0.5),
        pct(load, 0.99),
    );
}

pub async fn run(chunks: usize, queries: usize, url: &str, models_dir: &Path) -> anyhow::Result<()> {
    let backend = if url.starts_with("postgres") { "postgres" } else { "sqlite" };
    println!("bench retrieval: backend={backend}, {chunks} chunks, {queries} questions, top {TOP_K} + loading them from the store");
    let store = frontdesk_store::open(url).await.context("opening the store")?;
    fill(store.as_ref(), chunks).await?;
    let settings = frontdesk_server::config::Settings { models_dir: models_dir.to_path_buf(), ..Default::default() };
    let embedder = frontdesk_engine::ingest::load_embedder(&settings).await?.embedder;
    if let Some(e) = &embedder {
        let t = Instant::now();
        let n = random_vectors(store.as_ref(), e.dimensions()).await?;
        if n > 0 {
            println!("  {n} random {}-dimension vectors stored in {:.1} s", e.dimensions(), t.elapsed().as_secs_f64());
        }
    } else {
        println!("  no embedding model in {}: BM25 only (scripts/fetch-models.sh)", models_dir.display());
    }
    let tmp = tempfile::tempdir()?;
    let knowledge = Knowledge::open(tmp.path(), embedder.clone())?;
    knowledge.reset().await?;
    let t = Instant::now();
    knowledge.sync_index(store.as_ref(), true).await?;
    println!(
        "  index rebuilt from the store (as at start-up) in {:.1} s: {} chunks, {} vectors",
        t.elapsed().as_secs_f64(),
        knowledge.num_chunks(),
        knowledge.num_vectors()
    );

    let mut corpus = Synthetic::new();
    // Skip the chunks so the questions are the in-memory benchmark's.
    for id in 0..chunks {
        let _ = corpus.chunk(id);
    }
    let all: Vec<(String, &'static str)> = (0..queries + 20).map(|_| corpus.query()).collect();
    let bm25 = time_queries(&knowledge, store.as_ref(), &all, Retriever::Bm25).await?;
    report("BM25", &bm25);
    if embedder.is_some() {
        // Vectors are fused for questions in a language the model knows: English for MiniLM.
        let english: Vec<(String, &'static str)> = all.iter().filter(|(_, l)| *l == "en").cloned().collect();
        let fused = time_queries(&knowledge, store.as_ref(), &english, Retriever::Fused).await?;
        report("fused (English questions: BM25 + question embedding + vector search, RRF)", &fused);
        let bm25_en = time_queries(&knowledge, store.as_ref(), &english, Retriever::Bm25).await?;
        report("BM25 on the same English questions", &bm25_en);
    }
    match super::rss_mib(std::process::id()) {
        Some((peak, _)) => println!("  peak RSS of the process: {peak:.1} MiB"),
        None => println!("  peak RSS: not available"),
    }
    Ok(())
}
