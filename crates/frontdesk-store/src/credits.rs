//! Storage of credits (D1): the settings and the ledger. The rules live in
//! `frontdesk_core::credits`; the reply's debit is written by `append_turn`
//! in the reply's own transaction (see `sql_credits.rs`).

use async_trait::async_trait;
use frontdesk_core::credits::{CreditSettings, LedgerKind, Period};
use serde::Serialize;

use crate::{Actor, StoreResult};

/// One row of the ledger. `amount` is signed; `balance_after` is never negative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    pub id: i64,
    pub at: i64,
    pub kind: LedgerKind,
    pub amount: i64,
    pub balance_after: i64,
    pub channel: Option<String>,
    pub conversation_id: Option<i64>,
    pub message_id: Option<i64>,
    pub actor: Option<String>,
    pub note: Option<String>,
}

/// The credits as they are now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreditStatus {
    pub settings: CreditSettings,
    /// The balance now (with a due reset applied; unlimited when credits are off).
    pub balance: i64,
    pub period: Period,
    /// Automatic top-ups made in this period.
    pub top_ups_this_period: i64,
    /// Credits used by replies in this period.
    pub used_this_period: i64,
    /// The agent takes no new conversations.
    pub out_of_credits: bool,
}

/// Replies and credits used, per UTC day and per channel, over a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct CreditUsage {
    pub from: i64,
    pub to: i64,
    pub days: Vec<UsageRow>,
    pub channels: Vec<UsageRow>,
    pub total: UsageRow,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct UsageRow {
    /// `YYYY-MM-DD` for a day, the channel for a channel, `total` for the total.
    pub key: String,
    pub replies: i64,
    pub credits: i64,
}

#[async_trait]
pub trait CreditStore: Send + Sync {
    async fn credit_settings(&self) -> StoreResult<CreditSettings>;
    /// Saves validated settings (audited).
    async fn set_credit_settings(&self, actor: &Actor, settings: CreditSettings) -> StoreResult<CreditSettings>;
    /// Adds credits to the balance (a `grant` row; audited).
    async fn grant_credits(&self, actor: &Actor, amount: i64, note: Option<String>) -> StoreResult<LedgerEntry>;
    /// Settings, balance, period and whether the agent is out of credits, at `now`.
    async fn credit_status(&self, now: i64) -> StoreResult<CreditStatus>;
    /// Reply usage in `[from, to)` (Unix ms).
    async fn credit_usage(&self, from: i64, to: i64) -> StoreResult<CreditUsage>;
    /// The newest ledger rows first.
    async fn credit_ledger(&self, limit: i64) -> StoreResult<Vec<LedgerEntry>>;
}
