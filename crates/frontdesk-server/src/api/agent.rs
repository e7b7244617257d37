//! The agent's preview (D3) and its saved tests (K3) under `/api/v1/agent`.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use frontdesk_core::permissions::Permission as P;
use serde_json::{json, Value};

use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::routes::{Access, Routes};
use crate::state::AppState;
use frontdesk_engine::service::preview::{self as service, PreviewInput};
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

async fn preview(State(state): State<AppState>, ApiJson(b): ApiJson<PreviewInput>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(service::preview(&state, b).await?))
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
