//! What the store takes and returns. Enums come from `frontdesk_core::model`.

use frontdesk_core::model::{
    AssignCause, AssigneeKind, Author, Availability, Channel, ConversationStatus, EventKind, HandoffTrigger, JobStatus,
    Personality, Role, View,
};
use frontdesk_core::responder::Citation;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who made a change, for the audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub label: String,
}

impl Actor {
    pub fn user(id: i64, email: &str) -> Self {
        Self { user_id: Some(id), label: email.to_owned() }
    }
    pub fn system(label: &str) -> Self {
        Self { user_id: None, label: label.to_owned() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub paid_seat: bool,
    pub availability: Availability,
    pub disabled: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    pub paid_seat: bool,
}

#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub paid_seat: Option<bool>,
    pub availability: Option<Availability>,
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Team {
    pub id: i64,
    pub name: String,
    pub member_ids: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub token_hash: String,
    pub csrf_token: String,
    pub user_id: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub user_id: i64,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ApiKey {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contact {
    pub id: i64,
    pub email: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub properties: Value,
    pub created_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct NewContact {
    pub email: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conversation {
    pub id: i64,
    pub channel: Channel,
    pub status: ConversationStatus,
    pub assignee_kind: AssigneeKind,
    pub assignee_user_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub is_preview: bool,
    pub last_seq: i64,
    pub created_at: i64,
    pub last_activity_at: i64,
    pub closed_at: Option<i64>,
    /// The connected channel it came from (email address, WhatsApp number…);
    /// `None` for live chat.
    pub channel_id: Option<i64>,
    /// The contact's address on that channel: email, phone, PSID, external id.
    pub handle: Option<String>,
    /// An email thread's subject.
    pub subject: Option<String>,
    /// Whether the agent asked for the visitor's email (C2): none, asked, asked_again, done.
    pub email_ask: String,
}

#[derive(Debug, Clone)]
pub struct NewConversation {
    pub channel: Channel,
    pub contact_id: Option<i64>,
    pub visitor_token_hash: String,
    /// Assigned to the agent (it is on) or left unassigned for humans.
    pub assign_to_agent: bool,
    pub is_preview: bool,
    /// For conversations from a connected channel: (channel id, handle, subject).
    pub channel_id: Option<i64>,
    pub handle: Option<String>,
    pub subject: Option<String>,
}

/// A row of a conversation list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConversationSummary {
    #[serde(flatten)]
    pub conversation: Conversation,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub last_message: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ConversationFilter {
    pub view: View,
    /// The user asking, for the Mine view.
    pub user_id: i64,
    pub limit: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub id: i64,
    pub conversation_id: i64,
    pub seq: i64,
    pub author: Author,
    pub user_id: Option<i64>,
    pub text: String,
    pub citations: Vec<Citation>,
    pub trace: Option<Value>,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub conversation_id: i64,
    pub author: Author,
    pub user_id: Option<i64>,
    pub text: String,
    pub citations: Vec<Citation>,
    pub trace: Option<Value>,
    /// Extra facts for the message event (e.g. `"outcome"`, `"actions"`).
    pub event_data: Value,
}

/// A visitor's message and the agent's answer to it, stored together.
#[derive(Debug, Clone)]
pub struct Turn {
    pub visitor: NewMessage,
    pub reply: Option<TurnReply>,
    /// The visitor's message came from a channel: recorded in the same
    /// transaction, so the same external id is processed once.
    pub inbound: Option<crate::InboundRecord>,
}

#[derive(Debug, Clone)]
pub struct TurnReply {
    pub message: NewMessage,
    /// The agent hands the conversation to humans with this trigger.
    pub handoff: Option<HandoffTrigger>,
    /// Record the visitor's question as unanswered, in this language.
    pub unanswered_lang: Option<String>,
    /// How a handoff is routed (E3–E8); `None`: to nobody (the Unassigned view).
    pub route: Option<crate::HandoffRoute>,
    /// The conversation's new "asked for the email" state (C2), stored with the reply.
    pub email_ask: Option<String>,
}

/// The new assignee of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignee {
    Agent,
    Human(i64),
    Nobody,
}

#[derive(Debug, Clone)]
pub struct AssignChange {
    pub conversation_id: i64,
    pub to: Assignee,
    pub cause: AssignCause,
    /// The user who reassigned by hand, for `AssignCause::Manual`.
    pub actor_user_id: Option<i64>,
    /// Set when this is the agent handing off (E1).
    pub handoff: Option<HandoffTrigger>,
}

#[derive(Debug, Clone)]
pub struct StatusChange {
    pub conversation_id: i64,
    pub status: ConversationStatus,
    pub actor_user_id: Option<i64>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub id: i64,
    pub conversation_id: i64,
    pub kind: EventKind,
    pub actor_kind: String,
    pub actor_user_id: Option<i64>,
    pub data: Value,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct UnansweredQuestion {
    pub id: i64,
    pub conversation_id: i64,
    pub message_id: i64,
    pub question: String,
    pub lang: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentProfile {
    pub name: String,
    pub personality: Personality,
    pub brand_voice: String,
    /// The on/off switch (D2).
    pub enabled: bool,
    pub default_lang: String,
    /// Open conversations with no activity for this long are closed.
    pub inactivity_close_minutes: i64,
    /// Words and phrases that hand the conversation to humans (E2).
    pub handoff_phrases: Vec<String>,
    /// Topics the agent must not discuss, each with its handling (A3).
    pub topics_to_avoid: Vec<frontdesk_core::guard::Topic>,
    pub updated_at: i64,
}

impl Default for AgentProfile {
    fn default() -> Self {
        Self {
            name: "Frontdesk Agent".into(),
            personality: Personality::Friendly,
            brand_voice: String::new(),
            enabled: true,
            default_lang: "en".into(),
            inactivity_close_minutes: 1440,
            handoff_phrases: Vec::new(),
            topics_to_avoid: Vec::new(),
            updated_at: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ShortAnswerRow {
    pub id: i64,
    pub question: String,
    pub answer: String,
    pub citations_enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewShortAnswer {
    pub question: String,
    pub answer: String,
    pub citations_enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub actor_user_id: Option<i64>,
    pub actor_label: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub actor_user_id: Option<i64>,
    pub action: Option<String>,
    pub limit: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: Value,
    pub status: JobStatus,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub payload: Value,
    pub run_at: i64,
    pub max_attempts: i64,
    pub dedupe_key: Option<String>,
}

/// Which kinds of job a claim may take: the worker's lanes claim apart, so
/// deliveries never wait behind ingestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindFilter<'a> {
    /// Any kind.
    Any,
    /// Only these kinds (none: nothing).
    Only(&'a [&'a str]),
    /// Every kind but these (an unknown kind too, so it fails visibly).
    Except(&'a [&'a str]),
}
