//! The email channel's HTTP endpoints: a provider pushing raw MIME with the
//! channel's key, and "poll now" for the console. The channel's runtime
//! (IMAP poller, SMTP sending) is `frontdesk_engine::channels::email`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use frontdesk_core::model::Channel;
use frontdesk_core::permissions::Permission as P;
use frontdesk_engine::channels::email::{poll_channel, process_raw, MAX_RAW_BYTES};
use frontdesk_engine::channels::Received;
use frontdesk_engine::tokens::token_hash;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiJson, ApiResult};
use crate::routes::{Access, Routes};
use crate::state::AppState;

pub fn routes(r: Routes) -> Routes {
    r.add_large(Method::POST, "/api/v1/channels/inbound/email", Access::Public, MAX_RAW_BYTES, webhook).add(
        Method::POST,
        "/api/v1/channels/{id}/poll",
        Access::User(P::EditAgent),
        poll_now,
    )
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get("authorization")?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// `POST /api/v1/channels/inbound/email` with the channel's key: a raw
/// RFC 5322 message from a provider that pushes mail.
async fn webhook(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> ApiResult<Response> {
    let channel = match bearer(&headers) {
        Some(key) => state.store.channel_by_key(&token_hash(key)).await?,
        None => None,
    };
    let Some(channel) = channel.filter(|c| c.kind == Channel::Email) else {
        return Err(ApiError::new(crate::error::Code::Unauthenticated, "a valid email channel key is required"));
    };
    match process_raw(&state, &channel, &body).await? {
        Received::Processed { conversation_id, message_id } => Ok((
            StatusCode::ACCEPTED,
            ApiJson(json!({"conversation_id": conversation_id, "message_id": message_id, "duplicate": false})),
        )
            .into_response()),
        Received::Duplicate => Ok((StatusCode::OK, ApiJson(json!({"duplicate": true}))).into_response()),
    }
}

/// `POST /api/v1/channels/{id}/poll`: reads the mailbox now.
async fn poll_now(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<ApiJson<Value>> {
    let channel = state.store.get_channel(id).await?;
    if channel.kind != Channel::Email {
        return Err(ApiError::invalid_field("kind", "only email channels have a mailbox"));
    }
    let n = poll_channel(&state, &channel)
        .await
        .map_err(|e| ApiError::new(crate::error::Code::Unavailable, format!("could not read the mailbox: {e}")))?;
    Ok(ApiJson(json!({"processed": n})))
}
