//! The LLM responder's model side: any OpenAI-compatible chat-completions endpoint
//! (OpenAI, Ollama, vLLM, llama.cpp, LM Studio, gateways), streamed, with tools.
//!
//! * [`LlmConfig`] — endpoint, key, model, time limits, step cap, extra headers/body,
//!   and the failure policy the engine applies ([`FailurePolicy`]).
//! * [`Client`] — one connection pool; [`Client::complete_stream`] sends one
//!   `POST {base_url}/chat/completions` with `stream: true` and returns a
//!   [`Completion`] (text, assembled tool calls, finish reason, usage, timings),
//!   calling `on_delta` with each text piece as it arrives. Lenient with dialects:
//!   SSE in all its spellings, NDJSON (Ollama's native API), a plain JSON body, tool
//!   calls streamed by index or whole, arguments as strings or objects, legacy
//!   `function_call`, reasoning deltas and leading `<think>` blocks hidden. In-stream
//!   errors, non-2xx answers and anything that is not a chat completion become an
//!   [`LlmError`]; so do the time limits (connect, first token, idle gap, total).
//! * [`run`] — the agent loop over a [`ToolBox`] the engine implements: model → tool
//!   calls → results back → … → answer. Unknown tools and invalid JSON arguments are
//!   answered to the model as tool errors (and recorded as [`ToolStep`]s); more than
//!   `max_tool_steps` rounds is [`LlmError::StepLimit`]; a tool output with `handoff`
//!   ends the run. Streams [`Delta`]s with citation markers already removed; the
//!   [`AgentRun`] carries the answer, the cited passage ids that were actually
//!   retrieved (others dropped), the tool steps and the timings (first token, model,
//!   tools, overhead). A failure is a [`RunError`] that still carries the steps.
//! * [`prompt`] — the system prompt from the profile (name, personality or brand
//!   voice, reply language, topics to avoid, CRM properties) and the passages, with
//!   untrusted text neutralised; [`prompt::search_result`] formats passages as the
//!   result of `search_knowledge`.
//! * [`grounding`] — [`grounding::unsupported_claims`]: the figures, links and names of
//!   a reply that the passages it cites do not contain (an ungrounded reply is not sent).
//! * [`citations`] — markers (`[1]`, `[1, 3]`, `[#2]`, `[source 2]`, `【1】`…):
//!   extraction, removal (also while streaming), and the retrieved-only check.
//! * `testing` (feature `testing`) — `ScriptedServer`, a loopback OpenAI-compatible
//!   server replaying scripted responses in each dialect, for tests and benchmarks.
//!
//! Typical use by the engine:
//!
//! ```ignore
//! let client = Client::new(settings.llm.clone())?;              // once, at start
//! let passages: Vec<Passage> = /* top passages, ids 1..=n */;
//! let tool_names = [SEARCH_KNOWLEDGE, HANDOFF_TO_HUMAN];
//! let system = prompt::system_prompt(&PromptInput { agent_name, personality, brand_voice,
//!     language: Some("it"), topics_to_avoid, contact, passages: &passages, tools: &tool_names });
//! let ids: Vec<u32> = passages.iter().map(|p| p.id).collect();
//! let history = vec![Message::assistant("Hi!"), Message::user(visitor_text)];
//! let result = run(&client, Turn { system_prompt: &system, history: &history, retrieved: &ids },
//!     &my_tools, &mut |d| match d {
//!         Delta::Text { step, text } => widget.append(step, text),
//!         Delta::Discard { step } => widget.discard(step),
//!         Delta::Tool { name, .. } => widget.status(name),
//!     }).await;
//! match result {
//!     Ok(run) => /* Reply from run.text, run.citations (ids → sources), run.steps */,
//!     Err(failed) => /* settings.llm.on_failure: built-in responder or handoff;
//!                       failed.steps says which actions already ran */,
//! }
//! ```

mod agent;
pub mod citations;
mod client;
mod config;
mod error;
pub mod grounding;
mod message;
pub mod prompt;
mod stream;
mod tools;

#[cfg(feature = "testing")]
pub mod testing;

pub use agent::{run, AgentRun, Delta, Finish, RunError, RunTimings, ToolStep, Turn, MAX_CALLS_PER_STEP};
pub use client::{Client, Completion, FinishReason, Timings, Usage};
pub use config::{FailurePolicy, LlmConfig};
pub use error::{LlmError, TimeoutKind};
pub use message::{Message, Role, ToolCall, ToolSpec};
pub use prompt::{AvoidTopic, Passage, PromptInput};
pub use tools::{
    handoff_to_human_spec, search_knowledge_spec, BoxFuture, NoTools, ToolBox, ToolOutput, HANDOFF_TO_HUMAN,
    SEARCH_KNOWLEDGE,
};
