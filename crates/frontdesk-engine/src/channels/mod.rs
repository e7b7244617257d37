//! Every channel through one conversation engine (C1–C3, J4).
//!
//! Inbound: an adapter (IMAP poller or raw-MIME webhook in `email`, Meta
//! webhooks in `meta`, the custom-channel endpoint in `custom`) turns what
//! arrived into an [`Inbound`] and calls [`receive`]: the contact is matched
//! across channels (email, phone), the conversation found (email thread,
//! else the contact's open conversation on the channel) or started (the
//! agent takes it only where it is deployed, on, on duty and with credits),
//! and the message goes through the same turn as live chat — recorded with
//! its channel id in the turn's transaction, so a retried webhook or a
//! re-read mailbox is processed once.
//!
//! Outbound: any agent or human message in such a conversation is written to
//! the `deliveries` outbox in its own transaction (store), and a `deliver`
//! job sends it on the channel it came from ([`run_delivery`]), retrying
//! transient failures with backoff and marking it failed, visibly, at the end.

pub mod config;
pub mod custom;
pub mod email;
pub mod meta;

use crate::job::Attempt;
use frontdesk_core::model::{Channel, DeliveryStatus};
use frontdesk_store::{
    ChannelRow, Conversation, DeliveryUpdate, InboundRecord, NewAttachment, NewContact, NewConversation, StoreError,
};
use serde_json::Value;

use crate::error::Result;
use crate::tokens::{random_token, token_hash};
use crate::Engine;

/// A message as an adapter hands it over.
#[derive(Debug, Clone, Default)]
pub struct Inbound {
    /// The channel's id for it (Message-ID, wamid, mid, external id).
    pub external_id: String,
    /// Where replies go: the email address, phone number, PSID, external contact id.
    pub handle: String,
    /// Who it is, for matching contacts across channels.
    pub contact: NewContact,
    pub text: String,
    /// Email: the thread's subject.
    pub subject: Option<String>,
    /// Email: ids that find an existing thread (In-Reply-To, References).
    pub thread_refs: Vec<String>,
    /// Email: ids to record for this message (its own Message-ID).
    pub own_keys: Vec<String>,
    /// What a reply needs later.
    pub meta: Value,
    pub attachments: Vec<NewAttachment>,
    /// Stored but never answered by the agent (auto-replies, bounces, loops), with the reason.
    pub no_reply: Option<String>,
    /// Straight to a human (an ignored sender): the agent never takes it.
    pub to_human: bool,
}

/// What [`receive`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    Processed {
        conversation_id: i64,
        message_id: i64,
    },
    /// The same external id was processed before: nothing stored or sent.
    Duplicate,
}

/// This process's coordination of channel work (kept in the app state, so
/// that several servers in one process — the tests — never share it):
/// inbound messages being processed (a concurrent copy — a webhook retried
/// while the first is still answering, two pollers — is a duplicate at once
/// instead of starting a second conversation), one sender per conversation,
/// one reader per mailbox.
#[derive(Default)]
pub struct ChannelLocks {
    in_flight: std::sync::Mutex<std::collections::HashSet<(i64, String)>>,
    sending: std::sync::Mutex<LockMap>,
    pub(crate) polling: std::sync::Mutex<LockMap>,
}

type LockMap = std::collections::HashMap<i64, std::sync::Arc<tokio::sync::Mutex<()>>>;

/// The async lock for `key`, created on first use; unused ones are dropped.
pub(crate) fn lock_for(map: &std::sync::Mutex<LockMap>, key: i64) -> std::sync::Arc<tokio::sync::Mutex<()>> {
    let mut locks = map.lock().unwrap_or_else(|p| p.into_inner());
    locks.retain(|_, l| std::sync::Arc::strong_count(l) > 1);
    locks.entry(key).or_default().clone()
}

struct InFlight<'a> {
    locks: &'a ChannelLocks,
    key: (i64, String),
}

impl<'a> InFlight<'a> {
    fn claim(locks: &'a ChannelLocks, channel_id: i64, external_id: &str) -> Option<InFlight<'a>> {
        let key = (channel_id, external_id.to_owned());
        let fresh = locks.in_flight.lock().unwrap_or_else(|p| p.into_inner()).insert(key.clone());
        if fresh {
            Some(InFlight { locks, key })
        } else {
            None
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.locks.in_flight.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.key);
    }
}

/// Handles one inbound message from a connected channel.
pub async fn receive(state: &Engine, channel: &ChannelRow, inbound: Inbound) -> Result<Received> {
    let Some(_claim) = InFlight::claim(&state.channel_locks, channel.id, &inbound.external_id) else {
        return Ok(Received::Duplicate);
    };
    if state.store.inbound_seen(channel.id, &inbound.external_id).await? {
        return Ok(Received::Duplicate);
    }
    let found = if !inbound.thread_refs.is_empty() {
        state.store.find_thread(channel.id, &inbound.thread_refs).await?
    } else {
        None
    };
    let found = match found {
        Some(c) => Some(c),
        // An email without references starts a new thread; other channels
        // continue the contact's open conversation.
        None if channel.kind == Channel::Email => None,
        None => state.store.open_conversation_by_handle(channel.id, &inbound.handle).await?,
    };
    let conversation = match found {
        Some(c) => c,
        None => start(state, channel, &inbound).await?,
    };
    let may_reply = inbound.no_reply.is_none() && !inbound.to_human;
    if let Some(reason) = &inbound.no_reply {
        tracing::info!(
            channel_id = channel.id,
            conversation_id = conversation.id,
            reason,
            "stored without an agent reply"
        );
    }
    let mut thread_keys = inbound.own_keys.clone();
    thread_keys.extend(inbound.thread_refs.iter().cloned());
    let record = InboundRecord {
        channel_id: channel.id,
        external_id: inbound.external_id.clone(),
        meta: inbound.meta.clone(),
        thread_keys,
        attachments: inbound.attachments,
    };
    match crate::conversation::channel_message(state, &conversation, inbound.text, Some(record), may_reply).await {
        Ok(m) => Ok(Received::Processed { conversation_id: conversation.id, message_id: m.id }),
        Err(crate::Error::Duplicate) => Ok(Received::Duplicate),
        Err(e) => Err(e),
    }
}

/// Starts a conversation for a channel's contact.
async fn start(state: &Engine, channel: &ChannelRow, inbound: &Inbound) -> Result<Conversation> {
    let has_contact =
        inbound.contact.email.is_some() || inbound.contact.phone.is_some() || inbound.contact.name.is_some();
    let contact_id =
        if has_contact { Some(state.store.upsert_contact(inbound.contact.clone()).await?.id) } else { None };
    let agent = state.agent.snapshot().await?;
    let on_duty = frontdesk_agent::snapshot::agent_on_duty(&agent, channel.kind, jiff::Timestamp::now());
    let has_credits = crate::credits::agent_has_credits(state).await;
    let conversation = state
        .store
        .create_conversation(NewConversation {
            channel: channel.kind,
            contact_id,
            // Channel conversations have no visitor token; a random one keeps the column unique.
            visitor_token_hash: token_hash(&random_token("fdc_")),
            assign_to_agent: channel.agent_deployed
                && !inbound.to_human
                && agent.profile.enabled
                && has_credits
                && on_duty,
            is_preview: false,
            channel_id: Some(channel.id),
            handle: Some(inbound.handle.clone()),
            subject: inbound.subject.clone(),
        })
        .await?;
    state.metrics.conversations_created.inc();
    if channel.destination == "help_desk" {
        // The channel belongs to the help desk: the conversation is a ticket from the start.
        state.store.create_ticket(conversation.id, None).await?;
    }
    crate::bots::start(state, &conversation).await;
    Ok(conversation)
}

/// A send's success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// Sent; the channel's id for it when it gives one.
    Sent { external_id: Option<String> },
    /// Deliberately not sent (nobody to address, loop limits), with the reason.
    Skipped(String),
}

/// A send's failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Retrying cannot help (rejected recipient, bad configuration, 4xx).
    Permanent(String),
    /// Worth retrying with backoff (timeouts, 429, 5xx, connection refused).
    Transient(String),
}

/// What a sender needs: the channel, its secrets, the conversation, the message.
pub struct Outgoing<'a> {
    pub channel: &'a ChannelRow,
    pub secrets: &'a std::collections::BTreeMap<String, String>,
    pub conversation: &'a Conversation,
    pub message: &'a frontdesk_store::Message,
    pub delivery: &'a frontdesk_store::Delivery,
}

/// Runs a `deliver` job: sends the delivery once. Transient failures return
/// an error (the job is retried with backoff) until the last attempt, which
/// marks the delivery failed; permanent failures are marked at once.
pub async fn run_delivery(state: &Engine, id: i64, attempt: Attempt) -> anyhow::Result<()> {
    let d = state.store.get_delivery(id).await?;
    if !matches!(d.status, DeliveryStatus::Queued) {
        return Ok(()); // already sent (or given up): never twice
    }
    // A conversation's messages go out one at a time and in order: the
    // worker runs jobs in parallel, and a later reply must not overtake.
    let lock = lock_for(&state.channel_locks.sending, d.conversation_id);
    let _in_order = lock.lock().await;
    let earlier = state.store.deliveries_for(d.conversation_id).await?;
    // On its last attempt it goes anyway: late and out of order beats never.
    if !attempt.is_last() && earlier.iter().any(|e| e.id < d.id && e.status == DeliveryStatus::Queued) {
        anyhow::bail!("delivery {id}: an earlier message of this conversation is not sent yet (will retry)");
    }
    let d = state.store.get_delivery(id).await?;
    if !matches!(d.status, DeliveryStatus::Queued) {
        return Ok(());
    }
    let fail = |error: String| DeliveryUpdate {
        status: DeliveryStatus::Failed,
        external_id: None,
        error: Some(error),
        attempted: true,
    };
    let channel = match state.store.get_channel(d.channel_id).await {
        Ok(c) => c,
        Err(StoreError::NotFound(_)) => {
            state.store.update_delivery(id, fail("the channel was removed".into())).await?;
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let secrets = state.store.channel_secrets(channel.id).await?;
    let conversation = state.store.get_conversation(d.conversation_id).await?;
    let message = state.store.get_message(d.conversation_id, d.message_id).await?;
    let out =
        Outgoing { channel: &channel, secrets: &secrets, conversation: &conversation, message: &message, delivery: &d };
    let started = std::time::Instant::now();
    let result = match channel.kind {
        Channel::Email => email::send(state, &out).await,
        Channel::WhatsApp | Channel::Messenger => meta::send(state, &out).await,
        Channel::Custom => custom::send(state, &out).await,
        Channel::LiveChat => Err(SendError::Permanent("live chat needs no delivery".into())),
    };
    state
        .metrics
        .delivery_duration
        .with_label_values(&[channel.kind.as_str()])
        .observe(started.elapsed().as_secs_f64());
    match result {
        Ok(Sent::Sent { external_id }) => {
            state
                .store
                .update_delivery(
                    id,
                    DeliveryUpdate { status: DeliveryStatus::Sent, external_id, error: None, attempted: true },
                )
                .await?;
            state.metrics.deliveries.with_label_values(&[channel.kind.as_str(), "sent"]).inc();
            Ok(())
        }
        Ok(Sent::Skipped(reason)) => {
            state
                .store
                .update_delivery(
                    id,
                    DeliveryUpdate {
                        status: DeliveryStatus::Skipped,
                        external_id: None,
                        error: Some(reason),
                        attempted: false,
                    },
                )
                .await?;
            Ok(())
        }
        Err(SendError::Permanent(e)) => {
            tracing::warn!(delivery_id = id, channel_id = channel.id, error = %e, "delivery failed");
            state.store.update_delivery(id, fail(e)).await?;
            state.metrics.deliveries.with_label_values(&[channel.kind.as_str(), "failed"]).inc();
            Ok(())
        }
        Err(SendError::Transient(e)) if attempt.is_last() => {
            tracing::warn!(delivery_id = id, channel_id = channel.id, error = %e, "delivery failed after every retry");
            state.store.update_delivery(id, fail(format!("gave up after {} attempts: {e}", attempt.number))).await?;
            state.metrics.deliveries.with_label_values(&[channel.kind.as_str(), "failed"]).inc();
            Ok(())
        }
        Err(SendError::Transient(e)) => {
            state
                .store
                .update_delivery(
                    id,
                    DeliveryUpdate {
                        status: DeliveryStatus::Queued,
                        external_id: None,
                        error: Some(e.clone()),
                        attempted: true,
                    },
                )
                .await?;
            state.metrics.deliveries.with_label_values(&[channel.kind.as_str(), "retry"]).inc();
            anyhow::bail!("delivery {id}: {e} (will retry)")
        }
    }
}

/// A reqwest failure or status as a send error: timeouts, connection
/// failures, 408, 429 and 5xx are worth retrying; other statuses are not.
pub fn http_send_error(what: &str, status: Option<reqwest::StatusCode>, detail: &str) -> SendError {
    let msg = match status {
        Some(s) => format!("{what} answered {s}: {detail}"),
        None => format!("{what}: {detail}"),
    };
    match status {
        None => SendError::Transient(msg),
        Some(s) if s.is_server_error() || s.as_u16() == 429 || s.as_u16() == 408 => SendError::Transient(msg),
        Some(_) => SendError::Permanent(msg),
    }
}
