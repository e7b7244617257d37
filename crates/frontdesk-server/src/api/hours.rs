//! Working hours per channel (C4) under `/api/v1/agent/hours`: all hours,
//! only during specific hours, or only outside them, in an IANA time zone.
//! Outside its hours the agent takes no new conversation on that channel
//! (`engine::start_conversation`); they go to humans as when it is off.

use axum::extract::{Path, State};
use axum::http::Method;
use frontdesk_core::hours::{self, Day, DayRange, Mode, Schedule};
use frontdesk_core::model::Channel;
use frontdesk_core::permissions::Permission as P;
use serde::Deserialize;
use serde_json::{json, Value};

use super::rfc3339;
use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::routes::{Access, Routes};
use crate::state::AppState;

pub fn routes(r: Routes) -> Routes {
    use Access::User as U;
    r.add(Method::GET, "/api/v1/agent/hours", U(P::ViewAgent), list)
        .add(Method::GET, "/api/v1/agent/hours/{channel}", U(P::ViewAgent), get_one)
        .add(Method::PUT, "/api/v1/agent/hours/{channel}", U(P::EditAgent), put)
        .add(Method::GET, "/api/v1/agent/hours/{channel}/status", U(P::ViewAgent), status)
}

/// A channel's schedule as sent: `{"mode": "during", "time_zone": "Europe/Rome",
/// "ranges": [{"day": "mon", "start": "09:00", "end": "17:30"}]}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursInput {
    /// `all_hours`, `during` or `outside`.
    pub mode: String,
    /// An IANA time zone; UTC when left out.
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub ranges: Vec<RangeInput>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeInput {
    pub day: String,
    pub start: String,
    pub end: String,
}

impl HoursInput {
    /// The validated, normalised schedule; errors name the field
    /// (`mode`, `time_zone`, `ranges`, `ranges[2].day`, `ranges[2].end`).
    pub fn parse(self) -> ApiResult<Schedule> {
        let mode = Mode::parse(&self.mode)
            .ok_or_else(|| ApiError::invalid_field("mode", "must be all_hours, during or outside"))?;
        let mut ranges = Vec::with_capacity(self.ranges.len());
        for (i, r) in self.ranges.into_iter().enumerate() {
            let day = Day::parse(&r.day).ok_or_else(|| {
                ApiError::invalid_field(&format!("ranges[{i}].day"), "must be mon, tue, wed, thu, fri, sat or sun")
            })?;
            ranges.push(DayRange { day, start: r.start, end: r.end });
        }
        let time_zone = self.time_zone.unwrap_or_else(|| "UTC".to_owned());
        Ok(Schedule { mode, time_zone, ranges }.validate()?)
    }
}

/// The channel named in the path (`live_chat`, `email`, `whatsapp`, `messenger`, `custom`).
pub fn channel_of(s: &str) -> ApiResult<Channel> {
    Channel::parse(s).ok_or_else(|| ApiError::not_found("channel"))
}

/// Every channel's schedule (a channel never set works at all hours).
pub async fn all_hours(state: &AppState) -> ApiResult<Vec<(Channel, Schedule, Option<i64>)>> {
    let stored = state.store.list_working_hours().await?;
    Ok(Channel::ALL
        .iter()
        .map(|&c| match stored.iter().find(|h| h.channel == c.as_str()) {
            Some(h) => (c, h.schedule.clone(), Some(h.updated_at)),
            None => (c, Schedule::default(), None),
        })
        .collect())
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

/// Validates and saves a channel's schedule (audited; the agent snapshot and
/// the widget's header follow at once).
pub async fn set_hours(state: &AppState, authed: &Authed, channel: Channel, input: HoursInput) -> ApiResult<Value> {
    let schedule = input.parse()?;
    let saved = state.store.set_working_hours(&authed.actor(), channel.as_str(), &schedule).await?;
    state.hub.notify_config();
    Ok(hours_json(channel, &saved.schedule, Some(saved.updated_at)))
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
    Ok(ApiJson(set_hours(&state, &authed, channel, input).await?))
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
