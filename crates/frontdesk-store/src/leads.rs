//! Storage of lead qualification (F3): the settings (one row, audited) and
//! one lead per conversation with its score, status and the summary the
//! sales team sees.

use async_trait::async_trait;
use frontdesk_core::leads::LeadSettings;
use serde::{Deserialize, Serialize};

use crate::{Actor, StoreResult};

/// Where a lead stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadStatus {
    /// Questions are still unanswered.
    InProgress,
    /// Every criterion answered, the score reached: handed to the sales team.
    Qualified,
    /// Every criterion answered, the score too low.
    Unqualified,
}

impl LeadStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LeadStatus::InProgress => "in_progress",
            LeadStatus::Qualified => "qualified",
            LeadStatus::Unqualified => "unqualified",
        }
    }

    pub fn parse(s: &str) -> Option<LeadStatus> {
        [LeadStatus::InProgress, LeadStatus::Qualified, LeadStatus::Unqualified].into_iter().find(|l| l.as_str() == s)
    }
}

/// A conversation's lead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lead {
    pub id: i64,
    pub conversation_id: i64,
    pub contact_id: Option<i64>,
    pub score: i64,
    pub qualified: bool,
    pub status: LeadStatus,
    /// The note for the sales team: the score and each answer.
    pub summary: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What the agent records about a conversation's lead (inserted or replaced).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadRecord {
    pub conversation_id: i64,
    pub contact_id: Option<i64>,
    pub score: i64,
    pub qualified: bool,
    pub status: LeadStatus,
    pub summary: String,
}

#[async_trait]
pub trait LeadStore: Send + Sync {
    /// The settings; the defaults (off) when never set.
    async fn lead_settings(&self) -> StoreResult<LeadSettings>;
    /// Replaces the settings, which the caller has validated against the CRM
    /// fields; the sales team must exist (`Invalid` naming `sales_team_id`).
    /// Audited (`lead_settings`, 1) with before and after.
    async fn set_lead_settings(&self, actor: &Actor, settings: LeadSettings) -> StoreResult<LeadSettings>;
    /// Inserts or updates the conversation's lead.
    async fn record_lead(&self, lead: LeadRecord) -> StoreResult<Lead>;
    async fn get_lead(&self, conversation_id: i64) -> StoreResult<Option<Lead>>;
    /// Leads, most recently updated first, optionally of one status.
    async fn list_leads(&self, status: Option<LeadStatus>, limit: i64) -> StoreResult<Vec<Lead>>;
}
