//! Storage of knowledge gaps (H1–H4): the questions the agent could not
//! answer, grouped into topics; a topic is open until someone answers it
//! (creates a short answer from it) or dismisses it.

use async_trait::async_trait;
use serde::Serialize;

use crate::{Actor, NewShortAnswer, ShortAnswerRow, StoreResult};

/// A topic's state.
pub mod topic_status {
    pub const OPEN: &str = "open";
    /// Answered with a short answer ("create and resolve").
    pub const RESOLVED: &str = "resolved";
    pub const DISMISSED: &str = "dismissed";
}

/// A row of the gaps table (H1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct GapTopic {
    pub id: i64,
    /// Its most representative question.
    pub label: String,
    pub status: String,
    /// Distinct conversations among its questions that are not dismissed.
    pub conversations: i64,
    pub questions: i64,
    /// When the latest of those was asked.
    pub latest_at: Option<i64>,
    pub short_answer_id: Option<i64>,
    pub created_at: i64,
    pub closed_at: Option<i64>,
}

/// One question of a topic (H2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct GapQuestion {
    pub id: i64,
    pub conversation_id: i64,
    /// The conversation's ticket, if it has one.
    pub ticket_id: Option<i64>,
    pub question: String,
    pub lang: String,
    pub created_at: i64,
    pub dismissed_at: Option<i64>,
}

/// A question waiting to be grouped.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UngroupedQuestion {
    pub id: i64,
    pub question: String,
    pub lang: String,
}

/// Where a question goes.
#[derive(Debug, Clone, PartialEq)]
pub enum GapPlacement {
    /// Join an open topic, whose summary and label become these.
    Join { topic_id: i64, summary: String, label: String },
    /// Open a new topic.
    New { summary: String, label: String },
}

#[async_trait]
pub trait GapStore {
    /// Questions not grouped yet, oldest first.
    async fn ungrouped_questions(&self, limit: i64) -> StoreResult<Vec<UngroupedQuestion>>;
    /// Open topics with their running summaries (JSON).
    async fn open_gap_summaries(&self) -> StoreResult<Vec<(i64, String)>>;
    /// A topic's members (question id, question, features JSON), most recent first.
    async fn gap_members(&self, topic_id: i64, limit: i64) -> StoreResult<Vec<(i64, String, Option<String>)>>;
    /// Places the question (with its features JSON); returns the topic id.
    async fn place_question(&self, question_id: i64, features: &str, placement: GapPlacement) -> StoreResult<i64>;
    /// Open topics that still have questions, most conversations first.
    async fn list_gap_topics(&self, limit: i64) -> StoreResult<Vec<GapTopic>>;
    async fn gap_topic(&self, topic_id: i64) -> StoreResult<GapTopic>;
    /// The topic's questions that are not dismissed, most recent first.
    async fn gap_questions(&self, topic_id: i64) -> StoreResult<Vec<GapQuestion>>;
    /// Dismisses questions of the topic (audited); returns how many.
    async fn dismiss_gap_questions(&self, actor: &Actor, topic_id: i64, question_ids: &[i64]) -> StoreResult<u64>;
    /// Dismisses the whole topic (audited).
    async fn dismiss_gap_topic(&self, actor: &Actor, topic_id: i64) -> StoreResult<GapTopic>;
    /// "Create and resolve" (H3): the short answer is created and the topic
    /// resolved in one transaction, both audited.
    async fn resolve_gap_topic(
        &self,
        actor: &Actor,
        topic_id: i64,
        answer: NewShortAnswer,
    ) -> StoreResult<(ShortAnswerRow, GapTopic)>;
}
