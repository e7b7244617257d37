//! Credits (D1) under `/api/v1/credits`: the balance and period, the
//! settings, grants, usage per day and per channel, and the ledger.
//!
//! Reading needs `ViewAgent`; changing the settings or adding credits is
//! billing, which the seed places under account and billing: `ManageUsers`
//! (administrators).

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use frontdesk_core::credits as core_credits;
use frontdesk_core::permissions::Permission as P;
use frontdesk_store::CreditStatus;
use serde::Deserialize;
use serde_json::{json, Value};

use super::rfc3339;
use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiQuery, ApiResult};
use crate::routes::{Access, Routes};
use crate::state::AppState;
use frontdesk_engine::service::credits::{usage_range, CreditSettingsInput, GrantInput, UsageQuery, OUT_OF_CREDITS};

pub fn routes(r: Routes) -> Routes {
    use Access::User as U;
    r.add(Method::GET, "/api/v1/credits", U(P::ViewAgent), get_credits)
        .add(Method::PUT, "/api/v1/credits/settings", U(P::ManageUsers), put_settings)
        .add(Method::POST, "/api/v1/credits/grants", U(P::ManageUsers), post_grant)
        .add(Method::GET, "/api/v1/credits/usage", U(P::ViewAgent), get_usage)
        .add(Method::GET, "/api/v1/credits/ledger", U(P::ViewAgent), get_ledger)
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
