//! The signed-in user's own account page: who they are and their optional
//! second factor (TOTP): set it up (a secret to add to an authenticator app,
//! confirmed with a code), or turn it off with a code (I2). The rules are
//! `frontdesk_engine::service::login`'s, shared with the admin API.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::{fmt_time, or_redo, page, see_other, status_of, ConsoleForm, FlashQuery, Layout, Section};
use crate::auth::Authed;
use crate::error::{ApiQuery, ApiResult};
use crate::state::AppState;
use frontdesk_engine::service::login;
use frontdesk_engine::totp;

/// A pending enrolment as the page shows it.
struct Pending {
    /// The base32 secret in groups of four, easier to type.
    secret_groups: String,
    otpauth_uri: String,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    email: String,
    role: String,
    /// Confirmed: when it was turned on.
    enabled_since: Option<String>,
    pending: Option<Pending>,
    /// An error of the two-factor forms, shown next to them.
    totp_error: Option<String>,
}

async fn account_page_with(
    state: &AppState,
    authed: &Authed,
    status: StatusCode,
    flash: Option<&str>,
    totp_error: Option<String>,
) -> ApiResult<Response> {
    let second = state.store.user_totp(authed.user.id).await?;
    let enabled_since = second.as_ref().and_then(|t| t.confirmed_at).map(fmt_time);
    let pending = second.filter(|t| !t.is_enabled()).map(|t| Pending {
        secret_groups: t
            .secret
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" "),
        otpauth_uri: totp::otpauth_uri(&authed.user.email, &t.secret),
    });
    let layout = Layout::new(authed, Section::Account, "Your account", "/console/account").flash(flash);
    page(
        status,
        &AccountPage {
            layout,
            email: authed.user.email.clone(),
            role: authed.user.role.to_string(),
            enabled_since,
            pending,
            totp_error,
        },
    )
}

pub(crate) async fn account_page(
    State(state): State<AppState>,
    authed: Authed,
    ApiQuery(q): ApiQuery<FlashQuery>,
) -> ApiResult<Response> {
    account_page_with(&state, &authed, StatusCode::OK, q.flash.as_deref(), None).await
}

/// Form errors come back on the page next to the two-factor forms.
async fn account_or_redo(state: &AppState, authed: &Authed, result: ApiResult<Response>) -> ApiResult<Response> {
    or_redo(result, |e| account_page_with(state, authed, status_of(&e), None, Some(e.message))).await
}

/// Starts (or restarts) enrolment: the page then shows the new secret.
pub(crate) async fn start_totp(State(state): State<AppState>, authed: Authed) -> ApiResult<Response> {
    let result = async {
        login::start_enrolment(state.store.as_ref(), &authed.user).await?;
        Ok(see_other("/console/account#two-factor"))
    }
    .await;
    account_or_redo(&state, &authed, result).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct CodeForm {
    code: String,
}

pub(crate) async fn confirm_totp(
    State(state): State<AppState>,
    authed: Authed,
    ConsoleForm(f): ConsoleForm<CodeForm>,
) -> ApiResult<Response> {
    let result = async {
        let now = frontdesk_store::now_ms();
        login::confirm_enrolment(state.store.as_ref(), &authed.actor(), authed.user.id, &f.code, now).await?;
        Ok(see_other("/console/account?flash=totp_on#two-factor"))
    }
    .await;
    account_or_redo(&state, &authed, result).await
}

pub(crate) async fn disable_totp(
    State(state): State<AppState>,
    authed: Authed,
    ConsoleForm(f): ConsoleForm<CodeForm>,
) -> ApiResult<Response> {
    let result = async {
        let now = frontdesk_store::now_ms();
        login::disable(state.store.as_ref(), &authed.actor(), authed.user.id, &f.code, now).await?;
        Ok(see_other("/console/account?flash=totp_off#two-factor"))
    }
    .await;
    account_or_redo(&state, &authed, result).await
}

/// An admin resets a user's second factor (from the users page). Audited.
pub(crate) async fn reset_totp(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    login::reset(state.store.as_ref(), &authed.actor(), id).await?;
    Ok(see_other("/console/users?flash=totp_reset"))
}
