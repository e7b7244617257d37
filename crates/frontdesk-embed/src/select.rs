//! Choosing and loading the embedder from settings: the one function the server, the
//! evaluation and the benchmarks call.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::e5::{e5_present, E5Small, E5_DIR_NAME, E5_FILE_NAME, E5_NAME};
use crate::minilm::{load_minilm_default, MINILM_DIR_NAME, MINILM_NAME};
use crate::{EmbedError, Embedder, MiniLm, OpenAiEmbedder};

/// Which embedder to use (the `embedding_model` setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmbedderChoice {
    /// multilingual-e5-small when its file is installed, else all-MiniLM-L6-v2 when
    /// installed, else none.
    #[default]
    Auto,
    /// multilingual-e5-small (`models/multilingual-e5-small/e5-small-q4.bin`).
    E5Small,
    /// all-MiniLM-L6-v2 (`models/all-MiniLM-L6-v2/`).
    MiniLm,
    /// No vectors: BM25 only.
    None,
    /// An OpenAI-compatible `/v1/embeddings` endpoint (`embedding_url`).
    OpenAi,
}

impl std::str::FromStr for EmbedderChoice {
    type Err = EmbedError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(EmbedderChoice::Auto),
            "multilingual-e5-small" | "e5" | "e5-small" => Ok(EmbedderChoice::E5Small),
            "all-minilm-l6-v2" | "minilm" => Ok(EmbedderChoice::MiniLm),
            "none" | "off" | "bm25" => Ok(EmbedderChoice::None),
            "openai" => Ok(EmbedderChoice::OpenAi),
            _ => Err(EmbedError::Config(format!(
                "embedding_model must be auto, multilingual-e5-small, all-MiniLM-L6-v2, none or openai, not {s:?}"
            ))),
        }
    }
}

/// Everything [`load_embedder`] needs (the server builds it from its settings).
#[derive(Debug, Clone, Default)]
pub struct EmbedderConfig {
    pub choice: EmbedderChoice,
    /// Where `scripts/fetch-models.sh` installs the local models.
    pub models_dir: PathBuf,
    /// `openai` only: the endpoint (`http://host:port/v1`), its bearer key (empty:
    /// none), the remote model id, its dimensions (0: learnt from the probe), the request
    /// timeout and the prefixes put before queries and passages (e5 served remotely:
    /// "query: " / "passage: ").
    pub url: String,
    pub api_key: String,
    pub remote_model: String,
    pub dimensions: usize,
    pub timeout: Duration,
    pub query_prefix: String,
    pub passage_prefix: String,
}

/// The embedder's state for `/readyz` and the logs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EmbedderStatus {
    /// The model's name; `None` when no embedder is configured or none loaded.
    pub model: Option<String>,
    /// Its vector size (0 when unknown: an endpoint that has not answered yet).
    pub dimensions: usize,
    /// Vectors can be computed now.
    pub ok: bool,
    /// "ok", or why not and what happens instead.
    pub message: String,
}

impl EmbedderStatus {
    pub fn ok(model: &str, dimensions: usize) -> Self {
        EmbedderStatus { model: Some(model.to_string()), dimensions, ok: true, message: "ok".into() }
    }

    /// No embedder by choice or because none is installed: retrieval is BM25 only.
    pub fn off(message: impl Into<String>) -> Self {
        EmbedderStatus { model: None, dimensions: 0, ok: false, message: message.into() }
    }

    /// Configured but not working now.
    pub fn failing(model: &str, dimensions: usize, error: &EmbedError) -> Self {
        let what = match error {
            EmbedError::Http { .. } | EmbedError::Timeout { .. } => "endpoint unreachable",
            EmbedError::Endpoint { .. } | EmbedError::BadResponse { .. } => "endpoint failing",
            _ => "embedder failing",
        };
        EmbedderStatus {
            model: Some(model.to_string()),
            dimensions,
            ok: false,
            message: format!("{what}: {error}; retrieval falls back to BM25"),
        }
    }
}

/// What [`load_embedder`] produced: the embedder (when there is one to call) and its
/// state. An endpoint that is down at start still yields the embedder when its
/// dimensions are configured (it may come back; each failed query falls back to BM25),
/// with a failing status.
#[derive(Clone)]
pub struct LoadedEmbedder {
    pub embedder: Option<Arc<dyn Embedder>>,
    pub status: EmbedderStatus,
}

impl std::fmt::Debug for LoadedEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedEmbedder")
            .field("embedder", &self.embedder.as_ref().map(|e| e.name().to_string()))
            .field("status", &self.status)
            .finish()
    }
}

/// Loads the configured embedder. Blocking (reads a model file, or probes the endpoint
/// with one "ping"): from async code call it inside `spawn_blocking`.
///
/// Never fails for a missing or broken model file or an unreachable endpoint: the
/// product then runs on BM25 and the status says why (also logged). Only invalid
/// endpoint settings (URL, empty model id) are an error.
pub fn load_embedder(cfg: &EmbedderConfig) -> Result<LoadedEmbedder, EmbedError> {
    let none = |status: EmbedderStatus| LoadedEmbedder { embedder: None, status };
    let local = |e: Arc<dyn Embedder>| {
        let status = EmbedderStatus::ok(e.name(), e.dimensions());
        LoadedEmbedder { embedder: Some(e), status }
    };
    let dir = &cfg.models_dir;
    Ok(match cfg.choice {
        EmbedderChoice::None => none(EmbedderStatus::off("off (embedding_model = none): retrieval is BM25 only")),
        EmbedderChoice::E5Small => match E5Small::load_from_models_dir(dir) {
            Ok(m) => local(Arc::new(m)),
            Err(e) => {
                tracing::error!(error = %e, "multilingual-e5-small could not be loaded; retrieval runs on BM25 only");
                none(EmbedderStatus::failing(E5_NAME, 0, &e))
            }
        },
        EmbedderChoice::MiniLm => match MiniLm::load(&dir.join(MINILM_DIR_NAME)) {
            Ok(m) => local(Arc::new(m)),
            Err(e) => {
                tracing::error!(error = %e, "all-MiniLM-L6-v2 could not be loaded; retrieval runs on BM25 only");
                none(EmbedderStatus::failing(MINILM_NAME, 0, &e))
            }
        },
        EmbedderChoice::Auto => match load_default(dir) {
            Some(e) => local(e),
            None => none(EmbedderStatus::off(format!(
                "no embedding model in {} (scripts/fetch-models.sh installs one): retrieval is BM25 only",
                dir.display()
            ))),
        },
        EmbedderChoice::OpenAi => {
            if cfg.url.trim().is_empty() {
                return Err(EmbedError::Config("embedding_model = openai needs embedding_url".into()));
            }
            let timeout = if cfg.timeout.is_zero() { Duration::from_secs(30) } else { cfg.timeout };
            let api_key = Some(cfg.api_key.clone()).filter(|k| !k.trim().is_empty());
            let e = OpenAiEmbedder::new(&cfg.url, api_key, &cfg.remote_model, cfg.dimensions, timeout)?
                .with_prefixes(&cfg.query_prefix, &cfg.passage_prefix);
            let status = match e.embed_query(&["ping".to_string()]) {
                Ok(_) => {
                    tracing::info!(
                        url = e.url(),
                        model = e.name(),
                        dimensions = e.dimensions(),
                        "embedding endpoint ok"
                    );
                    EmbedderStatus::ok(e.name(), e.dimensions())
                }
                Err(err) => {
                    tracing::error!(
                        url = e.url(), model = e.name(), error = %err,
                        "embedding endpoint not usable at start; retrieval falls back to BM25 until it answers"
                    );
                    EmbedderStatus::failing(e.name(), e.dimensions(), &err)
                }
            };
            // Down at start with no configured size: nothing to size the index by, so
            // no embedder until a restart (with `dimensions` set it is kept, and
            // queries use it as soon as the endpoint answers again).
            if !status.ok && e.dimensions() == 0 {
                return Ok(none(status));
            }
            LoadedEmbedder { embedder: Some(Arc::new(e)), status }
        }
    })
}

/// The local default: multilingual-e5-small when `models_dir/multilingual-e5-small/
/// e5-small-q4.bin` is there and loads, else all-MiniLM-L6-v2 when its files are there
/// and load, else `None` (the product then runs BM25 only). A file that is there but
/// does not load is logged as an error.
pub fn load_default(models_dir: &Path) -> Option<Arc<dyn Embedder>> {
    if e5_present(models_dir) {
        match E5Small::load_from_models_dir(models_dir) {
            Ok(m) => {
                tracing::info!(engine = m.engine(), "multilingual-e5-small loaded");
                return Some(Arc::new(m));
            }
            Err(e) => tracing::error!(
                error = %e,
                "multilingual-e5-small present but not loadable; trying all-MiniLM-L6-v2"
            ),
        }
    } else {
        tracing::debug!(
            path = %models_dir.join(E5_DIR_NAME).join(E5_FILE_NAME).display(),
            "multilingual-e5-small not installed"
        );
    }
    load_minilm_default(models_dir).map(|m| Arc::new(m) as Arc<dyn Embedder>)
}
