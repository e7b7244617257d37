//! The HTTP client: one streamed chat-completions request, with its time limits.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::time::{timeout_at, Instant};

use crate::config::{endpoint_url, LlmConfig};
use crate::error::{excerpt, strip_tags, LlmError, TimeoutKind};
use crate::message::{Message, ToolCall, ToolSpec};
use crate::stream::{error_message, StreamParser};

/// After the finish reason, how long to wait for a usage chunk or `[DONE]` before
/// taking the answer as complete (servers that keep the stream open).
const AFTER_FINISH_GRACE: Duration = Duration::from_millis(500);
/// Bytes of an error body read for the error message.
const ERROR_BODY: usize = 4096;

/// Why the model stopped, normalised across dialects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishReason {
    /// `stop`, `eos`, `end_turn`…
    Stop,
    /// `length`: `max_tokens` reached, the text is cut.
    Length,
    /// The turn ended with tool calls (whatever the server called it).
    ToolCalls,
    ContentFilter,
    /// The stream ended without a finish reason (accepted, leniently).
    Unfinished,
    Other(String),
}

impl FinishReason {
    pub(crate) fn normalize(raw: Option<&str>, has_tool_calls: bool) -> FinishReason {
        if has_tool_calls {
            return FinishReason::ToolCalls;
        }
        match raw {
            None => FinishReason::Unfinished,
            Some("stop" | "eos" | "eos_token" | "end_turn" | "stop_sequence" | "tool_calls" | "function_call") => {
                FinishReason::Stop
            }
            Some("length" | "max_tokens" | "model_length") => FinishReason::Length,
            Some("content_filter") => FinishReason::ContentFilter,
            Some(other) => FinishReason::Other(other.to_string()),
        }
    }
}

/// Token counts, when the server reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// Times of one request, measured from just before it was sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    /// The first text or tool-call delta (reasoning does not count).
    pub first_token: Option<Duration>,
    /// Until the body was fully read.
    pub total: Duration,
}

/// One model turn.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The text, without any leading `<think>…</think>` block.
    pub content: String,
    pub tool_calls: Vec<ToolCall>,
    pub finish: FinishReason,
    pub usage: Option<Usage>,
    pub timings: Timings,
}

/// A client for one endpoint. Cheap to clone (one connection pool, shared).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: LlmConfig,
    url: String,
    http: reqwest::Client,
    headers: HeaderMap,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("url", &self.inner.url).field("config", &self.inner.cfg).finish()
    }
}

impl Client {
    pub fn new(cfg: LlmConfig) -> Result<Self, LlmError> {
        let url = endpoint_url(&cfg.base_url).map_err(LlmError::Config)?;
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream, application/x-ndjson, application/json"));
        if let Some(key) = cfg.api_key.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            let mut v = HeaderValue::from_str(&format!("Bearer {key}"))
                .map_err(|_| LlmError::Config("the API key contains characters not allowed in a header".into()))?;
            v.set_sensitive(true);
            headers.insert(AUTHORIZATION, v);
        }
        for (k, v) in &cfg.extra_headers {
            let name = HeaderName::from_bytes(k.trim().as_bytes())
                .map_err(|_| LlmError::Config(format!("invalid header name {k:?}")))?;
            let value = HeaderValue::from_str(v.trim())
                .map_err(|_| LlmError::Config(format!("invalid value for header {k}")))?;
            headers.insert(name, value);
        }
        if let Some(t) = cfg.temperature {
            if !t.is_finite() || !(0.0..=2.0).contains(&t) {
                return Err(LlmError::Config(format!("temperature {t} is outside 0–2")));
            }
        }
        let loopback = reqwest::Url::parse(&url)
            .ok()
            .and_then(|u| u.host_str().map(|h| matches!(h, "localhost" | "127.0.0.1" | "[::1]" | "::1")))
            .unwrap_or(false);
        let mut builder = reqwest::Client::builder()
            .connect_timeout(cfg.connect_timeout())
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("frontdesk/", env!("CARGO_PKG_VERSION")));
        if loopback {
            // A model server on this machine is never reached through a proxy.
            builder = builder.no_proxy();
        }
        let http = builder.build().map_err(|e| LlmError::Config(format!("HTTP client: {e}")))?;
        Ok(Client { inner: Arc::new(Inner { cfg, url, http, headers }) })
    }

    pub fn config(&self) -> &LlmConfig {
        &self.inner.cfg
    }

    /// The chat-completions URL requests go to.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// One streamed request. `on_delta` receives the text as it arrives (reasoning and
    /// `<think>` blocks excluded); tool calls are assembled and returned at the end.
    /// Bounded by the first-token, idle and total time limits of the config.
    pub async fn complete_stream(
        &self,
        messages: &[Message],
        tools: &[ToolSpec],
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Completion, LlmError> {
        let deadline = Instant::now() + self.inner.cfg.total_timeout();
        self.complete_until(messages, tools, deadline, on_delta).await
    }

    /// [`Client::complete_stream`] without a delta callback.
    pub async fn complete(&self, messages: &[Message], tools: &[ToolSpec]) -> Result<Completion, LlmError> {
        self.complete_stream(messages, tools, &mut |_| {}).await
    }

    /// One request that must end by `deadline` (the budget of an agent run).
    pub(crate) async fn complete_until(
        &self,
        messages: &[Message],
        tools: &[ToolSpec],
        deadline: Instant,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Completion, LlmError> {
        let cfg = &self.inner.cfg;
        let body = self.body(messages, tools)?;
        let started = Instant::now();
        let (first_deadline, first_kind) =
            earliest(started + cfg.first_token_timeout(), TimeoutKind::FirstToken, deadline);
        let request = self.inner.http.post(&self.inner.url).headers(self.inner.headers.clone()).body(body);
        let mut resp = match timeout_at(first_deadline, request.send()).await {
            Err(_) => return Err(LlmError::Timeout(first_kind)),
            Ok(Err(e)) => return Err(send_error(&e)),
            Ok(Ok(r)) => r,
        };
        let status = resp.status();
        if !status.is_success() {
            let (read_until, _) = earliest(Instant::now() + Duration::from_secs(2), TimeoutKind::Total, deadline);
            return Err(http_error(resp, read_until).await);
        }
        let mut parser = StreamParser::new();
        let mut first_token = None;
        let mut last_chunk = Instant::now();
        loop {
            let (until, kind) = if !parser.has_output() {
                (first_deadline, first_kind)
            } else if parser.has_finish() {
                earliest(last_chunk + AFTER_FINISH_GRACE.min(cfg.idle_timeout()), TimeoutKind::Idle, deadline)
            } else {
                earliest(last_chunk + cfg.idle_timeout(), TimeoutKind::Idle, deadline)
            };
            let chunk = match timeout_at(until, resp.chunk()).await {
                Ok(Ok(Some(chunk))) => chunk,
                Ok(Ok(None)) => break,
                _ if parser.has_finish() => break,
                Err(_) => return Err(LlmError::Timeout(kind)),
                Ok(Err(e)) => return Err(LlmError::Transport(chain(&e))),
            };
            last_chunk = Instant::now();
            let mut cb = |s: &str| {
                first_token.get_or_insert_with(|| started.elapsed());
                on_delta(s)
            };
            parser.feed(&chunk, &mut cb)?;
            if parser.has_answer_output() {
                first_token.get_or_insert_with(|| started.elapsed());
            }
            if parser.is_done() {
                break;
            }
        }
        let parsed = parser.finish(&mut |s: &str| {
            first_token.get_or_insert_with(|| started.elapsed());
            on_delta(s)
        })?;
        Ok(Completion {
            content: parsed.content,
            tool_calls: parsed.tool_calls,
            finish: parsed.finish,
            usage: parsed.usage,
            timings: Timings { first_token, total: started.elapsed() },
        })
    }

    fn body(&self, messages: &[Message], tools: &[ToolSpec]) -> Result<Vec<u8>, LlmError> {
        #[derive(Serialize)]
        struct StreamOptions {
            include_usage: bool,
        }
        #[derive(Serialize)]
        struct ChatRequest<'a> {
            #[serde(skip_serializing_if = "str::is_empty")]
            model: &'a str,
            messages: &'a [Message],
            #[serde(skip_serializing_if = "<[ToolSpec]>::is_empty")]
            tools: &'a [ToolSpec],
            stream: bool,
            #[serde(skip_serializing_if = "Option::is_none")]
            max_tokens: Option<u32>,
            #[serde(skip_serializing_if = "Option::is_none")]
            temperature: Option<f32>,
            #[serde(skip_serializing_if = "Option::is_none")]
            stream_options: Option<StreamOptions>,
        }
        let cfg = &self.inner.cfg;
        let req = ChatRequest {
            model: cfg.model.trim(),
            messages,
            tools,
            stream: true,
            max_tokens: cfg.max_tokens,
            temperature: cfg.temperature,
            stream_options: cfg.stream_usage.then_some(StreamOptions { include_usage: true }),
        };
        let encoded = if cfg.extra_body.is_empty() {
            serde_json::to_vec(&req)
        } else {
            let mut v = serde_json::to_value(&req).map_err(|e| LlmError::Config(e.to_string()))?;
            if let Value::Object(map) = &mut v {
                merge(map, &cfg.extra_body);
            }
            serde_json::to_vec(&v)
        };
        encoded.map_err(|e| LlmError::Config(format!("request body: {e}")))
    }
}

fn merge(into: &mut Map<String, Value>, extra: &Map<String, Value>) {
    for (k, v) in extra {
        into.insert(k.clone(), v.clone());
    }
}

/// The earlier of `at` (reported as `kind`) and the run's `deadline` (reported as `Total`).
fn earliest(at: Instant, kind: TimeoutKind, deadline: Instant) -> (Instant, TimeoutKind) {
    if at < deadline {
        (at, kind)
    } else {
        (deadline, TimeoutKind::Total)
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    excerpt(&s, 300)
}

fn send_error(e: &reqwest::Error) -> LlmError {
    if e.is_timeout() {
        LlmError::Timeout(TimeoutKind::Connect)
    } else if e.is_connect() {
        LlmError::Connect(chain(e))
    } else {
        LlmError::Transport(chain(e))
    }
}

async fn http_error(mut resp: reqwest::Response, until: Instant) -> LlmError {
    let status = resp.status();
    let mut body = Vec::new();
    while body.len() < ERROR_BODY {
        match timeout_at(until, resp.chunk()).await {
            Ok(Ok(Some(c))) => body.extend_from_slice(&c),
            _ => break,
        }
    }
    body.truncate(ERROR_BODY);
    let text = String::from_utf8_lossy(&body);
    let message = match serde_json::from_str::<Value>(text.trim()) {
        Ok(v) => error_message(&v),
        Err(_) if text.contains('<') => excerpt(&strip_tags(&text), 200),
        Err(_) => excerpt(&text, 200),
    };
    let message =
        if message.is_empty() { status.canonical_reason().unwrap_or("no message").to_string() } else { message };
    LlmError::Http { status: status.as_u16(), message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_are_config_errors() {
        let bad = |cfg: LlmConfig| matches!(Client::new(cfg), Err(LlmError::Config(_)));
        let ok = LlmConfig::new("http://127.0.0.1:1/v1", "m");
        assert!(Client::new(ok.clone()).is_ok());
        assert!(bad(LlmConfig { base_url: "127.0.0.1:1".into(), ..ok.clone() }));
        assert!(bad(LlmConfig { api_key: Some("sk-\nx".into()), ..ok.clone() }));
        assert!(bad(LlmConfig { temperature: Some(f32::NAN), ..ok.clone() }));
        let mut headers = ok.clone();
        headers.extra_headers.insert("bad header".into(), "v".into());
        assert!(bad(headers));
        let client = Client::new(LlmConfig { api_key: Some(" sk-secret ".into()), ..ok }).unwrap();
        assert_eq!(client.url(), "http://127.0.0.1:1/v1/chat/completions");
        assert!(!format!("{client:?}").contains("sk-secret"));
    }

    #[test]
    fn finish_reasons_normalise() {
        assert_eq!(FinishReason::normalize(Some("stop"), true), FinishReason::ToolCalls);
        assert_eq!(FinishReason::normalize(Some("tool_calls"), false), FinishReason::Stop);
        assert_eq!(FinishReason::normalize(Some("weird"), false), FinishReason::Other("weird".into()));
        assert_eq!(FinishReason::normalize(None, false), FinishReason::Unfinished);
    }
}
