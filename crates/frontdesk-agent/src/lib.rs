//! The agent: the reply decision and everything it reads. Guardrails, the
//! built-in and LLM responders, retrieval over the knowledge index, tools
//! (actions, CRM), lead qualification within a reply, the agent snapshot,
//! the grouping of knowledge gaps and the agent's test cases.
//!
//! It takes a small [`Context`] of its own — the store, the search index,
//! the LLM client, a few settings and a sink for streamed drafts — not the
//! server's state, so it can be driven without HTTP (`frontdesk eval`, the
//! benchmarks, tests). It reads the store and writes only what a reply
//! itself records (contact details the visitor gave, the lead row, gap
//! grouping, test runs); storing the turn is the engine's.

use std::sync::Arc;

use frontdesk_store::Store;
use tokio::sync::RwLock;

pub mod actions;
pub mod gaps;
pub mod knowledge;
pub mod leads;
pub mod llm;
pub mod respond;
pub mod snapshot;
pub mod test_cases;

pub use knowledge::Knowledge;
pub use snapshot::AgentSnapshot;

/// The few process settings the agent reads.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Score a short answer must reach to be used, from 0 to 1.
    pub answer_threshold: f32,
    /// Let actions call private, loopback and link-local addresses.
    pub allow_private_networks: bool,
}

/// A piece of a reply being written (the LLM streams its answer): shown to
/// the visitor at once, replaced by the stored message when it arrives.
/// Never stored: a stream that connects later sees only the final message.
#[derive(Debug, Clone, PartialEq)]
pub enum Draft {
    /// More text of the draft written at `step`.
    Text { step: usize, text: String },
    /// Drop the draft of `step` (the model called a tool, or failed).
    Discard { step: usize },
}

/// Where streamed drafts go (the engine's live hub; nowhere in evaluation).
pub trait DraftSink: Send + Sync {
    fn draft(&self, conversation_id: i64, draft: Draft);
}

/// Drops every draft.
pub struct NoDrafts;

impl DraftSink for NoDrafts {
    fn draft(&self, _: i64, _: Draft) {}
}

/// What the agent works with.
pub struct Context {
    pub store: Arc<dyn Store>,
    /// The search index over the content sources' chunks.
    pub knowledge: Knowledge,
    /// The LLM endpoint, when one is configured (`llm_url`).
    pub llm: Option<frontdesk_llm::Client>,
    pub settings: Settings,
    pub drafts: Arc<dyn DraftSink>,
    /// The agent's profile and answer index, rebuilt when the store's
    /// content version moves (here or on another replica).
    cache: RwLock<snapshot::Cached>,
}

impl Context {
    pub fn new(
        store: Arc<dyn Store>,
        knowledge: Knowledge,
        llm: Option<frontdesk_llm::Client>,
        settings: Settings,
        drafts: Arc<dyn DraftSink>,
    ) -> Context {
        Context { store, knowledge, llm, settings, drafts, cache: RwLock::new(snapshot::Cached::empty()) }
    }
}
