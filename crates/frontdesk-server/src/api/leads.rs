//! Lead qualification (F3) under `/api/v1/leads`: the settings (criteria,
//! score to qualify, sales team) and the leads the agent recorded.

use axum::extract::State;
use axum::http::Method;
use frontdesk_core::leads::LeadSettings;
use frontdesk_core::permissions::Permission as P;
use frontdesk_store::{Lead, LeadStatus};
use serde::Deserialize;
use serde_json::{json, Value};

use super::rfc3339;
use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiQuery, ApiResult};
use crate::routes::{Access, Routes};
use crate::state::AppState;
use frontdesk_engine::service::leads::set_settings;

pub fn routes(r: Routes) -> Routes {
    use Access::User as U;
    r.add(Method::GET, "/api/v1/leads/settings", U(P::ViewAgent), get_settings)
        .add(Method::PUT, "/api/v1/leads/settings", U(P::EditAgent), put_settings)
        .add(Method::GET, "/api/v1/leads", U(P::ViewConversations), list)
}

async fn get_settings(State(state): State<AppState>) -> ApiResult<ApiJson<LeadSettings>> {
    Ok(ApiJson(state.store.lead_settings().await?))
}

async fn put_settings(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(input): ApiJson<LeadSettings>,
) -> ApiResult<ApiJson<LeadSettings>> {
    Ok(ApiJson(set_settings(&state, &authed.actor(), input).await?))
}

pub fn lead_json(l: &Lead) -> Value {
    json!({
        "id": l.id,
        "conversation_id": l.conversation_id,
        "contact_id": l.contact_id,
        "score": l.score,
        "qualified": l.qualified,
        "status": l.status,
        "summary": l.summary,
        "created_at": rfc3339(l.created_at),
        "updated_at": rfc3339(l.updated_at),
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LeadQuery {
    /// in_progress, qualified or unqualified
    pub status: Option<String>,
    /// 1 to 500 (100)
    pub limit: Option<i64>,
}

/// The leads, most recently updated first.
async fn list(State(state): State<AppState>, ApiQuery(q): ApiQuery<LeadQuery>) -> ApiResult<ApiJson<Value>> {
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            LeadStatus::parse(s)
                .ok_or_else(|| ApiError::invalid_field("status", "must be in_progress, qualified or unqualified"))?,
        ),
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid_field("limit", "must be between 1 and 500"));
    }
    let leads = state.store.list_leads(status, limit).await?;
    Ok(ApiJson(json!({ "leads": leads.iter().map(lead_json).collect::<Vec<_>>() })))
}
