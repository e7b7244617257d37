//! Storage of the handoff settings (E3–E7) and the facts routing needs
//! about the people who may receive a conversation (E8).

use async_trait::async_trait;
use frontdesk_core::routing::{Candidate, HandoffMessages, HandoffProcess, WhenUnassigned};
use serde::{Deserialize, Serialize};

use crate::{Actor, StoreResult};

/// How conversations reach humans when the agent hands off.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HandoffSettings {
    pub process: HandoffProcess,
    /// Where handed-off conversations go: `live_chat` (the inbox) or `help_desk`.
    pub destination: String,
    /// Users and teams that receive them, round robin (E4).
    pub user_ids: Vec<i64>,
    pub team_ids: Vec<i64>,
    pub messages: HandoffMessages,
    pub when_unassigned: WhenUnassigned,
    /// Assign by conditions (E5): a ticket-based workflow; the handoff
    /// creates a ticket in the help desk and enrols it.
    pub workflow_id: Option<i64>,
}

/// What the turn's transaction needs to route a handoff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoffRoute {
    pub process: HandoffProcess,
    /// The users the route names (team members included); empty: nobody.
    pub members: Vec<i64>,
    pub when_unassigned: WhenUnassigned,
    /// Set when a workflow routes the handoff (E5): its actions replace `members`.
    pub workflow: Option<crate::WorkflowRoute>,
}

#[async_trait]
pub trait HandoffStore: Send + Sync {
    async fn handoff_settings(&self) -> StoreResult<HandoffSettings>;
    async fn set_handoff_settings(&self, actor: &Actor, settings: HandoffSettings) -> StoreResult<HandoffSettings>;
    /// The users among `user_ids` as routing sees them now (availability,
    /// seat, open load, last routed).
    async fn routing_candidates(&self, user_ids: &[i64]) -> StoreResult<Vec<Candidate>>;
}
