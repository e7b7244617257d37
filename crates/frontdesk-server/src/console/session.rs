//! Signing in and out, the home page, and the user's own availability.

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use frontdesk_core::model::View;
use frontdesk_core::permissions::Permission as P;
use frontdesk_store::{ConversationFilter, UserPatch};
use serde::Deserialize;

use super::{can, is_htmx, ok, page, safe_next, see_other, ConsoleForm, Layout, Section};
use crate::auth::{self, login_error, retry_after, Authed, ClientAddr};
use crate::error::{ApiQuery, ApiResult, Code};
use crate::state::AppState;
use frontdesk_engine::service::login::{open_session, Attempt, LoginError};
use frontdesk_engine::service::users::parse_availability;
use frontdesk_engine::tokens;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    next: String,
    email: String,
    error: Option<String>,
    /// The password was right and the account has a second factor: ask for its code.
    ask_code: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

/// The sign-in form. Already signed in: straight to `next`.
pub(crate) async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<NextQuery>,
) -> ApiResult<Response> {
    if is_htmx(&headers) {
        // A live fragment's session ran out: reload the whole page, which
        // then lands here with the right `next`.
        let mut r = StatusCode::OK.into_response();
        r.headers_mut().insert("hx-refresh", HeaderValue::from_static("true"));
        return Ok(r);
    }
    let next = safe_next(q.next.as_deref());
    if let Ok(Some(_)) = auth::authenticate(&state, &headers).await {
        return Ok(see_other(&next));
    }
    ok(&LoginPage { next, email: String::new(), error: None, ask_code: false })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct LoginForm {
    email: String,
    password: String,
    /// The second factor's code (shown once the account is known to need one).
    totp: Option<String>,
    next: Option<String>,
}

/// Checks the credentials (the same as the JSON login: throttle, password,
/// second factor), sets the session cookie. A lockout answers 429 with
/// `Retry-After` and the page saying how long to wait.
pub(crate) async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ConsoleForm(f): ConsoleForm<LoginForm>,
) -> ApiResult<Response> {
    let next = safe_next(f.next.as_deref());
    let attempt = Attempt { email: &f.email, password: &f.password, totp: f.totp.as_deref(), client };
    match open_session(&state, attempt).await {
        Ok((token, _csrf, _user)) => {
            let cookie =
                auth::session_cookie(&token, state.settings.session_hours * 3600, state.settings.secure_cookies);
            Ok(([(header::SET_COOKIE, cookie)], see_other(&next)).into_response())
        }
        Err(e) => {
            let ask_code = matches!(e, LoginError::TotpRequired | LoginError::TotpWrong);
            let (e, retry) = login_error(e);
            if e.code == Code::Internal {
                return Err(e);
            }
            let form = LoginPage { next, email: f.email, error: Some(e.message.clone()), ask_code };
            let mut page = page(super::status_of(&e), &form)?;
            if let Some(secs) = retry {
                page.headers_mut().extend(retry_after(secs));
            }
            Ok(page)
        }
    }
}

pub(crate) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(token) = auth::cookie_value(&headers, auth::SESSION_COOKIE) {
        state.store.delete_session(&tokens::token_hash(&token)).await?;
    }
    Ok(([(header::SET_COOKIE, auth::clear_session_cookie())], see_other("/login")).into_response())
}

pub(crate) async fn root() -> Response {
    see_other("/console")
}

struct Card {
    href: &'static str,
    title: &'static str,
    text: &'static str,
}

struct Count {
    href: &'static str,
    label: &'static str,
    count: usize,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    counts: Vec<Count>,
    cards: Vec<Card>,
}

const CARDS: &[(&str, &str, &str, P)] = &[
    (
        "/console/conversations?view=unassigned",
        "Conversations",
        "Answer visitors, take over from the agent, assign and close.",
        P::ViewConversations,
    ),
    ("/console/agent", "Agent", "Name, personality, language, on/off switch and the widget snippet.", P::ViewAgent),
    ("/console/short-answers", "Short answers", "The questions and answers the agent answers from.", P::ViewAgent),
    (
        "/console/reports",
        "Reports",
        "Resolutions, deflections, handoffs and feedback over time, by channel and by person.",
        P::ViewReports,
    ),
    ("/console/gaps", "Knowledge gaps", "Questions the agent could not answer, grouped by topic.", P::ViewAgent),
    ("/console/users", "Users & teams", "Invite people, set roles and seats, group them in teams.", P::ManageUsers),
    ("/console/api-keys", "API keys", "Keys for scripts and integrations using the admin API.", P::ManageUsers),
    ("/console/audit", "Audit log", "Who changed what, and when.", P::ViewAudit),
];

/// The home page: what needs attention and the sections this role may open.
pub(crate) async fn home(State(state): State<AppState>, authed: Authed) -> ApiResult<Response> {
    let mut counts = Vec::new();
    if can(&authed, P::ViewConversations) {
        for (view, href, label) in [
            (View::Unassigned, "/console/conversations?view=unassigned", "unassigned"),
            (View::Mine, "/console/conversations?view=mine", "assigned to you"),
            (View::AllOpen, "/console/conversations?view=open", "open"),
        ] {
            let list = state
                .store
                .list_conversations(ConversationFilter { view, user_id: authed.user.id, limit: 200 })
                .await?;
            counts.push(Count { href, label, count: list.len() });
        }
    }
    let cards =
        CARDS.iter().filter(|c| can(&authed, c.3)).map(|&(href, title, text, _)| Card { href, title, text }).collect();
    ok(&HomePage { layout: Layout::new(&authed, Section::Home, "Home", "/console"), counts, cards })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct AvailabilityForm {
    availability: String,
    next: Option<String>,
}

/// The header's available/away toggle.
pub(crate) async fn set_availability(
    State(state): State<AppState>,
    authed: Authed,
    ConsoleForm(f): ConsoleForm<AvailabilityForm>,
) -> ApiResult<Response> {
    let a = parse_availability(f.availability.trim())?;
    state
        .store
        .update_user(&authed.actor(), authed.user.id, UserPatch { availability: Some(a), ..Default::default() })
        .await?;
    Ok(see_other(&safe_next(f.next.as_deref())))
}
