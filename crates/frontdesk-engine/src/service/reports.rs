//! Report settings and the knowledge gaps' list, as the admin API and the
//! console use them.

use frontdesk_store::{Actor, GapTopic};

use crate::error::{Error, Result};
use crate::Engine;

/// Sets the zone days and weeks are counted in (audited); the counters are
/// recomputed in it at the next refresh.
pub async fn set_time_zone(state: &Engine, actor: &Actor, time_zone: &str) -> Result<()> {
    let tz = frontdesk_core::hours::time_zone(time_zone).map_err(|e| Error::invalid_field(&e.field, e.message))?;
    let name = tz.iana_name().unwrap_or(time_zone.trim()).to_owned();
    state.store.set_report_time_zone(actor, &name).await?;
    Ok(())
}

/// Groups what is waiting, then the open topics.
pub async fn open_topics(state: &Engine) -> Result<Vec<GapTopic>> {
    frontdesk_agent::gaps::group_pending(&state.agent)
        .await
        .map_err(|e| Error::internal(format!("could not group questions: {e:#}")))?;
    Ok(state.store.list_gap_topics(1000).await?)
}
