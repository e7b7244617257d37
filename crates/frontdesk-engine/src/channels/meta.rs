//! WhatsApp Business Cloud API and Messenger Platform (C1): Meta's webhooks
//! in, the Graph API out.
//!
//! Inbound, `/webhooks/whatsapp/{channel_id}` and `/webhooks/messenger/{channel_id}`:
//!
//! * `GET` answers Meta's subscription handshake with the challenge when
//!   `hub.verify_token` is the channel's `verify_token` (else 403).
//! * `POST` checks `X-Hub-Signature-256` on the raw body with the channel's
//!   `app_secret` (missing → 401, wrong → 403, logged, nothing processed),
//!   then handles every event of the batch and answers 200 — even when an
//!   event failed (logged), since Meta retries a batch that was not
//!   acknowledged and [`receive`] already processes a retried message once.
//!   The batch is handled before answering so that what Meta delivered is
//!   stored when it hears 200; a batch that takes longer than
//!   [`ANSWER_WITHIN`] (a slow LLM) is finished in the background.
//!
//! What each event does:
//!
//! * a text (a tapped button's or postback's title included) → [`receive`]:
//!   handle = the sender's phone digits (WhatsApp) or PSID (Messenger); a
//!   WhatsApp sender's normalised phone matches the contact across channels (J4);
//! * anything else (image, audio, sticker, location…) → stored as "[image]"
//!   plus its caption, not answered by the agent; when the agent holds the
//!   conversation it says, in the visitor's language, that it reads text only
//!   (once in a row, not for every sticker of a burst; never for a reaction);
//! * a status (`sent`, `delivered`, `read`/`played`, `failed`) → the delivery
//!   that has this external id, forward only (the store never goes back);
//! * a Messenger watermark (no message ids) → every delivery of the PSID's
//!   latest conversation created before the watermark and already sent;
//! * an echo → ignored: our own send (its id is a delivery's), or a person
//!   writing from the Page inbox / WhatsApp Business app, which is logged.
//!
//! One Meta app may serve several numbers or pages with one callback URL: a
//! message for another account id of ours (a channel of the same kind whose
//! app secret also verifies the body) is handled as that channel's; one for
//! an account id we do not know is skipped (logged).
//!
//! Outbound, [`send`]: `POST {graph_base_url}/{account_id}/messages` with the
//! access token, the text split to the platform's limit (parts sent in
//! order; the last part's id is the delivery's external id, so "read" on it
//! means the whole answer was read). A retry after a part failed resumes
//! after the parts already sent: the progress is kept in the delivery's last
//! error ("(parts sent: 1 of 3)").

use std::time::Duration;

use frontdesk_channels::meta::{
    self as wire, InboundMeta, MetaContent, MetaEvent, SignatureError, StatusUpdate, MESSENGER_TEXT_LIMIT,
    WHATSAPP_TEXT_LIMIT,
};
use frontdesk_channels::phone::normalize_phone;
use frontdesk_core::lang::{detect, Lang};
use frontdesk_core::model::{AssigneeKind, Author, Channel, DeliveryStatus};
use frontdesk_core::validate::MessageText;
use frontdesk_store::{ChannelRow, NewContact, NewMessage, StoreError};
use serde_json::{json, Value};

use super::config::MetaConfig;
use super::{http_send_error, receive, Inbound, Outgoing, Received, SendError, Sent};
use crate::Engine;

/// The largest webhook body accepted (Meta batches up to about 1,000 updates).
pub const MAX_WEBHOOK_BODY: usize = 1024 * 1024;

/// How long a webhook POST may take before Meta hears 200 and the rest of the
/// batch finishes in the background (Meta gives up and retries after ~20 s).
pub const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// The Graph API call's whole-request timeout.
const SEND_TIMEOUT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------- inbound

/// Counts an inbound webhook event by its result.
pub fn count(state: &Engine, kind: Channel, result: &str) {
    state.metrics.inbound.with_label_values(&[kind.as_str(), result]).inc();
}

/// Whether `body` is signed with `channel`'s app secret.
pub async fn signed_by(
    state: &Engine,
    channel_id: i64,
    body: &[u8],
    header: Option<&str>,
) -> Result<Result<(), SignatureError>, StoreError> {
    let secrets = state.store.channel_secrets(channel_id).await?;
    let secret = secrets.get("app_secret").map(String::as_str).unwrap_or_default();
    Ok(wire::verify_signature(secret.as_bytes(), body, header))
}

/// Handles every event of an authenticated webhook POST, in order. The
/// server's endpoint runs this in a task and answers Meta after
/// `ANSWER_WITHIN` at the latest; the batch then finishes in the background.
pub async fn handle_batch(
    state: &Engine,
    primary: ChannelRow,
    body: &[u8],
    header: Option<String>,
    events: Vec<MetaEvent>,
) {
    let mut batch = Batch { state, primary, body, header, siblings: None };
    for event in events {
        batch.handle(event).await;
    }
}

/// One authenticated webhook POST being handled.
struct Batch<'a> {
    state: &'a Engine,
    /// The channel whose URL was called.
    primary: ChannelRow,
    body: &'a [u8],
    header: Option<String>,
    /// Other channels of the same kind whose app secret also signs this body
    /// (one Meta app, several numbers or pages); looked up when first needed.
    siblings: Option<Vec<ChannelRow>>,
}

fn account_of(channel: &ChannelRow) -> &str {
    channel.config["account_id"].as_str().unwrap_or_default().trim()
}

impl Batch<'_> {
    fn kind(&self) -> Channel {
        self.primary.kind
    }

    async fn siblings(&mut self) -> &[ChannelRow] {
        if self.siblings.is_none() {
            let mut found = Vec::new();
            match self.state.store.list_channels().await {
                Ok(all) => {
                    for c in all.into_iter().filter(|c| c.kind == self.primary.kind && c.id != self.primary.id) {
                        if matches!(signed_by(self.state, c.id, self.body, self.header.as_deref()).await, Ok(Ok(()))) {
                            found.push(c);
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not list the channels"),
            }
            self.siblings = Some(found);
        }
        self.siblings.as_deref().unwrap_or_default()
    }

    /// The channel a message for `account` belongs to.
    async fn channel_for(&mut self, account: &str) -> Option<ChannelRow> {
        if account.is_empty() || account == account_of(&self.primary) {
            return Some(self.primary.clone());
        }
        self.siblings().await.iter().find(|c| account_of(c) == account).cloned()
    }

    /// This channel, then its siblings: where ids reported without an account may belong.
    async fn candidates(&mut self) -> Vec<ChannelRow> {
        let mut all = vec![self.primary.clone()];
        all.extend(self.siblings().await.iter().cloned());
        all
    }

    async fn handle(&mut self, event: MetaEvent) {
        let kind = self.kind();
        let result = match event {
            MetaEvent::Message(m) => self.message(m).await,
            MetaEvent::Status(s) => self.status(s).await,
            MetaEvent::Watermark { status, recipient, timestamp } => {
                self.watermark(&status, &recipient, timestamp).await
            }
            MetaEvent::Echo { external_id, recipient, app_id, .. } => self.echo(&external_id, &recipient, app_id).await,
        };
        if let Err(e) = result {
            tracing::warn!(channel_id = self.primary.id, kind = %kind, error = %e, "webhook event failed");
            count(self.state, kind, "failed");
        }
    }

    async fn message(&mut self, m: InboundMeta) -> anyhow::Result<()> {
        let kind = self.kind();
        let Some(channel) = self.channel_for(&m.recipient).await else {
            tracing::warn!(
                channel_id = self.primary.id,
                message_for = %m.recipient,
                channel_account_id = account_of(&self.primary),
                "message for an account id no channel of ours has: skipped (a WhatsApp channel's account_id is \
                 its phone number id, not the WhatsApp Business Account id)"
            );
            count(self.state, kind, "ignored");
            return Ok(());
        };
        let (text, non_text) = match &m.content {
            MetaContent::Text(t) if !t.trim().is_empty() => (bounded(t), None),
            MetaContent::Text(_) => ("[empty message]".to_owned(), Some("empty")),
            MetaContent::Other { kind, caption } => {
                let mut t = format!("[{kind}]");
                if let Some(c) = caption {
                    t.push(' ');
                    t.push_str(c);
                }
                (bounded(&t), Some(kind.as_str()))
            }
        };
        let phone = match kind {
            Channel::WhatsApp => normalize_phone(&m.from).filter(|p| p.starts_with('+')),
            _ => None,
        };
        let inbound = Inbound {
            external_id: m.external_id.clone(),
            handle: m.from.clone(),
            contact: NewContact { email: None, name: m.profile_name.clone(), phone },
            text,
            meta: json!({"recipient": m.recipient, "user_id": m.user_id, "timestamp": m.timestamp}),
            no_reply: non_text.map(|k| format!("non-text message ({k})")),
            ..Default::default()
        };
        let received = receive(self.state, &channel, inbound).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        match received {
            Received::Duplicate => count(self.state, kind, "duplicate"),
            Received::Processed { conversation_id, message_id } => {
                count(self.state, kind, "processed");
                if let Some(k) = non_text.filter(|k| *k != "reaction") {
                    tracing::debug!(conversation_id, kind = k, "non-text message: the agent says it reads text only");
                    text_only_reply(self.state, conversation_id, message_id).await?;
                }
            }
        }
        Ok(())
    }

    async fn status(&mut self, s: StatusUpdate) -> anyhow::Result<()> {
        let status = match s.status.as_str() {
            "sent" => DeliveryStatus::Sent,
            "delivered" => DeliveryStatus::Delivered,
            "read" | "played" => DeliveryStatus::Read,
            "failed" => DeliveryStatus::Failed,
            other => {
                tracing::debug!(status = other, "status not tracked");
                return Ok(());
            }
        };
        if status == DeliveryStatus::Failed {
            tracing::warn!(external_id = %s.external_id, error = ?s.error, "Meta reports a message of ours failed");
        }
        if self.store_status(&s.external_id, status, s.error.as_deref()).await? {
            return Ok(());
        }
        // Not ours on this channel: another number or page of the same app?
        for c in self.candidates().await.into_iter().skip(1) {
            if self.state.store.delivery_status_by_external(c.id, &s.external_id, status, s.error.as_deref()).await? {
                return Ok(());
            }
        }
        tracing::debug!(external_id = %s.external_id, "status for a message we do not know");
        Ok(())
    }

    async fn store_status(
        &self,
        external_id: &str,
        status: DeliveryStatus,
        error: Option<&str>,
    ) -> anyhow::Result<bool> {
        Ok(self.state.store.delivery_status_by_external(self.primary.id, external_id, status, error).await?)
    }

    /// Messenger's "everything up to `timestamp` was delivered/read".
    async fn watermark(&mut self, status: &str, psid: &str, timestamp: i64) -> anyhow::Result<()> {
        let status = match status {
            "delivered" => DeliveryStatus::Delivered,
            "read" => DeliveryStatus::Read,
            _ => return Ok(()),
        };
        let cutoff_ms = timestamp.saturating_mul(1000).saturating_add(999);
        for c in self.candidates().await {
            let Some(conversation) = self.state.store.last_conversation_by_handle(c.id, psid).await? else { continue };
            for d in self.state.store.deliveries_for(conversation.id).await? {
                let Some(ext) = d.external_id.as_deref() else { continue };
                let behind = match status {
                    DeliveryStatus::Read => matches!(d.status, DeliveryStatus::Sent | DeliveryStatus::Delivered),
                    _ => d.status == DeliveryStatus::Sent,
                };
                if behind && d.created_at <= cutoff_ms {
                    self.state.store.delivery_status_by_external(c.id, ext, status, None).await?;
                }
            }
            return Ok(());
        }
        Ok(())
    }

    async fn echo(&mut self, external_id: &str, recipient: &str, app_id: Option<String>) -> anyhow::Result<()> {
        // Our own send: its id is a delivery's (marking it sent again is a no-op).
        if self.store_status(external_id, DeliveryStatus::Sent, None).await? {
            tracing::debug!(external_id, "echo of our own message: ignored");
            return Ok(());
        }
        tracing::info!(
            channel_id = self.primary.id,
            kind = %self.kind(),
            recipient,
            app_id = app_id.as_deref().unwrap_or("none"),
            "a message was sent to this contact from outside Frontdesk (Page inbox, WhatsApp Business app or another app): ignored"
        );
        count(self.state, self.kind(), "echo");
        Ok(())
    }
}

/// Text within the stored limit (Meta allows 4,096 characters, a message here 4,000).
fn bounded(t: &str) -> String {
    let t = t.trim();
    match MessageText::parse(t) {
        Ok(m) => m.into_inner(),
        Err(_) => {
            let mut s: String = t.chars().take(MessageText::MAX_CHARS - 1).collect();
            s.push('…');
            s
        }
    }
}

/// What the agent says to a message it cannot read.
pub fn text_only_phrase(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Sorry, I can only read text messages. Could you write your question in a message?",
        Lang::It => "Mi dispiace, posso leggere solo messaggi di testo. Puoi scrivere la tua domanda in un messaggio?",
        Lang::Es => "Lo siento, solo puedo leer mensajes de texto. ¿Puedes escribir tu pregunta en un mensaje?",
        Lang::Fr => {
            "Désolé, je ne peux lire que les messages texte. Pouvez-vous écrire votre question dans un message ?"
        }
        Lang::De => {
            "Entschuldigung, ich kann nur Textnachrichten lesen. Könnten Sie Ihre Frage in einer Nachricht schreiben?"
        }
        Lang::Pt => "Desculpe, só consigo ler mensagens de texto. Pode escrever sua pergunta em uma mensagem?",
        Lang::Nl => "Sorry, ik kan alleen tekstberichten lezen. Kun je je vraag in een bericht typen?",
        Lang::Sv => "Tyvärr kan jag bara läsa textmeddelanden. Kan du skriva din fråga i ett meddelande?",
        Lang::Ru => "Извините, я могу читать только текстовые сообщения. Напишите, пожалуйста, ваш вопрос текстом.",
        Lang::Ja => {
            "申し訳ありませんが、テキストメッセージしか読むことができません。ご質問をメッセージで送っていただけますか？"
        }
        Lang::Zh => "抱歉，我只能读取文字消息。可以请您用文字发送您的问题吗？",
        Lang::Ko => "죄송해요, 텍스트 메시지만 읽을 수 있어요. 질문을 메시지로 적어 주시겠어요?",
    }
}

/// After a non-text message: when the agent holds the conversation, it
/// answers that it reads text only, in the language of the visitor's recent
/// messages (English when unknown) — once in a row, not per sticker.
async fn text_only_reply(state: &Engine, conversation_id: i64, message_id: i64) -> anyhow::Result<()> {
    let conversation = state.store.get_conversation(conversation_id).await?;
    if conversation.assignee_kind != AssigneeKind::Agent {
        return Ok(());
    }
    const RECENT: i64 = 12;
    let recent = state.store.messages_after(conversation_id, (conversation.last_seq - RECENT).max(0), RECENT).await?;
    let before = recent.iter().take_while(|m| m.id != message_id).last();
    let already =
        before.is_some_and(|m| m.author == Author::Agent && Lang::ALL.iter().any(|l| m.text == text_only_phrase(*l)));
    if already {
        return Ok(());
    }
    let words: Vec<&str> = recent
        .iter()
        .filter(|m| m.author == Author::Visitor)
        .map(|m| {
            if m.text.starts_with('[') {
                m.text.split_once(']').map_or("", |(_, rest)| rest)
            } else {
                m.text.as_str()
            }
        })
        .collect();
    let lang = detect(&words.join(" "), Lang::En);
    let m = state
        .store
        .append_message(NewMessage {
            conversation_id,
            author: Author::Agent,
            user_id: None,
            text: text_only_phrase(lang).to_owned(),
            citations: vec![],
            trace: None,
            event_data: json!({"outcome": "text_only", "language": lang.code()}),
        })
        .await?;
    state.metrics.messages.with_label_values(&[Author::Agent.as_str()]).inc();
    state.hub.notify(conversation_id, m.seq);
    state.wake_worker.notify_one();
    Ok(())
}

// ---------------------------------------------------------------- outbound

/// One client per setting for the whole process (connections are pooled);
/// without `allow_private_networks` it has the network guard's resolver, so
/// a `graph_base_url` whose name points to a private address is refused when
/// connecting (the access token never leaves).
fn client(allow_private: bool) -> &'static reqwest::Client {
    fn build(allow_private: bool) -> reqwest::Client {
        let builder = reqwest::Client::builder()
            .user_agent("Frontdesk/1.0")
            .connect_timeout(Duration::from_secs(5))
            .timeout(SEND_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none());
        frontdesk_net::guarded(builder, allow_private).build().unwrap_or_default()
    }
    static CLIENTS: frontdesk_net::Clients = frontdesk_net::Clients::new();
    CLIENTS.get(allow_private, build)
}

const PROGRESS: &str = "(parts sent: ";

/// How many parts an earlier attempt sent (see the module's notes).
fn parts_already_sent(last_error: Option<&str>) -> usize {
    let Some(e) = last_error else { return 0 };
    let Some(at) = e.rfind(PROGRESS) else { return 0 };
    e[at + PROGRESS.len()..].split(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// Graph error codes that mean "slow down" or "try again" even with a 4xx.
fn graph_says_retry(body: &[u8]) -> bool {
    let Ok(v) = serde_json::from_slice::<Value>(body) else { return false };
    let e = &v["error"];
    if e["is_transient"].as_bool() == Some(true) {
        return true;
    }
    // 1/2: temporary; 4/17/32/613: call rate limits; 80007, 130429, 131056: WhatsApp throughput limits.
    matches!(e["code"].as_i64(), Some(1 | 2 | 4 | 17 | 32 | 613 | 80007 | 130429 | 131056))
}

/// Sends one message (agent or human) of a WhatsApp or Messenger conversation.
pub async fn send(state: &Engine, out: &Outgoing<'_>) -> Result<Sent, SendError> {
    let kind = out.channel.kind;
    let (limit, body_of): (usize, fn(&str, &str) -> Value) = match kind {
        Channel::WhatsApp => (WHATSAPP_TEXT_LIMIT, wire::whatsapp_text),
        Channel::Messenger => (MESSENGER_TEXT_LIMIT, wire::messenger_text),
        other => return Err(SendError::Permanent(format!("{other} is not a Meta channel"))),
    };
    let config: MetaConfig = serde_json::from_value(out.channel.config.clone())
        .map_err(|e| SendError::Permanent(format!("the channel's configuration is not valid: {e}")))?;
    let Some(to) = out.conversation.handle.as_deref().map(str::trim).filter(|h| !h.is_empty()) else {
        return Ok(Sent::Skipped("the conversation has no recipient".into()));
    };
    let Some(token) = out.secrets.get("access_token").map(|t| t.trim()).filter(|t| !t.is_empty()) else {
        return Err(SendError::Permanent(
            "the channel has no access token: set the secret access_token in the channel's settings".into(),
        ));
    };
    let parts = wire::split_text(&out.message.text, limit);
    if parts.is_empty() {
        return Ok(Sent::Skipped("the message is empty".into()));
    }
    let url = format!("{}/{}/messages", config.graph_base_url.trim_end_matches('/'), config.account_id.trim());
    let allow_private = state.settings.allow_private_networks;
    let parsed = url::Url::parse(&url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| SendError::Permanent("the channel's graph_base_url is not an http(s) URL".into()))?;
    // An IP literal is checked here (no resolver sees it); a name, by the client's resolver.
    if let Err(p) = frontdesk_net::check_literal(&parsed, allow_private) {
        return Err(SendError::Permanent(format!("graph_base_url: {p}")));
    }
    let done = parts_already_sent(out.delivery.last_error.as_deref()).min(parts.len());
    let total = parts.len();
    let mut last_id = None;
    for (i, part) in parts.iter().enumerate().skip(done) {
        let progress = |e: SendError| -> SendError {
            if i == 0 {
                return e;
            }
            let note = format!(" {PROGRESS}{i} of {total})");
            match e {
                SendError::Transient(m) => SendError::Transient(m + &note),
                SendError::Permanent(m) => SendError::Permanent(m + &note),
            }
        };
        let r = client(allow_private).post(parsed.clone()).bearer_auth(token).json(&body_of(to, part)).send().await;
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                if let Some(p) = frontdesk_net::refused_private(&e) {
                    return Err(progress(SendError::Permanent(format!("graph_base_url: {p}"))));
                }
                let what = if e.is_timeout() { "timed out" } else { "could not be reached" };
                return Err(progress(http_send_error("the Graph API", None, &format!("{what}: {e}"))));
            }
        };
        let status = r.status();
        let body = r.bytes().await.unwrap_or_default();
        if !status.is_success() {
            let detail = wire::graph_error(&body).unwrap_or_else(|| not_graph(&body));
            let e = match http_send_error("the Graph API", Some(status), &detail) {
                SendError::Permanent(m) if graph_says_retry(&body) => SendError::Transient(m),
                e => e,
            };
            return Err(progress(e));
        }
        match wire::parse_send_response(&body) {
            Ok(id) => last_id = Some(id),
            Err(wire::MetaError::Graph(e)) => {
                return Err(progress(SendError::Permanent(format!(
                    "the Graph API answered {status} with an error: {e}"
                ))));
            }
            Err(e) => {
                tracing::warn!(channel_id = out.channel.id, error = %e, "sent, but the Graph API gave no message id");
            }
        }
    }
    Ok(Sent::Sent { external_id: last_id })
}

/// A non-Graph error answer, for the delivery's error (shown to every agent):
/// its size only, never its words — whatever answered is not the Graph API
/// (a proxy, or an internal service a mistaken `graph_base_url` reached).
fn not_graph(body: &[u8]) -> String {
    if body.iter().all(u8::is_ascii_whitespace) {
        return "no details".into();
    }
    format!("the answer is not a Graph API error ({} bytes, not shown)", body.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_read_back() {
        assert_eq!(parts_already_sent(None), 0);
        assert_eq!(parts_already_sent(Some("the Graph API answered 500: boom")), 0);
        assert_eq!(parts_already_sent(Some("the Graph API answered 500: boom (parts sent: 2 of 3)")), 2);
    }

    #[test]
    fn throttling_codes_are_retried() {
        assert!(graph_says_retry(br#"{"error":{"message":"rate","code":130429}}"#));
        assert!(graph_says_retry(br#"{"error":{"message":"x","code":100,"is_transient":true}}"#));
        assert!(!graph_says_retry(br#"{"error":{"message":"Invalid parameter","code":100}}"#));
        assert!(!graph_says_retry(b"nope"));
    }

    #[test]
    fn non_graph_answers_are_not_quoted() {
        let e = not_graph(b"<html>internal admin panel: secret=hunter2</html>");
        assert!(!e.contains("hunter2") && e.contains("not shown"), "{e}");
        assert_eq!(not_graph(b"  \n"), "no details");
    }

    #[test]
    fn long_texts_are_bounded() {
        assert_eq!(bounded(" hi "), "hi");
        let long = "a".repeat(5000);
        assert_eq!(bounded(&long).chars().count(), MessageText::MAX_CHARS);
    }
}
