//! Connected channels (C1–C3) under `/api/v1/channels`: email addresses,
//! WhatsApp numbers, Messenger pages and custom systems, with the agent
//! deployed or not; their secrets are write-only. Also the messaging
//! settings per channel kind (C2) and each conversation's deliveries.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use frontdesk_core::model::{AskEmail, Channel};
use frontdesk_core::permissions::Permission as P;
use frontdesk_core::validate::bounded_text;
use frontdesk_store::{ChannelPatch, ChannelRow, MessagingSettings, NewChannel};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::routes::{Access, Routes};
use crate::state::AppState;
use frontdesk_engine::channels::config;
use frontdesk_engine::tokens::{random_token, token_hash};

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

/// A channel as sent: `{"kind": "email", "name": "Support", "agent_deployed": true,
/// "config": {"address": "support@shop.example", "smtp": {"host": "smtp.shop.example"}},
/// "secrets": {"smtp_password": "…"}}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelInput {
    pub kind: Channel,
    pub name: String,
    #[serde(default = "yes")]
    pub agent_deployed: bool,
    /// `inbox` (default) or `help_desk`: each new conversation is a ticket.
    #[serde(default)]
    pub destination: Option<String>,
    #[serde(default)]
    pub config: Value,
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelChange {
    pub name: Option<String>,
    pub agent_deployed: Option<bool>,
    pub destination: Option<String>,
    pub config: Option<Value>,
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
}

/// Where a channel's conversations belong.
pub fn parse_destination(d: Option<&str>) -> ApiResult<Option<String>> {
    match d {
        None => Ok(None),
        Some(d @ ("inbox" | "help_desk")) => Ok(Some(d.to_owned())),
        Some(_) => Err(ApiError::invalid_field("destination", "must be inbox or help_desk")),
    }
}

fn id_of(id: &str) -> ApiResult<i64> {
    id.parse::<i64>().map_err(|_| ApiError::not_found("channel"))
}

/// Kinds whose systems call us with a key: custom channels and raw-MIME email.
pub fn has_inbound_key(kind: Channel) -> bool {
    matches!(kind, Channel::Custom | Channel::Email)
}

/// Creates a channel; the inbound key (and a generated webhook secret) are
/// in the answer once, never again.
pub async fn create_channel(state: &AppState, authed: &Authed, input: ChannelInput) -> ApiResult<(ChannelRow, Value)> {
    let name = bounded_text("name", &input.name, 1, 100)?;
    let config = config::validate(input.kind, &input.config)?;
    config::check_addresses(input.kind, &config, &state.settings).await?;
    let mut secrets = input.secrets;
    config::validate_secrets(input.kind, &secrets)?;
    let mut shown = json!({});
    if input.kind == Channel::Custom && !secrets.contains_key("webhook_secret") {
        let s = random_token("whsec_");
        shown["webhook_secret"] = json!(s);
        secrets.insert("webhook_secret".into(), s);
    }
    let key_hash = if has_inbound_key(input.kind) {
        let key = random_token("fdch_");
        shown["key"] = json!(key);
        Some(token_hash(&key))
    } else {
        None
    };
    let row = state
        .store
        .create_channel(
            &authed.actor(),
            NewChannel {
                kind: input.kind,
                name,
                agent_deployed: input.agent_deployed,
                destination: parse_destination(input.destination.as_deref())?.unwrap_or_else(|| "inbox".into()),
                config,
                secrets,
                key_hash,
            },
        )
        .await?;
    frontdesk_engine::channels::email::channels_changed(state);
    Ok((row, shown))
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
    let (row, shown) = create_channel(&state, &authed, input).await?;
    let mut body = json!(row);
    if let (Value::Object(b), Value::Object(s)) = (&mut body, shown) {
        b.extend(s);
    }
    Ok((StatusCode::CREATED, ApiJson(body)).into_response())
}

pub async fn update_channel(
    state: &AppState,
    authed: &Authed,
    id: i64,
    change: ChannelChange,
) -> ApiResult<ChannelRow> {
    let current = state.store.get_channel(id).await?;
    let name = change.name.as_deref().map(|n| bounded_text("name", n, 1, 100)).transpose()?;
    let config = change.config.as_ref().map(|c| config::validate(current.kind, c)).transpose()?;
    if let Some(c) = &config {
        config::check_addresses(current.kind, c, &state.settings).await?;
    }
    config::validate_secrets(current.kind, &change.secrets)?;
    let row = state
        .store
        .update_channel(
            &authed.actor(),
            id,
            ChannelPatch {
                name,
                agent_deployed: change.agent_deployed,
                destination: parse_destination(change.destination.as_deref())?,
                config,
                secrets: change.secrets,
                key_hash: None,
            },
        )
        .await?;
    frontdesk_engine::channels::email::channels_changed(state);
    Ok(row)
}

async fn update(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
    ApiJson(change): ApiJson<ChannelChange>,
) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(update_channel(&state, &authed, id_of(&id)?, change).await?)))
}

async fn delete(State(state): State<AppState>, authed: Authed, Path(id): Path<String>) -> ApiResult<StatusCode> {
    state.store.delete_channel(&authed.actor(), id_of(&id)?).await?;
    frontdesk_engine::channels::email::channels_changed(&state);
    Ok(StatusCode::NO_CONTENT)
}

/// Gives the channel a new inbound key (the old one stops working); returns
/// the channel and the key, to show once.
pub async fn rotate_channel_key(state: &AppState, authed: &Authed, id: i64) -> ApiResult<(ChannelRow, String)> {
    let current = state.store.get_channel(id).await?;
    if !has_inbound_key(current.kind) {
        return Err(ApiError::invalid_field("kind", "only custom and email channels have an inbound key"));
    }
    let key = random_token("fdch_");
    let row = state
        .store
        .update_channel(&authed.actor(), id, ChannelPatch { key_hash: Some(token_hash(&key)), ..Default::default() })
        .await?;
    Ok((row, key))
}

async fn rotate_key(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
) -> ApiResult<ApiJson<Value>> {
    let (row, key) = rotate_channel_key(&state, &authed, id_of(&id)?).await?;
    let mut body = json!(row);
    body["key"] = json!(key);
    Ok(ApiJson(body))
}

async fn get_settings(State(state): State<AppState>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.messaging_settings().await?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    pub ask_email: Option<AskEmail>,
    /// Minutes; `null` for the agent's default. Between 5 minutes and 90 days.
    #[serde(default)]
    pub close_after_minutes: Option<i64>,
}

pub fn parse_channel(s: &str) -> ApiResult<Channel> {
    Channel::parse(s)
        .ok_or_else(|| ApiError::invalid_field("channel", "must be live_chat, email, whatsapp, messenger or custom"))
}

pub async fn put_messaging(
    state: &AppState,
    authed: &Authed,
    channel: Channel,
    input: SettingsInput,
) -> ApiResult<MessagingSettings> {
    if let Some(m) = input.close_after_minutes {
        if !(5..=90 * 24 * 60).contains(&m) {
            return Err(ApiError::invalid_field("close_after_minutes", "must be between 5 and 129600 (90 days)"));
        }
    }
    let ask_email = input.ask_email.unwrap_or(AskEmail::Never);
    if ask_email != AskEmail::Never && matches!(channel, Channel::Email | Channel::Custom) {
        return Err(ApiError::invalid_field("ask_email", "applies to live chat, WhatsApp and Messenger only"));
    }
    let s = MessagingSettings { channel, ask_email, close_after_minutes: input.close_after_minutes };
    Ok(state.store.put_messaging_settings(&authed.actor(), s).await?)
}

async fn put_settings(
    State(state): State<AppState>,
    authed: Authed,
    Path(channel): Path<String>,
    ApiJson(input): ApiJson<SettingsInput>,
) -> ApiResult<ApiJson<Value>> {
    let channel = parse_channel(&channel)?;
    Ok(ApiJson(json!(put_messaging(&state, &authed, channel, input).await?)))
}

async fn deliveries(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<ApiJson<Value>> {
    let id = id.parse::<i64>().map_err(|_| ApiError::not_found("conversation"))?;
    state.store.get_conversation(id).await?;
    Ok(ApiJson(json!(state.store.deliveries_for(id).await?)))
}
