//! Email (C3): inbound by IMAP (a poller per email channel, cursor in the
//! store, so nothing is processed twice across restarts) and by a webhook
//! taking raw MIME; outbound by SMTP. Parsing, loop detection, threading and
//! rendering are pure (`frontdesk_channels::email`); this module does the I/O
//! (`frontdesk_mail`) and hands messages to the one channel model.
//!
//! The agent never replies to auto-replies, bounces, list mail, our own
//! addresses, or more than `max_replies_per_hour` times to one sender; such
//! mail is stored (visible to the team) but not answered. Mail from an
//! ignored address or domain goes to a human at once.

use std::time::Duration;

use frontdesk_channels::email::{self as mail, InboundEmail, Mailbox, ReplyOptions};
use frontdesk_core::model::{Author, Channel};
use frontdesk_mail::{ImapConfig, ImapCursor, ImapTls, SmtpConfig, SmtpSecurity};
use frontdesk_store::{ChannelRow, NewAttachment, NewContact};
use serde_json::{json, Value};

use super::config::EmailConfig;
use super::{receive, Inbound, Outgoing, Received, SendError, Sent};
use crate::error::{Error, Result};
use crate::tokens::token_hash;
use crate::Engine;

/// Raw MIME bodies up to this size (a 30 MB attachment, base64-encoded).
pub const MAX_RAW_BYTES: usize = 48 * 1024 * 1024;
/// Messages fetched per IMAP round.
const FETCH_BATCH: usize = 200;

/// The channel's email configuration.
pub fn config_of(channel: &ChannelRow) -> Result<EmailConfig> {
    serde_json::from_value(channel.config.clone())
        .map_err(|e| Error::invalid_field("config", format!("is not an email configuration: {e}")))
}

fn own_addresses(cfg: &EmailConfig) -> Vec<String> {
    let mut own = vec![cfg.address.clone()];
    own.extend(cfg.aliases.iter().cloned());
    own
}

/// The visitor's text for the agent: the new words (else the whole body),
/// within the message limit.
fn visible_text(e: &InboundEmail) -> String {
    let body = if e.text.trim().is_empty() { e.full_text.trim() } else { e.text.trim() };
    let body = if body.is_empty() {
        if e.attachments.is_empty() {
            "(empty message)".to_owned()
        } else {
            format!(
                "(attachments: {})",
                e.attachments.iter().map(|a| a.filename.as_str()).collect::<Vec<_>>().join(", ")
            )
        }
    } else {
        body.to_owned()
    };
    let max = frontdesk_core::validate::MessageText::MAX_CHARS;
    if body.chars().count() > max {
        let mut t: String = body.chars().take(max - 20).collect();
        t.push_str("\n[… truncated]");
        t
    } else {
        body
    }
}

fn mailbox_json(m: &Mailbox) -> Value {
    json!({"name": m.name, "address": m.address})
}

/// Turns a raw message into the channel model's inbound, with the loop
/// guards applied.
pub async fn inbound_from_raw(state: &Engine, channel: &ChannelRow, raw: &[u8]) -> Result<Inbound> {
    let cfg = config_of(channel)?;
    let e = mail::parse(raw).map_err(|err| Error::invalid_field("message", err.to_string()))?;
    let own = own_addresses(&cfg);
    let sender = e.reply_to.clone().unwrap_or_else(|| e.from.clone());
    let external_id = match &e.message_id {
        Some(id) if !id.is_empty() => id.clone(),
        // No Message-ID: the bytes identify it (a re-read is still a duplicate).
        _ => format!("sha256:{}", token_hash(&String::from_utf8_lossy(raw))),
    };
    let ignore = mail::IgnoreList::parse(&cfg.ignore).unwrap_or_default();
    let to_human = ignore.matches(&e.from.address) || ignore.matches(&sender.address);
    let mut no_reply = mail::classify(&e, &own).map(|r| r.as_str().to_owned());
    if no_reply.is_none() && !to_human {
        let hour_ago = frontdesk_store::now_ms() - 3_600_000;
        let sent = state.store.count_deliveries_to(channel.id, &sender.address, hour_ago).await?;
        if mail::rate_exceeded(u32::try_from(sent).unwrap_or(u32::MAX), cfg.max_replies_per_hour) {
            no_reply = Some(format!("more than {} replies to this sender in an hour", cfg.max_replies_per_hour));
        }
    }
    let meta = json!({
        "message_id": e.message_id,
        "in_reply_to": e.in_reply_to,
        "references": e.references,
        "from": mailbox_json(&e.from),
        "reply_to": e.reply_to.as_ref().map(mailbox_json),
        "to": e.to.iter().map(mailbox_json).collect::<Vec<_>>(),
        "cc": e.cc.iter().map(mailbox_json).collect::<Vec<_>>(),
        "subject": e.subject,
        "date": e.date,
        "text": e.text,
        "no_reply": no_reply,
        "ignored_sender": to_human,
    });
    Ok(Inbound {
        external_id,
        handle: sender.address.clone(),
        contact: NewContact { email: Some(e.from.address.clone()), name: e.from.name.clone(), phone: None },
        text: visible_text(&e),
        subject: Some(e.subject.clone()).filter(|s| !s.trim().is_empty()),
        thread_refs: mail::thread_ids(&e),
        own_keys: e.message_id.iter().cloned().collect(),
        meta,
        attachments: e
            .attachments
            .into_iter()
            .map(|a| NewAttachment { filename: a.filename, content_type: a.content_type, data: a.data })
            .collect(),
        no_reply,
        to_human,
    })
}

/// Processes one raw message for an email channel.
pub async fn process_raw(state: &Engine, channel: &ChannelRow, raw: &[u8]) -> Result<Received> {
    let inbound = inbound_from_raw(state, channel, raw).await?;
    let r = receive(state, channel, inbound).await;
    let result = match &r {
        Ok(Received::Processed { .. }) => "processed",
        Ok(Received::Duplicate) => "duplicate",
        Err(_) => "error",
    };
    state.metrics.inbound.with_label_values(&[Channel::Email.as_str(), result]).inc();
    r
}

fn imap_config(cfg: &EmailConfig, password: &str) -> Option<ImapConfig> {
    let i = cfg.imap.as_ref()?;
    let mut c = ImapConfig::new(i.host.clone(), i.username.clone(), password.to_owned());
    c.port = i.port;
    c.tls = match i.security.as_str() {
        "starttls" => ImapTls::StartTls,
        "plain" => ImapTls::Plain,
        _ => ImapTls::Tls,
    };
    c.mailbox = i.mailbox.clone();
    c.accept_invalid_certs = i.accept_invalid_certs;
    Some(c)
}

fn smtp_config(cfg: &EmailConfig, password: Option<&String>) -> Option<SmtpConfig> {
    let s = cfg.smtp.as_ref()?;
    let mut c = SmtpConfig::new(s.host.clone());
    c.port = s.port;
    c.security = match s.security.as_str() {
        "tls" => SmtpSecurity::Tls,
        "plain" => SmtpSecurity::Plain,
        _ => SmtpSecurity::StartTls,
    };
    c.username = s.username.clone();
    c.password = password.cloned();
    c.accept_invalid_certs = s.accept_invalid_certs;
    Some(c)
}

/// The setting that lets a mail server be a private address, as refusals name it.
pub const MAIL_SETTING: &str = "allow_private_mail_servers";

/// Resolves a mail server once and checks every address (the network guard);
/// the connection goes to the addresses returned, the host name staying the
/// TLS name. `field` names the setting in errors (`config.imap.host`).
pub async fn guard_mail_host(
    state: &Engine,
    field: &str,
    host: &str,
    port: u16,
) -> std::result::Result<Vec<std::net::SocketAddr>, String> {
    match frontdesk_net::resolve_checked(host, port, state.settings.private_mail_servers()).await {
        Ok(addrs) => Ok(addrs),
        Err(frontdesk_net::GuardError::Private(mut p)) => {
            p.setting = MAIL_SETTING;
            Err(format!("{field}: {p}"))
        }
        Err(e) => Err(format!("{field}: {e}")),
    }
}

/// Reads what arrived since the stored cursor, processes it, marks it seen
/// and stores the cursor after each batch. Returns the messages processed.
pub async fn poll_channel(state: &Engine, channel: &ChannelRow) -> anyhow::Result<usize> {
    // One reader per mailbox in this process (the poller and "poll now").
    let lock = super::lock_for(&state.channel_locks.polling, channel.id);
    let _reading = lock.lock().await;
    let cfg = config_of(channel).map_err(|e| anyhow::anyhow!("{e}"))?;
    let secrets = state.store.channel_secrets(channel.id).await?;
    let password = secrets.get("imap_password").cloned().unwrap_or_default();
    let Some(mut imap) = imap_config(&cfg, &password) else {
        return Ok(0);
    };
    imap.addresses =
        guard_mail_host(state, "config.imap.host", &imap.host, imap.port).await.map_err(anyhow::Error::msg)?;
    let mut total = 0;
    loop {
        let stored = state.store.channel_state(channel.id).await?;
        let cursor = match (stored["uid_validity"].as_u64(), stored["last_uid"].as_u64()) {
            (Some(v), Some(l)) => Some(ImapCursor { uid_validity: v as u32, last_uid: l as u32 }),
            _ => None,
        };
        let (mails, next) = frontdesk_mail::fetch_new(&imap, cursor, FETCH_BATCH).await?;
        let fetched = mails.len();
        let mut done = Vec::with_capacity(fetched);
        for m in &mails {
            match process_raw(state, channel, &m.raw).await {
                Ok(_) => {}
                // A message that cannot be parsed is logged and skipped (never retried forever).
                Err(e @ Error::Invalid { field: Some(_), .. }) => {
                    tracing::warn!(channel_id = channel.id, uid = m.uid, error = %e, "skipped an unreadable email");
                }
                // Anything else (the store is down): stop here, the cursor stays before it.
                Err(e) => {
                    if !done.is_empty() {
                        frontdesk_mail::mark_processed(&imap, &done).await.ok();
                    }
                    let last = done.last().copied().unwrap_or(cursor.map_or(0, |c| c.last_uid));
                    state
                        .store
                        .set_channel_state(channel.id, json!({"uid_validity": next.uid_validity, "last_uid": last}))
                        .await?;
                    anyhow::bail!("{e}");
                }
            }
            done.push(m.uid);
        }
        if !done.is_empty() {
            frontdesk_mail::mark_processed(&imap, &done).await?;
        }
        state
            .store
            .set_channel_state(channel.id, json!({"uid_validity": next.uid_validity, "last_uid": next.last_uid}))
            .await?;
        total += fetched;
        if fetched < FETCH_BATCH {
            return Ok(total);
        }
    }
}

/// Polls every email channel with IMAP at its interval, for as long as the
/// server runs (alongside the job worker).
pub async fn poll_loop(state: Engine) {
    let mut next: std::collections::HashMap<i64, tokio::time::Instant> = Default::default();
    // Mailboxes present at start are read at once (catching up after a
    // restart); one added later is first read after its interval (or by
    // "poll now").
    let mut first_round = true;
    let stop = state.shutting_down();
    tokio::pin!(stop);
    while !state.is_shutting_down() {
        match state.store.list_channels().await {
            Ok(channels) => {
                for c in channels.iter().filter(|c| c.kind == Channel::Email) {
                    let Ok(cfg) = config_of(c) else { continue };
                    let Some(imap) = &cfg.imap else { continue };
                    let now = tokio::time::Instant::now();
                    let interval = Duration::from_secs(imap.poll_secs);
                    let due = *next.entry(c.id).or_insert(if first_round { now } else { now + interval });
                    if due > now {
                        continue;
                    }
                    if let Err(e) = poll_channel(&state, c).await {
                        tracing::warn!(channel_id = c.id, error = %e, "could not read the mailbox");
                    }
                    next.insert(c.id, tokio::time::Instant::now() + interval);
                }
                first_round = false;
            }
            Err(e) => tracing::warn!(error = %e, "could not list channels"),
        }
        // Stops at shutdown (a mailbox read in progress finishes first).
        tokio::select! {
            _ = &mut stop => break,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

fn mailbox_of(v: &Value) -> Option<Mailbox> {
    let address = v["address"].as_str()?;
    Some(Mailbox::new(v["name"].as_str(), address))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

/// The email a reply answers, rebuilt from what the inbound message recorded.
fn original_from_meta(meta: &Value) -> Option<InboundEmail> {
    Some(InboundEmail {
        message_id: meta["message_id"].as_str().map(str::to_owned),
        in_reply_to: strings(&meta["in_reply_to"]),
        references: strings(&meta["references"]),
        from: mailbox_of(&meta["from"])?,
        reply_to: mailbox_of(&meta["reply_to"]),
        to: meta["to"].as_array().map(|a| a.iter().filter_map(mailbox_of).collect()).unwrap_or_default(),
        cc: meta["cc"].as_array().map(|a| a.iter().filter_map(mailbox_of).collect()).unwrap_or_default(),
        subject: meta["subject"].as_str().unwrap_or_default().to_owned(),
        date: meta["date"].as_i64(),
        text: meta["text"].as_str().unwrap_or_default().to_owned(),
        full_text: String::new(),
        attachments: vec![],
        auto: None,
    })
}

/// Sends an agent's or a human's message by SMTP, threaded under the last
/// inbound email of the conversation (or as a new thread).
pub async fn send(state: &Engine, out: &Outgoing<'_>) -> Result<Sent, SendError> {
    let cfg = config_of(out.channel).map_err(|e| SendError::Permanent(e.to_string()))?;
    let Some(mut smtp) = smtp_config(&cfg, out.secrets.get("smtp_password")) else {
        return Err(SendError::Permanent("this email channel has no SMTP server configured".into()));
    };
    let meta =
        state.store.last_inbound_meta(out.conversation.id).await.map_err(|e| SendError::Transient(e.to_string()))?;
    let own = own_addresses(&cfg);
    let ignore = mail::IgnoreList::parse(&cfg.ignore).unwrap_or_default();
    let mut opts = ReplyOptions::new(Mailbox::new(cfg.display_name.as_deref(), &cfg.address));
    opts.reply_all = cfg.reply_all;
    opts.own_addresses = own;
    opts.signature = cfg.signature.clone().filter(|s| !s.trim().is_empty());
    opts.auto_submitted = out.message.author == Author::Agent;
    let now = jiff::Timestamp::now().as_second();
    let unique = format!("fd.{}.{}", out.conversation.id, out.message.id);
    let original = meta.as_ref().and_then(original_from_meta);
    if out.message.author == Author::Agent {
        // The loop guards hold for the agent's replies even if the inbound side changed.
        if let Some(reason) = meta.as_ref().and_then(|m| m["no_reply"].as_str()) {
            return Ok(Sent::Skipped(format!("not answered: {reason}")));
        }
    }
    let mut email = match &original {
        Some(o) => mail::build_reply(o, &out.message.text, &opts, &unique, now),
        None => {
            let Some(to) = out.conversation.handle.as_deref() else {
                return Ok(Sent::Skipped("the conversation has no email address to write to".into()));
            };
            let subject = out.conversation.subject.clone().unwrap_or_else(|| "Your request".into());
            mail::build_new(&[Mailbox::new(None, to)], &subject, &out.message.text, &opts, &unique, now)
        }
    };
    if out.message.author == Author::Agent {
        email.cc.retain(|m| !ignore.matches(&m.address));
    }
    let recipients: Vec<String> = email.to.iter().chain(email.cc.iter()).map(|m| m.address.clone()).collect();
    if recipients.is_empty() {
        return Ok(Sent::Skipped("nobody to write to (only our own addresses)".into()));
    }
    // Resolved and checked once, right before connecting (a DNS answer can change).
    smtp.addresses = match guard_mail_host(state, "config.smtp.host", &smtp.host, smtp.port).await {
        Ok(a) => a,
        Err(e) if e.contains(MAIL_SETTING) => return Err(SendError::Permanent(e)),
        Err(e) => return Err(SendError::Transient(e)),
    };
    frontdesk_mail::send(&smtp, &cfg.address, &recipients, &email.raw).await.map_err(|e| {
        if e.is_permanent() {
            SendError::Permanent(e.to_string())
        } else {
            SendError::Transient(e.to_string())
        }
    })?;
    // Replies to what we sent find the conversation again.
    if let Err(e) = state.store.add_thread_key(out.channel.id, &email.message_id, out.conversation.id).await {
        tracing::warn!(error = %e, "could not record the sent Message-ID");
    }
    Ok(Sent::Sent { external_id: Some(email.message_id) })
}

/// The set of channels changed: the poller re-reads the list every second,
/// so nothing to do here; kept as the one place to hook a faster reaction.
pub fn channels_changed(_state: &Engine) {}
