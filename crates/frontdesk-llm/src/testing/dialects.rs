//! Realistic responses of each server, built from their real stream formats:
//! OpenAI, vLLM, llama.cpp's `llama-server` (and the llama-cpp-python variant that
//! repeats id and name in every tool-call delta), Ollama's OpenAI-compatible
//! `/v1/chat/completions` and its native NDJSON `/api/chat`, and a non-streamed body.

use serde_json::{json, Value};

use super::Scripted;
use crate::message::ToolCall;

const CREATED: u64 = 1_730_000_000;

/// Splits `s` into pieces of about `n` characters (how servers stream arguments).
pub fn pieces(s: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    chars.chunks(n.max(1)).map(|c| c.iter().collect()).collect()
}

fn args_object(arguments: &str) -> Value {
    serde_json::from_str(arguments).unwrap_or_else(|_| Value::String(arguments.to_string()))
}

/// Every dialect, for tests that must hold for all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    OpenAi,
    Vllm,
    LlamaCpp,
    /// llama-cpp-python: id and name repeated in every tool-call delta, no index.
    LlamaCppPython,
    /// Ollama's `/v1/chat/completions`: whole tool calls in one delta.
    OllamaOpenAi,
    /// Ollama's native `/api/chat`: NDJSON, arguments as objects.
    OllamaNative,
    /// A server that ignores `stream: true`.
    NonStreamed,
}

impl Dialect {
    pub const ALL: [Dialect; 7] = [
        Dialect::OpenAi,
        Dialect::Vllm,
        Dialect::LlamaCpp,
        Dialect::LlamaCppPython,
        Dialect::OllamaOpenAi,
        Dialect::OllamaNative,
        Dialect::NonStreamed,
    ];

    /// A text answer streamed as `pieces`.
    pub fn text(self, pieces: &[&str]) -> Scripted {
        match self {
            Dialect::OpenAi => openai_text(pieces),
            Dialect::Vllm => vllm_text(pieces),
            Dialect::LlamaCpp | Dialect::LlamaCppPython => llamacpp_text(pieces),
            Dialect::OllamaOpenAi => ollama_openai_text(pieces),
            Dialect::OllamaNative => ollama_ndjson_text(pieces),
            Dialect::NonStreamed => json_completion(&pieces.concat()),
        }
    }

    /// A turn that ends with these tool calls (arguments streamed in pieces where the
    /// server does so).
    pub fn tool_calls(self, calls: &[ToolCall]) -> Scripted {
        match self {
            Dialect::OpenAi => openai_tool_calls(calls),
            Dialect::Vllm => vllm_tool_calls(calls),
            Dialect::LlamaCpp => llamacpp_tool_calls(calls),
            Dialect::LlamaCppPython => llamacpp_python_tool_calls(calls),
            Dialect::OllamaOpenAi => ollama_openai_tool_calls(calls),
            Dialect::OllamaNative => ollama_ndjson_tool_calls(calls),
            Dialect::NonStreamed => json_tool_calls(calls),
        }
    }
}

// ---- OpenAI ----------------------------------------------------------------------

fn openai_chunk(delta: Value, finish: Option<&str>) -> String {
    json!({
        "id": "chatcmpl-AbC123scripted", "object": "chat.completion.chunk", "created": CREATED,
        "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_0ba0d124f1",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
    })
    .to_string()
}

fn openai_usage() -> String {
    json!({
        "id": "chatcmpl-AbC123scripted", "object": "chat.completion.chunk", "created": CREATED,
        "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_0ba0d124f1", "choices": [],
        "usage": {"prompt_tokens": 120, "completion_tokens": 12, "total_tokens": 132}
    })
    .to_string()
}

/// OpenAI: role in the first chunk, `content` deltas, an empty delta with
/// `finish_reason: stop`, a usage-only chunk with empty `choices`, `[DONE]`.
pub fn openai_text(pieces: &[&str]) -> Scripted {
    let mut ev = vec![openai_chunk(json!({"role": "assistant", "content": "", "refusal": null}), None)];
    ev.extend(pieces.iter().map(|p| openai_chunk(json!({"content": p}), None)));
    ev.push(openai_chunk(json!({}), Some("stop")));
    ev.push(openai_usage());
    Scripted::sse(ev)
}

fn openai_call_events(ev: &mut Vec<String>, calls: &[ToolCall], first_has_role: bool) {
    for (i, c) in calls.iter().enumerate() {
        let head = json!({"index": i, "id": c.id, "type": "function", "function": {"name": c.name, "arguments": ""}});
        let delta = if i == 0 && first_has_role {
            json!({"role": "assistant", "content": null, "tool_calls": [head], "refusal": null})
        } else {
            json!({"tool_calls": [head]})
        };
        ev.push(openai_chunk(delta, None));
        for p in pieces(&c.arguments, 6) {
            ev.push(openai_chunk(json!({"tool_calls": [{"index": i, "function": {"arguments": p}}]}), None));
        }
    }
}

/// OpenAI tool calls one after the other: `index`, `id` and `name` in the first delta
/// of each, `arguments` split over many deltas, `finish_reason: tool_calls`.
pub fn openai_tool_calls(calls: &[ToolCall]) -> Scripted {
    let mut ev = Vec::new();
    openai_call_events(&mut ev, calls, true);
    ev.push(openai_chunk(json!({}), Some("tool_calls")));
    ev.push(openai_usage());
    Scripted::sse(ev)
}

/// OpenAI parallel tool calls with their argument deltas interleaved by index.
pub fn openai_parallel_tool_calls(calls: &[ToolCall]) -> Scripted {
    let mut ev = vec![openai_chunk(json!({"role": "assistant", "content": null, "refusal": null}), None)];
    for (i, c) in calls.iter().enumerate() {
        let head = json!({"index": i, "id": c.id, "type": "function", "function": {"name": c.name, "arguments": ""}});
        ev.push(openai_chunk(json!({"tool_calls": [head]}), None));
    }
    let split: Vec<Vec<String>> = calls.iter().map(|c| pieces(&c.arguments, 5)).collect();
    let rounds = split.iter().map(Vec::len).max().unwrap_or(0);
    for r in 0..rounds {
        for (i, ps) in split.iter().enumerate() {
            if let Some(p) = ps.get(r) {
                ev.push(openai_chunk(json!({"tool_calls": [{"index": i, "function": {"arguments": p}}]}), None));
            }
        }
    }
    ev.push(openai_chunk(json!({}), Some("tool_calls")));
    Scripted::sse(ev)
}

/// Some text streamed first ("Let me check…"), then tool calls, in one turn.
pub fn openai_text_then_tool_calls(text: &[&str], calls: &[ToolCall]) -> Scripted {
    let mut ev = vec![openai_chunk(json!({"role": "assistant", "content": ""}), None)];
    ev.extend(text.iter().map(|p| openai_chunk(json!({"content": p}), None)));
    openai_call_events(&mut ev, calls, false);
    ev.push(openai_chunk(json!({}), Some("tool_calls")));
    Scripted::sse(ev)
}

/// Some text, then `{"error": {...}}` inside the 200 stream.
pub fn openai_stream_error(text: &[&str], message: &str) -> Scripted {
    let mut ev = vec![openai_chunk(json!({"role": "assistant", "content": ""}), None)];
    ev.extend(text.iter().map(|p| openai_chunk(json!({"content": p}), None)));
    ev.push(json!({"error": {"message": message, "type": "server_error", "param": null, "code": null}}).to_string());
    Scripted::sse_raw(ev.into_iter().map(|e| format!("data: {e}\n\n")))
}

/// A legacy `function_call` turn (pre-tools OpenAI API).
pub fn openai_legacy_function_call(name: &str, arguments: &str) -> Scripted {
    let mut ev = vec![openai_chunk(
        json!({"role": "assistant", "content": null, "function_call": {"name": name, "arguments": ""}}),
        None,
    )];
    for p in pieces(arguments, 6) {
        ev.push(openai_chunk(json!({"function_call": {"arguments": p}}), None));
    }
    ev.push(openai_chunk(json!({}), Some("function_call")));
    Scripted::sse(ev)
}

// ---- vLLM ------------------------------------------------------------------------

fn vllm_chunk(delta: Value, finish: Option<&str>) -> String {
    let mut choice = json!({"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish});
    if finish.is_some() {
        choice["stop_reason"] = Value::Null;
    }
    json!({
        "id": "chatcmpl-3f6a2c1e9b8d4e7f", "object": "chat.completion.chunk", "created": CREATED,
        "model": "Qwen/Qwen2.5-7B-Instruct", "choices": [choice]
    })
    .to_string()
}

/// vLLM: `{"role":"assistant","content":""}` first, content deltas, a final
/// `{"content":""}` with `finish_reason: stop` and `stop_reason: null`, `[DONE]`.
pub fn vllm_text(pieces: &[&str]) -> Scripted {
    vllm_reasoning_then_text(&[], pieces)
}

/// vLLM with a reasoning parser: `reasoning_content` deltas before the answer.
pub fn vllm_reasoning_then_text(reasoning: &[&str], pieces: &[&str]) -> Scripted {
    let mut ev = vec![vllm_chunk(json!({"role": "assistant", "content": ""}), None)];
    ev.extend(reasoning.iter().map(|r| vllm_chunk(json!({"reasoning_content": r}), None)));
    ev.extend(pieces.iter().map(|p| vllm_chunk(json!({"content": p}), None)));
    ev.push(vllm_chunk(json!({"content": ""}), Some("stop")));
    Scripted::sse(ev)
}

/// vLLM tool parser: the first delta of a call has `id` (`chatcmpl-tool-…`), `type`,
/// `index` and `function.name` without arguments; then argument deltas by index.
pub fn vllm_tool_calls(calls: &[ToolCall]) -> Scripted {
    let mut ev = vec![vllm_chunk(json!({"role": "assistant", "content": ""}), None)];
    for (i, c) in calls.iter().enumerate() {
        ev.push(vllm_chunk(
            json!({"tool_calls": [{"id": c.id, "type": "function", "index": i, "function": {"name": c.name}}]}),
            None,
        ));
        for p in pieces(&c.arguments, 8) {
            ev.push(vllm_chunk(json!({"tool_calls": [{"index": i, "function": {"arguments": p}}]}), None));
        }
    }
    ev.push(vllm_chunk(json!({"content": ""}), Some("tool_calls")));
    Scripted::sse(ev)
}

// ---- llama.cpp -------------------------------------------------------------------

fn llamacpp_chunk(delta: Value, finish: Option<&str>) -> String {
    let mut v = json!({
        "choices": [{"finish_reason": finish, "index": 0, "delta": delta}],
        "created": CREATED, "id": "chatcmpl-yPk7z9nC22CofOlh100qQdHVEDMNYCb1", "model": "gpt-3.5-turbo",
        "system_fingerprint": "b6097-9515c613", "object": "chat.completion.chunk"
    });
    if finish.is_some() {
        v["usage"] = json!({"completion_tokens": 12, "prompt_tokens": 120, "total_tokens": 132});
        v["timings"] = json!({"prompt_n": 120, "prompt_ms": 20.5, "predicted_n": 12, "predicted_ms": 45.2});
    }
    v.to_string()
}

/// llama-server: `{"role":"assistant","content":null}` first, content deltas, an empty
/// delta with `finish_reason` plus `usage` and `timings`, `[DONE]`.
pub fn llamacpp_text(pieces: &[&str]) -> Scripted {
    let mut ev = vec![llamacpp_chunk(json!({"role": "assistant", "content": null}), None)];
    ev.extend(pieces.iter().map(|p| llamacpp_chunk(json!({"content": p}), None)));
    ev.push(llamacpp_chunk(json!({}), Some("stop")));
    Scripted::sse(ev)
}

/// llama-server tool calls: `index`, `id`, `type`, `name` and `arguments: ""` first,
/// then argument deltas.
pub fn llamacpp_tool_calls(calls: &[ToolCall]) -> Scripted {
    let mut ev = vec![llamacpp_chunk(json!({"role": "assistant", "content": null}), None)];
    for (i, c) in calls.iter().enumerate() {
        ev.push(llamacpp_chunk(
            json!({"tool_calls": [{"index": i, "id": c.id, "type": "function", "function": {"name": c.name, "arguments": ""}}]}),
            None,
        ));
        for p in pieces(&c.arguments, 4) {
            ev.push(llamacpp_chunk(json!({"tool_calls": [{"index": i, "function": {"arguments": p}}]}), None));
        }
    }
    ev.push(llamacpp_chunk(json!({}), Some("tool_calls")));
    Scripted::sse(ev)
}

/// llama-cpp-python: no `index`; `id`, `type` and `name` repeated in every delta.
pub fn llamacpp_python_tool_calls(calls: &[ToolCall]) -> Scripted {
    let mut ev = Vec::new();
    for c in calls {
        for p in pieces(&c.arguments, 5) {
            ev.push(llamacpp_chunk(
                json!({"role": "assistant", "content": null, "tool_calls": [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": p}}]}),
                None,
            ));
        }
    }
    ev.push(llamacpp_chunk(json!({}), Some("tool_calls")));
    Scripted::sse(ev)
}

/// llama-server reporting a failure mid-stream with an `error:` line.
pub fn llamacpp_stream_error(text: &[&str], message: &str) -> Scripted {
    let mut ev: Vec<String> =
        vec![format!("data: {}\n\n", llamacpp_chunk(json!({"role": "assistant", "content": null}), None))];
    ev.extend(text.iter().map(|p| format!("data: {}\n\n", llamacpp_chunk(json!({"content": p}), None))));
    ev.push(format!("error: {}\n\n", json!({"code": 500, "message": message, "type": "server_error"})));
    Scripted::sse_raw(ev)
}

// ---- Ollama ----------------------------------------------------------------------

fn ollama_chunk(delta: Value, finish: Option<&str>) -> String {
    json!({
        "id": "chatcmpl-768", "object": "chat.completion.chunk", "created": CREATED, "model": "qwen2.5:7b",
        "system_fingerprint": "fp_ollama", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
    })
    .to_string()
}

/// Ollama `/v1/chat/completions`: `role` in every delta, a final empty content with
/// `finish_reason: stop`, `[DONE]`.
pub fn ollama_openai_text(pieces: &[&str]) -> Scripted {
    let mut ev: Vec<String> =
        pieces.iter().map(|p| ollama_chunk(json!({"role": "assistant", "content": p}), None)).collect();
    ev.push(ollama_chunk(json!({"role": "assistant", "content": ""}), Some("stop")));
    Scripted::sse(ev)
}

/// Ollama `/v1/chat/completions`: each tool call whole in one delta (arguments as a
/// JSON string), then `finish_reason: tool_calls`.
pub fn ollama_openai_tool_calls(calls: &[ToolCall]) -> Scripted {
    ollama_openai_calls(calls, false)
}

/// Like [`ollama_openai_tool_calls`] with `arguments` as a JSON object (seen from some
/// versions and proxies).
pub fn ollama_openai_tool_calls_object_args(calls: &[ToolCall]) -> Scripted {
    ollama_openai_calls(calls, true)
}

fn ollama_openai_calls(calls: &[ToolCall], object_args: bool) -> Scripted {
    let mut ev = Vec::new();
    for (i, c) in calls.iter().enumerate() {
        let args = if object_args { args_object(&c.arguments) } else { Value::String(c.arguments.clone()) };
        ev.push(ollama_chunk(
            json!({"role": "assistant", "content": "", "tool_calls": [{"id": c.id, "index": i, "type": "function", "function": {"name": c.name, "arguments": args}}]}),
            None,
        ));
    }
    ev.push(ollama_chunk(json!({"role": "assistant", "content": ""}), Some("tool_calls")));
    Scripted::sse(ev)
}

fn ollama_line(message: Value, done: bool) -> String {
    let mut v =
        json!({"model": "llama3.2", "created_at": "2024-11-01T10:00:00.123456789Z", "message": message, "done": done});
    if done {
        v["done_reason"] = json!("stop");
        v["total_duration"] = json!(4_883_583_458u64);
        v["load_duration"] = json!(1_334_875);
        v["prompt_eval_count"] = json!(120);
        v["prompt_eval_duration"] = json!(342_546_000);
        v["eval_count"] = json!(12);
        v["eval_duration"] = json!(4_535_599_000u64);
    }
    v.to_string()
}

/// Ollama native `/api/chat`: NDJSON lines without `data:`, `"done": true` last.
pub fn ollama_ndjson_text(pieces: &[&str]) -> Scripted {
    let mut lines: Vec<String> =
        pieces.iter().map(|p| ollama_line(json!({"role": "assistant", "content": p}), false)).collect();
    lines.push(ollama_line(json!({"role": "assistant", "content": ""}), true));
    Scripted::ndjson(lines)
}

/// Ollama native: all tool calls in one message, arguments as objects, no ids.
pub fn ollama_ndjson_tool_calls(calls: &[ToolCall]) -> Scripted {
    let tool_calls: Vec<Value> =
        calls.iter().map(|c| json!({"function": {"name": c.name, "arguments": args_object(&c.arguments)}})).collect();
    Scripted::ndjson([
        ollama_line(json!({"role": "assistant", "content": "", "tool_calls": tool_calls}), false),
        ollama_line(json!({"role": "assistant", "content": ""}), true),
    ])
}

// ---- Not streamed, errors ---------------------------------------------------------

/// A server that ignored `stream: true`: one `chat.completion` body.
pub fn json_completion(text: &str) -> Scripted {
    Scripted::json(
        200,
        &json!({
            "id": "chatcmpl-AbC123scripted", "object": "chat.completion", "created": CREATED, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": null},
                         "logprobs": null, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 12, "total_tokens": 132}
        }),
    )
}

/// Non-streamed tool calls.
pub fn json_tool_calls(calls: &[ToolCall]) -> Scripted {
    let tool_calls: Vec<Value> = calls
        .iter()
        .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
        .collect();
    Scripted::json(
        200,
        &json!({
            "id": "chatcmpl-AbC123scripted", "object": "chat.completion", "created": CREATED, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "tool_calls": tool_calls},
                         "finish_reason": "tool_calls"}]
        }),
    )
}

/// An OpenAI-style JSON error with `status`.
pub fn json_error(status: u16, message: &str) -> Scripted {
    Scripted::json(
        status,
        &json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": null}}),
    )
}

/// A reverse proxy's HTML error page.
pub fn html_error(status: u16) -> Scripted {
    let title = format!("{status} {}", super::reason(status));
    Scripted::html(
        status,
        &format!("<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n"),
    )
}
