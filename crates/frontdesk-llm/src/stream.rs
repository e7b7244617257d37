//! Incremental, lenient parsing of a chat-completions response body, whatever the
//! server's dialect: SSE (`data:` with or without a space, CRLF or LF, comments,
//! `event:` lines, `[DONE]` or not), NDJSON (Ollama's native API), or one plain JSON
//! body (a server that ignored `stream: true`). Pure: no I/O, fed byte chunks.

use serde_json::Value;

use crate::client::{FinishReason, Usage};
use crate::error::{excerpt, LlmError};
use crate::message::ToolCall;

/// Bytes of the start of the body kept for error messages.
const HEAD: usize = 600;
/// A server index above this is treated as absent (no huge allocations from junk).
const MAX_INDEX: u64 = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Unknown,
    Sse,
    Json,
}

/// The assembled result of a response body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Parsed {
    pub content: String,
    pub tool_calls: Vec<ToolCall>,
    pub finish: FinishReason,
    pub usage: Option<Usage>,
}

pub(crate) struct StreamParser {
    buf: Vec<u8>,
    mode: Mode,
    /// Data lines of the current SSE event that did not parse on their own yet.
    sse_data: String,
    sse_event: String,
    head: Vec<u8>,
    done: bool,
    /// Something that looks like a chat completion was seen.
    recognized: bool,
    /// Any output: text, tool call or reasoning.
    output: bool,
    /// Text or tool call (what "first token" measures).
    answer_output: bool,
    content: String,
    scratch: String,
    think: ThinkFilter,
    slots: Vec<Slot>,
    /// (server index, slot) pairs.
    by_index: Vec<(usize, usize)>,
    finish_reason: Option<String>,
    usage: Option<Usage>,
}

#[derive(Debug, Default)]
struct Slot {
    id: String,
    name: String,
    args: String,
}

impl StreamParser {
    pub fn new() -> Self {
        StreamParser {
            buf: Vec::new(),
            mode: Mode::Unknown,
            sse_data: String::new(),
            sse_event: String::new(),
            head: Vec::new(),
            done: false,
            recognized: false,
            output: false,
            answer_output: false,
            content: String::new(),
            scratch: String::new(),
            think: ThinkFilter::default(),
            slots: Vec::new(),
            by_index: Vec::new(),
            finish_reason: None,
            usage: None,
        }
    }

    /// The stream said it is over (`[DONE]`, Ollama's `"done": true`).
    pub fn is_done(&self) -> bool {
        self.done
    }
    /// Any output (text, tool call, reasoning) has arrived.
    pub fn has_output(&self) -> bool {
        self.output
    }
    /// Text or a tool call has arrived.
    pub fn has_answer_output(&self) -> bool {
        self.answer_output
    }
    /// A finish reason has arrived (only a usage chunk or `[DONE]` may follow).
    pub fn has_finish(&self) -> bool {
        self.finish_reason.is_some() || self.done
    }

    pub fn feed(&mut self, bytes: &[u8], on_text: &mut dyn FnMut(&str)) -> Result<(), LlmError> {
        if self.head.len() < HEAD {
            let n = (HEAD - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..n]);
        }
        if self.done {
            return Ok(());
        }
        self.buf.extend_from_slice(bytes);
        if self.mode == Mode::Unknown {
            if self.buf.starts_with(b"\xEF\xBB\xBF") {
                self.buf.drain(..3);
            }
            match self.buf.iter().find(|b| !b.is_ascii_whitespace()) {
                None => return Ok(()),
                Some(b'{') | Some(b'[') => self.mode = Mode::Json,
                Some(_) => self.mode = Mode::Sse,
            }
        }
        match self.mode {
            Mode::Sse => self.drain_lines(on_text),
            _ => self.drain_json(on_text, false),
        }
    }

    /// The end of the body: flushes what is left and assembles the result.
    pub fn finish(mut self, on_text: &mut dyn FnMut(&str)) -> Result<Parsed, LlmError> {
        if !self.done {
            match self.mode {
                Mode::Sse => {
                    self.buf.push(b'\n');
                    self.drain_lines(on_text)?;
                    if !self.done && !self.sse_data.is_empty() {
                        return Err(self.malformed("the stream ended inside a JSON event"));
                    }
                }
                Mode::Json => self.drain_json(on_text, true)?,
                Mode::Unknown => {}
            }
        }
        if !self.recognized {
            let head = String::from_utf8_lossy(&self.head).into_owned();
            let what = if head.trim().is_empty() { "an empty body".to_string() } else { excerpt(&head, 200) };
            return Err(LlmError::Malformed(format!("not a chat completion: {what}")));
        }
        self.scratch.clear();
        let mut out = std::mem::take(&mut self.scratch);
        self.think.finish(&mut out);
        if !out.is_empty() {
            self.content.push_str(&out);
            on_text(&out);
        }
        let tool_calls: Vec<ToolCall> = self
            .slots
            .into_iter()
            .filter(|s| !s.name.is_empty() || !s.args.is_empty())
            .enumerate()
            .map(|(i, s)| ToolCall {
                id: if s.id.is_empty() { format!("call_{i}") } else { s.id },
                name: s.name,
                arguments: s.args,
            })
            .collect();
        let finish = FinishReason::normalize(self.finish_reason.as_deref(), !tool_calls.is_empty());
        Ok(Parsed { content: self.content, tool_calls, finish, usage: self.usage })
    }

    fn malformed(&self, what: &str) -> LlmError {
        LlmError::Malformed(what.to_string())
    }

    fn drain_lines(&mut self, on_text: &mut dyn FnMut(&str)) -> Result<(), LlmError> {
        let buf = std::mem::take(&mut self.buf);
        let mut start = 0;
        let mut result = Ok(());
        while let Some(i) = buf[start..].iter().position(|&b| b == b'\n') {
            let mut line = &buf[start..start + i];
            start += i + 1;
            if let Some(l) = line.strip_suffix(b"\r") {
                line = l;
            }
            let line = String::from_utf8_lossy(line);
            result = self.line(&line, on_text);
            if result.is_err() || self.done {
                break;
            }
        }
        self.buf = buf;
        self.buf.drain(..start);
        result
    }

    fn line(&mut self, line: &str, on_text: &mut dyn FnMut(&str)) -> Result<(), LlmError> {
        if line.trim().is_empty() {
            // End of an SSE event.
            self.sse_event.clear();
            if !self.sse_data.is_empty() {
                return Err(self.malformed("invalid JSON in a stream event"));
            }
            return Ok(());
        }
        if line.starts_with(':') {
            return Ok(());
        }
        if let Some(rest) = field(line, "data") {
            // Some proxies prefix twice.
            let mut rest = rest.trim_start();
            while let Some(r) = field(rest, "data") {
                rest = r.trim_start();
            }
            return self.data(rest.trim(), on_text);
        }
        if let Some(rest) = field(line, "error") {
            // llama.cpp reports a failure mid-stream as an `error:` line.
            let rest = rest.trim();
            let message = match serde_json::from_str::<Value>(rest) {
                Ok(v) => error_message(&v),
                Err(_) => excerpt(rest, 300),
            };
            return Err(LlmError::Server(message));
        }
        if let Some(rest) = field(line, "event") {
            self.sse_event = rest.trim().to_string();
            return Ok(());
        }
        let t = line.trim();
        if t.starts_with('{') {
            // A bare JSON line (NDJSON after a preamble, or a proxy that drops `data:`).
            return self.data(t, on_text);
        }
        if t == "[DONE]" {
            self.done = true;
        }
        // `id:`, `retry:` and anything unknown.
        Ok(())
    }

    fn data(&mut self, payload: &str, on_text: &mut dyn FnMut(&str)) -> Result<(), LlmError> {
        if self.sse_data.is_empty() {
            if payload == "[DONE]" {
                self.done = true;
                return Ok(());
            }
            if !payload.starts_with('{') && !payload.starts_with('[') {
                if self.sse_event == "error" && !payload.is_empty() {
                    return Err(LlmError::Server(excerpt(payload, 300)));
                }
                return Ok(()); // a ping or some other non-JSON data: ignored
            }
            match serde_json::from_str::<Value>(payload) {
                Ok(v) => self.value(v, on_text),
                Err(e) if e.is_eof() => {
                    self.sse_data.push_str(payload);
                    Ok(())
                }
                Err(_) => Err(self.malformed("invalid JSON in a stream event")),
            }
        } else {
            // A JSON event spread over several data lines.
            self.sse_data.push('\n');
            self.sse_data.push_str(payload);
            match serde_json::from_str::<Value>(&self.sse_data) {
                Ok(v) => {
                    self.sse_data.clear();
                    self.value(v, on_text)
                }
                Err(e) if e.is_eof() => Ok(()),
                Err(_) => Err(self.malformed("invalid JSON in a stream event")),
            }
        }
    }

    /// Concatenated JSON values (NDJSON, or one pretty-printed body).
    fn drain_json(&mut self, on_text: &mut dyn FnMut(&str), at_end: bool) -> Result<(), LlmError> {
        loop {
            let skip = self.buf.iter().position(|b| !b.is_ascii_whitespace());
            match skip {
                None => {
                    self.buf.clear();
                    return Ok(());
                }
                Some(n) => {
                    self.buf.drain(..n);
                }
            }
            // A complete value ends with `}` or `]`: don't re-parse a half value on every chunk.
            let last = self.buf.iter().rev().find(|b| !b.is_ascii_whitespace()).copied();
            if !at_end && !matches!(last, Some(b'}') | Some(b']')) {
                return Ok(());
            }
            let mut it = serde_json::Deserializer::from_slice(&self.buf).into_iter::<Value>();
            match it.next() {
                Some(Ok(v)) => {
                    let used = it.byte_offset();
                    self.buf.drain(..used);
                    self.value(v, on_text)?;
                    if self.done {
                        return Ok(());
                    }
                }
                Some(Err(e)) if e.is_eof() && !at_end => return Ok(()),
                Some(Err(e)) if e.is_eof() => return Err(self.malformed("the body ended inside a JSON value")),
                Some(Err(_)) => {
                    if !self.recognized {
                        // Not JSON after all: let `finish` report the head of the body.
                        self.buf.clear();
                        return Ok(());
                    }
                    return Err(self.malformed("invalid JSON in the body"));
                }
                None => return Ok(()),
            }
        }
    }

    fn value(&mut self, v: Value, on_text: &mut dyn FnMut(&str)) -> Result<(), LlmError> {
        if let Value::Array(items) = v {
            for item in items {
                self.value(item, on_text)?;
            }
            return Ok(());
        }
        if self.sse_event == "error" || v.get("object").and_then(Value::as_str) == Some("error") {
            return Err(LlmError::Server(error_message(&v)));
        }
        if let Some(e) = v.get("error").filter(|e| !e.is_null()) {
            return Err(LlmError::Server(error_message(e)));
        }
        if let Some(choices) = v.get("choices").and_then(Value::as_array) {
            self.recognized = true;
            for c in choices {
                if c.get("index").and_then(Value::as_u64).unwrap_or(0) != 0 {
                    continue;
                }
                if let Some(d) = c.get("delta").filter(|d| d.is_object()) {
                    self.message(d, on_text);
                } else if let Some(m) = c.get("message").filter(|m| m.is_object()) {
                    self.message(m, on_text);
                }
                if let Some(t) = c.get("text").and_then(Value::as_str) {
                    self.text(t, on_text);
                }
                if let Some(f) = c.get("finish_reason").and_then(Value::as_str).filter(|f| !f.is_empty()) {
                    self.finish_reason = Some(f.to_string());
                }
            }
        }
        // Ollama's native /api/chat.
        if let Some(m) = v.get("message").filter(|m| m.is_object()) {
            self.recognized = true;
            self.message(m, on_text);
        }
        if let Some(done) = v.get("done").and_then(Value::as_bool) {
            self.recognized = true;
            if done {
                self.done = true;
                let reason = v.get("done_reason").and_then(Value::as_str).unwrap_or("stop");
                self.finish_reason.get_or_insert_with(|| reason.to_string());
            }
        }
        if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
            self.recognized = true;
            let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
            self.usage = Some(Usage { prompt_tokens: n("prompt_tokens"), completion_tokens: n("completion_tokens") });
        } else if let Some(out) = v.get("eval_count").and_then(Value::as_u64) {
            let prompt = v.get("prompt_eval_count").and_then(Value::as_u64).unwrap_or(0);
            self.usage = Some(Usage { prompt_tokens: prompt, completion_tokens: out });
        }
        Ok(())
    }

    fn message(&mut self, m: &Value, on_text: &mut dyn FnMut(&str)) {
        match m.get("content") {
            Some(Value::String(s)) => self.text(s, on_text),
            Some(Value::Array(parts)) => {
                for p in parts {
                    if let Some(t) = p.get("text").and_then(Value::as_str) {
                        self.text(t, on_text);
                    }
                }
            }
            _ => {}
        }
        if let Some(r) = m.get("refusal").and_then(Value::as_str) {
            self.text(r, on_text);
        }
        // Reasoning is never shown, but it shows the model is working.
        for k in ["reasoning_content", "reasoning", "thinking"] {
            if m.get(k).and_then(Value::as_str).is_some_and(|s| !s.is_empty()) {
                self.output = true;
            }
        }
        if let Some(calls) = m.get("tool_calls").and_then(Value::as_array) {
            for tc in calls {
                self.tool_delta(tc, None);
            }
        }
        if let Some(fc) = m.get("function_call").filter(|f| f.is_object()) {
            self.tool_delta(fc, Some(0));
        }
    }

    fn text(&mut self, s: &str, on_text: &mut dyn FnMut(&str)) {
        if s.is_empty() {
            return;
        }
        self.output = true;
        let mut out = std::mem::take(&mut self.scratch);
        out.clear();
        self.think.push(s, &mut out);
        if !out.is_empty() {
            self.answer_output = true;
            self.content.push_str(&out);
            on_text(&out);
        }
        self.scratch = out;
    }

    /// One tool-call delta, in any dialect: OpenAI/vLLM (index; id and name in the
    /// first delta only), llama.cpp variants (id and name repeated, index missing),
    /// Ollama (whole call at once, arguments as an object), legacy `function_call`.
    fn tool_delta(&mut self, tc: &Value, legacy_index: Option<usize>) {
        let f = tc.get("function").filter(|f| f.is_object()).unwrap_or(tc);
        let id = tc.get("id").and_then(Value::as_str).filter(|s| !s.is_empty());
        let index = legacy_index
            .or_else(|| tc.get("index").and_then(Value::as_u64).filter(|i| *i <= MAX_INDEX).map(|i| i as usize));
        let name = f.get("name").and_then(Value::as_str).filter(|s| !s.is_empty());
        let args = match f.get("arguments").or_else(|| f.get("parameters")) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(v @ (Value::Object(_) | Value::Array(_))) => Some(v.to_string()),
            _ => None,
        };
        if id.is_none() && name.is_none() && args.as_deref().is_none_or(str::is_empty) {
            return;
        }
        self.output = true;
        self.answer_output = true;
        let slot = self.resolve(index, id, name);
        let s = &mut self.slots[slot];
        if let Some(id) = id {
            if s.id.is_empty() {
                s.id = id.to_string();
            }
        }
        if let Some(n) = name {
            if s.name.is_empty() || n.starts_with(s.name.as_str()) {
                s.name = n.to_string();
            } else if s.name != n {
                s.name.push_str(n);
            }
        }
        if let Some(a) = args {
            if s.args.is_empty() {
                s.args = a;
            } else if !(a.starts_with('{') && a == s.args) {
                s.args.push_str(&a);
            }
        }
    }

    fn resolve(&mut self, index: Option<usize>, id: Option<&str>, name: Option<&str>) -> usize {
        if let Some(id) = id {
            if let Some(i) = self.slots.iter().position(|s| s.id == id) {
                return i;
            }
        }
        if let Some(ix) = index {
            let known = self.by_index.iter().find(|(k, _)| *k == ix).map(|(_, s)| *s);
            match known {
                // The same index with a new id is a new call (servers that number every call 0).
                Some(slot) if id.is_none() || self.slots[slot].id.is_empty() => return slot,
                Some(_) => {
                    let slot = self.new_slot();
                    for (k, s) in &mut self.by_index {
                        if *k == ix {
                            *s = slot;
                        }
                    }
                    return slot;
                }
                None => {
                    let slot = self.new_slot();
                    self.by_index.push((ix, slot));
                    return slot;
                }
            }
        }
        if id.is_some() {
            return self.new_slot();
        }
        match (name, self.slots.last()) {
            // Neither index nor id: a repeated name continues a call whose arguments are
            // not complete yet; another name starts a new one.
            (Some(n), Some(last)) if last.name == n && !is_complete_json(&last.args) => self.slots.len() - 1,
            (Some(_), _) => self.new_slot(),
            (None, Some(_)) => self.slots.len() - 1,
            (None, None) => self.new_slot(),
        }
    }

    fn new_slot(&mut self) -> usize {
        self.slots.push(Slot::default());
        self.slots.len() - 1
    }
}

/// `line` without `name:` when it starts with it.
fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    line.strip_prefix(name)?.strip_prefix(':')
}

fn is_complete_json(s: &str) -> bool {
    !s.trim().is_empty() && serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok()
}

/// The message of an error value: `{"message": …}`, `{"error": "…"}`, a string…
pub(crate) fn error_message(e: &Value) -> String {
    let text = match e {
        Value::String(s) => s.clone(),
        Value::Object(o) => {
            let inner = o.get("error").filter(|v| !v.is_null());
            match (o.get("message").or_else(|| o.get("detail")).or_else(|| o.get("msg")), inner) {
                (Some(Value::String(m)), _) => m.clone(),
                (_, Some(inner)) => return error_message(inner),
                (Some(other), _) => other.to_string(),
                (None, None) => e.to_string(),
            }
        }
        other => other.to_string(),
    };
    excerpt(&text, 300)
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ThinkState {
    #[default]
    Start,
    Inside,
    Pass,
}

/// Drops a leading `<think>…</think>` block from the content (reasoning models served
/// without a reasoning parser), across chunk boundaries.
#[derive(Debug, Default)]
struct ThinkFilter {
    state: ThinkState,
    pending: String,
}

const THINK_OPEN: &str = "<think>";
const THINK_CLOSE: &str = "</think>";

impl ThinkFilter {
    fn push(&mut self, s: &str, out: &mut String) {
        match self.state {
            ThinkState::Pass => out.push_str(s),
            ThinkState::Start => {
                self.pending.push_str(s);
                let t = self.pending.trim_start();
                if t.is_empty() || (THINK_OPEN.starts_with(t) && t.len() < THINK_OPEN.len()) {
                    return;
                }
                if let Some(rest) = t.strip_prefix(THINK_OPEN) {
                    let rest = rest.to_string();
                    self.pending.clear();
                    self.state = ThinkState::Inside;
                    self.push(&rest, out);
                } else {
                    self.state = ThinkState::Pass;
                    out.push_str(&self.pending);
                    self.pending.clear();
                }
            }
            ThinkState::Inside => {
                self.pending.push_str(s);
                if let Some(i) = self.pending.find(THINK_CLOSE) {
                    let rest = self.pending[i + THINK_CLOSE.len()..].trim_start().to_string();
                    self.pending.clear();
                    self.state = ThinkState::Pass;
                    out.push_str(&rest);
                } else {
                    // Keep just enough to find a closing tag split across chunks.
                    let mut cut = self.pending.len().saturating_sub(THINK_CLOSE.len() - 1);
                    while !self.pending.is_char_boundary(cut) {
                        cut += 1;
                    }
                    self.pending.drain(..cut);
                }
            }
        }
    }

    fn finish(&mut self, out: &mut String) {
        if self.state == ThinkState::Start {
            out.push_str(&self.pending);
        }
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `body` in pieces of `step` bytes.
    fn parse_in(body: &str, step: usize) -> (Result<Parsed, LlmError>, Vec<String>) {
        let mut deltas = Vec::new();
        let mut p = StreamParser::new();
        let bytes = body.as_bytes();
        let mut cb = |s: &str| deltas.push(s.to_string());
        for chunk in bytes.chunks(step.max(1)) {
            if let Err(e) = p.feed(chunk, &mut cb) {
                return (Err(e), deltas);
            }
        }
        let r = p.finish(&mut cb);
        (r, deltas)
    }

    fn parse(body: &str) -> Parsed {
        let whole = parse_in(body, usize::MAX).0.unwrap();
        for step in [1, 3, 7] {
            assert_eq!(parse_in(body, step).0.unwrap(), whole, "split every {step} bytes");
        }
        whole
    }

    #[test]
    fn sse_variants_give_the_same_text() {
        let a = "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null}}]}\n\n\
                 data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n\
                 data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":null}]}\n\n\
                 data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n\
                 data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n\
                 data: [DONE]\n\n";
        let b = ": keep-alive\r\n\r\nevent: message\r\ndata:{\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\r\n\r\n\
                 id: 2\r\ndata:{\"choices\":[{\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\r\n";
        let pa = parse(a);
        let pb = parse(b);
        assert_eq!(pa.content, "Hello");
        assert_eq!(pa.finish, FinishReason::Stop);
        assert_eq!(pa.usage, Some(Usage { prompt_tokens: 5, completion_tokens: 2 }));
        assert_eq!((pb.content.as_str(), &pb.finish), ("Hello", &FinishReason::Stop));
        let (_, deltas) = parse_in(a, usize::MAX);
        assert_eq!(deltas, ["Hel", "lo"]);
    }

    #[test]
    fn ndjson_and_plain_json_bodies() {
        let nd = "{\"message\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"done\":false}\n\
                  {\"message\":{\"role\":\"assistant\",\"content\":\"lo\"},\"done\":false}\n\
                  {\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":3,\"eval_count\":2}\n";
        let p = parse(nd);
        assert_eq!((p.content.as_str(), &p.finish), ("Hello", &FinishReason::Stop));
        assert_eq!(p.usage, Some(Usage { prompt_tokens: 3, completion_tokens: 2 }));
        let body = "{\n  \"choices\": [\n    {\"index\": 0, \"message\": {\"role\": \"assistant\", \"content\": \"Hello\"},\n     \"finish_reason\": \"stop\"}\n  ]\n}\n";
        assert_eq!(parse(body).content, "Hello");
    }

    #[test]
    fn tool_call_dialects_assemble_the_same_calls() {
        let openai = r#"data: {"choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"search_knowledge","arguments":""}}]}}]}

data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"query\":"}}]}}]}

data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"refunds\"}"}}]}}]}

data: {"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}

data: [DONE]
"#;
        let repeated = r#"data: {"choices":[{"delta":{"tool_calls":[{"id":"call_a","type":"function","function":{"name":"search_knowledge","arguments":"{\"query\":"}}]}}]}
data: {"choices":[{"delta":{"tool_calls":[{"id":"call_a","type":"function","function":{"name":"search_knowledge","arguments":"\"refunds\"}"}}]}}]}
data: {"choices":[{"delta":{},"finish_reason":"stop"}]}
"#;
        let no_ids = r#"data: {"choices":[{"delta":{"tool_calls":[{"function":{"name":"search_knowledge","arguments":"{\"query\":"}}]}}]}
data: {"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"\"refunds\"}"}}]}}]}
"#;
        let ollama_obj = r#"data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"","tool_calls":[{"id":"call_a","index":0,"type":"function","function":{"name":"search_knowledge","arguments":{"query":"refunds"}}}]},"finish_reason":null}]}
data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"stop"}]}
data: [DONE]
"#;
        let native = "{\"message\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":{\"name\":\"search_knowledge\",\"arguments\":{\"query\":\"refunds\"}}}]},\"done\":false}\n{\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\"}\n";
        let legacy = r#"data: {"choices":[{"delta":{"function_call":{"name":"search_knowledge","arguments":""}}}]}
data: {"choices":[{"delta":{"function_call":{"arguments":"{\"query\":\"refunds\"}"}},"finish_reason":"function_call"}]}
"#;
        for body in [openai, repeated, no_ids, ollama_obj, native, legacy] {
            let p = parse(body);
            assert_eq!(p.tool_calls.len(), 1, "{body}");
            let call = &p.tool_calls[0];
            assert_eq!(call.name, "search_knowledge");
            let args: Value = serde_json::from_str(&call.arguments).unwrap();
            assert_eq!(args, serde_json::json!({"query": "refunds"}));
            assert_eq!(p.finish, FinishReason::ToolCalls);
            assert!(!call.id.is_empty());
        }
    }

    #[test]
    fn parallel_calls_interleaved_by_index() {
        let body = r#"data: {"choices":[{"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"one","arguments":""}}]}}]}
data: {"choices":[{"delta":{"tool_calls":[{"index":1,"id":"b","function":{"name":"two","arguments":"{\"x\""}}]}}]}
data: {"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"y\":2}"}}]}}]}
data: {"choices":[{"delta":{"tool_calls":[{"index":1,"function":{"arguments":":1}"}}]}}]}
data: [DONE]
"#;
        let p = parse(body);
        assert_eq!(p.tool_calls, vec![ToolCall::new("a", "one", "{\"y\":2}"), ToolCall::new("b", "two", "{\"x\":1}")]);
        // A server that numbers every call 0 but gives each its own id.
        let zero = r#"data: {"choices":[{"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"one","arguments":"{}"}}]}}]}
data: {"choices":[{"delta":{"tool_calls":[{"index":0,"id":"b","function":{"name":"two","arguments":"{}"}}]}}]}
"#;
        assert_eq!(parse(zero).tool_calls.len(), 2);
        // Ollama native: two complete calls of the same tool in one message.
        let two = "{\"message\":{\"tool_calls\":[{\"function\":{\"name\":\"s\",\"arguments\":{\"q\":1}}},{\"function\":{\"name\":\"s\",\"arguments\":{\"q\":2}}}]},\"done\":true}";
        assert_eq!(parse(two).tool_calls.len(), 2);
    }

    #[test]
    fn errors_in_stream_and_malformed_bodies() {
        let e = parse_in("data: {\"error\":{\"message\":\"model overloaded\",\"type\":\"server_error\"}}\n\n", 5).0;
        assert_eq!(e, Err(LlmError::Server("model overloaded".into())));
        let e = parse_in("{\"error\":\"model 'x' not found\"}", 4).0;
        assert_eq!(e, Err(LlmError::Server("model 'x' not found".into())));
        let e = parse_in("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\nerror: {\"code\":500,\"message\":\"context size exceeded\",\"type\":\"server_error\"}\n\n", 7).0;
        assert_eq!(e, Err(LlmError::Server("context size exceeded".into())));
        let e = parse_in("event: error\ndata: overloaded\n\n", 100).0;
        assert_eq!(e, Err(LlmError::Server("overloaded".into())));
        let e = parse_in("{\"object\":\"error\",\"message\":\"bad\",\"code\":400}", 100).0;
        assert_eq!(e, Err(LlmError::Server("bad".into())));
        assert!(
            matches!(parse_in("<html><body>Bad gateway</body></html>", 8).0, Err(LlmError::Malformed(m)) if m.contains("Bad gateway"))
        );
        assert!(matches!(parse_in("", 8).0, Err(LlmError::Malformed(m)) if m.contains("empty")));
        assert!(matches!(
            parse_in("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}\n\n", 8).0,
            Err(LlmError::Malformed(_))
        ));
        assert!(matches!(parse_in("data: {\"choices\": nope}\n\n", 8).0, Err(LlmError::Malformed(_))));
        // Cut mid-event, no blank line.
        assert!(matches!(parse_in("data: {\"choices\":[{\"delta\":{\"con", 8).0, Err(LlmError::Malformed(_))));
        assert!(matches!(parse_in("{\"choices\":[{\"message\":{\"content\":\"a", 8).0, Err(LlmError::Malformed(_))));
    }

    #[test]
    fn reasoning_and_think_blocks_are_not_shown() {
        let body = r#"data: {"choices":[{"delta":{"reasoning_content":"Let me think"}}]}
data: {"choices":[{"delta":{"content":"<thi"}}]}
data: {"choices":[{"delta":{"content":"nk>hidden </th"}}]}
data: {"choices":[{"delta":{"content":"ink>\n\nShown"}}]}
data: {"choices":[{"delta":{"content":" <think> stays"}}]}
"#;
        let (p, deltas) = parse_in(body, 9);
        assert_eq!(p.unwrap().content, "Shown <think> stays");
        assert_eq!(deltas.concat(), "Shown <think> stays");
        let mut f = ThinkFilter::default();
        let mut out = String::new();
        f.push("<th", &mut out);
        f.finish(&mut out);
        assert_eq!(out, "<th");
    }

    #[test]
    fn multi_line_data_and_double_prefix() {
        let body = "data: {\"choices\":[{\"delta\":\ndata: {\"content\":\"Hi\"}}]}\n\ndata: data: {\"choices\":[{\"delta\":{\"content\":\"!\"}}]}\n\n";
        assert_eq!(parse(body).content, "Hi!");
    }

    #[test]
    fn finish_reasons() {
        for (raw, want) in [
            ("stop", FinishReason::Stop),
            ("eos", FinishReason::Stop),
            ("length", FinishReason::Length),
            ("content_filter", FinishReason::ContentFilter),
        ] {
            let body =
                format!("data: {{\"choices\":[{{\"delta\":{{\"content\":\"x\"}},\"finish_reason\":\"{raw}\"}}]}}\n\n");
            assert_eq!(parse(&body).finish, want);
        }
        assert_eq!(parse("data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n").finish, FinishReason::Unfinished);
    }
}
