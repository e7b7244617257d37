//! `frontdesk bench ingest`: every file under a folder through the path an
//! upload takes — the file stored in the library (with its SHA-256), a file
//! source created, a `sync_source` job queued, and the job worker's own
//! `drain` running it (extract → chunk → store the chunks → index) — timed
//! file by file, as if they were uploaded one after another.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use frontdesk_agent::knowledge::Knowledge;
use frontdesk_knowledge::extract::kind_of;
use frontdesk_server::config::Settings;
use frontdesk_server::state::AppState;
use frontdesk_store::{source_kind, source_status, Actor, NewFile, NewSource};

#[derive(Default)]
struct PerType {
    files: usize,
    bytes: u64,
    time: Duration,
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

pub async fn run(
    dir: PathBuf,
    database_url: Option<String>,
    repeat: usize,
    generate: Option<usize>,
) -> anyhow::Result<()> {
    if let Some(n) = generate {
        let started = Instant::now();
        let bytes = super::corpus::generate(&dir, n)?;
        println!(
            "generated {n} files ({:.1} MB) in {} in {:.1} s",
            mb(bytes),
            dir.display(),
            started.elapsed().as_secs_f64()
        );
    }
    let files = crate::eval::files_under(&dir)?;
    anyhow::ensure!(!files.is_empty(), "no files under {}", dir.display());

    let tmp = tempfile::tempdir()?;
    let url = database_url.unwrap_or_else(|| format!("sqlite://{}", tmp.path().join("bench.db").display()));
    let store = frontdesk_store::open(&url).await.context("opening the store")?;
    anyhow::ensure!(
        store.list_sources(None).await?.is_empty(),
        "the database already holds sources: use a fresh one for the benchmark"
    );
    // BM25 only: embedding is a separate background job (~9 chunks/s with MiniLM), not ingestion.
    let settings = Settings { data_dir: tmp.path().to_path_buf(), embeddings: false, ..Settings::default() };
    let knowledge = Knowledge::open(tmp.path(), None)?;
    let state = AppState::new(store, settings, knowledge);
    let actor = Actor::system("bench");
    let backend = if url.starts_with("postgres") { "postgres" } else { "sqlite" };

    let mut by_type: BTreeMap<String, PerType> = BTreeMap::new();
    let (mut total_bytes, mut ingested, mut skipped) = (0u64, 0usize, 0usize);
    let started = Instant::now();
    for round in 0..repeat.max(1) {
        for path in &files {
            let rel = path.strip_prefix(&dir).unwrap_or(path).to_string_lossy().replace('\\', "/");
            let name = if repeat > 1 { format!("r{round}-{rel}") } else { rel.clone() };
            // What the upload API refuses never reaches the library.
            if kind_of(&name).is_err() {
                if round == 0 {
                    eprintln!("skipped (unsupported type): {rel}");
                }
                skipped += 1;
                continue;
            }
            let t = Instant::now();
            let data = tokio::fs::read(path).await?;
            let size = data.len() as u64;
            let sha256 = frontdesk_engine::ingest::file_sha256(&data);
            let file = state.store.create_file(&actor, NewFile { name: name.clone(), sha256, data }).await?;
            let source = state
                .store
                .create_source(
                    &actor,
                    NewSource {
                        kind: source_kind::FILE.into(),
                        title: name.clone(),
                        url: None,
                        article_id: None,
                        file_id: Some(file.id),
                        citations_enabled: true,
                        private: false,
                    },
                )
                .await?;
            frontdesk_engine::ingest::enqueue_sync(&state, source.id).await?;
            frontdesk_engine::worker::drain(&state, "bench").await?;
            let ext = rel.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
            let e = by_type.entry(ext).or_default();
            e.files += 1;
            e.bytes += size;
            e.time += t.elapsed();
            total_bytes += size;
            ingested += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();

    let sources = state.store.list_sources(None).await?;
    let chunks: i64 = sources.iter().map(|s| s.chunk_count).sum();
    let failed: Vec<_> = sources.iter().filter(|s| s.status != source_status::READY).collect();
    println!(
        "bench ingest: backend={backend}, {} files × {} = {ingested} ingested ({:.1} MB){}",
        files.len() - skipped / repeat.max(1),
        repeat.max(1),
        mb(total_bytes),
        if skipped > 0 { format!(", {skipped} skipped (unsupported)") } else { String::new() }
    );
    println!(
        "  stored, extracted, chunked, stored as chunks and indexed in {elapsed:.1} s: {:.2} MB/s, {:.1} files/s",
        mb(total_bytes) / elapsed,
        ingested as f64 / elapsed
    );
    println!(
        "  {chunks} chunks ({} in the index), {} failures",
        state.agent.knowledge.num_chunks(),
        failed.iter().filter(|s| s.status != source_status::NEEDS_TRANSCRIPTION).count()
    );
    for s in failed.iter().take(10) {
        println!("    {} {}: {}", s.status, s.title, s.error.as_deref().unwrap_or_default());
    }
    println!("  by type:     files       MB     s    MB/s  ms/file");
    for (ext, t) in &by_type {
        let secs = t.time.as_secs_f64();
        println!(
            "    {ext:<6} {:>9} {:>8.1} {:>5.1} {:>7.2} {:>8.1}",
            t.files,
            mb(t.bytes),
            secs,
            mb(t.bytes) / secs.max(1e-9),
            secs * 1e3 / t.files.max(1) as f64
        );
    }
    match super::rss_mib(std::process::id()) {
        Some((peak, _)) => println!("  peak RSS of the process: {peak:.1} MiB"),
        None => println!("  peak RSS: not available"),
    }
    Ok(())
}
