//! Knowledge at run time: the sync job (extract → chunk → store) and the
//! search index, a cache kept in step with the store's chunks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use frontdesk_knowledge::chunk::{chunk, ChunkOptions};
use frontdesk_knowledge::extract::{extract, split_pages, ExtractError, Limits};
use frontdesk_knowledge::index::{Hit, Index};
use frontdesk_knowledge::Document;
use frontdesk_store::{source_kind, source_status, Extracted, NewChunk, NewJob, Source, Store};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use crate::state::AppState;

pub const SYNC_SOURCE: &str = "sync_source";

/// The search index and what it currently holds.
pub struct Knowledge {
    index: Index,
    /// Source id → the `last_synced_at` whose chunks are in the index.
    indexed: Mutex<HashMap<i64, i64>>,
    tmp_dir: PathBuf,
}

impl Knowledge {
    /// Opens (or recreates) the index under `data_dir/index`.
    pub fn open(data_dir: &Path) -> anyhow::Result<Knowledge> {
        let dir = data_dir.join("index");
        std::fs::create_dir_all(&dir)?;
        Ok(Knowledge {
            index: Index::open_or_create(&dir)?,
            indexed: Mutex::new(HashMap::new()),
            tmp_dir: data_dir.join("tmp"),
        })
    }

    /// An index in memory (evaluation, tests).
    pub fn in_memory(tmp_dir: &Path) -> anyhow::Result<Knowledge> {
        Ok(Knowledge {
            index: Index::in_memory()?,
            indexed: Mutex::new(HashMap::new()),
            tmp_dir: tmp_dir.to_path_buf(),
        })
    }

    /// Brings the index in line with the store: re-indexes sources whose
    /// chunks changed since they were indexed and drops removed ones. Cheap
    /// when nothing changed (one query of the sources list). Sources still
    /// syncing (a crawl in progress) are left as they are unless
    /// `include_syncing`: their own job indexes them at the end of each batch.
    pub async fn sync_index(&self, store: &dyn Store, include_syncing: bool) -> anyhow::Result<usize> {
        let mut indexed = self.indexed.lock().await;
        let sources = store.list_sources(None).await?;
        let mut changed = 0;
        let existing: std::collections::HashSet<i64> = sources.iter().map(|s| s.id).collect();
        let live: HashMap<i64, i64> = sources
            .iter()
            .filter(|s| s.status == source_status::READY || s.last_synced_at.is_some())
            .filter(|s| include_syncing || s.status != source_status::SYNCING)
            .map(|s| (s.id, s.last_synced_at.unwrap_or(0)))
            .collect();
        let gone: Vec<i64> = indexed.keys().filter(|id| !existing.contains(id)).copied().collect();
        for id in gone {
            self.index.delete_source(id)?;
            indexed.remove(&id);
            changed += 1;
        }
        for (id, synced) in &live {
            if indexed.get(id) == Some(synced) {
                continue;
            }
            self.index.delete_source(*id)?;
            for c in store.list_chunks(*id).await? {
                self.index.add(c.id, c.source_id, &to_chunk(&c))?;
            }
            indexed.insert(*id, *synced);
            changed += 1;
        }
        if changed > 0 {
            self.index.commit()?;
        }
        Ok(changed)
    }

    /// Forgets what is indexed, so the next sync re-adds everything (start-up).
    pub async fn reset(&self) -> anyhow::Result<()> {
        self.index.clear()?;
        self.index.commit()?;
        self.indexed.lock().await.clear();
        Ok(())
    }

    pub fn search(&self, query: &str, lang: &str, k: usize) -> anyhow::Result<Vec<Hit>> {
        Ok(self.index.search(query, lang, k)?)
    }

    pub fn num_chunks(&self) -> u64 {
        self.index.num_chunks()
    }
}

fn to_chunk(c: &frontdesk_store::StoredChunk) -> frontdesk_knowledge::Chunk {
    frontdesk_knowledge::Chunk {
        ordinal: c.ordinal,
        title: c.title.clone(),
        heading_path: c.heading_path.clone(),
        locator: c.locator.clone(),
        text: c.text.clone(),
        lang: c.lang.clone(),
    }
}

/// Queues a sync of one source (a job, so it survives restarts).
pub async fn enqueue_sync(state: &AppState, source_id: i64) -> anyhow::Result<Option<i64>> {
    Ok(state
        .store
        .enqueue_job(NewJob {
            kind: SYNC_SOURCE.into(),
            payload: json!({"source_id": source_id}),
            run_at: frontdesk_store::now_ms(),
            max_attempts: 3,
            dedupe_key: Some(format!("{SYNC_SOURCE}:{source_id}")),
        })
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

/// Extracts text, falling back to poppler's `pdftotext` for PDFs the
/// built-in parser cannot read.
async fn extract_document(tmp_dir: &Path, name: &str, bytes: Vec<u8>) -> Result<Document, ExtractError> {
    let limits = Limits::default();
    let (n, b) = (name.to_owned(), bytes.clone());
    let first = tokio::task::spawn_blocking(move || {
        std::panic::catch_unwind(|| extract(&n, &b, &limits))
            .unwrap_or_else(|_| Err(ExtractError::Corrupt { kind: "file", detail: "the parser crashed".into() }))
    })
    .await
    .unwrap_or_else(|_| Err(ExtractError::Corrupt { kind: "file", detail: "the parser crashed".into() }));
    match first {
        Err(ExtractError::Corrupt { kind: "PDF", ref detail })
        | Err(ExtractError::Corrupt { kind: "pdf", ref detail }) => match pdftotext(tmp_dir, &bytes).await {
            Some(text) if !text.trim().is_empty() => Ok(Document { title: None, sections: split_pages(&text) }),
            _ => Err(ExtractError::Corrupt { kind: "PDF", detail: detail.clone() }),
        },
        other => other,
    }
}

async fn pdftotext(tmp_dir: &Path, bytes: &[u8]) -> Option<String> {
    tokio::fs::create_dir_all(tmp_dir).await.ok()?;
    let path = tmp_dir.join(format!("pdf-{}.pdf", crate::auth::random_token("").get(..16)?));
    tokio::fs::write(&path, bytes).await.ok()?;
    let out = tokio::process::Command::new("pdftotext").arg("-enc").arg("UTF-8").arg(&path).arg("-").output().await;
    let _ = tokio::fs::remove_file(&path).await;
    let out = out.ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Syncs one source: extract, chunk, store (unchanged content costs nothing),
/// then bring the index in line. Failures of the content itself are recorded
/// on the source (they will not get better by retrying); store errors fail the job.
pub async fn sync_source(state: &AppState, source_id: i64) -> anyhow::Result<()> {
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
    store.set_source_status(source_id, source_status::SYNCING, None).await?;
    let doc = match extract_document(&state.knowledge.tmp_dir, &name, bytes).await {
        Ok(d) => d,
        Err(ExtractError::NeedsTranscription) => {
            store
                .set_source_status(source_id, source_status::NEEDS_TRANSCRIPTION, Some("needs a transcription engine"))
                .await?;
            return Ok(());
        }
        Err(e) => {
            store.set_source_status(source_id, source_status::ERROR, Some(&e.to_string())).await?;
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
    state.knowledge.sync_index(store, true).await?;
    Ok(())
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
