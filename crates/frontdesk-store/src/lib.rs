//! Storage for Frontdesk: one [`Store`] trait, implemented for SQLite and
//! PostgreSQL. Each backend has its own migrations; the SQL both share is
//! written once (see `sql.rs`) so the two cannot drift apart.

mod agent_tests;
mod agent_tools;
mod bots;
mod channels;
mod credits;
mod error;
mod gaps;
mod handoff;
mod hours;
mod knowledge;
mod leads;
mod login;
mod model;
mod postgres;
mod reports;
mod row;
mod sql;
mod sql_agent_tests;
mod sql_agent_tools;
mod sql_bots;
mod sql_channels;
mod sql_credits;
mod sql_gaps;
mod sql_handoff;
mod sql_hours;
mod sql_knowledge;
mod sql_leads;
mod sql_login;
mod sql_reports;
mod sql_workflows;
mod sqlite;
mod workflows;

use async_trait::async_trait;

pub use agent_tests::*;
pub use agent_tools::*;
pub use bots::*;
pub use channels::*;
pub use credits::*;
pub use error::{StoreError, StoreResult};
pub use gaps::*;
pub use handoff::*;
pub use hours::*;
pub use knowledge::*;
pub use leads::*;
pub use login::*;
pub use model::*;
pub use postgres::PostgresStore;
pub use reports::*;
pub use sqlite::SqliteStore;
pub use workflows::*;

/// A delivery job's attempts before the delivery is marked failed.
pub const DELIVERY_MAX_ATTEMPTS: i64 = 8;

/// Current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Opens the store named by `url`: `postgres://…` or `postgresql://…` selects
/// PostgreSQL, `sqlite:…` (or a plain path) SQLite. Migrations are applied.
pub async fn open(url: &str) -> StoreResult<std::sync::Arc<dyn Store>> {
    let store: std::sync::Arc<dyn Store> = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        std::sync::Arc::new(PostgresStore::connect(url).await?)
    } else {
        std::sync::Arc::new(SqliteStore::connect(url).await?)
    };
    store.migrate().await?;
    Ok(store)
}

/// Everything Frontdesk keeps. Every method is one transaction; methods that
/// change configuration or content take the [`Actor`] and write an audit row
/// in that same transaction.
#[async_trait]
pub trait Store:
    KnowledgeStore
    + ChannelStore
    + ToolStore
    + AgentTestStore
    + CreditStore
    + HandoffStore
    + HoursStore
    + LeadStore
    + LoginStore
    + WorkflowStore
    + BotStore
    + ReportStore
    + GapStore
    + Send
    + Sync
    + 'static
{
    fn backend(&self) -> &'static str;
    async fn migrate(&self) -> StoreResult<()>;
    async fn ping(&self) -> StoreResult<()>;

    // Users, teams, sessions, API keys (J1, I2)
    async fn create_user(&self, actor: &Actor, new: NewUser) -> StoreResult<User>;
    async fn get_user(&self, id: i64) -> StoreResult<User>;
    /// The user and their password hash.
    async fn find_user_by_email(&self, email: &str) -> StoreResult<Option<(User, String)>>;
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    async fn update_user(&self, actor: &Actor, id: i64, patch: UserPatch) -> StoreResult<User>;
    async fn create_team(&self, actor: &Actor, name: &str) -> StoreResult<Team>;
    async fn list_teams(&self) -> StoreResult<Vec<Team>>;
    async fn set_team_members(&self, actor: &Actor, team_id: i64, user_ids: &[i64]) -> StoreResult<Team>;
    async fn delete_team(&self, actor: &Actor, team_id: i64) -> StoreResult<()>;
    async fn create_session(&self, new: NewSession) -> StoreResult<()>;
    /// The session's user and CSRF token, if the session exists and has not expired.
    async fn session(&self, token_hash: &str, now: i64) -> StoreResult<Option<(User, String)>>;
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    async fn create_api_key(&self, actor: &Actor, new: NewApiKey) -> StoreResult<ApiKey>;
    async fn api_key_user(&self, key_hash: &str) -> StoreResult<Option<User>>;
    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKey>>;
    async fn revoke_api_key(&self, actor: &Actor, id: i64) -> StoreResult<()>;

    // Contacts (J4)
    /// Finds the contact with this email (filling in a missing name), or creates one.
    async fn upsert_contact(&self, new: NewContact) -> StoreResult<Contact>;
    async fn get_contact(&self, id: i64) -> StoreResult<Contact>;
    async fn list_contacts(&self, limit: i64) -> StoreResult<Vec<Contact>>;

    // Conversations, messages, events
    async fn create_conversation(&self, new: NewConversation) -> StoreResult<Conversation>;
    async fn get_conversation(&self, id: i64) -> StoreResult<Conversation>;
    /// The conversation if `token_hash` is its visitor token; `None` otherwise.
    async fn conversation_for_visitor(&self, id: i64, token_hash: &str) -> StoreResult<Option<Conversation>>;
    async fn list_conversations(&self, filter: ConversationFilter) -> StoreResult<Vec<ConversationSummary>>;
    /// Appends a message (and its event); a visitor message reopens a closed conversation.
    async fn append_message(&self, new: NewMessage) -> StoreResult<Message>;
    /// A visitor's message and, if the agent still owns the conversation, the
    /// agent's reply with its handoff and unanswered question: one transaction.
    /// Returns the visitor's message and the reply when it was stored.
    async fn append_turn(&self, turn: Turn) -> StoreResult<(Message, Option<Message>)>;
    async fn messages_after(&self, conversation_id: i64, after_seq: i64, limit: i64) -> StoreResult<Vec<Message>>;
    async fn message_seq(&self, conversation_id: i64, message_id: i64) -> StoreResult<Option<i64>>;
    async fn get_message(&self, conversation_id: i64, message_id: i64) -> StoreResult<Message>;
    /// Changes the assignee and appends the assignment (and handoff) events.
    async fn assign(&self, change: AssignChange) -> StoreResult<Conversation>;
    async fn set_status(&self, change: StatusChange) -> StoreResult<Conversation>;
    async fn record_feedback(&self, conversation_id: i64, message_id: i64, helpful: bool) -> StoreResult<()>;
    async fn list_unanswered(&self, limit: i64) -> StoreResult<Vec<UnansweredQuestion>>;
    async fn list_events(&self, conversation_id: i64) -> StoreResult<Vec<Event>>;

    // The agent (A1, A2, D2) and short answers (B4)
    async fn agent_profile(&self) -> StoreResult<AgentProfile>;
    async fn update_agent_profile(&self, actor: &Actor, profile: AgentProfile) -> StoreResult<AgentProfile>;
    async fn list_short_answers(&self) -> StoreResult<Vec<ShortAnswerRow>>;
    async fn get_short_answer(&self, id: i64) -> StoreResult<ShortAnswerRow>;
    async fn create_short_answer(&self, actor: &Actor, new: NewShortAnswer) -> StoreResult<ShortAnswerRow>;
    async fn update_short_answer(&self, actor: &Actor, id: i64, new: NewShortAnswer) -> StoreResult<ShortAnswerRow>;
    async fn delete_short_answer(&self, actor: &Actor, id: i64) -> StoreResult<()>;
    /// A counter that moves whenever the agent's profile or the content it answers from changes.
    async fn content_version(&self) -> StoreResult<i64>;
    /// How many such changes this process has committed: lets callers skip
    /// re-reading `content_version` while nothing changed here.
    fn local_content_changes(&self) -> u64;

    // Audit log (I1)
    async fn list_audit(&self, filter: AuditFilter) -> StoreResult<Vec<AuditEntry>>;

    // Jobs
    /// Enqueues a job; with a `dedupe_key` already queued or running, does nothing and returns `None`.
    async fn enqueue_job(&self, new: NewJob) -> StoreResult<Option<i64>>;
    /// Claims the oldest due job (or one whose lease expired) for `worker`.
    async fn claim_job(&self, worker: &str, now: i64, lease_ms: i64) -> StoreResult<Option<Job>> {
        self.claim_job_of(worker, now, lease_ms, KindFilter::Any).await
    }
    /// Claims the oldest due job of the kinds `filter` lets through.
    async fn claim_job_of(
        &self,
        worker: &str,
        now: i64,
        lease_ms: i64,
        filter: KindFilter<'_>,
    ) -> StoreResult<Option<Job>>;
    /// Hands back every job `worker` is running (a process shutting down):
    /// queued again, due at `now`, the interrupted attempt not counted.
    /// Returns how many.
    async fn release_jobs(&self, worker: &str, now: i64) -> StoreResult<u64>;
    async fn complete_job(&self, id: i64) -> StoreResult<()>;
    /// Renews a running job's lease (heartbeat); false when the job is no longer ours.
    async fn touch_job(&self, id: i64, worker: &str, now: i64) -> StoreResult<bool>;
    /// Records a failure: retried at `retry_at`, or dead when attempts are used up.
    async fn fail_job(&self, id: i64, error: &str, retry_at: i64) -> StoreResult<()>;
    async fn list_jobs(&self, status: Option<frontdesk_core::model::JobStatus>, limit: i64) -> StoreResult<Vec<Job>>;
    async fn retry_job(&self, actor: &Actor, id: i64) -> StoreResult<()>;
    /// Jobs queued or running, counted by kind and status (for the metrics' gauges).
    async fn job_counts(&self) -> StoreResult<Vec<(String, String, i64)>>;
}
