//! Storage of knowledge: knowledge-base articles, the file library, content
//! sources with their sync status, and the chunks the index is built from.

use async_trait::async_trait;
use serde::Serialize;

use crate::{Actor, StoreResult};

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Article {
    pub id: i64,
    pub slug: String,
    pub title: String,
    /// Markdown.
    pub body: String,
    pub category: String,
    pub language: String,
    pub published: bool,
    pub public: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub published_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewArticle {
    pub slug: String,
    pub title: String,
    pub body: String,
    pub category: String,
    pub language: String,
    pub public: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct FileMeta {
    pub id: i64,
    pub name: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewFile {
    pub name: String,
    pub sha256: String,
    pub data: Vec<u8>,
}

/// What a source is.
pub mod source_kind {
    pub const ARTICLE: &str = "article";
    pub const FILE: &str = "file";
    pub const URL: &str = "url";
    pub const ALL: &[&str] = &[ARTICLE, FILE, URL];
}

/// Where a source stands.
pub mod source_status {
    pub const PENDING: &str = "pending";
    pub const SYNCING: &str = "syncing";
    pub const READY: &str = "ready";
    pub const ERROR: &str = "error";
    pub const NEEDS_TRANSCRIPTION: &str = "needs_transcription";
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Source {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub url: Option<String>,
    pub article_id: Option<i64>,
    pub file_id: Option<i64>,
    pub citations_enabled: bool,
    /// Private content is never linked to a visitor (B7).
    pub private: bool,
    pub status: String,
    pub error: Option<String>,
    pub content_hash: Option<String>,
    pub chunk_count: i64,
    pub last_synced_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Set when the last sync indexed only part of the text: the first
    /// `truncated_kept` characters of `truncated_total` (of at least that many
    /// when `truncated_at_least`: the reader stopped early).
    pub truncated_kept: Option<i64>,
    pub truncated_total: Option<i64>,
    pub truncated_at_least: bool,
}

impl Source {
    /// "indexed the first 5,000,000 characters of 45,000,000", when the text was cut.
    pub fn truncation_note(&self) -> Option<String> {
        truncation_note(self.truncated_kept, self.truncated_total, self.truncated_at_least)
    }
}

/// "indexed the first N characters of [at least ]M", when both are known.
fn truncation_note(kept: Option<i64>, total: Option<i64>, at_least: bool) -> Option<String> {
    let (kept, total) = (kept?, total?);
    let of = if at_least { "at least " } else { "" };
    Some(format!("indexed the first {} characters of {of}{}", thousands(kept), thousands(total)))
}

/// 5000000 → "5,000,000".
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

#[derive(Debug, Clone)]
pub struct NewSource {
    pub kind: String,
    pub title: String,
    pub url: Option<String>,
    pub article_id: Option<i64>,
    pub file_id: Option<i64>,
    pub citations_enabled: bool,
    pub private: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewChunk {
    pub ordinal: i64,
    pub title: String,
    pub heading_path: Vec<String>,
    pub locator: Option<String>,
    pub text: String,
    pub lang: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredChunk {
    pub id: i64,
    pub source_id: i64,
    pub ordinal: i64,
    pub title: String,
    pub heading_path: Vec<String>,
    pub locator: Option<String>,
    pub text: String,
    pub lang: String,
    /// The page it came from, for crawled sources (citations link to it).
    pub url: Option<String>,
    /// Its sentences addressed to the assistant (instructions hidden in
    /// content), recognised by meaning when it was embedded: never quoted.
    pub addressed: Vec<String>,
}

/// A page of a crawled source.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct CrawlPage {
    pub id: i64,
    pub source_id: i64,
    pub url: String,
    pub depth: i64,
    pub status: String,
    pub title: Option<String>,
    pub content_hash: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub error: Option<String>,
    pub fetched_at: Option<i64>,
    /// Set when the page's text was cut at the extraction limit, as on a
    /// [`Source`]: the first `truncated_kept` characters of `truncated_total`.
    pub truncated_kept: Option<i64>,
    pub truncated_total: Option<i64>,
    pub truncated_at_least: bool,
}

impl CrawlPage {
    /// "indexed the first 2,000 characters of 9,000", when the page's text was cut.
    pub fn truncation_note(&self) -> Option<String> {
        truncation_note(self.truncated_kept, self.truncated_total, self.truncated_at_least)
    }
}

/// Page states.
pub mod page_status {
    pub const QUEUED: &str = "queued";
    pub const FETCHING: &str = "fetching";
    pub const FETCHED: &str = "fetched";
    pub const FAILED: &str = "failed";
    pub const SKIPPED: &str = "skipped";
}

/// How a fetched page ended.
#[derive(Debug, Clone)]
pub struct PageOutcome {
    pub status: &'static str,
    pub title: Option<String>,
    pub content_hash: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub error: Option<String>,
    /// `Some` replaces the page's chunks (empty: removes them); `None` leaves them.
    pub chunks: Option<Vec<NewChunk>>,
    /// The page's text was cut (recorded when the outcome has content: a
    /// content hash or chunks; otherwise the page's record is kept).
    pub truncated: Option<Truncated>,
}

/// Crawl progress of a source (B3), counted from its pages.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CrawlProgress {
    pub found: i64,
    pub queued: i64,
    pub fetched: i64,
    pub failed: i64,
    pub skipped: i64,
}

/// The outcome of extracting a source.
#[derive(Debug, Clone)]
pub struct Extracted {
    pub title: Option<String>,
    pub content_hash: String,
    pub text: String,
    pub chunks: Vec<NewChunk>,
    /// The text was cut: recorded on the source (see [`Source::truncation_note`]).
    pub truncated: Option<Truncated>,
}

/// How much of a source's text was indexed: `kept` characters of `total` (at least, when `at_least`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truncated {
    pub kept: i64,
    pub total: i64,
    pub at_least: bool,
}

#[async_trait]
pub trait KnowledgeStore: Send + Sync {
    // Knowledge base (B1)
    async fn create_article(&self, actor: &Actor, new: NewArticle) -> StoreResult<Article>;
    async fn update_article(&self, actor: &Actor, id: i64, new: NewArticle) -> StoreResult<Article>;
    /// Publishes or unpublishes; audited as `publish` / `unpublish`.
    async fn set_article_published(&self, actor: &Actor, id: i64, published: bool) -> StoreResult<Article>;
    /// Deletes the article, its source and its chunks.
    async fn delete_article(&self, actor: &Actor, id: i64) -> StoreResult<()>;
    async fn get_article(&self, id: i64) -> StoreResult<Article>;
    async fn get_article_by_slug(&self, slug: &str) -> StoreResult<Article>;
    async fn list_articles(&self) -> StoreResult<Vec<Article>>;

    // File library (B2)
    async fn create_file(&self, actor: &Actor, new: NewFile) -> StoreResult<FileMeta>;
    async fn get_file(&self, id: i64) -> StoreResult<(FileMeta, Vec<u8>)>;
    async fn list_files(&self) -> StoreResult<Vec<FileMeta>>;
    async fn delete_file(&self, actor: &Actor, id: i64) -> StoreResult<()>;

    // Sources (B3–B7)
    async fn create_source(&self, actor: &Actor, new: NewSource) -> StoreResult<Source>;
    async fn get_source(&self, id: i64) -> StoreResult<Source>;
    async fn source_for_article(&self, article_id: i64) -> StoreResult<Option<Source>>;
    async fn list_sources(&self, kind: Option<&str>) -> StoreResult<Vec<Source>>;
    async fn set_source_citations(&self, actor: &Actor, id: i64, citations_enabled: bool) -> StoreResult<Source>;
    /// Removes sources and their chunks; returns how many were removed.
    async fn delete_sources(&self, actor: &Actor, ids: &[i64]) -> StoreResult<u64>;
    /// Records a sync state (no audit: it is the system's, not a person's change).
    async fn set_source_status(&self, id: i64, status: &str, error: Option<&str>) -> StoreResult<()>;
    /// Replaces the source's chunks with freshly extracted ones and marks it ready.
    async fn replace_chunks(&self, source_id: i64, extracted: Extracted) -> StoreResult<Source>;
    async fn source_text(&self, id: i64) -> StoreResult<Option<String>>;
    async fn list_chunks(&self, source_id: i64) -> StoreResult<Vec<StoredChunk>>;
    /// Every chunk, for rebuilding the index.
    async fn all_chunks(&self) -> StoreResult<Vec<StoredChunk>>;
    async fn chunks_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<StoredChunk>>;

    // Embeddings (dense retrieval)
    /// Chunks that have no embedding yet: (chunk id, source id, text to embed).
    async fn chunks_missing_embedding(&self, limit: i64) -> StoreResult<Vec<(i64, i64, String)>>;
    async fn set_chunk_embeddings(&self, embeddings: &[(i64, Vec<u8>)]) -> StoreResult<()>;
    /// Records each chunk's sentences addressed to the assistant (recognised
    /// by meaning when it is embedded; empty: none).
    async fn set_chunk_addressed(&self, flags: &[(i64, Vec<String>)]) -> StoreResult<()>;
    /// The stored embeddings of a source's chunks: (chunk id, bytes).
    async fn source_embeddings(&self, source_id: i64) -> StoreResult<Vec<(i64, Vec<u8>)>>;
    /// The embedder the stored vectors come from: (name, dimensions); ("", 0) when none
    /// was ever recorded.
    async fn embedding_model(&self) -> StoreResult<(String, i64)>;
    /// Records that vectors now come from `name` (`dimensions`). When that differs
    /// from the recorded embedder, every stored chunk vector is cleared in the same
    /// transaction, with an audit row; returns how many were cleared, or `None` when
    /// the embedder is unchanged (nothing written).
    async fn switch_embedding_model(&self, actor: &Actor, name: &str, dimensions: i64) -> StoreResult<Option<u64>>;

    // Crawling (B3)
    /// Whether to follow links ("import related URLs") and how many pages at most.
    async fn set_crawl_settings(&self, source_id: i64, related: bool, max_pages: i64) -> StoreResult<()>;
    /// Crawl settings of a source: (related, max_pages).
    async fn crawl_settings(&self, source_id: i64) -> StoreResult<(bool, i64)>;
    /// Adds pages to the frontier (known URLs are ignored) while the source has
    /// fewer than `cap` pages; returns how many were added.
    async fn enqueue_pages(&self, source_id: i64, pages: &[(String, i64)], cap: i64) -> StoreResult<u64>;
    /// Takes up to `n` queued pages to fetch (they become `fetching`).
    async fn claim_pages(&self, source_id: i64, n: i64) -> StoreResult<Vec<CrawlPage>>;
    /// Puts pages left `fetching` by a crashed run back in the queue.
    async fn requeue_inflight_pages(&self, source_id: i64) -> StoreResult<u64>;
    /// Queues every fetched page again (re-sync); conditional requests use their ETag/Last-Modified.
    async fn requeue_all_pages(&self, source_id: i64) -> StoreResult<u64>;
    /// Records a page's outcome and, when given, replaces its chunks — one transaction.
    async fn finish_page(&self, page_id: i64, outcome: PageOutcome) -> StoreResult<()>;
    /// Another page of the source already has this content.
    async fn page_with_hash(&self, source_id: i64, content_hash: &str, except_page: i64)
        -> StoreResult<Option<String>>;
    async fn crawl_progress(&self, source_id: i64) -> StoreResult<CrawlProgress>;
    async fn list_pages(&self, source_id: i64, status: Option<&str>, limit: i64) -> StoreResult<Vec<CrawlPage>>;
    /// The source's pages whose text was cut: how many, and the first `limit`.
    async fn truncated_pages(&self, source_id: i64, limit: i64) -> StoreResult<(i64, Vec<CrawlPage>)>;
}
