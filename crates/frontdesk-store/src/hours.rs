//! Storage of working hours per channel (C4). A channel without a row works
//! at all hours. Setting a schedule is audited and bumps the content version,
//! so every replica's agent snapshot picks it up.

use async_trait::async_trait;
use frontdesk_core::hours::Schedule;
use serde::Serialize;

use crate::{Actor, StoreResult};

/// A channel's stored schedule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkingHours {
    /// The channel's string form (`live_chat`, `email`, …).
    pub channel: String,
    pub schedule: Schedule,
    pub updated_at: i64,
}

#[async_trait]
pub trait HoursStore: Send + Sync {
    /// The channel's schedule, if one was set.
    async fn get_working_hours(&self, channel: &str) -> StoreResult<Option<WorkingHours>>;
    /// Every channel that has a schedule, by channel.
    async fn list_working_hours(&self) -> StoreResult<Vec<WorkingHours>>;
    /// Sets (inserts or replaces) the channel's schedule, which the caller
    /// has validated. Audited (`working_hours`, the channel) with before and
    /// after; bumps the content version.
    async fn set_working_hours(&self, actor: &Actor, channel: &str, schedule: &Schedule) -> StoreResult<WorkingHours>;
}
