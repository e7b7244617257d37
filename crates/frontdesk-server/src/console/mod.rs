//! The console: server-rendered pages (askama) with a little htmx for live
//! lists. Every route is declared here through [`Routes::add`], with the same
//! permission as the matching JSON API in `api/admin.rs`, whose input types
//! and operations the handlers reuse.
//!
//! Forms post `application/x-www-form-urlencoded` with a hidden `_csrf`
//! field; htmx requests carry the `X-CSRF-Token` header from `<body hx-headers>`.
//! Successful posts redirect (303) back to a page; validation errors
//! re-render the page with the message (422).

mod account;
mod agent;
mod audit;
mod bots;
mod channels;
mod charts;
mod conversations;
mod credits;
mod handoff;
mod hours;
mod knowledge;
mod leads;
mod reports;
mod session;
mod test_cases;
mod tools;
mod users;
mod workflows;

use std::collections::HashMap;

use askama::Template;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use frontdesk_core::permissions::{allows, Permission as P};
use serde::Deserialize;

use crate::auth::Authed;
use crate::error::{ApiError, ApiResult, Code};
use crate::routes::{Access, Routes};
use crate::state::AppState;

pub fn routes(r: Routes) -> Routes {
    use Access::User as U;
    use Method as M;
    let max_upload = r.state().settings.max_upload_bytes;
    r.add(M::GET, "/login", Access::Public, session::login_page)
        .add(M::POST, "/login", Access::Public, session::login)
        .add(M::POST, "/console/logout", U(P::Authenticated), session::logout)
        .add(M::GET, "/", U(P::Authenticated), session::root)
        .add(M::GET, "/console", U(P::Authenticated), session::home)
        .add(M::POST, "/console/me/availability", U(P::Authenticated), session::set_availability)
        // The user's own account and second factor (I2)
        .add(M::GET, "/console/account", U(P::Authenticated), account::account_page)
        .add(M::POST, "/console/account/totp", U(P::Authenticated), account::start_totp)
        .add(M::POST, "/console/account/totp/confirm", U(P::Authenticated), account::confirm_totp)
        .add(M::POST, "/console/account/totp/disable", U(P::Authenticated), account::disable_totp)
        // Conversations (J2)
        .add(M::GET, "/console/conversations", U(P::ViewConversations), conversations::list)
        .add(M::GET, "/console/conversations/{id}", U(P::ViewConversations), conversations::detail)
        .add(M::GET, "/console/conversations/{id}/messages", U(P::ViewConversations), conversations::poll_messages)
        .add(M::POST, "/console/conversations/{id}/reply", U(P::HandleConversations), conversations::reply)
        .add(M::POST, "/console/conversations/{id}/assign", U(P::HandleConversations), conversations::assign)
        .add(M::POST, "/console/conversations/{id}/close", U(P::HandleConversations), conversations::close)
        .add(M::POST, "/console/conversations/{id}/reopen", U(P::HandleConversations), conversations::reopen)
        .add(M::POST, "/console/conversations/{id}/ticket", U(P::HandleConversations), conversations::ticket)
        .add(M::GET, "/console/attachments/{id}", U(P::ViewConversations), conversations::attachment)
        // The agent (A1, A2, A4, D2) and short answers (B4)
        .add(M::GET, "/console/agent", U(P::ViewAgent), agent::profile_page)
        .add(M::POST, "/console/agent", U(P::EditAgent), agent::save_profile)
        .add(M::GET, "/console/workflows", U(P::ViewAgent), workflows::list_page)
        .add(M::POST, "/console/workflows", U(P::EditAgent), workflows::create)
        .add(M::POST, "/console/workflows/template", U(P::EditAgent), workflows::create_template)
        .add(M::GET, "/console/workflows/{id}", U(P::ViewAgent), workflows::edit_page)
        .add(M::POST, "/console/workflows/{id}", U(P::EditAgent), workflows::update)
        .add(M::POST, "/console/workflows/{id}/test", U(P::ViewAgent), workflows::test)
        .add(M::POST, "/console/workflows/{id}/toggle", U(P::EditAgent), workflows::toggle)
        .add(M::POST, "/console/workflows/{id}/delete", U(P::EditAgent), workflows::delete)
        // Rule-based bots (C5)
        .add(M::GET, "/console/bots", U(P::ViewAgent), bots::list_page)
        .add(M::POST, "/console/bots", U(P::EditAgent), bots::create)
        .add(M::GET, "/console/bots/{id}", U(P::ViewAgent), bots::edit_page)
        .add(M::POST, "/console/bots/{id}", U(P::EditAgent), bots::update)
        .add(M::POST, "/console/bots/{id}/toggle", U(P::EditAgent), bots::toggle)
        .add(M::POST, "/console/bots/{id}/delete", U(P::EditAgent), bots::delete)
        // Connected channels (C1–C3) and messaging settings (C2)
        .add(M::GET, "/console/channels", U(P::ViewAgent), channels::list_page)
        .add(M::POST, "/console/channels", U(P::EditAgent), channels::create)
        .add(M::POST, "/console/channels/messaging/{channel}", U(P::EditAgent), channels::save_messaging)
        .add(M::GET, "/console/channels/{id}", U(P::ViewAgent), channels::channel_page)
        .add(M::POST, "/console/channels/{id}", U(P::EditAgent), channels::update)
        .add(M::POST, "/console/channels/{id}/secrets", U(P::EditAgent), channels::save_secrets)
        .add(M::POST, "/console/channels/{id}/key", U(P::EditAgent), channels::rotate_key)
        .add(M::POST, "/console/channels/{id}/poll", U(P::EditAgent), channels::poll)
        .add(M::POST, "/console/channels/{id}/toggle", U(P::EditAgent), channels::toggle)
        .add(M::POST, "/console/channels/{id}/delete", U(P::EditAgent), channels::delete)
        .add(M::GET, "/console/handoff", U(P::ViewAgent), handoff::handoff_page)
        .add(M::POST, "/console/handoff", U(P::EditAgent), handoff::save_handoff)
        .add(M::POST, "/console/agent/preview", U(P::ViewAgent), test_cases::preview)
        .add(M::GET, "/console/agent/tests", U(P::ViewAgent), test_cases::tests_page)
        .add(M::POST, "/console/agent/tests", U(P::EditAgent), test_cases::create_test)
        .add(M::POST, "/console/agent/tests/run", U(P::EditAgent), test_cases::run_tests)
        .add(M::POST, "/console/agent/tests/{id}/delete", U(P::EditAgent), test_cases::delete_test)
        .add(M::GET, "/console/hours", U(P::ViewAgent), hours::hours_page)
        .add(M::POST, "/console/hours/{channel}", U(P::EditAgent), hours::save_hours)
        .add(M::GET, "/console/leads", U(P::ViewAgent), leads::leads_page)
        .add(M::POST, "/console/leads", U(P::EditAgent), leads::save_leads)
        .add(M::GET, "/console/short-answers", U(P::ViewAgent), agent::short_answers_page)
        .add(M::POST, "/console/short-answers", U(P::EditAgent), agent::create_short_answer)
        .add(M::GET, "/console/short-answers/{id}", U(P::ViewAgent), agent::short_answer_page)
        .add(M::POST, "/console/short-answers/{id}", U(P::EditAgent), agent::update_short_answer)
        .add(M::POST, "/console/short-answers/{id}/delete", U(P::EditAgent), agent::delete_short_answer)
        // Actions (F2) and CRM data (F1)
        .add(M::GET, "/console/actions", U(P::ViewAgent), tools::actions_page)
        .add(M::POST, "/console/actions", U(P::EditAgent), tools::create_action)
        .add(M::GET, "/console/actions/new", U(P::ViewAgent), tools::new_action_page)
        .add(M::GET, "/console/actions/{id}", U(P::ViewAgent), tools::action_page)
        .add(M::POST, "/console/actions/{id}", U(P::EditAgent), tools::update_action)
        .add(M::POST, "/console/actions/{id}/delete", U(P::EditAgent), tools::delete_action)
        .add(M::POST, "/console/actions/{id}/test", U(P::EditAgent), tools::test_action)
        .add(M::GET, "/console/crm", U(P::ViewAgent), tools::crm_page)
        .add(M::POST, "/console/crm", U(P::EditAgent), tools::create_field)
        .add(M::POST, "/console/crm/{key}", U(P::EditAgent), tools::update_field)
        .add(M::POST, "/console/crm/{key}/delete", U(P::EditAgent), tools::delete_field)
        // Knowledge base, file library and sources (B1, B2, B6, B7)
        .add(M::GET, "/console/articles", U(P::ViewAgent), knowledge::articles_page)
        .add(M::POST, "/console/articles", U(P::EditAgent), knowledge::create_article)
        .add(M::GET, "/console/articles/{id}", U(P::ViewAgent), knowledge::article_page)
        .add(M::POST, "/console/articles/{id}", U(P::EditAgent), knowledge::update_article)
        .add(M::POST, "/console/articles/{id}/publish", U(P::EditAgent), knowledge::publish_article)
        .add(M::POST, "/console/articles/{id}/unpublish", U(P::EditAgent), knowledge::unpublish_article)
        .add(M::POST, "/console/articles/{id}/delete", U(P::EditAgent), knowledge::delete_article)
        .add(M::GET, "/console/sources", U(P::ViewAgent), knowledge::sources_page)
        .add(M::POST, "/console/sources/remove", U(P::EditAgent), knowledge::remove_sources)
        .add(M::POST, "/console/sources/url", U(P::EditAgent), knowledge::import_url)
        .add(M::GET, "/console/sources/{id}", U(P::ViewAgent), knowledge::source_page)
        .add(M::POST, "/console/sources/{id}/resync", U(P::EditAgent), knowledge::resync_source)
        .add(M::POST, "/console/sources/{id}/citations", U(P::EditAgent), knowledge::set_citations)
        .add_large(M::POST, "/console/files", U(P::EditAgent), max_upload + 64 * 1024, knowledge::upload)
        .add(M::POST, "/console/files/{id}/source", U(P::EditAgent), knowledge::add_library_file)
        // Users, teams, API keys (J1, I2)
        .add(M::GET, "/console/users", U(P::ManageUsers), users::users_page)
        .add(M::POST, "/console/users", U(P::ManageUsers), users::create_user)
        .add(M::POST, "/console/users/{id}", U(P::ManageUsers), users::update_user)
        .add(M::POST, "/console/users/{id}/totp/reset", U(P::ManageUsers), account::reset_totp)
        .add(M::POST, "/console/teams", U(P::ManageUsers), users::create_team)
        .add(M::POST, "/console/teams/{id}/members", U(P::ManageUsers), users::set_team_members)
        .add(M::POST, "/console/teams/{id}/delete", U(P::ManageUsers), users::delete_team)
        .add(M::GET, "/console/api-keys", U(P::ManageUsers), users::api_keys_page)
        .add(M::POST, "/console/api-keys", U(P::ManageUsers), users::create_api_key)
        .add(M::POST, "/console/api-keys/{id}/revoke", U(P::ManageUsers), users::revoke_api_key)
        // Credits (D1): reading like the agent, changing like billing (admins)
        .add(M::GET, "/console/credits", U(P::ViewAgent), credits::credits_page)
        .add(M::POST, "/console/credits/settings", U(P::ManageUsers), credits::save_settings)
        .add(M::POST, "/console/credits/grants", U(P::ManageUsers), credits::grant)
        // Audit log (I1)
        .add(M::GET, "/console/audit", U(P::ViewAudit), audit::audit_page)
        // Performance: reports (G1–G11) and knowledge gaps (H1–H4)
        .add(M::GET, "/console/reports", U(P::ViewReports), reports::reports_page)
        .add(M::POST, "/console/reports/settings", U(P::EditAgent), reports::save_settings)
        .add(M::GET, "/console/gaps", U(P::ViewAgent), reports::gaps_page)
        .add(M::GET, "/console/gaps/{id}", U(P::ViewAgent), reports::gap_page)
        .add(M::POST, "/console/gaps/{id}/preview", U(P::EditAgent), reports::preview)
        .add(M::POST, "/console/gaps/{id}/resolve", U(P::EditAgent), reports::resolve)
        .add(M::POST, "/console/gaps/{id}/dismiss", U(P::EditAgent), reports::dismiss)
        .add(M::POST, "/console/gaps/{id}/dismiss-topic", U(P::EditAgent), reports::dismiss_topic)
}

// ---------- layout ----------

/// The console's sections, for the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Home,
    Conversations,
    Agent,
    ShortAnswers,
    AgentTests,
    Handoff,
    Workflows,
    Bots,
    Channels,
    Hours,
    Leads,
    Actions,
    Crm,
    Credits,
    Reports,
    Gaps,
    Knowledge,
    Sources,
    Users,
    ApiKeys,
    Audit,
    /// The user's own account page (not in the navigation).
    Account,
}

/// The navigation: link, label, section, and the permission of its page.
const NAV: &[(&str, &str, Section, P)] = &[
    ("/console/conversations?view=unassigned", "Conversations", Section::Conversations, P::ViewConversations),
    ("/console/agent", "Agent", Section::Agent, P::ViewAgent),
    ("/console/articles", "Knowledge base", Section::Knowledge, P::ViewAgent),
    ("/console/sources", "Sources", Section::Sources, P::ViewAgent),
    ("/console/short-answers", "Short answers", Section::ShortAnswers, P::ViewAgent),
    ("/console/agent/tests", "Agent tests", Section::AgentTests, P::ViewAgent),
    ("/console/handoff", "Handoff", Section::Handoff, P::ViewAgent),
    ("/console/workflows", "Workflows", Section::Workflows, P::ViewAgent),
    ("/console/bots", "Bots", Section::Bots, P::ViewAgent),
    ("/console/channels", "Channels", Section::Channels, P::ViewAgent),
    ("/console/hours", "Working hours", Section::Hours, P::ViewAgent),
    ("/console/leads", "Lead criteria", Section::Leads, P::ViewAgent),
    ("/console/actions", "Actions", Section::Actions, P::ViewAgent),
    ("/console/crm", "CRM data", Section::Crm, P::ViewAgent),
    ("/console/credits", "Credits", Section::Credits, P::ViewAgent),
    // Performance
    ("/console/reports", "Reports", Section::Reports, P::ViewReports),
    ("/console/gaps", "Knowledge gaps", Section::Gaps, P::ViewAgent),
    ("/console/users", "Users & teams", Section::Users, P::ManageUsers),
    ("/console/api-keys", "API keys", Section::ApiKeys, P::ManageUsers),
    ("/console/audit", "Audit log", Section::Audit, P::ViewAudit),
];

#[derive(Debug, Clone)]
pub(crate) struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

/// What every page's frame shows: header, navigation, the user, messages.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub title: String,
    pub user_name: String,
    pub role: String,
    pub available: bool,
    /// The session's CSRF token (empty for API-key callers, who need none).
    pub csrf: String,
    pub nav: Vec<NavItem>,
    /// Where the availability toggle comes back to.
    pub here: String,
    /// A success message ("Saved.").
    pub flash: Option<&'static str>,
    /// An error message shown at the top of the page.
    pub error: Option<String>,
}

impl Layout {
    pub fn new(authed: &Authed, section: Section, title: impl Into<String>, here: impl Into<String>) -> Self {
        let nav = NAV
            .iter()
            .filter(|(_, _, _, perm)| can(authed, *perm))
            .map(|&(href, label, s, _)| NavItem { href, label, active: s == section })
            .collect();
        Self {
            title: title.into(),
            user_name: authed.user.name.clone(),
            role: authed.user.role.to_string(),
            available: authed.user.availability == frontdesk_core::model::Availability::Available,
            csrf: authed.csrf.clone().unwrap_or_default(),
            nav,
            here: here.into(),
            flash: None,
            error: None,
        }
    }

    pub fn flash(mut self, key: Option<&str>) -> Self {
        self.flash = key.and_then(flash_text);
        self
    }

    pub fn error(mut self, e: Option<String>) -> Self {
        self.error = e;
        self
    }
}

/// Whether the signed-in user may do `perm`.
pub(crate) fn can(authed: &Authed, perm: P) -> bool {
    allows(authed.user.role, authed.user.paid_seat, perm)
}

/// Success messages, by the `flash` query key a redirect carries.
fn flash_text(key: &str) -> Option<&'static str> {
    Some(match key {
        "saved" => "Saved.",
        "ran" => "The agent tests ran.",
        "created" => "Created.",
        "deleted" => "Deleted.",
        "replied" => "Reply sent.",
        "assigned" => "Assignment changed.",
        "closed" => "Conversation closed.",
        "reopened" => "Conversation reopened.",
        "user_created" => "User created.",
        "user_updated" => "User updated.",
        "team_created" => "Team created.",
        "team_updated" => "Team members saved.",
        "team_deleted" => "Team deleted.",
        "revoked" => "API key revoked.",
        "credits_added" => "Credits added.",
        "agent_deployed" => "The agent is deployed on the channel: it answers first.",
        "agent_removed" => "The agent was removed from the channel: its conversations go straight to your team.",
        "secrets_saved" => "Secrets saved.",
        "key_rotated" => "A new inbound key was made: the old one no longer works.",
        "mail_checked" => "The mailbox was checked.",
        "totp_on" => "Two-factor authentication is on: signing in now asks for a code.",
        "totp_off" => "Two-factor authentication is off.",
        "totp_reset" => {
            "Two-factor authentication was reset: the user signs in with the password alone and can set it up again."
        }
        _ => return None,
    })
}

/// The `flash` query parameter of a page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct FlashQuery {
    pub flash: Option<String>,
}

/// An option of a `<select>`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub(crate) fn options<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>, selected: &str) -> Vec<Opt> {
    pairs.into_iter().map(|(v, l)| Opt { value: v.to_owned(), label: l.to_owned(), selected: v == selected }).collect()
}

pub(crate) fn role_options(selected: &str) -> Vec<Opt> {
    options(frontdesk_core::model::Role::ALL.iter().map(|r| (r.as_str(), r.as_str())), selected)
}

// ---------- responses ----------

/// Renders a page with `status`. Pages are never cached: they carry the CSRF token.
pub(crate) fn page<T: Template>(status: StatusCode, t: &T) -> ApiResult<Response> {
    let html = t.render().map_err(ApiError::internal)?;
    let mut resp = (status, Html(html)).into_response();
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::VARY, HeaderValue::from_static("HX-Request"));
    Ok(resp)
}

pub(crate) fn ok<T: Template>(t: &T) -> ApiResult<Response> {
    page(StatusCode::OK, t)
}

/// 303 to a path the console built itself.
pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Errors a person can fix by changing the form: shown on the page.
pub(crate) fn is_form_error(e: &ApiError) -> bool {
    matches!(e.code, Code::ValidationFailed | Code::InvalidRequest | Code::Conflict)
}

/// The status to re-render a form with after `e`.
pub(crate) fn status_of(e: &ApiError) -> StatusCode {
    e.code.parts().1
}

/// How a console page answers a form's post, in one place: `done` is what
/// the service call came to, already turned into its answer on success
/// (usually a 303 with a flash); an error a person can fix by changing the
/// form ([`is_form_error`]) renders the page again through `redo`, which is
/// given the error (show `e.message`, answer with [`status_of`]`(&e)`); any
/// other error is answered as it is (404, 403, 500…).
///
/// ```ignore
/// let saved = service::set_settings(&state, &authed.actor(), input).await.map_err(ApiError::from);
/// or_redo(saved.map(|_| see_other("/console/leads?flash=saved")), |e| {
///     render(&state, &authed, status_of(&e), Some(e.message))
/// })
/// .await
/// ```
pub(crate) async fn or_redo<Fut>(done: ApiResult<Response>, redo: impl FnOnce(ApiError) -> Fut) -> ApiResult<Response>
where
    Fut: std::future::Future<Output = ApiResult<Response>>,
{
    match done {
        Err(e) if is_form_error(&e) => redo(e).await,
        other => other,
    }
}

/// Whether htmx sent the request (it then wants a fragment, not a page).
pub(crate) fn is_htmx(headers: &HeaderMap) -> bool {
    headers.get("hx-request").is_some_and(|v| v.as_bytes() == b"true")
}

/// `Form` whose rejections are [`ApiError`]s.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Form), rejection(ApiError))]
pub(crate) struct ConsoleForm<T>(pub T);

// ---------- small pure helpers ----------

/// Unix milliseconds as `YYYY-MM-DD HH:MM` (UTC).
pub(crate) fn fmt_time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.strftime("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
}

/// A checkbox's value: present (`on`, `true`, `1`, `yes`) or absent.
pub(crate) fn checked(v: Option<&str>) -> bool {
    v.is_some_and(|v| matches!(v.trim(), "on" | "true" | "1" | "yes"))
}

/// Where to go after signing in: `next` when it is a console path, else `/console`.
/// Only printable ASCII without spaces is kept, so it is always a valid header.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/console") && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') => n.to_owned(),
        _ => "/console".to_owned(),
    }
}

/// The first `max` characters of `s` on one line, with an ellipsis when cut.
pub(crate) fn preview(s: &str, max: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let mut out: String = flat.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Every value of the repeated form key `key`, as ids. Forms post checkbox
/// lists as repeated keys (`user_ids=1&user_ids=3`).
pub(crate) fn ids_of(pairs: &[(String, String)], key: &str) -> ApiResult<Vec<i64>> {
    let mut ids = Vec::new();
    for (k, v) in pairs {
        if k == key {
            let id =
                v.trim().parse::<i64>().map_err(|_| ApiError::invalid_field(key, format!("'{v}' is not an id")))?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    Ok(ids)
}

/// Users' display names by id.
pub(crate) async fn user_names(state: &AppState) -> ApiResult<HashMap<i64, String>> {
    Ok(state.store.list_users().await?.into_iter().map(|u| (u.id, u.name)).collect())
}

pub(crate) fn name_of(names: &HashMap<i64, String>, id: i64) -> String {
    names.get(&id).cloned().unwrap_or_else(|| format!("user #{id}"))
}

/// Pretty JSON for `<pre>`.
pub(crate) fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_formatted_in_utc_to_the_minute() {
        assert_eq!(fmt_time(0), "1970-01-01 00:00");
        assert_eq!(fmt_time(1_700_000_000_000), "2023-11-14 22:13");
        assert_eq!(fmt_time(i64::MAX), "");
    }

    #[test]
    fn checkboxes_are_on_only_when_sent() {
        assert!(checked(Some("on")));
        assert!(checked(Some("true")));
        assert!(!checked(None));
        assert!(!checked(Some("off")));
    }

    #[test]
    fn next_is_kept_only_for_console_paths() {
        assert_eq!(safe_next(Some("/console/agent")), "/console/agent");
        assert_eq!(safe_next(Some("/console/conversations?view=mine")), "/console/conversations?view=mine");
        assert_eq!(safe_next(Some("https://evil.example/console")), "/console");
        assert_eq!(safe_next(Some("//evil.example")), "/console");
        assert_eq!(safe_next(Some("/console\r\nSet-Cookie: x")), "/console");
        assert_eq!(safe_next(Some("/console/a b")), "/console");
        assert_eq!(safe_next(None), "/console");
    }

    #[test]
    fn previews_are_one_line_and_cut_with_an_ellipsis() {
        assert_eq!(preview("a\n  b", 10), "a b");
        assert_eq!(preview("abcdefghij", 5), "abcd…");
        assert_eq!(preview("héllo", 5), "héllo");
    }

    #[test]
    fn repeated_keys_are_collected_as_ids() {
        let pairs: Vec<(String, String)> = [("_csrf", "t"), ("user_ids", "3"), ("user_ids", "1"), ("user_ids", "3")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(ids_of(&pairs, "user_ids").unwrap(), vec![3, 1]);
        assert_eq!(ids_of(&pairs, "missing").unwrap(), Vec::<i64>::new());
        let bad = vec![("user_ids".to_owned(), "x".to_owned())];
        let e = ids_of(&bad, "user_ids").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("user_ids"));
    }

    #[test]
    fn flash_keys_map_to_fixed_messages_only() {
        assert_eq!(flash_text("saved"), Some("Saved."));
        assert_eq!(flash_text("<script>"), None);
    }

    #[test]
    fn select_options_mark_the_selected_value() {
        let o = options([("a", "A"), ("b", "B")], "b");
        assert!(!o[0].selected && o[1].selected);
    }

    #[tokio::test]
    async fn nav_links_point_at_console_pages_with_the_same_permission() {
        let dir = tempfile::tempdir().unwrap();
        let store = frontdesk_store::open(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
        let knowledge = frontdesk_agent::knowledge::Knowledge::in_memory(dir.path(), None).unwrap();
        let state = AppState::new(store, crate::config::Settings::default(), knowledge);
        let defs = routes(Routes::new(state)).defs().to_vec();
        for (href, label, _, perm) in NAV {
            let path = href.split('?').next().unwrap_or(href);
            let def = defs.iter().find(|d| d.method == Method::GET && d.path == path);
            assert_eq!(def.map(|d| d.access), Some(Access::User(*perm)), "nav link {label}");
        }
        // The knowledge pages are in the navigation; like the JSON API, they
        // need ViewAgent to look and EditAgent to change anything.
        for page in ["/console/articles", "/console/sources"] {
            assert!(NAV.iter().any(|(href, ..)| *href == page), "{page} is in the navigation");
        }
        for (method, path) in [
            (Method::POST, "/console/articles/{id}/publish"),
            (Method::POST, "/console/sources/remove"),
            (Method::POST, "/console/sources/url"),
            (Method::POST, "/console/files"),
            (Method::POST, "/console/files/{id}/source"),
        ] {
            assert!(defs.iter().any(|d| d.method == method && d.path == path), "{method} {path} is a route");
        }
        let knowledge = defs.iter().filter(|d| {
            ["/console/articles", "/console/sources", "/console/files"].iter().any(|p| d.path.starts_with(p))
        });
        for d in knowledge {
            let want = if d.method == Method::GET { P::ViewAgent } else { P::EditAgent };
            assert_eq!(d.access, Access::User(want), "{} {}", d.method, d.path);
        }
    }
}
