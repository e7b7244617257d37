//! Storage of connected channels (C1–C3): the channels themselves (their
//! secrets kept apart and never returned), what came in from them (processed
//! once), email threads, attachments, the outbox of deliveries and the
//! messaging settings per channel kind (C2).

use std::collections::BTreeMap;

use async_trait::async_trait;
use frontdesk_core::model::{AskEmail, Channel, DeliveryStatus};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Actor, Contact, Conversation, StoreResult};

/// A connected channel as shown: its configuration without secrets (only
/// the names of the secrets that are set).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelRow {
    pub id: i64,
    pub kind: Channel,
    pub name: String,
    /// The agent answers here (C1); otherwise conversations go straight to humans.
    pub agent_deployed: bool,
    /// `inbox` or `help_desk` (each new conversation is a ticket).
    pub destination: String,
    pub config: Value,
    pub secrets_set: Vec<String>,
    /// An inbound key is set (custom channels, raw-MIME email webhooks).
    pub has_key: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewChannel {
    pub kind: Channel,
    pub name: String,
    pub agent_deployed: bool,
    pub destination: String,
    pub config: Value,
    pub secrets: BTreeMap<String, String>,
    /// sha256 (hex) of the channel's inbound key.
    pub key_hash: Option<String>,
}

/// A change to a channel; `secrets` are merged (an empty value removes one).
#[derive(Debug, Clone, Default)]
pub struct ChannelPatch {
    pub name: Option<String>,
    pub agent_deployed: Option<bool>,
    pub destination: Option<String>,
    pub config: Option<Value>,
    pub secrets: BTreeMap<String, String>,
    pub key_hash: Option<String>,
}

/// What a turn records about a message that came from a channel.
#[derive(Debug, Clone, Default)]
pub struct InboundRecord {
    pub channel_id: i64,
    /// The channel's id for the message (Message-ID, wamid, mid, external id).
    pub external_id: String,
    /// What a reply needs later (an email's ids, subject, participants, text).
    pub meta: Value,
    /// Email: every Message-ID of the thread, to find it again.
    pub thread_keys: Vec<String>,
    pub attachments: Vec<NewAttachment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// An attachment as listed (the bytes are read separately).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AttachmentInfo {
    pub id: i64,
    pub message_id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
}

/// An outbound message to a channel and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub id: i64,
    pub channel_id: i64,
    pub conversation_id: i64,
    pub message_id: i64,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub external_id: Option<String>,
    pub idempotency_key: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The outcome of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryUpdate {
    pub status: DeliveryStatus,
    pub external_id: Option<String>,
    pub error: Option<String>,
    /// Count this as an attempt.
    pub attempted: bool,
}

/// Messaging settings of a channel kind (C2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagingSettings {
    pub channel: Channel,
    pub ask_email: AskEmail,
    /// Close conversations inactive this long; `None`: the agent's default.
    pub close_after_minutes: Option<i64>,
}

impl MessagingSettings {
    pub fn default_for(channel: Channel) -> Self {
        MessagingSettings { channel, ask_email: AskEmail::Never, close_after_minutes: None }
    }
}

#[async_trait]
pub trait ChannelStore: Send + Sync {
    async fn list_channels(&self) -> StoreResult<Vec<ChannelRow>>;
    async fn get_channel(&self, id: i64) -> StoreResult<ChannelRow>;
    /// The channel's secrets, for its adapter only.
    async fn channel_secrets(&self, id: i64) -> StoreResult<BTreeMap<String, String>>;
    async fn channel_by_key(&self, key_hash: &str) -> StoreResult<Option<ChannelRow>>;
    /// Audited (secrets are named, never written to the audit log).
    async fn create_channel(&self, actor: &Actor, new: NewChannel) -> StoreResult<ChannelRow>;
    async fn update_channel(&self, actor: &Actor, id: i64, patch: ChannelPatch) -> StoreResult<ChannelRow>;
    async fn delete_channel(&self, actor: &Actor, id: i64) -> StoreResult<()>;
    /// Adapter state (the IMAP cursor).
    async fn channel_state(&self, id: i64) -> StoreResult<Value>;
    async fn set_channel_state(&self, id: i64, state: Value) -> StoreResult<()>;

    /// The conversation of an email thread: any of `keys` seen before.
    async fn find_thread(&self, channel_id: i64, keys: &[String]) -> StoreResult<Option<Conversation>>;
    /// The contact's latest open conversation on the channel.
    async fn open_conversation_by_handle(&self, channel_id: i64, handle: &str) -> StoreResult<Option<Conversation>>;
    /// The most recent conversation on the channel with this handle, open or not.
    async fn last_conversation_by_handle(&self, channel_id: i64, handle: &str) -> StoreResult<Option<Conversation>>;
    async fn inbound_seen(&self, channel_id: i64, external_id: &str) -> StoreResult<bool>;
    /// What the conversation's latest inbound message recorded for replies.
    async fn last_inbound_meta(&self, conversation_id: i64) -> StoreResult<Option<Value>>;
    async fn list_attachments(&self, conversation_id: i64) -> StoreResult<Vec<AttachmentInfo>>;
    async fn attachment_data(&self, id: i64) -> StoreResult<(AttachmentInfo, Vec<u8>)>;
    /// Records a Message-ID we sent, so replies to it find the thread.
    async fn add_thread_key(&self, channel_id: i64, key: &str, conversation_id: i64) -> StoreResult<()>;

    async fn get_delivery(&self, id: i64) -> StoreResult<Delivery>;
    async fn deliveries_for(&self, conversation_id: i64) -> StoreResult<Vec<Delivery>>;
    async fn update_delivery(&self, id: i64, update: DeliveryUpdate) -> StoreResult<Delivery>;
    /// A status reported by the channel (Meta's sent/delivered/read/failed)
    /// for the delivery it knows by `external_id`; never goes backwards.
    async fn delivery_status_by_external(
        &self,
        channel_id: i64,
        external_id: &str,
        status: DeliveryStatus,
        error: Option<&str>,
    ) -> StoreResult<bool>;
    /// Deliveries sent to `handle` on the channel since `since` (loop limits).
    async fn count_deliveries_to(&self, channel_id: i64, handle: &str, since: i64) -> StoreResult<i64>;

    /// One row per channel kind (defaults for those never set).
    async fn messaging_settings(&self) -> StoreResult<Vec<MessagingSettings>>;
    async fn put_messaging_settings(&self, actor: &Actor, s: MessagingSettings) -> StoreResult<MessagingSettings>;
    async fn set_email_ask(&self, conversation_id: i64, state: &str) -> StoreResult<()>;
    /// Moves the conversation to another contact (the same person found by email).
    async fn set_conversation_contact(&self, conversation_id: i64, contact_id: i64) -> StoreResult<()>;
    async fn contact_by_phone(&self, phone: &str) -> StoreResult<Option<Contact>>;
    /// Closes open conversations of `channel` inactive since `before`.
    async fn close_inactive_on(&self, channel: Channel, before: i64) -> StoreResult<Vec<i64>>;
}
