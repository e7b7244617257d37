//! Rule-based chatbots (C5) under `/api/v1/bots`: a flow of steps
//! (`frontdesk_core::bot`) deployed on a channel before the agent; see
//! `frontdesk_engine::bots` for how a conversation runs through it.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use frontdesk_core::permissions::Permission as P;
use serde_json::{json, Value};

use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::routes::{Access, Routes};
use crate::state::AppState;
use frontdesk_engine::service::bots::BotInput;

pub fn routes(r: Routes) -> Routes {
    use Access::User as U;
    r.add(Method::GET, "/api/v1/bots", U(P::ViewAgent), list)
        .add(Method::POST, "/api/v1/bots", U(P::EditAgent), create)
        .add(Method::GET, "/api/v1/bots/{id}", U(P::ViewAgent), get_one)
        .add(Method::PUT, "/api/v1/bots/{id}", U(P::EditAgent), update)
        .add(Method::DELETE, "/api/v1/bots/{id}", U(P::EditAgent), delete)
}

fn id_of(id: &str) -> ApiResult<i64> {
    id.parse::<i64>().map_err(|_| ApiError::not_found("bot"))
}

async fn list(State(state): State<AppState>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.list_bots().await?)))
}

async fn get_one(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.get_bot(id_of(&id)?).await?)))
}

async fn create(State(state): State<AppState>, authed: Authed, ApiJson(b): ApiJson<BotInput>) -> ApiResult<Response> {
    let b = b.parse(&state).await?;
    let row = state.store.create_bot(&authed.actor(), b).await?;
    Ok((StatusCode::CREATED, ApiJson(json!(row))).into_response())
}

async fn update(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<BotInput>,
) -> ApiResult<ApiJson<Value>> {
    let id = id_of(&id)?;
    let b = b.parse(&state).await?;
    Ok(ApiJson(json!(state.store.update_bot(&authed.actor(), id, b).await?)))
}

async fn delete(State(state): State<AppState>, authed: Authed, Path(id): Path<String>) -> ApiResult<StatusCode> {
    state.store.delete_bot(&authed.actor(), id_of(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
