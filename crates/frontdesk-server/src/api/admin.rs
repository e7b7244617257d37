//! The admin API under `/api/v1`: session or API key, one permission per
//! route (see `routes.rs`). Input parsing lives in the `*Input` types so the
//! console's forms reuse exactly the same rules.

use axum::extract::{Path, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use frontdesk_core::model::{ConversationStatus, JobStatus};
use frontdesk_core::permissions::Permission as P;
use frontdesk_core::validate::MessageText;
use frontdesk_store::{AgentProfile, ConversationFilter, UserPatch};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::auth::{self, login_error, retry_after, Authed, ClientAddr};
use crate::error::{ApiError, ApiJson, ApiQuery, ApiResult};
use crate::routes::{Access, Routes};
use crate::state::AppState;
use frontdesk_engine::conversation as engine;
use frontdesk_engine::service::audit::AuditQuery;
use frontdesk_engine::service::conversations::{parse_assignee, parse_view, AssignInput};
use frontdesk_engine::service::login::{self, open_session, Attempt, TotpStatus};
use frontdesk_engine::service::profile::{update_profile, ProfileInput};
use frontdesk_engine::service::short_answers::ShortAnswerInput;
use frontdesk_engine::service::users::{
    check_self_lockout, new_api_key, parse_availability, parse_team_name, UserInput, UserPatchInput,
};
use frontdesk_engine::tokens;

pub fn routes(r: Routes) -> Routes {
    use Access::User as U;
    r.add(Method::POST, "/api/v1/auth/login", Access::Public, login)
        .add(Method::POST, "/api/v1/auth/logout", U(P::Authenticated), logout)
        .add(Method::GET, "/api/v1/me", U(P::Authenticated), me)
        .add(Method::PUT, "/api/v1/me/availability", U(P::Authenticated), set_availability)
        .add(Method::GET, "/api/v1/me/totp", U(P::Authenticated), get_totp)
        .add(Method::POST, "/api/v1/me/totp", U(P::Authenticated), start_totp)
        .add(Method::POST, "/api/v1/me/totp/confirm", U(P::Authenticated), confirm_totp)
        .add(Method::POST, "/api/v1/me/totp/disable", U(P::Authenticated), disable_totp)
        .add(Method::GET, "/api/v1/agent", U(P::ViewAgent), get_agent)
        .add(Method::PUT, "/api/v1/agent", U(P::EditAgent), put_agent)
        .add(Method::GET, "/api/v1/short-answers", U(P::ViewAgent), list_short_answers)
        .add(Method::POST, "/api/v1/short-answers", U(P::EditAgent), create_short_answer)
        .add(Method::GET, "/api/v1/short-answers/{id}", U(P::ViewAgent), get_short_answer)
        .add(Method::PUT, "/api/v1/short-answers/{id}", U(P::EditAgent), update_short_answer)
        .add(Method::DELETE, "/api/v1/short-answers/{id}", U(P::EditAgent), delete_short_answer)
        .add(Method::GET, "/api/v1/unanswered", U(P::ViewAgent), list_unanswered)
        .add(Method::GET, "/api/v1/conversations", U(P::ViewConversations), list_conversations)
        .add(Method::GET, "/api/v1/conversations/{id}", U(P::ViewConversations), get_conversation)
        .add(Method::POST, "/api/v1/conversations/{id}/messages", U(P::HandleConversations), reply)
        .add(Method::POST, "/api/v1/conversations/{id}/assign", U(P::HandleConversations), assign)
        .add(Method::POST, "/api/v1/conversations/{id}/close", U(P::HandleConversations), close)
        .add(Method::POST, "/api/v1/conversations/{id}/reopen", U(P::HandleConversations), reopen)
        .add(Method::GET, "/api/v1/contacts", U(P::ViewConversations), list_contacts)
        .add(Method::GET, "/api/v1/users", U(P::ManageUsers), list_users)
        .add(Method::POST, "/api/v1/users", U(P::ManageUsers), create_user)
        .add(Method::PATCH, "/api/v1/users/{id}", U(P::ManageUsers), patch_user)
        .add(Method::DELETE, "/api/v1/users/{id}", U(P::ManageUsers), delete_user)
        .add(Method::DELETE, "/api/v1/users/{id}/totp", U(P::ManageUsers), reset_totp)
        .add(Method::GET, "/api/v1/teams", U(P::ViewConversations), list_teams)
        .add(Method::POST, "/api/v1/teams", U(P::ManageUsers), create_team)
        .add(Method::PUT, "/api/v1/teams/{id}/members", U(P::ManageUsers), set_team_members)
        .add(Method::DELETE, "/api/v1/teams/{id}", U(P::ManageUsers), delete_team)
        .add(Method::GET, "/api/v1/api-keys", U(P::ManageUsers), list_api_keys)
        .add(Method::POST, "/api/v1/api-keys", U(P::ManageUsers), create_api_key)
        .add(Method::DELETE, "/api/v1/api-keys/{id}", U(P::ManageUsers), revoke_api_key)
        .add(Method::GET, "/api/v1/audit", U(P::ViewAudit), list_audit)
        .add(Method::GET, "/api/v1/jobs", U(P::ManageJobs), list_jobs)
        .add(Method::POST, "/api/v1/jobs/{id}/retry", U(P::ManageJobs), retry_job)
}

// ---------- auth ----------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
    /// The 6-digit code of the account's second factor, when it has one.
    #[serde(default)]
    pub totp: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<LoginInput>,
) -> Result<Response, Response> {
    let attempt = Attempt { email: &body.email, password: &body.password, totp: body.totp.as_deref(), client };
    let (token, csrf, user) = open_session(&state, attempt).await.map_err(|e| match login_error(e) {
        (e, Some(secs)) => (retry_after(secs), e).into_response(),
        (e, None) => e.into_response(),
    })?;
    let cookie = auth::session_cookie(&token, state.settings.session_hours * 3600, state.settings.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], ApiJson(json!({"user": user, "csrf_token": csrf}))).into_response())
}

// ---------- the second factor (TOTP) ----------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCodeInput {
    /// The 6-digit code the authenticator app shows now.
    pub code: String,
}

async fn get_totp(State(state): State<AppState>, authed: Authed) -> ApiResult<ApiJson<TotpStatus>> {
    Ok(ApiJson(login::status(state.store.as_ref(), authed.user.id).await?))
}

async fn start_totp(State(state): State<AppState>, authed: Authed) -> ApiResult<Response> {
    let e = login::start_enrolment(state.store.as_ref(), &authed.user).await?;
    Ok((StatusCode::CREATED, ApiJson(e)).into_response())
}

async fn confirm_totp(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(b): ApiJson<TotpCodeInput>,
) -> ApiResult<ApiJson<TotpStatus>> {
    let store = state.store.as_ref();
    login::confirm_enrolment(store, &authed.actor(), authed.user.id, &b.code, frontdesk_store::now_ms()).await?;
    Ok(ApiJson(login::status(store, authed.user.id).await?))
}

async fn disable_totp(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(b): ApiJson<TotpCodeInput>,
) -> ApiResult<ApiJson<TotpStatus>> {
    let store = state.store.as_ref();
    login::disable(store, &authed.actor(), authed.user.id, &b.code, frontdesk_store::now_ms()).await?;
    Ok(ApiJson(login::status(store, authed.user.id).await?))
}

async fn reset_totp(State(state): State<AppState>, authed: Authed, Path(id): Path<i64>) -> ApiResult<ApiJson<Value>> {
    let removed = login::reset(state.store.as_ref(), &authed.actor(), id).await?;
    Ok(ApiJson(json!({"reset": removed})))
}

async fn logout(State(state): State<AppState>, headers: axum::http::HeaderMap) -> ApiResult<Response> {
    if let Some(token) = auth::cookie_value(&headers, auth::SESSION_COOKIE) {
        state.store.delete_session(&tokens::token_hash(&token)).await?;
    }
    Ok(([(header::SET_COOKIE, auth::clear_session_cookie())], StatusCode::NO_CONTENT).into_response())
}

async fn me(authed: Authed) -> ApiJson<Value> {
    ApiJson(json!({"user": authed.user, "csrf_token": authed.csrf}))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AvailabilityInput {
    availability: String,
}

async fn set_availability(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(b): ApiJson<AvailabilityInput>,
) -> ApiResult<ApiJson<Value>> {
    let a = parse_availability(&b.availability)?;
    let u = state
        .store
        .update_user(&authed.actor(), authed.user.id, UserPatch { availability: Some(a), ..Default::default() })
        .await?;
    Ok(ApiJson(json!(u)))
}

// ---------- agent profile ----------

async fn get_agent(State(state): State<AppState>) -> ApiResult<ApiJson<AgentProfile>> {
    Ok(ApiJson(state.store.agent_profile().await?))
}

async fn put_agent(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(b): ApiJson<ProfileInput>,
) -> ApiResult<ApiJson<AgentProfile>> {
    Ok(ApiJson(update_profile(&state, &authed.actor(), b).await?))
}

// ---------- short answers ----------

async fn list_short_answers(State(state): State<AppState>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.list_short_answers().await?)))
}

async fn get_short_answer(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.get_short_answer(id).await?)))
}

async fn create_short_answer(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(b): ApiJson<ShortAnswerInput>,
) -> ApiResult<Response> {
    let sa = state.store.create_short_answer(&authed.actor(), b.parse()?).await?;
    Ok((StatusCode::CREATED, ApiJson(json!(sa))).into_response())
}

async fn update_short_answer(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ShortAnswerInput>,
) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.update_short_answer(&authed.actor(), id, b.parse()?).await?)))
}

async fn delete_short_answer(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    state.store.delete_short_answer(&authed.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_unanswered(State(state): State<AppState>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.list_unanswered(500).await?)))
}

// ---------- conversations ----------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ViewQuery {
    view: Option<String>,
}

async fn list_conversations(
    State(state): State<AppState>,
    authed: Authed,
    ApiQuery(q): ApiQuery<ViewQuery>,
) -> ApiResult<ApiJson<Value>> {
    let view = parse_view(q.view.as_deref())?;
    let list = state.store.list_conversations(ConversationFilter { view, user_id: authed.user.id, limit: 200 }).await?;
    Ok(ApiJson(json!(list)))
}

/// A conversation with its messages (including the agent's traces) and events.
pub async fn conversation_detail(state: &AppState, id: i64) -> ApiResult<Value> {
    let c = state.store.get_conversation(id).await?;
    let messages = state.store.messages_after(id, 0, 10_000).await?;
    let events = state.store.list_events(id).await?;
    let contact = match c.contact_id {
        Some(cid) => Some(state.store.get_contact(cid).await?),
        None => None,
    };
    Ok(json!({"conversation": c, "contact": contact, "messages": messages, "events": events}))
}

async fn get_conversation(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(conversation_detail(&state, id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyInput {
    text: String,
}

async fn reply(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ReplyInput>,
) -> ApiResult<Response> {
    let text = MessageText::parse(&b.text)?;
    state.store.get_conversation(id).await?;
    let m = engine::human_message(&state, id, authed.user.id, text.into_inner()).await?;
    Ok((StatusCode::CREATED, ApiJson(json!({"id": m.id}))).into_response())
}

async fn assign(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<AssignInput>,
) -> ApiResult<ApiJson<Value>> {
    let to = parse_assignee(&b, authed.user.id)?;
    Ok(ApiJson(json!(engine::reassign(&state, id, to, authed.user.id).await?)))
}

async fn close(State(state): State<AppState>, authed: Authed, Path(id): Path<i64>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(engine::set_status_by_human(&state, id, ConversationStatus::Closed, authed.user.id).await?)))
}

async fn reopen(State(state): State<AppState>, authed: Authed, Path(id): Path<i64>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(engine::set_status_by_human(&state, id, ConversationStatus::Open, authed.user.id).await?)))
}

async fn list_contacts(State(state): State<AppState>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.list_contacts(500).await?)))
}

// ---------- users and teams ----------

async fn list_users(State(state): State<AppState>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.list_users().await?)))
}

async fn create_user(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(b): ApiJson<UserInput>,
) -> ApiResult<Response> {
    let u = state.store.create_user(&authed.actor(), b.parse()?).await?;
    Ok((StatusCode::CREATED, ApiJson(json!(u))).into_response())
}

async fn patch_user(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<UserPatchInput>,
) -> ApiResult<ApiJson<Value>> {
    let patch = b.parse()?;
    check_self_lockout(id, authed.user.id, &patch)?;
    Ok(ApiJson(json!(state.store.update_user(&authed.actor(), id, patch).await?)))
}

/// Removes a user: they can no longer sign in or hold conversations (theirs
/// are reassigned by the routing rules in the same transaction). The row is
/// kept, disabled, so the history keeps its authors.
async fn delete_user(State(state): State<AppState>, authed: Authed, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    let patch = UserPatch { disabled: Some(true), ..Default::default() };
    check_self_lockout(id, authed.user.id, &patch)?;
    state.store.update_user(&authed.actor(), id, patch).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_teams(State(state): State<AppState>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.list_teams().await?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamInput {
    name: String,
}

async fn create_team(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(b): ApiJson<TeamInput>,
) -> ApiResult<Response> {
    let name = parse_team_name(&b.name)?;
    let t = state.store.create_team(&authed.actor(), &name).await?;
    Ok((StatusCode::CREATED, ApiJson(json!(t))).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MembersInput {
    user_ids: Vec<i64>,
}

async fn set_team_members(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<MembersInput>,
) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.set_team_members(&authed.actor(), id, &b.user_ids).await?)))
}

async fn delete_team(State(state): State<AppState>, authed: Authed, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    state.store.delete_team(&authed.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------- API keys ----------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiKeyInput {
    name: String,
    /// The user the key acts as; defaults to the caller.
    user_id: Option<i64>,
}

async fn list_api_keys(State(state): State<AppState>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.list_api_keys().await?)))
}

async fn create_api_key(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(b): ApiJson<ApiKeyInput>,
) -> ApiResult<Response> {
    let (secret, key) =
        new_api_key(state.store.as_ref(), &authed.actor(), b.user_id.unwrap_or(authed.user.id), &b.name).await?;
    Ok((StatusCode::CREATED, ApiJson(json!({"key": secret, "api_key": key}))).into_response())
}

async fn revoke_api_key(State(state): State<AppState>, authed: Authed, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    state.store.revoke_api_key(&authed.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------- audit and jobs ----------

async fn list_audit(State(state): State<AppState>, ApiQuery(q): ApiQuery<AuditQuery>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.list_audit(q.filter()).await?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JobsQuery {
    status: Option<String>,
}

async fn list_jobs(State(state): State<AppState>, ApiQuery(q): ApiQuery<JobsQuery>) -> ApiResult<ApiJson<Value>> {
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            JobStatus::parse(s)
                .ok_or_else(|| ApiError::invalid_field("status", "must be one of queued, running, done, dead"))?,
        ),
    };
    Ok(ApiJson(json!(state.store.list_jobs(status, 200).await?)))
}

async fn retry_job(State(state): State<AppState>, authed: Authed, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    state.store.retry_job(&authed.actor(), id).await?;
    Ok(StatusCode::ACCEPTED)
}
