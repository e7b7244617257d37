//! What can go wrong talking to a model. Every variant is a reason to fall back
//! (built-in responder or handoff): none of these texts is ever shown to a visitor.

use std::fmt;

/// Which time limit ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeoutKind {
    /// Opening the TCP/TLS connection ([`crate::LlmConfig::connect_timeout_ms`]).
    Connect,
    /// No output (text, tool call or reasoning) since the request was sent
    /// ([`crate::LlmConfig::first_token_timeout_ms`]).
    FirstToken,
    /// A gap between two stream chunks after the first output
    /// ([`crate::LlmConfig::idle_timeout_ms`]).
    Idle,
    /// The whole request or agent run ([`crate::LlmConfig::total_timeout_ms`]).
    Total,
}

impl TimeoutKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TimeoutKind::Connect => "connect",
            TimeoutKind::FirstToken => "first_token",
            TimeoutKind::Idle => "idle",
            TimeoutKind::Total => "total",
        }
    }
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// The configuration cannot work (bad URL, key with control characters…).
    #[error("LLM configuration: {0}")]
    Config(String),
    #[error("LLM timeout ({0})")]
    Timeout(TimeoutKind),
    /// The server could not be reached (refused, DNS, TLS).
    #[error("LLM connection failed: {0}")]
    Connect(String),
    /// The connection broke while sending or streaming.
    #[error("LLM transport error: {0}")]
    Transport(String),
    /// A non-2xx answer; `message` is the server's error message or a short,
    /// tag-stripped excerpt of its body.
    #[error("LLM HTTP {status}: {message}")]
    Http { status: u16, message: String },
    /// An error reported inside a 2xx stream (`{"error": …}`).
    #[error("LLM server error: {0}")]
    Server(String),
    /// Output that is not a chat completion (not JSON, truncated JSON, nothing at
    /// all, an empty answer).
    #[error("LLM malformed output: {0}")]
    Malformed(String),
    /// The model still asked for tools after `max_tool_steps` rounds of tool calls.
    #[error("LLM tool-step limit reached ({0} steps)")]
    StepLimit(usize),
}

impl LlmError {
    /// A short, stable label for metrics and traces (`timeout_first_token`, `http`…).
    pub fn kind(&self) -> &'static str {
        match self {
            LlmError::Config(_) => "config",
            LlmError::Timeout(TimeoutKind::Connect) => "timeout_connect",
            LlmError::Timeout(TimeoutKind::FirstToken) => "timeout_first_token",
            LlmError::Timeout(TimeoutKind::Idle) => "timeout_idle",
            LlmError::Timeout(TimeoutKind::Total) => "timeout_total",
            LlmError::Connect(_) => "connect",
            LlmError::Transport(_) => "transport",
            LlmError::Http { .. } => "http",
            LlmError::Server(_) => "server",
            LlmError::Malformed(_) => "malformed",
            LlmError::StepLimit(_) => "step_limit",
        }
    }
}

/// At most `max` characters of `s`, whitespace collapsed, with "…" when cut.
pub(crate) fn excerpt(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(max.min(s.len()) + 3);
    let mut n = 0;
    for w in s.split_whitespace() {
        if n > 0 {
            out.push(' ');
            n += 1;
        }
        for c in w.chars() {
            if n >= max {
                out.push('…');
                return out;
            }
            out.push(c);
            n += 1;
        }
    }
    out
}

/// Text of an HTML page without its tags, scripts and styles (for error excerpts).
pub(crate) fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        out.push(' ');
        let tail = &rest[i..];
        let lower: String = tail.chars().take(8).collect::<String>().to_ascii_lowercase();
        let skip_to = if lower.starts_with("<script") {
            find_ci(tail, "</script>").map(|j| j + 9)
        } else if lower.starts_with("<style") {
            find_ci(tail, "</style>").map(|j| j + 8)
        } else {
            tail.find('>').map(|j| j + 1)
        };
        match skip_to {
            Some(j) => rest = &tail[j..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.replace("&nbsp;", " ").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    hay.to_ascii_lowercase().find(needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_short_and_tidy() {
        assert_eq!(excerpt("  a \n b  ", 10), "a b");
        assert_eq!(excerpt("abcdef", 3), "abc…");
        let html = "<html><head><style>p{}</style><script>x()</script></head><body><h1>502 Bad Gateway</h1></body>";
        assert_eq!(excerpt(&strip_tags(html), 100), "502 Bad Gateway");
    }
}
