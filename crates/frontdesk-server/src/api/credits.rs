//! Credits (D1) under `/api/v1/credits`: the balance and period, the
//! settings, grants, usage per day and per channel, and the ledger.
//!
//! Reading needs `ViewAgent`; changing the settings or adding credits is
//! billing, which the seed places under account and billing: `ManageUsers`
//! (administrators).

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use frontdesk_core::credits::{self as core_credits, CreditSettings};
use frontdesk_core::permissions::Permission as P;
use frontdesk_core::validate::bounded_text;
use frontdesk_store::CreditStatus;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::rfc3339;
use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiQuery, ApiResult};
use crate::routes::{Access, Routes};
use crate::state::AppState;

pub fn routes(r: Routes) -> Routes {
    use Access::User as U;
    r.add(Method::GET, "/api/v1/credits", U(P::ViewAgent), get_credits)
        .add(Method::PUT, "/api/v1/credits/settings", U(P::ManageUsers), put_settings)
        .add(Method::POST, "/api/v1/credits/grants", U(P::ManageUsers), post_grant)
        .add(Method::GET, "/api/v1/credits/usage", U(P::ViewAgent), get_usage)
        .add(Method::GET, "/api/v1/credits/ledger", U(P::ViewAgent), get_ledger)
}

/// The banner the console shows when the agent is out of credits.
pub const OUT_OF_CREDITS: &str = "The agent is out of credits: new conversations go to your team";

/// The credit settings. Off (`enabled: false`) means unlimited.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditSettingsInput {
    pub enabled: bool,
    /// Credits per stored agent reply (≥ 1).
    pub cost_per_reply: i64,
    /// The balance at the start of each period.
    pub monthly_allowance: i64,
    /// 1 to 28: the day of the month (UTC) the period starts.
    pub reset_day: i64,
    /// The pack added automatically when the balance cannot pay a reply.
    #[serde(default)]
    pub auto_top_up: Option<i64>,
    /// At most this many automatic top-ups per period.
    #[serde(default)]
    pub max_top_ups_per_period: Option<i64>,
}

impl CreditSettingsInput {
    pub fn parse(self) -> ApiResult<CreditSettings> {
        let s = CreditSettings {
            enabled: self.enabled,
            cost_per_reply: self.cost_per_reply,
            monthly_allowance: self.monthly_allowance,
            reset_day: self.reset_day,
            auto_top_up: self.auto_top_up,
            max_top_ups_per_period: self.max_top_ups_per_period,
        };
        s.validate()?;
        Ok(s)
    }
}

/// Credits added by hand (bought, or a goodwill gesture).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantInput {
    pub amount: i64,
    #[serde(default)]
    pub note: Option<String>,
}

impl GrantInput {
    pub fn parse(self) -> ApiResult<(i64, Option<String>)> {
        if !(1..=core_credits::MAX_CREDITS).contains(&self.amount) {
            return Err(ApiError::invalid_field(
                "amount",
                format!("must be between 1 and {} (got {})", core_credits::MAX_CREDITS, self.amount),
            ));
        }
        let note = match self.note.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(n) => Some(bounded_text("note", n, 1, 500)?),
        };
        Ok((self.amount, note))
    }
}

/// The status as JSON (period bounds as RFC 3339 too).
pub fn status_json(s: &CreditStatus) -> Value {
    json!({
        "settings": s.settings,
        "balance": s.balance,
        "period": {
            "key": s.period.key,
            "start": rfc3339(s.period.start_ms),
            "end": rfc3339(s.period.end_ms),
            "start_ms": s.period.start_ms,
            "end_ms": s.period.end_ms,
        },
        "top_ups_this_period": s.top_ups_this_period,
        "used_this_period": s.used_this_period,
        "out_of_credits": s.out_of_credits,
        "message": s.out_of_credits.then_some(OUT_OF_CREDITS),
    })
}

async fn get_credits(State(state): State<AppState>) -> ApiResult<ApiJson<Value>> {
    let s = state.store.credit_status(frontdesk_store::now_ms()).await?;
    Ok(ApiJson(status_json(&s)))
}

async fn put_settings(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(b): ApiJson<CreditSettingsInput>,
) -> ApiResult<ApiJson<Value>> {
    state.store.set_credit_settings(&authed.actor(), b.parse()?).await?;
    let s = state.store.credit_status(frontdesk_store::now_ms()).await?;
    Ok(ApiJson(status_json(&s)))
}

async fn post_grant(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(b): ApiJson<GrantInput>,
) -> ApiResult<Response> {
    let (amount, note) = b.parse()?;
    let entry = state.store.grant_credits(&authed.actor(), amount, note).await?;
    Ok((StatusCode::CREATED, ApiJson(json!(entry))).into_response())
}

/// `from` and `to` are UTC dates (`YYYY-MM-DD`), both included; by default
/// the current period up to today.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UsageQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

const DAY_MS: i64 = 86_400_000;

/// A `YYYY-MM-DD` date as its day number since 1970-01-01.
pub fn parse_day(field: &str, s: &str) -> ApiResult<i64> {
    let bad = || ApiError::invalid_field(field, format!("'{s}' is not a date like 2024-05-31"));
    let parts: Vec<&str> = s.trim().split('-').collect();
    let [y, m, d] = parts.as_slice() else { return Err(bad()) };
    let (y, m, d) = (
        y.parse::<i64>().map_err(|_| bad())?,
        m.parse::<u32>().map_err(|_| bad())?,
        d.parse::<u32>().map_err(|_| bad())?,
    );
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let days = core_credits::days_from_civil(y, m, d);
    // 2024-02-30 would silently become March 1st.
    if core_credits::civil_from_days(days) != (y, m, d) {
        return Err(bad());
    }
    Ok(days)
}

/// The `[from, to)` range in Unix ms of a usage query.
pub async fn usage_range(state: &AppState, q: &UsageQuery) -> ApiResult<(i64, i64)> {
    let now = frontdesk_store::now_ms();
    let from = match q.from.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => parse_day("from", s)? * DAY_MS,
        None => state.store.credit_status(now).await?.period.start_ms,
    };
    let to = match q.to.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => (parse_day("to", s)? + 1) * DAY_MS,
        None => (now.div_euclid(DAY_MS) + 1) * DAY_MS,
    };
    if to <= from {
        return Err(ApiError::invalid_field("to", "must not be before from"));
    }
    Ok((from, to))
}

async fn get_usage(State(state): State<AppState>, ApiQuery(q): ApiQuery<UsageQuery>) -> ApiResult<ApiJson<Value>> {
    let (from, to) = usage_range(&state, &q).await?;
    let usage = state.store.credit_usage(from, to).await?;
    Ok(ApiJson(json!({
        "from": core_credits::day_of(from),
        "to": core_credits::day_of(to - 1),
        "days": usage.days,
        "channels": usage.channels,
        "total": usage.total,
    })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LedgerQuery {
    pub limit: Option<i64>,
}

async fn get_ledger(State(state): State<AppState>, ApiQuery(q): ApiQuery<LedgerQuery>) -> ApiResult<ApiJson<Value>> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid_field("limit", "must be between 1 and 1000"));
    }
    let rows = state.store.credit_ledger(limit).await?;
    let rows: Vec<Value> = rows
        .into_iter()
        .map(|e| {
            let mut v = json!(e);
            if let Value::Object(m) = &mut v {
                m.insert("at_rfc3339".into(), json!(rfc3339(e.at)));
            }
            v
        })
        .collect();
    Ok(ApiJson(json!(rows)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_parsed_strictly() {
        assert_eq!(parse_day("from", "1970-01-02").unwrap(), 1);
        assert_eq!(parse_day("from", "2024-02-29").unwrap(), core_credits::days_from_civil(2024, 2, 29));
        for bad in ["2023-02-29", "2024-13-01", "yesterday", "2024-05", "2024-05-01-01", ""] {
            assert_eq!(parse_day("from", bad).unwrap_err().field.as_deref(), Some("from"), "{bad}");
        }
    }

    #[test]
    fn grants_need_a_positive_amount() {
        assert_eq!(GrantInput { amount: 0, note: None }.parse().unwrap_err().field.as_deref(), Some("amount"));
        assert_eq!(GrantInput { amount: 5, note: Some("  ".into()) }.parse().unwrap(), (5, None));
    }
}
