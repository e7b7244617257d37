//! Connected channels (C1–C3) as the admin API and the console change them:
//! the configuration checked field by field and against the network guard,
//! write-only secrets, the inbound key shown once, and the messaging settings
//! per channel kind (C2). Changes are audited by the store.

use std::collections::BTreeMap;

use frontdesk_core::model::{AskEmail, Channel};
use frontdesk_core::validate::bounded_text;
use frontdesk_store::{Actor, ChannelPatch, ChannelRow, MessagingSettings, NewChannel};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::channels::config;
use crate::error::{Error, Result};
use crate::tokens::{random_token, token_hash};
use crate::Engine;

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
pub fn parse_destination(d: Option<&str>) -> Result<Option<String>> {
    match d {
        None => Ok(None),
        Some(d @ ("inbox" | "help_desk")) => Ok(Some(d.to_owned())),
        Some(_) => Err(Error::invalid_field("destination", "must be inbox or help_desk")),
    }
}

/// Kinds whose systems call us with a key: custom channels and raw-MIME email.
pub fn has_inbound_key(kind: Channel) -> bool {
    matches!(kind, Channel::Custom | Channel::Email)
}

/// Creates a channel; the inbound key (and a generated webhook secret) are
/// in the answer once, never again.
pub async fn create_channel(state: &Engine, actor: &Actor, input: ChannelInput) -> Result<(ChannelRow, Value)> {
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
            actor,
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
    crate::channels::email::channels_changed(state);
    Ok((row, shown))
}

/// Changes a channel: what is sent is checked as on creation; secrets not
/// sent are kept.
pub async fn update_channel(state: &Engine, actor: &Actor, id: i64, change: ChannelChange) -> Result<ChannelRow> {
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
            actor,
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
    crate::channels::email::channels_changed(state);
    Ok(row)
}

/// Gives the channel a new inbound key (the old one stops working); returns
/// the channel and the key, to show once.
pub async fn rotate_channel_key(state: &Engine, actor: &Actor, id: i64) -> Result<(ChannelRow, String)> {
    let current = state.store.get_channel(id).await?;
    if !has_inbound_key(current.kind) {
        return Err(Error::invalid_field("kind", "only custom and email channels have an inbound key"));
    }
    let key = random_token("fdch_");
    let row = state
        .store
        .update_channel(actor, id, ChannelPatch { key_hash: Some(token_hash(&key)), ..Default::default() })
        .await?;
    Ok((row, key))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    pub ask_email: Option<AskEmail>,
    /// Minutes; `null` for the agent's default. Between 5 minutes and 90 days.
    #[serde(default)]
    pub close_after_minutes: Option<i64>,
}

pub fn parse_channel(s: &str) -> Result<Channel> {
    Channel::parse(s)
        .ok_or_else(|| Error::invalid_field("channel", "must be live_chat, email, whatsapp, messenger or custom"))
}

/// Saves the messaging settings of one channel kind (audited).
pub async fn put_messaging(
    state: &Engine,
    actor: &Actor,
    channel: Channel,
    input: SettingsInput,
) -> Result<MessagingSettings> {
    if let Some(m) = input.close_after_minutes {
        if !(5..=90 * 24 * 60).contains(&m) {
            return Err(Error::invalid_field("close_after_minutes", "must be between 5 and 129600 (90 days)"));
        }
    }
    let ask_email = input.ask_email.unwrap_or(AskEmail::Never);
    if ask_email != AskEmail::Never && matches!(channel, Channel::Email | Channel::Custom) {
        return Err(Error::invalid_field("ask_email", "applies to live chat, WhatsApp and Messenger only"));
    }
    let s = MessagingSettings { channel, ask_email, close_after_minutes: input.close_after_minutes };
    Ok(state.store.put_messaging_settings(actor, s).await?)
}
