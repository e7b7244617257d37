//! Ticket-based workflows (E5, E9, C5) under `/api/v1/workflows`: ordered
//! rules with conditions and actions (`frontdesk_core::workflow`), a test
//! against a sample ticket's facts that writes nothing, and the built-in
//! template "reassign tickets for agent handoff".

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use frontdesk_core::permissions::Permission as P;
use frontdesk_core::workflow::TicketFacts;
use serde_json::{json, Value};

use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::routes::{Access, Routes};
use crate::state::AppState;
use frontdesk_engine::service::workflows::{self as service, TemplateInput, WorkflowInput};

pub fn routes(r: Routes) -> Routes {
    use Access::User as U;
    r.add(Method::GET, "/api/v1/workflows", U(P::ViewAgent), list)
        .add(Method::POST, "/api/v1/workflows", U(P::EditAgent), create)
        .add(Method::POST, "/api/v1/workflows/templates/agent-handoff", U(P::EditAgent), create_template)
        .add(Method::GET, "/api/v1/workflows/{id}", U(P::ViewAgent), get_one)
        .add(Method::PUT, "/api/v1/workflows/{id}", U(P::EditAgent), update)
        .add(Method::DELETE, "/api/v1/workflows/{id}", U(P::EditAgent), delete)
        .add(Method::POST, "/api/v1/workflows/{id}/test", U(P::ViewAgent), test)
}

fn id_of(id: &str) -> ApiResult<i64> {
    id.parse::<i64>().map_err(|_| ApiError::not_found("workflow"))
}

async fn list(State(state): State<AppState>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.list_workflows().await?)))
}

async fn get_one(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.get_workflow(id_of(&id)?).await?)))
}

async fn create(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(b): ApiJson<WorkflowInput>,
) -> ApiResult<Response> {
    let row = service::create_workflow(&state, &authed.actor(), b).await?;
    Ok((StatusCode::CREATED, ApiJson(json!(row))).into_response())
}

async fn update(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<WorkflowInput>,
) -> ApiResult<ApiJson<Value>> {
    let id = id_of(&id)?;
    Ok(ApiJson(json!(service::update_workflow(&state, &authed.actor(), id, b).await?)))
}

async fn delete(State(state): State<AppState>, authed: Authed, Path(id): Path<String>) -> ApiResult<StatusCode> {
    state.store.delete_workflow(&authed.actor(), id_of(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn test(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(facts): ApiJson<TicketFacts>,
) -> ApiResult<ApiJson<Value>> {
    let w = state.store.get_workflow(id_of(&id)?).await?.workflow;
    Ok(ApiJson(service::test_workflow(&state, &w, &facts).await?))
}

async fn create_template(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(b): ApiJson<TemplateInput>,
) -> ApiResult<Response> {
    let row = service::create_template(&state, &authed.actor(), b).await?;
    Ok((StatusCode::CREATED, ApiJson(json!(row))).into_response())
}
