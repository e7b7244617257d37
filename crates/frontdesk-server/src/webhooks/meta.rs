//! Meta's webhooks (WhatsApp, Messenger; C1): the subscription handshake and
//! the signed POSTs. What each event does and sending through the Graph API
//! is the engine's (`frontdesk_engine::channels::meta`).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use frontdesk_channels::meta::{self as wire, SignatureError};
use frontdesk_core::model::Channel;
use frontdesk_engine::channels::config::MetaConfig;
use frontdesk_engine::channels::meta::{self, count, signed_by, ANSWER_WITHIN, MAX_WEBHOOK_BODY};
use frontdesk_store::{ChannelRow, StoreError};

use crate::error::{ApiError, Code};
use crate::routes::{Access, Routes};
use crate::state::AppState;

pub fn routes(r: Routes) -> Routes {
    r.add(Method::GET, "/webhooks/whatsapp/{channel_id}", Access::Public, handshake_whatsapp)
        .add(Method::GET, "/webhooks/messenger/{channel_id}", Access::Public, handshake_messenger)
        .add_large(Method::POST, "/webhooks/whatsapp/{channel_id}", Access::Public, MAX_WEBHOOK_BODY, webhook_whatsapp)
        .add_large(
            Method::POST,
            "/webhooks/messenger/{channel_id}",
            Access::Public,
            MAX_WEBHOOK_BODY,
            webhook_messenger,
        )
}

/// The channel `id` when it exists and is of `kind`; `None` otherwise (404:
/// a wrong kind is as unknown as a wrong id).
async fn channel_of(state: &AppState, kind: Channel, id: &str) -> Result<Option<(ChannelRow, MetaConfig)>, ApiError> {
    let Ok(id) = id.parse::<i64>() else { return Ok(None) };
    let channel = match state.store.get_channel(id).await {
        Ok(c) if c.kind == kind => c,
        Ok(_) | Err(StoreError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let config: MetaConfig = serde_json::from_value(channel.config.clone())
        .map_err(|e| ApiError::internal(format!("channel {}: configuration unreadable: {e}", channel.id)))?;
    Ok(Some((channel, config)))
}

async fn handshake_whatsapp(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    handshake(&state, Channel::WhatsApp, &id, &q).await
}

async fn handshake_messenger(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    handshake(&state, Channel::Messenger, &id, &q).await
}

/// Meta's subscription check: the challenge as text/plain, or 403.
async fn handshake(state: &AppState, kind: Channel, id: &str, q: &HashMap<String, String>) -> Response {
    let (channel, config) = match channel_of(state, kind, id).await {
        Ok(Some(c)) => c,
        Ok(None) => return ApiError::not_found("channel").into_response(),
        Err(e) => return e.into_response(),
    };
    let get = |k: &str| q.get(k).map(String::as_str);
    match wire::verify_handshake(get("hub.mode"), get("hub.verify_token"), get("hub.challenge"), &config.verify_token) {
        Some(challenge) => {
            tracing::info!(channel_id = channel.id, kind = %kind, "webhook subscription verified");
            (StatusCode::OK, [(CONTENT_TYPE, "text/plain; charset=utf-8")], challenge).into_response()
        }
        None => {
            tracing::warn!(channel_id = channel.id, kind = %kind, "webhook handshake refused: wrong verify token or mode");
            ApiError::forbidden("the verify token does not match this channel's").into_response()
        }
    }
}

async fn webhook_whatsapp(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    webhook(state, Channel::WhatsApp, &id, &headers, body).await
}

async fn webhook_messenger(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    webhook(state, Channel::Messenger, &id, &headers, body).await
}

/// A webhook POST: authenticate, then handle the batch and answer 200.
async fn webhook(state: AppState, kind: Channel, id: &str, headers: &HeaderMap, body: Bytes) -> Response {
    let channel = match channel_of(&state, kind, id).await {
        Ok(Some((c, _))) => c,
        Ok(None) => return ApiError::not_found("channel").into_response(),
        Err(e) => return e.into_response(),
    };
    let header = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok());
    let signed = match signed_by(&state, channel.id, &body, header).await {
        Ok(s) => s,
        // Meta retries what was not acknowledged.
        Err(e) => return ApiError::from(e).into_response(),
    };
    if let Err(e) = signed {
        tracing::warn!(channel_id = channel.id, kind = %kind, error = %e, "webhook refused: bad signature");
        count(&state, kind, "refused");
        return match e {
            SignatureError::Missing => {
                ApiError::new(Code::Unauthenticated, "the X-Hub-Signature-256 header is missing").into_response()
            }
            other => ApiError::forbidden(format!("the signature was refused: {other}")).into_response(),
        };
    }
    let parsed = match kind {
        Channel::WhatsApp => wire::parse_whatsapp(&body),
        _ => wire::parse_messenger(&body),
    };
    let events = match parsed {
        Ok(e) => e,
        Err(e) => {
            // Signed by Meta but unusable: a retry would be the same; acknowledge it.
            tracing::warn!(channel_id = channel.id, kind = %kind, error = %e, "webhook body ignored");
            count(&state, kind, "invalid");
            return StatusCode::OK.into_response();
        }
    };
    if events.is_empty() {
        return StatusCode::OK.into_response();
    }
    let header = header.map(str::to_owned);
    let task = tokio::spawn(async move { meta::handle_batch(&state, channel, &body, header, events).await });
    match tokio::time::timeout(ANSWER_WITHIN, task).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(kind = %kind, error = %e, "webhook batch crashed"),
        Err(_) => {
            tracing::info!(kind = %kind, "webhook batch still running: acknowledged, finishing in the background")
        }
    }
    StatusCode::OK.into_response()
}
