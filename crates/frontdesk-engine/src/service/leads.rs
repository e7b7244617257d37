//! Lead qualification's settings (F3), as the admin API and the console save them.

use frontdesk_core::leads::LeadSettings;
use frontdesk_store::Actor;

use crate::error::{Error, Result};
use crate::Engine;

/// Validates the settings against the CRM fields and saves them (audited).
/// Errors name the field: `criteria[2].accepted`, `sales_team_id`, …
pub async fn set_settings(state: &Engine, actor: &Actor, input: LeadSettings) -> Result<LeadSettings> {
    let fields = state.store.list_crm_fields().await?;
    let settings = input.parse(&fields)?;
    state.store.set_lead_settings(actor, settings).await.map_err(|e| match e {
        frontdesk_store::StoreError::Invalid(m) if m.starts_with("sales_team_id:") => {
            Error::invalid_field("sales_team_id", m.trim_start_matches("sales_team_id:").trim())
        }
        e => e.into(),
    })
}
