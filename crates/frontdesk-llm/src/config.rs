//! The settings of an OpenAI-compatible chat-completions endpoint.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What the caller should do when the model fails (timeout, error, malformed output,
/// step limit). This crate only carries the setting; the engine applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailurePolicy {
    /// Answer with the built-in (extractive) responder.
    #[default]
    Fallback,
    /// Hand the conversation to a human.
    Handoff,
}

/// Settings of the LLM endpoint. Every field has a default, so a TOML table with only
/// `base_url` and `model` works. Durations are milliseconds, like the rest of the
/// settings. `api_key` is never serialized nor printed by `Debug`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LlmConfig {
    /// The API root: `http://127.0.0.1:11434/v1` (Ollama), `http://host:8000/v1` (vLLM),
    /// `http://host:8080/v1` (llama.cpp), `https://api.openai.com/v1`. A bare host
    /// gets `/v1`; a URL ending in `/chat/completions` is used as is.
    pub base_url: String,
    /// Sent as `Authorization: Bearer …` when set.
    #[serde(skip_serializing)]
    pub api_key: Option<String>,
    /// The model name; left out of the request when empty (llama.cpp serves one model).
    pub model: String,
    pub connect_timeout_ms: u64,
    /// From sending the request to the first output (text, tool call or reasoning).
    pub first_token_timeout_ms: u64,
    /// Largest gap between two stream chunks once output has started.
    pub idle_timeout_ms: u64,
    /// Budget of one agent run (every model call and tool call in it).
    pub total_timeout_ms: u64,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
    /// Rounds of tool calls allowed in one run; one more round is a
    /// [`crate::LlmError::StepLimit`].
    pub max_tool_steps: usize,
    /// Ask for a final usage chunk (`stream_options.include_usage`). Off by default:
    /// a few OpenAI-compatible proxies reject the field.
    pub stream_usage: bool,
    /// Extra HTTP headers (e.g. `OpenAI-Organization`, a gateway's routing header).
    pub extra_headers: BTreeMap<String, String>,
    /// Extra top-level fields merged into every request body (`top_p`, `seed`,
    /// `max_completion_tokens`, `keep_alive`, `chat_template_kwargs`…).
    pub extra_body: serde_json::Map<String, serde_json::Value>,
    /// What the engine does when the model fails.
    pub on_failure: FailurePolicy,
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            base_url: "http://127.0.0.1:11434/v1".into(),
            api_key: None,
            model: String::new(),
            connect_timeout_ms: 5_000,
            first_token_timeout_ms: 30_000,
            idle_timeout_ms: 15_000,
            total_timeout_ms: 90_000,
            max_tokens: Some(1024),
            temperature: None,
            max_tool_steps: 4,
            stream_usage: false,
            extra_headers: BTreeMap::new(),
            extra_body: serde_json::Map::new(),
            on_failure: FailurePolicy::Fallback,
        }
    }
}

impl LlmConfig {
    /// A config for `base_url` and `model` with every other setting at its default.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        LlmConfig { base_url: base_url.into(), model: model.into(), ..LlmConfig::default() }
    }

    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms.max(1))
    }
    pub fn first_token_timeout(&self) -> Duration {
        Duration::from_millis(self.first_token_timeout_ms.max(1))
    }
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms.max(1))
    }
    pub fn total_timeout(&self) -> Duration {
        Duration::from_millis(self.total_timeout_ms.max(1))
    }
}

impl fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("model", &self.model)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("first_token_timeout_ms", &self.first_token_timeout_ms)
            .field("idle_timeout_ms", &self.idle_timeout_ms)
            .field("total_timeout_ms", &self.total_timeout_ms)
            .field("max_tokens", &self.max_tokens)
            .field("temperature", &self.temperature)
            .field("max_tool_steps", &self.max_tool_steps)
            .field("stream_usage", &self.stream_usage)
            .field("extra_headers", &self.extra_headers.keys().collect::<Vec<_>>())
            .field("extra_body", &self.extra_body)
            .field("on_failure", &self.on_failure)
            .finish()
    }
}

/// The chat-completions URL for `base_url` (see [`LlmConfig::base_url`]).
pub(crate) fn endpoint_url(base_url: &str) -> Result<String, String> {
    let base = base_url.trim().trim_end_matches('/');
    let rest = base
        .strip_prefix("http://")
        .or_else(|| base.strip_prefix("https://"))
        .ok_or_else(|| format!("the base URL must start with http:// or https://: {base_url:?}"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("the base URL has no host: {base_url:?}"));
    }
    if base.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("the base URL contains spaces: {base_url:?}"));
    }
    let url = if base.ends_with("/chat/completions") {
        base.to_string()
    } else if rest.contains('/') {
        format!("{base}/chat/completions")
    } else {
        format!("{base}/v1/chat/completions")
    };
    reqwest::Url::parse(&url).map_err(|e| format!("invalid base URL {url:?}: {e}"))?;
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls() {
        assert_eq!(endpoint_url("http://h:1").unwrap(), "http://h:1/v1/chat/completions");
        assert_eq!(endpoint_url("http://h:1/").unwrap(), "http://h:1/v1/chat/completions");
        assert_eq!(endpoint_url("http://h:1/v1").unwrap(), "http://h:1/v1/chat/completions");
        assert_eq!(endpoint_url("https://h/v1/").unwrap(), "https://h/v1/chat/completions");
        assert_eq!(endpoint_url("http://h/v1/chat/completions").unwrap(), "http://h/v1/chat/completions");
        assert_eq!(endpoint_url("https://g/v1beta/openai/").unwrap(), "https://g/v1beta/openai/chat/completions");
        assert!(endpoint_url("h:1").is_err());
        assert!(endpoint_url("http://").is_err());
        assert!(endpoint_url("http://h h").is_err());
        assert!(endpoint_url("http://h:99999").is_err());
    }

    #[test]
    fn config_from_partial_json_and_key_redacted() {
        let c: LlmConfig = serde_json::from_str(
            r#"{"base_url":"http://x/v1","model":"m","api_key":"sk-secret","on_failure":"handoff"}"#,
        )
        .unwrap();
        assert_eq!(c.max_tool_steps, 4);
        assert_eq!(c.on_failure, FailurePolicy::Handoff);
        assert!(!format!("{c:?}").contains("sk-secret"));
        assert!(!serde_json::to_string(&c).unwrap().contains("sk-secret"));
    }
}
