use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::{l2_normalize, EmbedError, Embedder};

/// Texts per request unless changed with [`OpenAiEmbedder::with_batch_size`].
const DEFAULT_BATCH: usize = 64;
/// Largest response body read (a batch of 64 × 3072 floats as JSON is ~4 MB).
const MAX_BODY: u64 = 64 * 1024 * 1024;
/// Characters of an error body kept in [`EmbedError::Endpoint`].
const BODY_EXCERPT: usize = 300;

/// Any OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, Ollama, vLLM, llama.cpp,
/// LM Studio, text-embeddings-inference, LiteLLM, ...).
///
/// Lenient with servers: `data[].embedding` is put in order by `index` (position when
/// absent), a bare `{"embeddings": [[...]]}` body is accepted too, and vectors are
/// L2-normalised here whatever the server sends. `dimensions` 0 means "take it from
/// the first answer". Blocking (no async runtime inside): from async code call
/// [`Embedder::embed`] inside `spawn_blocking`.
pub struct OpenAiEmbedder {
    url: String,
    api_key: Option<String>,
    model: String,
    dims: AtomicUsize,
    timeout: Duration,
    batch: usize,
    query_prefix: String,
    passage_prefix: String,
    agent: ureq::Agent,
}

impl std::fmt::Debug for OpenAiEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiEmbedder")
            .field("url", &self.url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("model", &self.model)
            .field("dimensions", &self.dims.load(Ordering::Relaxed))
            .field("timeout", &self.timeout)
            .field("batch", &self.batch)
            .field("query_prefix", &self.query_prefix)
            .field("passage_prefix", &self.passage_prefix)
            .finish()
    }
}

impl OpenAiEmbedder {
    /// `base_url` may be the server root (`http://host:11434`), the API root
    /// (`.../v1`) or the full endpoint (`.../v1/embeddings`). `timeout` bounds each
    /// request as a whole (connect, send, wait, read).
    pub fn new(
        base_url: &str,
        api_key: Option<String>,
        model: &str,
        dimensions: usize,
        timeout: std::time::Duration,
    ) -> Result<Self, EmbedError> {
        let url = endpoint_url(base_url)?;
        if model.trim().is_empty() {
            return Err(EmbedError::Config("the embedding model name is empty".into()));
        }
        let api_key = api_key.map(|k| k.trim().to_string()).filter(|k| !k.is_empty());
        if let Some(k) = &api_key {
            if k.chars().any(|c| c.is_control()) {
                return Err(EmbedError::Config("the API key contains control characters".into()));
            }
        }
        if timeout.is_zero() {
            return Err(EmbedError::Config("the timeout is zero".into()));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .user_agent(concat!("frontdesk/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(OpenAiEmbedder {
            url,
            api_key,
            model: model.to_string(),
            dims: AtomicUsize::new(dimensions),
            timeout,
            batch: DEFAULT_BATCH,
            query_prefix: String::new(),
            passage_prefix: String::new(),
            agent,
        })
    }

    /// Texts per request (some servers cap it; OpenAI allows 2,048).
    pub fn with_batch_size(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// Text put before every query (`embed_query`) and every passage (`embed`), for
    /// models trained with prefixes — e5 served remotely: `"query: "` and `"passage: "`.
    /// Both empty by default.
    pub fn with_prefixes(mut self, query_prefix: &str, passage_prefix: &str) -> Self {
        self.query_prefix = query_prefix.to_string();
        self.passage_prefix = passage_prefix.to_string();
        self
    }

    /// The full endpoint URL requests go to.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn request(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        // Several servers reject empty strings; a space embeds as "nothing" all the same.
        let input: Vec<&str> = texts.iter().map(|t| if t.trim().is_empty() { " " } else { t.as_str() }).collect();
        let body = serde_json::json!({ "model": self.model, "input": input });
        let body = serde_json::to_vec(&body).expect("a JSON value serialises");
        let mut req = self.agent.post(&self.url).header("Content-Type", "application/json");
        if let Some(k) = &self.api_key {
            req = req.header("Authorization", format!("Bearer {k}"));
        }
        let mut resp = req.send(&body[..]).map_err(|e| self.transport_error(e))?;
        let status = resp.status().as_u16();
        let bytes = resp.body_mut().with_config().limit(MAX_BODY).read_to_vec().map_err(|e| self.transport_error(e))?;
        if !(200..300).contains(&status) {
            return Err(EmbedError::Endpoint {
                url: self.url.clone(),
                status,
                body: excerpt(&String::from_utf8_lossy(&bytes)),
            });
        }
        let vectors = parse_response(&bytes, texts.len())
            .map_err(|reason| EmbedError::BadResponse { url: self.url.clone(), reason })?;
        Ok(vectors)
    }

    fn transport_error(&self, e: ureq::Error) -> EmbedError {
        let timed_out = match &e {
            ureq::Error::Timeout(_) => true,
            ureq::Error::Io(io) => io.kind() == std::io::ErrorKind::TimedOut,
            _ => false,
        };
        if timed_out {
            return EmbedError::Timeout { url: self.url.clone(), timeout: self.timeout };
        }
        let mut message = e.to_string();
        if self.url.starts_with("https://") && !cfg!(feature = "tls") {
            message.push_str(" (https needs frontdesk-embed's \"tls\" feature; plain http works without it)");
        }
        EmbedError::Http { url: self.url.clone(), message }
    }
}

impl Embedder for OpenAiEmbedder {
    fn name(&self) -> &str {
        &self.model
    }

    fn dimensions(&self) -> usize {
        self.dims.load(Ordering::Relaxed)
    }

    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.embed_with(texts, &self.passage_prefix)
    }

    fn embed_query(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.embed_with(texts, &self.query_prefix)
    }
}

impl OpenAiEmbedder {
    fn embed_with(&self, texts: &[String], prefix: &str) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out = Vec::with_capacity(texts.len());
        for group in texts.chunks(self.batch) {
            let prefixed: Vec<String>;
            let group = if prefix.is_empty() {
                group
            } else {
                prefixed = group.iter().map(|t| format!("{prefix}{t}")).collect();
                &prefixed[..]
            };
            let vectors = self.request(group)?;
            for mut v in vectors {
                let expected = self.dims.load(Ordering::Relaxed);
                if expected == 0 {
                    // First answer decides (a race here sets the same value).
                    let _ = self.dims.compare_exchange(0, v.len(), Ordering::Relaxed, Ordering::Relaxed);
                } else if v.len() != expected {
                    return Err(EmbedError::BadResponse {
                        url: self.url.clone(),
                        reason: format!(
                            "model {} returned {} dimensions, {} configured",
                            self.model,
                            v.len(),
                            expected
                        ),
                    });
                }
                l2_normalize(&mut v);
                out.push(v);
            }
        }
        Ok(out)
    }
}

/// `http://h` → `http://h/v1/embeddings`; `http://h/v1` → `.../v1/embeddings`;
/// `.../embeddings` as is.
fn endpoint_url(base_url: &str) -> Result<String, EmbedError> {
    let base = base_url.trim().trim_end_matches('/');
    let rest = base.strip_prefix("http://").or_else(|| base.strip_prefix("https://")).ok_or_else(|| {
        EmbedError::Config(format!("the endpoint URL must start with http:// or https://: {base_url:?}"))
    })?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(EmbedError::Config(format!("the endpoint URL has no host: {base_url:?}")));
    }
    if base.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(EmbedError::Config(format!("the endpoint URL contains spaces: {base_url:?}")));
    }
    let url = if base.ends_with("/embeddings") {
        base.to_string()
    } else if base.ends_with("/v1") {
        format!("{base}/embeddings")
    } else {
        format!("{base}/v1/embeddings")
    };
    // Let the HTTP library judge the rest (port, host syntax) now rather than on the
    // first request.
    url.parse::<ureq::http::Uri>().map_err(|e| EmbedError::Config(format!("invalid endpoint URL {url:?}: {e}")))?;
    Ok(url)
}

/// `data[].embedding` ordered by `index`, or `embeddings[]`; exactly `expected` vectors.
fn parse_response(bytes: &[u8], expected: usize) -> Result<Vec<Vec<f32>>, String> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("not JSON ({e}): {}", excerpt(&String::from_utf8_lossy(bytes))))?;
    let mut slots: Vec<Option<Vec<f32>>> = vec![None; expected];
    if let Some(data) = v.get("data").and_then(Value::as_array) {
        if data.len() != expected {
            return Err(format!("{} embeddings for {} inputs", data.len(), expected));
        }
        for (pos, item) in data.iter().enumerate() {
            let index = match item.get("index") {
                None | Some(Value::Null) => pos,
                Some(i) => {
                    i.as_u64().map(|i| i as usize).ok_or_else(|| format!("data[{pos}].index is not a number"))?
                }
            };
            let slot = slots
                .get_mut(index)
                .ok_or_else(|| format!("data[{pos}].index {index} is out of range for {expected} inputs"))?;
            if slot.is_some() {
                return Err(format!("index {index} appears twice"));
            }
            let emb = item.get("embedding").ok_or_else(|| format!("data[{pos}] has no \"embedding\""))?;
            *slot = Some(floats(emb).map_err(|e| format!("data[{pos}].embedding {e}"))?);
        }
    } else if let Some(list) = v.get("embeddings").and_then(Value::as_array) {
        if list.len() != expected {
            return Err(format!("{} embeddings for {} inputs", list.len(), expected));
        }
        for (pos, emb) in list.iter().enumerate() {
            slots[pos] = Some(floats(emb).map_err(|e| format!("embeddings[{pos}] {e}"))?);
        }
    } else {
        let hint = v.get("error").map(|e| format!(" (error: {})", excerpt(&e.to_string()))).unwrap_or_default();
        return Err(format!("no \"data\" array{hint}"));
    }
    slots.into_iter().enumerate().map(|(i, s)| s.ok_or_else(|| format!("no embedding for input {i}"))).collect()
}

fn floats(v: &Value) -> Result<Vec<f32>, String> {
    let arr = v.as_array().ok_or_else(|| {
        if v.is_string() {
            "is a string (base64?); a float array is expected".to_string()
        } else {
            "is not an array".to_string()
        }
    })?;
    if arr.is_empty() {
        return Err("is empty".into());
    }
    arr.iter()
        .map(|x| {
            x.as_f64()
                .map(|f| f as f32)
                .filter(|f| f.is_finite())
                .ok_or_else(|| "holds something other than finite numbers".to_string())
        })
        .collect()
}

fn excerpt(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(BODY_EXCERPT) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls() {
        assert_eq!(endpoint_url("http://h:1").unwrap(), "http://h:1/v1/embeddings");
        assert_eq!(endpoint_url("http://h:1/").unwrap(), "http://h:1/v1/embeddings");
        assert_eq!(endpoint_url("http://h:1/v1").unwrap(), "http://h:1/v1/embeddings");
        assert_eq!(endpoint_url("https://h/v1/").unwrap(), "https://h/v1/embeddings");
        assert_eq!(endpoint_url("http://h/v1/embeddings").unwrap(), "http://h/v1/embeddings");
        assert_eq!(endpoint_url("http://h/openai/v1").unwrap(), "http://h/openai/v1/embeddings");
        assert!(endpoint_url("h:1").is_err());
        assert!(endpoint_url("http://").is_err());
        assert!(endpoint_url("ftp://h").is_err());
        assert!(endpoint_url("http://h h").is_err());
    }

    #[test]
    fn parse_orders_by_index_and_accepts_embeddings() {
        let body = br#"{"data":[{"index":1,"embedding":[0,1]},{"index":0,"embedding":[1,0]}]}"#;
        assert_eq!(parse_response(body, 2).unwrap(), vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
        let body = br#"{"data":[{"embedding":[1,0]},{"embedding":[0,1]}]}"#;
        assert_eq!(parse_response(body, 2).unwrap(), vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
        let body = br#"{"embeddings":[[1,2]]}"#;
        assert_eq!(parse_response(body, 1).unwrap(), vec![vec![1.0, 2.0]]);
        assert!(parse_response(br#"{"data":[{"index":0,"embedding":[1]}]}"#, 2).is_err());
        assert!(parse_response(br#"{"data":[{"index":5,"embedding":[1]}]}"#, 1).is_err());
        assert!(parse_response(br#"{"data":[{"index":0,"embedding":"AAAA"}]}"#, 1).unwrap_err().contains("base64"));
        assert!(parse_response(b"<html>", 1).unwrap_err().contains("not JSON"));
        assert!(parse_response(br#"{"error":{"message":"nope"}}"#, 1).unwrap_err().contains("nope"));
    }
}
