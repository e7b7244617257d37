//! Storage of ticket-based workflows (E5, E9) and of the tickets a handoff
//! creates from a conversation.

use async_trait::async_trait;
use frontdesk_core::workflow::{Action, Priority, TicketStatus, Workflow};
use serde::{Deserialize, Serialize};

use crate::{Actor, StoreResult};

/// A stored workflow and when it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowRow {
    #[serde(flatten)]
    pub workflow: Workflow,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A ticket created from a conversation (help desk).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: i64,
    pub conversation_id: i64,
    pub status: TicketStatus,
    pub priority: Priority,
    pub workflow_id: Option<i64>,
    pub notes: Vec<TicketNote>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketNote {
    pub id: i64,
    pub body: String,
    pub created_at: i64,
}

/// A change to a ticket from the help desk: any of its fields (at least one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketUpdate {
    pub status: Option<TicketStatus>,
    pub priority: Option<Priority>,
    /// A note to add (validated by the caller).
    pub note: Option<String>,
}

/// A workflow's part of a handoff route: the actions it took on the ticket's
/// facts, and for its assignment the people it names (team members included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowRoute {
    pub workflow_id: i64,
    pub actions: Vec<Action>,
    pub members: Vec<i64>,
}

#[async_trait]
pub trait WorkflowStore: Send + Sync {
    async fn list_workflows(&self) -> StoreResult<Vec<WorkflowRow>>;
    async fn get_workflow(&self, id: i64) -> StoreResult<WorkflowRow>;
    /// Stores a validated workflow (its `id` is ignored).
    async fn create_workflow(&self, actor: &Actor, workflow: Workflow) -> StoreResult<WorkflowRow>;
    async fn update_workflow(&self, actor: &Actor, id: i64, workflow: Workflow) -> StoreResult<WorkflowRow>;
    /// Refused (conflict) while the handoff settings use it.
    async fn delete_workflow(&self, actor: &Actor, id: i64) -> StoreResult<()>;
    /// The ticket created from a conversation, if any.
    async fn ticket_for_conversation(&self, conversation_id: i64) -> StoreResult<Option<Ticket>>;
    async fn get_ticket(&self, id: i64) -> StoreResult<Ticket>;
    /// Creates the conversation's ticket (or returns the existing one).
    async fn create_ticket(&self, conversation_id: i64, workflow_id: Option<i64>) -> StoreResult<Ticket>;
    /// Tickets, newest first, optionally only those with `status`.
    async fn list_tickets(&self, status: Option<TicketStatus>, limit: i64) -> StoreResult<Vec<Ticket>>;
    /// Changes a ticket; each change is a `ticket` event of its conversation
    /// (closing it is what the handoff-outcome report measures).
    async fn update_ticket(&self, actor: &Actor, id: i64, update: TicketUpdate) -> StoreResult<Ticket>;
}
