//! The agent's preview (D3) and its saved tests (K3) under `/api/v1/agent`.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use frontdesk_core::model::Author;
use frontdesk_core::permissions::Permission as P;
use frontdesk_core::validate::MessageText;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::routes::{Access, Routes};
use crate::state::AppState;
use frontdesk_agent::respond::{respond, Ask};
use frontdesk_agent::snapshot::{topic_vectors, AgentSnapshot};
use frontdesk_engine::service::profile::ProfileInput;
use frontdesk_engine::service::test_cases::AgentTestInput;

pub fn routes(r: Routes) -> Routes {
    use Access::User as U;
    r.add(Method::POST, "/api/v1/agent/preview", U(P::ViewAgent), preview)
        .add(Method::GET, "/api/v1/agent/tests", U(P::ViewAgent), list_tests)
        .add(Method::POST, "/api/v1/agent/tests", U(P::EditAgent), create_test)
        .add(Method::POST, "/api/v1/agent/tests/run", U(P::EditAgent), run_tests)
        .add(Method::GET, "/api/v1/agent/tests/runs", U(P::ViewAgent), list_runs)
        .add(Method::GET, "/api/v1/agent/tests/{id}", U(P::ViewAgent), get_test)
        .add(Method::PUT, "/api/v1/agent/tests/{id}", U(P::EditAgent), update_test)
        .add(Method::DELETE, "/api/v1/agent/tests/{id}", U(P::EditAgent), delete_test)
}

// ---------- preview ----------

/// A message of the preview's conversation so far.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewTurn {
    /// visitor or agent
    pub author: String,
    pub text: String,
}

/// A test message, answered with the current configuration plus any
/// unsaved changes in `profile`. Nothing is stored and no credits are used.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewInput {
    pub message: String,
    #[serde(default)]
    pub history: Vec<PreviewTurn>,
    /// Unsaved profile changes to try (same fields as `PUT /api/v1/agent`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub profile: Option<ProfileInput>,
}

/// The agent's configuration for a preview: the saved one with the unsaved
/// profile changes applied (validated by the same rules as saving).
pub async fn preview_agent(state: &AppState, profile: Option<ProfileInput>) -> ApiResult<AgentSnapshot> {
    let mut agent = (*state.agent.snapshot().await?).clone();
    if let Some(p) = profile {
        let before = agent.profile.topics_to_avoid.clone();
        agent.profile = p.apply(agent.profile)?;
        if agent.profile.topics_to_avoid != before {
            agent.topic_vectors = topic_vectors(&state.agent.knowledge, &agent.profile.topics_to_avoid);
        }
    }
    Ok(agent)
}

async fn preview(State(state): State<AppState>, ApiJson(b): ApiJson<PreviewInput>) -> ApiResult<ApiJson<Value>> {
    let text = MessageText::parse(&b.message).map_err(|e| ApiError::invalid_field("message", e.message))?;
    let mut history = Vec::with_capacity(b.history.len());
    for (i, t) in b.history.into_iter().enumerate() {
        let author = match t.author.as_str() {
            "visitor" => Author::Visitor,
            "agent" => Author::Agent,
            _ => return Err(ApiError::invalid_field(&format!("history[{i}].author"), "must be visitor or agent")),
        };
        history.push((author, t.text));
    }
    let agent = preview_agent(&state, b.profile).await?;
    let ask = Ask { text: text.as_str().to_owned(), history, contact_id: None, conversation_id: None };
    let reply = respond(&state.agent, &agent, &ask).await;
    Ok(ApiJson(frontdesk_agent::respond::reply_json(&agent, &reply)))
}

// ---------- tests ----------

async fn list_tests(State(state): State<AppState>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.list_agent_tests().await?)))
}

async fn get_test(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.get_agent_test(id).await?)))
}

async fn create_test(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(b): ApiJson<AgentTestInput>,
) -> ApiResult<Response> {
    let t = state.store.create_agent_test(&authed.actor(), b.parse()?).await?;
    Ok((StatusCode::CREATED, ApiJson(json!(t))).into_response())
}

async fn update_test(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<AgentTestInput>,
) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.update_agent_test(&authed.actor(), id, b.parse()?).await?)))
}

async fn delete_test(State(state): State<AppState>, authed: Authed, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    state.store.delete_agent_test(&authed.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn run_tests(State(state): State<AppState>, authed: Authed) -> ApiResult<ApiJson<Value>> {
    let report =
        frontdesk_agent::test_cases::run_suite(&state.agent, &authed.actor()).await.map_err(ApiError::internal)?;
    Ok(ApiJson(json!(report)))
}

async fn list_runs(State(state): State<AppState>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.list_agent_test_runs(20).await?)))
}
