//! Knowledge at reply time: the search indexes (BM25, and vectors when an
//! embedding model is loaded), caches kept in step with the store's chunks.
//! Ingestion (the sync job, embedding new chunks) is the engine's.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use frontdesk_embed::{Embedder, EmbedderStatus, VectorIndex};
use frontdesk_knowledge::index::{Hit, Index};
use frontdesk_knowledge::rank::{Calibration, FusionParams, Signals};
use frontdesk_store::{source_status, Store};
use tokio::sync::Mutex;

/// Which rankings a search uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retriever {
    Bm25,
    Vectors,
    /// Reciprocal rank fusion of BM25 and vectors (vectors only where embedded).
    Fused,
}

/// The search indexes (BM25, and vectors when an embedding model is loaded)
/// and what they currently hold. Both are caches of the store.
pub struct Knowledge {
    index: Index,
    /// Source id → the `last_synced_at` whose chunks are in the index.
    indexed: Mutex<HashMap<i64, i64>>,
    tmp_dir: PathBuf,
    embedder: Option<Arc<dyn Embedder>>,
    vectors: std::sync::RwLock<VectorIndex>,
    /// The embedder's state for /readyz: set at start, updated by each query embedding.
    embedder_status: std::sync::RwLock<EmbedderStatus>,
    fusion: std::sync::RwLock<Option<FusionParams>>,
    calibration: std::sync::RwLock<Option<Calibration>>,
    /// The vectors of the last questions (exact text): support questions repeat
    /// ("how much does it cost?"), and embedding one is most of a reply's time.
    recent_questions: std::sync::Mutex<lru::LruCache<String, Vec<f32>>>,
}

/// How many question vectors are kept (384 floats each: about 6 MB at most).
const RECENT_QUESTIONS: usize = 4_096;

/// How much of a question is embedded (its beginning).
const MAX_QUERY_CHARS: usize = 1_000;

/// The candidates of a search, ranked, with what happened on the way.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub ranked: Vec<Signals>,
    /// E.g. "the question could not be embedded (…): BM25 only".
    pub notes: Vec<String>,
    /// Whether vectors took part.
    pub vectors: bool,
    /// The question's vector, when it was embedded (also read by the
    /// classifier of text addressed to the assistant).
    pub question_vector: Option<Vec<f32>>,
}

impl Knowledge {
    /// A fresh index of this process alone, under `data_dir/index/<start ms>-<pid>-<n>`
    /// (the index is a cache rebuilt from the store: see [`Index::open_private`]).
    pub fn open(data_dir: &Path, embedder: Option<Arc<dyn Embedder>>) -> anyhow::Result<Knowledge> {
        let (index, _dir) = Index::open_private(&data_dir.join("index"))?;
        Ok(Self::with(index, data_dir.join("tmp"), embedder))
    }

    /// An index in memory (evaluation, tests).
    pub fn in_memory(tmp_dir: &Path, embedder: Option<Arc<dyn Embedder>>) -> anyhow::Result<Knowledge> {
        Ok(Self::with(Index::in_memory()?, tmp_dir.to_path_buf(), embedder))
    }

    fn with(index: Index, tmp_dir: PathBuf, embedder: Option<Arc<dyn Embedder>>) -> Knowledge {
        let dims = embedder.as_ref().map_or(1, |e| e.dimensions());
        let status = match &embedder {
            Some(e) => EmbedderStatus::ok(e.name(), e.dimensions()),
            None => EmbedderStatus::off("no embedding model: retrieval is BM25 only"),
        };
        Knowledge {
            index,
            indexed: Mutex::new(HashMap::new()),
            tmp_dir,
            embedder,
            vectors: std::sync::RwLock::new(VectorIndex::new(dims)),
            embedder_status: std::sync::RwLock::new(status),
            fusion: std::sync::RwLock::new(None),
            calibration: std::sync::RwLock::new(None),
            recent_questions: std::sync::Mutex::new(lru::LruCache::new(
                std::num::NonZeroUsize::new(RECENT_QUESTIONS).expect("a positive capacity"),
            )),
        }
    }

    pub fn embedder(&self) -> Option<&Arc<dyn Embedder>> {
        self.embedder.as_ref()
    }

    /// How alike two chunks' passages are (their vectors' dot product), when
    /// both are embedded.
    pub fn pair_similarity(&self, a: i64, b: i64) -> Option<f32> {
        self.vectors.read().ok()?.pair_similarity(a, b)
    }

    /// Where extraction and transcription keep their temporary files.
    pub fn tmp_dir(&self) -> &Path {
        &self.tmp_dir
    }

    /// Adds or replaces chunk vectors: (chunk id, source id, vector).
    pub fn upsert_vectors(&self, items: impl IntoIterator<Item = (i64, i64, Vec<f32>)>) {
        if let Ok(mut index) = self.vectors.write() {
            for (id, source, v) in items {
                index.upsert(id, source, v);
            }
        }
    }

    pub fn num_vectors(&self) -> usize {
        self.vectors.read().map(|v| v.len()).unwrap_or(0)
    }

    fn load_vectors(&self, id: i64, embeddings: Vec<(i64, Vec<u8>)>) {
        if let Ok(mut v) = self.vectors.write() {
            v.remove_source(id);
            for (chunk_id, bytes) in embeddings {
                if let Some(vec) = frontdesk_embed::from_bytes(&bytes) {
                    v.upsert(chunk_id, id, vec);
                }
            }
        }
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
            if let Ok(mut v) = self.vectors.write() {
                v.remove_source(id);
            }
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
            if self.embedder.is_some() {
                self.load_vectors(*id, store.source_embeddings(*id).await?);
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

    /// The best chunks for a question: fused BM25 + vectors when a model is
    /// loaded and chunks are embedded, else BM25.
    pub async fn search(&self, query: &str, lang: &str, k: usize) -> anyhow::Result<Vec<Hit>> {
        self.search_with(query, lang, k, Retriever::Fused).await
    }

    /// The best `k` chunks by one retriever; `Hit::score` is the fused score.
    pub async fn search_with(
        &self,
        query: &str,
        lang: &str,
        k: usize,
        retriever: Retriever,
    ) -> anyhow::Result<Vec<Hit>> {
        let found = self.signals(query, lang, k, retriever).await?;
        Ok(found
            .ranked
            .into_iter()
            .take(k)
            .map(|s| Hit { chunk_id: s.chunk_id, source_id: s.source_id, score: s.fused })
            .collect())
    }

    /// What every retriever says of the candidates for a question: BM25's and
    /// the vectors' best `depth` chunks each (at least 20), their union fused
    /// and ranked (see [`frontdesk_knowledge::rank::fuse`]). When the question
    /// cannot be embedded (the embeddings endpoint is down), BM25 alone
    /// answers and a note says so.
    pub async fn signals(&self, query: &str, lang: &str, depth: usize, retriever: Retriever) -> anyhow::Result<Found> {
        let depth = depth.max(20);
        let mut notes = Vec::new();
        let want_vectors = retriever != Retriever::Bm25 && self.embedder.is_some() && self.num_vectors() > 0;
        // The question is embedded on a blocking thread while BM25 searches here.
        let (qv, early_bm25) = tokio::join!(
            async {
                match want_vectors {
                    true => Some(self.query_vector(query).await),
                    false => None,
                }
            },
            async { (retriever != Retriever::Vectors).then(|| self.index.search(query, lang, depth)) },
        );
        let qv = match qv {
            Some(Ok(v)) => Some(v),
            Some(Err(e)) => {
                notes.push(format!("the question could not be embedded ({e}): BM25 only"));
                None
            }
            None => None,
        };
        let bm25 = match early_bm25 {
            Some(hits) => hits?,
            None if qv.is_none() => self.index.search(query, lang, depth)?,
            None => Vec::new(),
        };
        let vhits = match &qv {
            Some(v) => self.vectors.read().map(|ix| ix.search(v, depth)).unwrap_or_default(),
            None => Vec::new(),
        };
        let mut by_chunk: HashMap<i64, Signals> = HashMap::new();
        for (i, h) in bm25.iter().enumerate() {
            let s = by_chunk.entry(h.chunk_id).or_insert_with(|| Signals {
                chunk_id: h.chunk_id,
                source_id: h.source_id,
                ..Signals::default()
            });
            s.bm25 = Some(h.score);
            s.bm25_rank = Some(i + 1);
        }
        for (i, (chunk_id, source_id, sim)) in vhits.iter().enumerate() {
            let s = by_chunk.entry(*chunk_id).or_insert_with(|| Signals {
                chunk_id: *chunk_id,
                source_id: *source_id,
                ..Signals::default()
            });
            s.cosine = Some(*sim);
            s.vector_rank = Some(i + 1);
        }
        // Chunks BM25 found that the vector search did not reach: their
        // own cosine, so that fusion compares like with like.
        if let Some(v) = &qv {
            if let Ok(ix) = self.vectors.read() {
                for s in by_chunk.values_mut().filter(|s| s.cosine.is_none()) {
                    s.cosine = ix.similarity(s.chunk_id, v);
                }
            }
        }
        let mut ranked: Vec<Signals> = by_chunk.into_values().collect();
        let params = match retriever {
            Retriever::Bm25 => FusionParams::BM25,
            Retriever::Vectors if qv.is_some() => FusionParams::VECTORS,
            Retriever::Vectors => FusionParams::BM25,
            Retriever::Fused => self.fusion(qv.is_some()),
        };
        frontdesk_knowledge::rank::fuse(&mut ranked, &params);
        Ok(Found { ranked, notes, vectors: qv.is_some(), question_vector: qv })
    }

    /// The question's vector: its beginning only (a question is a few
    /// sentences; a pasted log of 20,000 characters would cost the embedder
    /// dozens of windows for no better match).
    async fn query_vector(&self, query: &str) -> Result<Vec<f32>, String> {
        let q: String = query.chars().take(MAX_QUERY_CHARS).collect();
        self.embed_query_vector(&q).await
    }

    /// The calibrated answer-or-hand-off model for the retrievers that took
    /// part in a search (`vectors`: the question was embedded).
    pub fn calibration(&self, vectors: bool) -> Calibration {
        if let Ok(Some(c)) = self.calibration.read().map(|c| c.clone()) {
            if vectors || !c.name.contains('+') {
                return c;
            }
        }
        let name = self.embedder.as_ref().filter(|_| vectors).map(|e| e.name().to_owned());
        frontdesk_knowledge::rank::calibration_for(name.as_deref())
    }

    /// Replaces the calibration (evaluation); `None` goes back to the built-in one.
    pub fn set_calibration(&self, c: Option<Calibration>) {
        if let Ok(mut cur) = self.calibration.write() {
            *cur = c;
        }
    }

    /// The similarity at which two passages count as twins (see
    /// [`frontdesk_knowledge::rank::mark_twins`]), when vectors took part.
    pub fn twin_threshold(&self, vectors: bool) -> Option<f32> {
        self.calibration(vectors).twin_at
    }

    /// How rankings are fused (see [`FusionParams`]), with or without vectors.
    pub fn fusion(&self, vectors: bool) -> FusionParams {
        if let Ok(Some(f)) = self.fusion.read().map(|f| *f) {
            return f;
        }
        let name = self.embedder.as_ref().filter(|_| vectors).map(|e| e.name().to_owned());
        frontdesk_knowledge::rank::ranker_for(name.as_deref())
    }

    /// Replaces the ranking model (evaluation); `None` goes back to the built-in one.
    pub fn set_fusion(&self, p: Option<FusionParams>) {
        if let Ok(mut f) = self.fusion.write() {
            *f = p;
        }
    }

    pub fn num_chunks(&self) -> u64 {
        self.index.num_chunks()
    }
}

impl Knowledge {
    /// The embedder's state: its name and dimensions, and whether it works now
    /// ("ok", or e.g. "endpoint unreachable: …; retrieval falls back to BM25").
    pub fn embedder_status(&self) -> EmbedderStatus {
        self.embedder_status
            .read()
            .map(|s| s.clone())
            .unwrap_or_else(|_| EmbedderStatus::off("embedder status unavailable"))
    }

    /// Replaces the embedder's state (at start, from `load_embedder`).
    pub fn set_embedder_status(&self, status: EmbedderStatus) {
        if let Ok(mut s) = self.embedder_status.write() {
            *s = status;
        }
    }

    /// The query-side vector of `text` (e5: "query: " prefix), computed off the async
    /// threads. `Err` with a short reason when there is no embedder, the embedder fails
    /// (endpoint down, timeout) or returns a vector of the wrong size: the caller then
    /// searches with BM25 alone. Each call records the outcome in `embedder_status`.
    pub async fn embed_query_vector(&self, text: &str) -> Result<Vec<f32>, String> {
        let Some(embedder) = self.embedder.clone() else { return Err("no embedding model".into()) };
        let want = self.vectors.read().map(|v| v.dimensions()).unwrap_or(0);
        if let Some(v) = self.recent_questions.lock().ok().and_then(|mut c| c.get(text).cloned()) {
            if want == 0 || v.len() == want {
                return Ok(v);
            }
        }
        let q = vec![text.to_owned()];
        let e = embedder.clone();
        let result = match tokio::task::spawn_blocking(move || e.embed_query(&q)).await {
            Ok(r) => r,
            Err(join) => return Err(format!("the embedding task failed: {join}")),
        };
        let v = match result.map(|mut v| v.pop()) {
            Ok(Some(v)) if want == 0 || v.len() == want => v,
            Ok(Some(v)) => {
                let err = frontdesk_embed::EmbedError::Dimensions { expected: want, got: v.len() };
                self.set_embedder_status(EmbedderStatus::failing(embedder.name(), want, &err));
                return Err(format!("{err} (the index holds {want}-dimensional vectors)"));
            }
            Ok(None) => return Err("the embedder returned no vector".into()),
            Err(err) => {
                self.set_embedder_status(EmbedderStatus::failing(embedder.name(), embedder.dimensions(), &err));
                return Err(err.to_string());
            }
        };
        if !self.embedder_status().ok {
            tracing::info!(model = embedder.name(), "the embedder answers again");
            self.set_embedder_status(EmbedderStatus::ok(embedder.name(), embedder.dimensions()));
        }
        if let Ok(mut recent) = self.recent_questions.lock() {
            recent.put(text.to_owned(), v.clone());
        }
        Ok(v)
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
