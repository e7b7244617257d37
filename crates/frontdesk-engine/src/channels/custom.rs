//! Custom channels (C1): any system posts messages in with the channel's key
//! (`POST /api/v1/channels/inbound`, in the server) and receives every reply
//! at its webhook, signed, with an idempotency key. This module is the
//! runtime: the inbound message as the channel model takes it, and sending.

use std::time::Duration;

use frontdesk_channels::custom::{self as wire, CustomAuthor, CustomCitation, InboundCustom, OutboundCustom};
use frontdesk_core::model::Author;
use frontdesk_store::NewContact;
use serde_json::{json, Value};

use super::config::CustomConfig;
use super::{http_send_error, Inbound, Outgoing, SendError, Sent};
use crate::Engine;

/// The header repeating the payload's `idempotency_key`.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// Longest wait for the receiving system's answer (then: retried later).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for the connection itself.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How much of the receiver's answer is read (for its `id`, or an error excerpt).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The validated message as the channel model takes it.
pub fn to_inbound(m: InboundCustom) -> Inbound {
    Inbound {
        meta: json!({"contact_external_id": m.contact.external_id}),
        external_id: m.external_id,
        handle: m.contact.external_id,
        contact: NewContact { email: m.contact.email, name: m.contact.name, phone: m.contact.phone },
        text: m.text,
        ..Default::default()
    }
}

// ---------- outbound ----------

/// Posts one delivery to the channel's webhook, signed.
pub async fn send(state: &Engine, out: &Outgoing<'_>) -> Result<Sent, SendError> {
    let author = match out.message.author {
        Author::Agent => CustomAuthor::Agent,
        Author::Human => CustomAuthor::Human,
        other => return Ok(Sent::Skipped(format!("{} messages are not sent to custom channels", other.as_str()))),
    };
    let Some(contact) = out.conversation.handle.clone().filter(|h| !h.trim().is_empty()) else {
        return Ok(Sent::Skipped("the conversation has no contact external id to address".into()));
    };
    let cfg: CustomConfig = serde_json::from_value(out.channel.config.clone())
        .map_err(|e| SendError::Permanent(format!("the channel's configuration is not valid: {e}")))?;
    let url = url::Url::parse(&cfg.webhook_url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| SendError::Permanent("the channel's webhook_url is not an http(s) URL".into()))?;
    let secret = out.secrets.get("webhook_secret").filter(|s| !s.is_empty()).ok_or_else(|| {
        SendError::Permanent("the channel has no webhook_secret: deliveries are never sent unsigned".into())
    })?;
    let what = format!("the webhook at {}", host_of(&url));
    let allow_private = state.settings.allow_private_networks;
    if let Err(p) = frontdesk_net::check_literal(&url, allow_private) {
        return Err(SendError::Permanent(format!("{what}: {p}")));
    }
    let payload = payload(out, contact, author);
    let body = payload.to_json();
    let signature = wire::sign(secret.as_bytes(), jiff::Timestamp::now().as_second(), &body);
    let sent = client(allow_private)
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(wire::SIGNATURE_HEADER, signature)
        .header(IDEMPOTENCY_HEADER, &out.delivery.idempotency_key)
        .body(body)
        .send()
        .await;
    let resp = match sent {
        Ok(r) => r,
        Err(e) => return Err(request_error(&what, &e)),
    };
    let status = resp.status();
    let answer = read_capped(resp, MAX_ANSWER_BYTES).await;
    if status.is_success() {
        return Ok(Sent::Sent { external_id: answer_id(&answer) });
    }
    let mut detail = excerpt(&answer);
    if status.is_redirection() {
        detail = format!("redirects are not followed; {detail}");
    }
    Err(http_send_error(&what, Some(status), &detail))
}

/// The JSON posted for a delivery.
pub fn payload(out: &Outgoing<'_>, contact_external_id: String, author: CustomAuthor) -> OutboundCustom {
    OutboundCustom {
        idempotency_key: out.delivery.idempotency_key.clone(),
        conversation_id: out.conversation.id,
        contact_external_id,
        message_id: out.message.id,
        text: out.message.text.clone(),
        citations: out
            .message
            .citations
            .iter()
            .map(|c| CustomCitation { title: c.title.clone(), url: c.url.clone() })
            .collect(),
        author,
        created_at: out.message.created_at / 1000,
    }
}

/// The receiver's id for the message, from an answer `{"id": "…"}` (string or number).
fn answer_id(answer: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(answer).ok()?;
    let id = match &v["id"] {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!id.is_empty()).then(|| id.chars().take(wire::MAX_EXTERNAL_ID_CHARS).collect())
}

fn host_of(url: &url::Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        _ => String::new(),
    }
}

/// One client per setting for the whole process (connections are pooled).
fn client(allow_private: bool) -> &'static reqwest::Client {
    fn build(allow_private: bool) -> reqwest::Client {
        let b = reqwest::Client::builder()
            .user_agent("Frontdesk-Webhooks/1.0")
            .timeout(SEND_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            // Every hop would need the private-address check: redirects are reported, not followed.
            .redirect(reqwest::redirect::Policy::none());
        frontdesk_net::guarded(b, allow_private).build().unwrap_or_default()
    }
    static CLIENTS: frontdesk_net::Clients = frontdesk_net::Clients::new();
    CLIENTS.get(allow_private, build)
}

/// A failed request as a send error: a refused private target is permanent;
/// timeouts and connection failures are worth retrying.
fn request_error(what: &str, e: &reqwest::Error) -> SendError {
    if let Some(p) = frontdesk_net::refused_private(e) {
        return SendError::Permanent(format!("{what}: {p}"));
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut root = e.to_string();
    while let Some(s) = source {
        root = s.to_string();
        source = s.source();
    }
    if e.is_builder() {
        return SendError::Permanent(format!("{what}: the request could not be built: {root}"));
    }
    let detail = if e.is_timeout() {
        format!("timed out: no answer within {} s", SEND_TIMEOUT.as_secs())
    } else if e.is_connect() {
        format!("could not connect: {root}")
    } else {
        root
    };
    http_send_error(what, None, &detail)
}

async fn read_capped(mut resp: reqwest::Response, max: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        out.extend_from_slice(&chunk);
        if out.len() >= max {
            out.truncate(max);
            break;
        }
    }
    out
}

/// The start of an answer, for the delivery's error (one line, bounded).
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.is_empty() {
        return "(empty answer)".into();
    }
    let mut short: String = line.chars().take(200).collect();
    if short.len() < line.len() {
        short.push('…');
    }
    short
}
