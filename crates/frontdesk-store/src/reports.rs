//! Storage of the reports' rollup (G1–G11): per-conversation facts and
//! additive daily counters, both a cache of the event log (see the
//! `0014_reports.sql` migration and `frontdesk_core::reports`).

use async_trait::async_trait;
use frontdesk_core::model::{Channel, EventKind};
use frontdesk_core::reports::CountRow;
use serde::Serialize;
use serde_json::Value;

use crate::{Actor, StoreResult};

/// The workspace's reporting settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportSettings {
    /// The IANA zone days and weeks are counted in.
    pub time_zone: String,
    pub updated_at: i64,
}

/// A conversation with its whole history, written as is (the scenario
/// generator of the tests, the reports benchmark, imports).
#[derive(Debug, Clone)]
pub struct HistoryConversation {
    pub channel: Channel,
    pub is_preview: bool,
    pub created_at: i64,
    pub closed: bool,
    pub events: Vec<HistoryEvent>,
}

#[derive(Debug, Clone)]
pub struct HistoryEvent {
    pub kind: EventKind,
    pub actor_kind: String,
    pub actor_user_id: Option<i64>,
    pub data: Value,
    pub at: i64,
}

/// What a refresh or a rebuild did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RollupStats {
    /// Conversations whose facts were (re)computed.
    pub conversations: u64,
    /// Events read.
    pub events: u64,
    /// Conversations still waiting to be refreshed.
    pub remaining: u64,
}

#[async_trait]
pub trait ReportStore {
    async fn report_settings(&self) -> StoreResult<ReportSettings>;
    /// Sets the reporting time zone (audited); the counters are recomputed in
    /// it at the next refresh.
    async fn set_report_time_zone(&self, actor: &Actor, time_zone: &str) -> StoreResult<ReportSettings>;
    /// Brings the rollup up to date for at most `limit` conversations whose
    /// events changed; recomputes every counter first if the time zone changed.
    async fn refresh_reports(&self, limit: i64) -> StoreResult<RollupStats>;
    /// Throws the rollup away and computes it again from every event.
    async fn rebuild_reports(&self) -> StoreResult<RollupStats>;
    /// Conversations whose resolution verdict is due at `now` (by the rollup's facts).
    async fn due_resolutions(&self, now: i64, limit: i64) -> StoreResult<Vec<i64>>;
    /// Decides the conversation's resolution if it is due at `now` and not
    /// decided yet, recording it as a `resolution` event; returns its data.
    async fn evaluate_resolution(&self, conversation_id: i64, now: i64) -> StoreResult<Option<Value>>;
    /// Counter rows of `metrics` for local days `from..=to` (`YYYY-MM-DD`),
    /// of one channel or all; per channel, or summed over channels (their
    /// `channel` is then the filter, or empty).
    async fn report_counts(
        &self,
        metrics: &[&str],
        from: &str,
        to: &str,
        channel: Option<&str>,
        per_channel: bool,
    ) -> StoreResult<Vec<CountRow>>;
    /// Writes conversations with their events as given; returns their ids.
    async fn import_history(&self, batch: &[HistoryConversation]) -> StoreResult<Vec<i64>>;
}
