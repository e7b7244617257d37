//! The credits page (D1): balance and period, the "out of credits" banner,
//! settings and grants (administrators), usage per day and per channel, and
//! the latest ledger rows.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use frontdesk_core::permissions::Permission as P;
use serde::Deserialize;

use super::{can, checked, fmt_time, is_form_error, or_redo, page, see_other, status_of, ConsoleForm, Layout, Section};
use crate::auth::Authed;
use crate::error::{ApiError, ApiQuery, ApiResult};
use crate::state::AppState;
use frontdesk_engine::service::credits::{usage_range, CreditSettingsInput, GrantInput, UsageQuery, OUT_OF_CREDITS};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct CreditsQuery {
    flash: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// The settings form as posted (numbers as text, so errors can name the field).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct SettingsForm {
    enabled: Option<String>,
    cost_per_reply: String,
    monthly_allowance: String,
    reset_day: String,
    auto_top_up: String,
    max_top_ups_per_period: String,
}

fn number(field: &str, v: &str) -> ApiResult<i64> {
    v.trim().parse::<i64>().map_err(|_| ApiError::invalid_field(field, format!("'{}' is not a whole number", v.trim())))
}

fn optional_number(field: &str, v: &str) -> ApiResult<Option<i64>> {
    if v.trim().is_empty() {
        Ok(None)
    } else {
        number(field, v).map(Some)
    }
}

impl SettingsForm {
    fn input(&self) -> ApiResult<CreditSettingsInput> {
        Ok(CreditSettingsInput {
            enabled: checked(self.enabled.as_deref()),
            cost_per_reply: number("cost_per_reply", &self.cost_per_reply)?,
            monthly_allowance: number("monthly_allowance", &self.monthly_allowance)?,
            reset_day: number("reset_day", &self.reset_day)?,
            auto_top_up: optional_number("auto_top_up", &self.auto_top_up)?,
            max_top_ups_per_period: optional_number("max_top_ups_per_period", &self.max_top_ups_per_period)?,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct GrantForm {
    amount: String,
    note: String,
}

struct UsageView {
    key: String,
    replies: i64,
    credits: i64,
}

struct LedgerView {
    time: String,
    kind: String,
    amount: String,
    balance_after: i64,
    channel: String,
    conversation_id: Option<i64>,
    actor: String,
    note: String,
}

#[derive(Template)]
#[template(path = "credits.html")]
struct CreditsPage {
    layout: Layout,
    banner: Option<&'static str>,
    enabled: bool,
    balance: i64,
    period_start: String,
    period_end: String,
    used: i64,
    top_ups: i64,
    form: SettingsForm,
    can_edit: bool,
    from: String,
    to: String,
    days: Vec<UsageView>,
    channels: Vec<UsageView>,
    total_replies: i64,
    total_credits: i64,
    ledger: Vec<LedgerView>,
}

async fn render(
    state: &AppState,
    authed: &Authed,
    status: StatusCode,
    q: &CreditsQuery,
    error: Option<String>,
    form: Option<SettingsForm>,
) -> ApiResult<Response> {
    let s = state.store.credit_status(frontdesk_store::now_ms()).await?;
    let uq = UsageQuery { from: q.from.clone(), to: q.to.clone() };
    let (error, (from, to)) = match usage_range(state, &uq).await.map_err(ApiError::from) {
        Ok(r) => (error, r),
        Err(e) if is_form_error(&e) => {
            let fallback = usage_range(state, &UsageQuery::default()).await?;
            (error.or(Some(e.message)), fallback)
        }
        Err(e) => return Err(e),
    };
    let usage = state.store.credit_usage(from, to).await?;
    let ledger = state.store.credit_ledger(50).await?;
    let view = |r: &frontdesk_store::UsageRow| UsageView { key: r.key.clone(), replies: r.replies, credits: r.credits };
    let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let form = form.unwrap_or_else(|| SettingsForm {
        enabled: s.settings.enabled.then(|| "on".to_owned()),
        cost_per_reply: s.settings.cost_per_reply.to_string(),
        monthly_allowance: s.settings.monthly_allowance.to_string(),
        reset_day: s.settings.reset_day.to_string(),
        auto_top_up: opt(s.settings.auto_top_up),
        max_top_ups_per_period: opt(s.settings.max_top_ups_per_period),
    });
    let layout =
        Layout::new(authed, Section::Credits, "Credits", "/console/credits").flash(q.flash.as_deref()).error(error);
    page(
        status,
        &CreditsPage {
            layout,
            banner: s.out_of_credits.then_some(OUT_OF_CREDITS),
            enabled: s.settings.enabled,
            balance: s.balance,
            period_start: fmt_time(s.period.start_ms),
            period_end: fmt_time(s.period.end_ms),
            used: s.used_this_period,
            top_ups: s.top_ups_this_period,
            form,
            can_edit: can(authed, P::ManageUsers),
            from: frontdesk_core::credits::day_of(from),
            to: frontdesk_core::credits::day_of(to - 1),
            days: usage.days.iter().map(view).collect(),
            channels: usage.channels.iter().map(view).collect(),
            total_replies: usage.total.replies,
            total_credits: usage.total.credits,
            ledger: ledger
                .into_iter()
                .map(|e| LedgerView {
                    time: fmt_time(e.at),
                    kind: e.kind.as_str().replace('_', " "),
                    amount: if e.amount > 0 { format!("+{}", e.amount) } else { e.amount.to_string() },
                    balance_after: e.balance_after,
                    channel: e.channel.unwrap_or_default(),
                    conversation_id: e.conversation_id,
                    actor: e.actor.unwrap_or_default(),
                    note: e.note.unwrap_or_default(),
                })
                .collect(),
        },
    )
}

pub(crate) async fn credits_page(
    State(state): State<AppState>,
    authed: Authed,
    ApiQuery(q): ApiQuery<CreditsQuery>,
) -> ApiResult<Response> {
    render(&state, &authed, StatusCode::OK, &q, None, None).await
}

pub(crate) async fn save_settings(
    State(state): State<AppState>,
    authed: Authed,
    ConsoleForm(f): ConsoleForm<SettingsForm>,
) -> ApiResult<Response> {
    let saved = match f.input().and_then(|i| Ok(i.parse()?)) {
        Ok(s) => state.store.set_credit_settings(&authed.actor(), s).await.map_err(ApiError::from),
        Err(e) => Err(e),
    };
    or_redo(saved.map(|_| see_other("/console/credits?flash=saved")), |e| async move {
        render(&state, &authed, status_of(&e), &CreditsQuery::default(), Some(e.message), Some(f)).await
    })
    .await
}

pub(crate) async fn grant(
    State(state): State<AppState>,
    authed: Authed,
    ConsoleForm(f): ConsoleForm<GrantForm>,
) -> ApiResult<Response> {
    let granted = match number("amount", &f.amount) {
        Ok(amount) => match (GrantInput { amount, note: Some(f.note.clone()) }).parse().map_err(ApiError::from) {
            Ok((amount, note)) => {
                state.store.grant_credits(&authed.actor(), amount, note).await.map_err(ApiError::from)
            }
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    or_redo(granted.map(|_| see_other("/console/credits?flash=credits_added")), |e| async move {
        render(&state, &authed, status_of(&e), &CreditsQuery::default(), Some(e.message), None).await
    })
    .await
}
