//! Connected channels (C1–C3) under `/api/v1/channels`: email addresses,
//! WhatsApp numbers, Messenger pages and custom systems, with the agent
//! deployed or not; their secrets are write-only. Also the messaging
//! settings per channel kind (C2) and each conversation's deliveries. The
//! rules are `frontdesk_engine::service::channels`'s.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use frontdesk_core::permissions::Permission as P;
use serde_json::{json, Value};

use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::routes::{Access, Routes};
use crate::state::AppState;
use frontdesk_engine::service::channels::{self as service, ChannelChange, ChannelInput, SettingsInput};

pub fn routes(r: Routes) -> Routes {
    use Access::User as U;
    r.add(Method::GET, "/api/v1/channels", U(P::ViewAgent), list)
        .add(Method::POST, "/api/v1/channels", U(P::EditAgent), create)
        .add(Method::GET, "/api/v1/channels/{id}", U(P::ViewAgent), get_one)
        .add(Method::PATCH, "/api/v1/channels/{id}", U(P::EditAgent), update)
        .add(Method::DELETE, "/api/v1/channels/{id}", U(P::EditAgent), delete)
        .add(Method::POST, "/api/v1/channels/{id}/key", U(P::EditAgent), rotate_key)
        .add(Method::GET, "/api/v1/messaging-settings", U(P::ViewAgent), get_settings)
        .add(Method::PUT, "/api/v1/messaging-settings/{channel}", U(P::EditAgent), put_settings)
        .add(Method::GET, "/api/v1/conversations/{id}/deliveries", U(P::ViewConversations), deliveries)
}

fn id_of(id: &str) -> ApiResult<i64> {
    id.parse::<i64>().map_err(|_| ApiError::not_found("channel"))
}

async fn list(State(state): State<AppState>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.list_channels().await?)))
}

async fn get_one(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.get_channel(id_of(&id)?).await?)))
}

async fn create(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(input): ApiJson<ChannelInput>,
) -> ApiResult<Response> {
    let (row, shown) = service::create_channel(&state, &authed.actor(), input).await?;
    let mut body = json!(row);
    if let (Value::Object(b), Value::Object(s)) = (&mut body, shown) {
        b.extend(s);
    }
    Ok((StatusCode::CREATED, ApiJson(body)).into_response())
}

async fn update(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
    ApiJson(change): ApiJson<ChannelChange>,
) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(service::update_channel(&state, &authed.actor(), id_of(&id)?, change).await?)))
}

async fn delete(State(state): State<AppState>, authed: Authed, Path(id): Path<String>) -> ApiResult<StatusCode> {
    state.store.delete_channel(&authed.actor(), id_of(&id)?).await?;
    frontdesk_engine::channels::email::channels_changed(&state);
    Ok(StatusCode::NO_CONTENT)
}

async fn rotate_key(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<Value>> {
    let (row, key) = service::rotate_channel_key(&state, &authed.actor(), id_of(&id)?).await?;
    let mut body = json!(row);
    body["key"] = json!(key);
    Ok(ApiJson(body))
}

async fn get_settings(State(state): State<AppState>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.messaging_settings().await?)))
}

async fn put_settings(
    State(state): State<AppState>,
    authed: Authed,
    Path(channel): Path<String>,
    ApiJson(input): ApiJson<SettingsInput>,
) -> ApiResult<ApiJson<Value>> {
    let channel = service::parse_channel(&channel)?;
    Ok(ApiJson(json!(service::put_messaging(&state, &authed.actor(), channel, input).await?)))
}

async fn deliveries(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<ApiJson<Value>> {
    let id = id.parse::<i64>().map_err(|_| ApiError::not_found("conversation"))?;
    state.store.get_conversation(id).await?;
    Ok(ApiJson(json!(state.store.deliveries_for(id).await?)))
}
