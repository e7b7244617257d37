//! The tools the model may call: the [`ToolBox`] the engine implements, and the specs of
//! the two standard tools.

use std::future::Future;
use std::pin::Pin;

use serde_json::{json, Value};

use crate::message::ToolSpec;

pub const SEARCH_KNOWLEDGE: &str = "search_knowledge";
pub const HANDOFF_TO_HUMAN: &str = "handoff_to_human";

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The tools offered to the model, implemented by the engine (search, actions, CRM,
/// handoff). The agent loop checks names and arguments before calling: `call` only
/// ever gets a name from `specs()` and a JSON object.
pub trait ToolBox: Send + Sync {
    fn specs(&self) -> Vec<ToolSpec>;
    /// Runs one tool. Never fails: an error is a [`ToolOutput::error`] the model reads.
    fn call<'a>(&'a self, name: &'a str, arguments: &'a Value) -> BoxFuture<'a, ToolOutput>;
}

/// What a tool returned.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ToolOutput {
    /// What the model reads (for `search_knowledge`: [`crate::prompt::search_result`]).
    pub content: String,
    /// False when the tool failed (recorded as a failed action).
    pub ok: bool,
    /// The conversation was handed to a human: the run stops after this call.
    pub handoff: bool,
    /// Ids of passages this call retrieved: they become citable.
    pub passages: Vec<u32>,
}

impl ToolOutput {
    pub fn ok(content: impl Into<String>) -> Self {
        ToolOutput { content: content.into(), ok: true, ..ToolOutput::default() }
    }
    pub fn error(message: impl Into<String>) -> Self {
        ToolOutput { content: format!("Error: {}", message.into()), ok: false, ..ToolOutput::default() }
    }
    /// The result of `handoff_to_human`: ends the run.
    pub fn handoff(content: impl Into<String>) -> Self {
        ToolOutput { content: content.into(), ok: true, handoff: true, passages: Vec::new() }
    }
    pub fn with_passages(mut self, ids: impl IntoIterator<Item = u32>) -> Self {
        self.passages.extend(ids);
        self
    }
}

/// A tool box with no tools.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTools;

impl ToolBox for NoTools {
    fn specs(&self) -> Vec<ToolSpec> {
        Vec::new()
    }
    fn call<'a>(&'a self, _name: &'a str, _arguments: &'a Value) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async { ToolOutput::error("no tools are available") })
    }
}

/// `search_knowledge {query}`: more passages from the knowledge base.
pub fn search_knowledge_spec() -> ToolSpec {
    ToolSpec::new(
        SEARCH_KNOWLEDGE,
        "Search the website's knowledge base (help articles, documents, pages) and return the best passages with their ids. Use it when the passages you have do not answer the question.",
        json!({
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "A short search query in the visitor's words or keywords."}
            },
            "required": ["query"]
        }),
    )
}

/// `handoff_to_human {reason, summary}`: passes the conversation to the team.
pub fn handoff_to_human_spec() -> ToolSpec {
    ToolSpec::new(
        HANDOFF_TO_HUMAN,
        "Pass the conversation to a human colleague. Use it when the visitor asks for a person, or when you cannot answer from the passages and tools.",
        json!({
            "type": "object",
            "properties": {
                "reason": {"type": "string", "enum": ["visitor_asked", "cannot_answer", "other"]},
                "summary": {"type": "string", "description": "One sentence for the colleague: what the visitor needs."}
            },
            "required": ["reason"]
        }),
    )
}
