//! Working hours per channel (C4) under `/api/v1/agent/hours`: all hours,
//! only during specific hours, or only outside them, in an IANA time zone.
//! Outside its hours the agent takes no new conversation on that channel
//! (`engine::start_conversation`); they go to humans as when it is off.

use axum::extract::{Path, State};
use axum::http::Method;
use frontdesk_core::hours::{self, Schedule};
use frontdesk_core::model::Channel;
use frontdesk_core::permissions::Permission as P;
use serde_json::{json, Value};

use super::rfc3339;
use crate::auth::Authed;
use crate::error::{ApiJson, ApiResult};
use crate::routes::{Access, Routes};
use crate::state::AppState;
use frontdesk_engine::service::hours::{all_hours, channel_of, set_hours, HoursInput};

pub fn routes(r: Routes) -> Routes {
    use Access::User as U;
    r.add(Method::GET, "/api/v1/agent/hours", U(P::ViewAgent), list)
        .add(Method::GET, "/api/v1/agent/hours/{channel}", U(P::ViewAgent), get_one)
        .add(Method::PUT, "/api/v1/agent/hours/{channel}", U(P::EditAgent), put)
        .add(Method::GET, "/api/v1/agent/hours/{channel}/status", U(P::ViewAgent), status)
}

fn hours_json(channel: Channel, s: &Schedule, updated_at: Option<i64>) -> Value {
    json!({
        "channel": channel,
        "mode": s.mode,
        "time_zone": s.time_zone,
        "ranges": s.ranges,
        "open": hours::is_open(s, jiff::Timestamp::now()),
        "updated_at": updated_at.map(rfc3339),
    })
}

async fn list(State(state): State<AppState>) -> ApiResult<ApiJson<Value>> {
    let all = all_hours(&state).await?;
    Ok(ApiJson(Value::Array(all.iter().map(|(c, s, u)| hours_json(*c, s, *u)).collect())))
}

async fn get_one(State(state): State<AppState>, Path(channel): Path<String>) -> ApiResult<ApiJson<Value>> {
    let channel = channel_of(&channel)?;
    let h = state.store.get_working_hours(channel.as_str()).await?;
    Ok(ApiJson(match h {
        Some(h) => hours_json(channel, &h.schedule, Some(h.updated_at)),
        None => hours_json(channel, &Schedule::default(), None),
    }))
}

async fn put(
    State(state): State<AppState>,
    authed: Authed,
    Path(channel): Path<String>,
    ApiJson(input): ApiJson<HoursInput>,
) -> ApiResult<ApiJson<Value>> {
    let channel = channel_of(&channel)?;
    let saved = set_hours(&state, &authed.actor(), channel, input).await?;
    Ok(ApiJson(hours_json(channel, &saved.schedule, Some(saved.updated_at))))
}

/// Whether the agent takes new conversations on the channel now by its
/// hours, and when that next changes (within a week; `null` if never).
async fn status(State(state): State<AppState>, Path(channel): Path<String>) -> ApiResult<ApiJson<Value>> {
    let channel = channel_of(&channel)?;
    let schedule = state.store.get_working_hours(channel.as_str()).await?.map(|h| h.schedule).unwrap_or_default();
    let now = jiff::Timestamp::now();
    Ok(ApiJson(json!({
        "channel": channel,
        "open": hours::is_open(&schedule, now),
        "next_change": schedule.next_change(now).map(|t| t.to_string()),
        "agent_enabled": state.store.agent_profile().await?.enabled,
    })))
}
