//! Knowledge ingestion: the sync job (extract → chunk → store, media through
//! the transcription engine), embedding of new chunks, and loading the
//! embedder at start. The search side is `frontdesk_agent::knowledge`.

use std::path::Path;

use crate::job::Job;
use frontdesk_embed::{Embedder, LoadedEmbedder};
use frontdesk_knowledge::chunk::{chunk, ChunkOptions};
use frontdesk_knowledge::extract::{kind_of, split_pages, ExtractError, Kind};
use frontdesk_knowledge::{Document, Truncation};
use frontdesk_store::{source_kind, source_status, Extracted, NewChunk, Source, Store};
use sha2::{Digest, Sha256};

use crate::extract_child::{self, extract_limited, ExtractFailure, ExtractLimits};
use crate::transcribe::Transcriber;
use crate::Engine;

/// Why a media source waits (shown with its `needs_transcription` status).
pub const NEEDS_ENGINE: &str = "needs a transcription engine";

/// The embedder the settings ask for (`embedding_model`, `models_dir`, `embedding_url`
/// …), loaded off the async threads — the one place the server, `frontdesk eval` and
/// the benchmarks get it from. Fails only on invalid settings; a missing or corrupt
/// model file or an unreachable endpoint gives no embedder or a failing status, and
/// retrieval runs on BM25.
pub async fn load_embedder(settings: &crate::config::Settings) -> anyhow::Result<LoadedEmbedder> {
    let cfg = settings.embedder_config()?;
    Ok(tokio::task::spawn_blocking(move || frontdesk_embed::load_embedder(&cfg)).await??)
}

/// Makes the stored vectors match `embedder`: when the store's record of the embedder
/// that made them (name and dimensions) differs, every chunk vector is cleared in one
/// transaction with an audit row, and the caller's `enqueue_embed` then re-embeds them
/// in the background (search runs on BM25, and on vectors as they come back, meanwhile).
/// Returns how many vectors were cleared, `None` when nothing changed.
pub async fn match_stored_vectors(store: &dyn Store, embedder: &dyn Embedder) -> anyhow::Result<Option<u64>> {
    let dims = embedder.dimensions();
    if dims == 0 {
        return Ok(None); // An endpoint that has not told its size yet: decide later.
    }
    let (old_name, old_dims) = store.embedding_model().await?;
    let changed =
        store.switch_embedding_model(&frontdesk_store::Actor::system("startup"), embedder.name(), dims as i64).await?;
    if let Some(cleared) = changed {
        tracing::warn!(
            from = %old_name, from_dimensions = old_dims, to = embedder.name(), to_dimensions = dims, cleared,
            "embedding model changed: stored vectors cleared, every chunk is re-embedded in the background"
        );
    }
    Ok(changed)
}

/// Queues embedding of the chunks that have none (when a model is loaded).
pub async fn enqueue_embed(state: &Engine) -> anyhow::Result<()> {
    if state.agent.knowledge.embedder().is_some() {
        state
            .store
            .enqueue_job(Job::EmbedChunks.to_new(frontdesk_store::now_ms(), 5, Some(Job::EmbedChunks.kind().into())))
            .await?;
    }
    Ok(())
}

/// Embeds chunks that have no vector yet, for up to `budget`; returns how
/// many it embedded and whether some remain.
pub async fn embed_pending(state: &Engine, budget: std::time::Duration) -> anyhow::Result<(usize, bool)> {
    let Some(embedder) = state.agent.knowledge.embedder().cloned() else { return Ok((0, false)) };
    let started = std::time::Instant::now();
    let mut done = 0;
    loop {
        let batch = state.store.chunks_missing_embedding(32).await?;
        if batch.is_empty() {
            return Ok((done, false));
        }
        let texts: Vec<String> = batch.iter().map(|(_, _, t)| t.clone()).collect();
        // With e5, the chunks' sentences too, in the same blocking task: which
        // of them are addressed to the assistant (instructions hidden in content).
        let model = frontdesk_knowledge::addressed::addressed_model_for(Some(embedder.name()));
        let sentences: Vec<(i64, String)> = match &model {
            Some(_) => {
                let ids: Vec<i64> = batch.iter().map(|(id, _, _)| *id).collect();
                let chunks = state.store.chunks_by_ids(&ids).await?;
                chunks
                    .iter()
                    .flat_map(|c| frontdesk_knowledge::answer::sentences(&c.text).into_iter().map(|s| (c.id, s)))
                    .collect()
            }
            None => Vec::new(),
        };
        let e = embedder.clone();
        let sentence_texts: Vec<String> = sentences.iter().map(|(_, s)| s.clone()).collect();
        let (vectors, sentence_vectors) = tokio::task::spawn_blocking(move || {
            let v = e.embed(&texts)?;
            let s = if sentence_texts.is_empty() { Vec::new() } else { e.embed_query(&sentence_texts)? };
            Ok::<_, frontdesk_embed::EmbedError>((v, s))
        })
        .await??;
        if let Some(model) = &model {
            let mut flags: std::collections::HashMap<i64, Vec<String>> =
                batch.iter().map(|(id, _, _)| (*id, Vec::new())).collect();
            for ((id, s), v) in sentences.into_iter().zip(&sentence_vectors) {
                if model.addressed(v).is_some() {
                    flags.entry(id).or_default().push(s);
                }
            }
            let flags: Vec<(i64, Vec<String>)> = flags.into_iter().collect();
            // Before the vectors: a chunk counts as embedded only once it is checked.
            state.store.set_chunk_addressed(&flags).await?;
        }
        let rows: Vec<(i64, Vec<u8>)> =
            batch.iter().zip(&vectors).map(|((id, _, _), v)| (*id, frontdesk_embed::to_bytes(v))).collect();
        state.store.set_chunk_embeddings(&rows).await?;
        state
            .agent
            .knowledge
            .upsert_vectors(batch.into_iter().zip(vectors).map(|((id, source, _), v)| (id, source, v)));
        done += rows.len();
        if started.elapsed() >= budget {
            return Ok((done, true));
        }
    }
}

/// Queues a sync of one source (a job, so it survives restarts).
pub async fn enqueue_sync(state: &Engine, source_id: i64) -> anyhow::Result<Option<i64>> {
    Ok(state
        .store
        .enqueue_job(Job::SyncSource { source_id }.to_new(
            frontdesk_store::now_ms(),
            3,
            Some(format!("sync_source:{source_id}")),
        ))
        .await?)
}

/// What a source's content is: a file name (for its type) and bytes.
async fn content_of(store: &dyn Store, source: &Source) -> anyhow::Result<Option<(String, Vec<u8>)>> {
    Ok(match source.kind.as_str() {
        source_kind::ARTICLE => {
            let Some(id) = source.article_id else { return Ok(None) };
            let a = store.get_article(id).await?;
            if !a.published {
                return Ok(None);
            }
            Some((format!("{}.md", a.slug), format!("# {}\n\n{}", a.title, a.body).into_bytes()))
        }
        source_kind::FILE => {
            let Some(id) = source.file_id else { return Ok(None) };
            let (meta, data) = store.get_file(id).await?;
            Some((meta.name, data))
        }
        _ => None,
    })
}

/// Extracts text in a child process under the `extract_*` limits
/// ([`crate::extract_child`]), falling back to poppler's `pdftotext` (under the
/// same limits) for PDFs the built-in parser cannot read.
async fn extract_document(
    limits: &ExtractLimits,
    tmp_dir: &Path,
    name: &str,
    bytes: Vec<u8>,
) -> Result<Document, ExtractFailure> {
    let first = extract_limited(limits, name, bytes.clone()).await;
    match first {
        Err(ExtractFailure::Extract(ExtractError::Corrupt { kind: "PDF" | "pdf", ref detail })) => {
            match extract_child::pdftotext(limits, tmp_dir, &bytes).await? {
                Some(text) if !text.trim().is_empty() => {
                    let cap = limits.limits.max_text_chars;
                    let total = text.chars().count() as u64;
                    let text = if total as usize > cap { text.chars().take(cap).collect() } else { text };
                    let sections = split_pages(&text);
                    let kept = sections.iter().map(|s| s.text.chars().count() as u64).sum::<u64>();
                    let truncated =
                        (total as usize > cap).then_some(Truncation { kept, total, total_is_lower_bound: false });
                    Ok(Document { title: None, sections, truncated })
                }
                _ => Err(ExtractError::Corrupt { kind: "PDF", detail: detail.clone() }.into()),
            }
        }
        other => other,
    }
}

/// Syncs one source: extract, chunk, store (unchanged content costs nothing),
/// then bring the index in line. Failures of the content itself are recorded
/// on the source (they will not get better by retrying); store errors fail the job.
pub async fn sync_source(state: &Engine, source_id: i64) -> anyhow::Result<()> {
    let store = state.store.as_ref();
    let source = match store.get_source(source_id).await {
        Ok(s) => s,
        Err(frontdesk_store::StoreError::NotFound(_)) => return Ok(()), // removed meanwhile
        Err(e) => return Err(e.into()),
    };
    let Some((name, bytes)) = content_of(store, &source).await? else {
        store.set_source_status(source_id, source_status::ERROR, Some("this source has no content to sync")).await?;
        return Ok(());
    };
    // A file never changes once uploaded: a media file already transcribed is not sent to
    // the (slow, possibly paid) engine again by the weekly re-sync or "re-sync now".
    if matches!(kind_of(&name), Ok(Kind::Media))
        && source.status == source_status::READY
        && source.last_synced_at.is_some()
        && source.file_id.is_some()
    {
        return Ok(());
    }
    store.set_source_status(source_id, source_status::SYNCING, None).await?;
    let tmp_dir = state.agent.knowledge.tmp_dir();
    let document = match (kind_of(&name), Transcriber::from_settings(&state.settings)) {
        // Audio and video: their transcript is the document (B2).
        (Ok(Kind::Media), Some(t)) => t.transcribe(tmp_dir, &name, &bytes).await.map_err(|e| e.to_string()),
        _ => match extract_document(&ExtractLimits::from_settings(&state.settings), tmp_dir, &name, bytes).await {
            Err(ExtractFailure::Extract(ExtractError::NeedsTranscription)) => {
                store.set_source_status(source_id, source_status::NEEDS_TRANSCRIPTION, Some(NEEDS_ENGINE)).await?;
                return Ok(());
            }
            other => other.map_err(|e| e.to_string()),
        },
    };
    let doc = match document {
        Ok(d) => d,
        Err(message) => {
            store.set_source_status(source_id, source_status::ERROR, Some(&message)).await?;
            return Ok(());
        }
    };
    let extracted = prepare(&doc, &source.title);
    if source.content_hash.as_deref() == Some(extracted.content_hash.as_str()) && source.last_synced_at.is_some() {
        // Unchanged: no re-indexing.
        store.set_source_status(source_id, source_status::READY, None).await?;
        return Ok(());
    }
    store.replace_chunks(source_id, extracted).await?;
    state.agent.knowledge.sync_index(store, true).await?;
    enqueue_embed(state).await?;
    Ok(())
}

/// The SHA-256 a library file is stored with (hex), as the upload computes it.
pub fn file_sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Chunks a document and fingerprints its text.
pub fn prepare(doc: &Document, fallback_title: &str) -> Extracted {
    let chunks = chunk(doc, fallback_title, &ChunkOptions::default());
    let text: String = doc
        .sections
        .iter()
        .map(|s| {
            let mut t = String::new();
            if !s.heading_path.is_empty() {
                t.push_str(&s.heading_path.join(" › "));
                t.push('\n');
            }
            t.push_str(&s.text);
            t
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    let content_hash = hex::encode(Sha256::digest(text.as_bytes()));
    Extracted {
        title: doc.title.clone(),
        content_hash,
        text,
        truncated: doc.truncated.map(|t| frontdesk_store::Truncated {
            kept: t.kept as i64,
            total: t.total as i64,
            at_least: t.total_is_lower_bound,
        }),
        chunks: chunks
            .into_iter()
            .map(|c| NewChunk {
                ordinal: c.ordinal,
                title: c.title,
                heading_path: c.heading_path,
                locator: c.locator,
                text: c.text,
                lang: c.lang,
            })
            .collect(),
    }
}

/// "Re-sync now" (B5) and the weekly re-sync: files and articles are
/// extracted again, URL sources re-crawled (with conditional requests;
/// unchanged pages cost no re-indexing). Returns the job's id.
pub async fn resync(state: &Engine, id: i64) -> crate::Result<Option<i64>> {
    let source = state.store.get_source(id).await?;
    if source.kind == source_kind::URL {
        state.store.requeue_all_pages(id).await?;
        Ok(crate::crawler::enqueue_crawl(state, id).await?)
    } else {
        Ok(enqueue_sync(state, id).await?)
    }
}
