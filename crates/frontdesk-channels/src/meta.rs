//! WhatsApp Business Cloud API and Messenger Platform webhooks (Graph API).
//!
//! Payloads are read leniently with `serde_json::Value`: unknown fields, unknown event kinds and
//! events missing their ids are skipped rather than failing the whole POST (Meta batches several
//! entries per POST and retries a failed one for days). Only a body that is not JSON, or not a
//! webhook at all, is an error.

use serde::Serialize;
use serde_json::{json, Value};

use crate::signature::hmac_matches;
pub use crate::signature::SignatureError;

/// WhatsApp's limit for a text message body, in characters.
pub const WHATSAPP_TEXT_LIMIT: usize = 4096;
/// Messenger's limit for a text message, in characters.
pub const MESSENGER_TEXT_LIMIT: usize = 2000;

/// Checks `X-Hub-Signature-256: sha256=<hex>`: the HMAC-SHA256 of the raw body under the app
/// secret, compared in constant time. Call it on the exact bytes received, before parsing.
pub fn verify_signature(app_secret: &[u8], body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    if app_secret.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    let h = header.map(str::trim).filter(|h| !h.is_empty()).ok_or(SignatureError::Missing)?;
    let (algo, hex_sig) =
        h.split_once('=').ok_or_else(|| SignatureError::Malformed("expected \"sha256=<hex>\"".into()))?;
    if !algo.trim().eq_ignore_ascii_case("sha256") {
        return Err(SignatureError::Malformed(format!("unsupported algorithm {:?}, expected sha256", algo.trim())));
    }
    let sig = hex::decode(hex_sig.trim())
        .map_err(|_| SignatureError::Malformed("the signature is not hexadecimal".into()))?;
    if sig.len() != 32 {
        return Err(SignatureError::Malformed(format!("the signature has {} bytes, expected 32", sig.len())));
    }
    if hmac_matches(app_secret, &[body], &sig) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The subscription handshake (`GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`):
/// the challenge to echo back when the mode is `subscribe` and the token matches (compared in
/// constant time); `None` otherwise (answer 403). An empty expected token never matches.
pub fn verify_handshake(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&str>,
    expected_token: &str,
) -> Option<String> {
    if mode? != "subscribe" || expected_token.is_empty() {
        return None;
    }
    if !crate::signature::constant_time_eq(token?.as_bytes(), expected_token.as_bytes()) {
        return None;
    }
    let challenge = challenge?;
    (!challenge.is_empty() && challenge.len() <= 1024).then(|| challenge.to_owned())
}

/// One thing a webhook POST told us.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum MetaEvent {
    /// A customer wrote to us.
    Message(InboundMeta),
    /// A message of ours changed status (WhatsApp statuses, Messenger deliveries with ids).
    Status(StatusUpdate),
    /// Every message we sent to `recipient` up to `timestamp` reached `status` (`delivered`,
    /// `read`): Messenger's watermarks, which carry no message ids.
    Watermark { status: String, recipient: String, timestamp: i64 },
    /// A copy of a message sent from our side: by us through the API (`app_id` is ours), or by
    /// a person from the Page inbox or the WhatsApp Business app (another or no `app_id`): the
    /// latter means a human has joined the conversation.
    Echo { external_id: String, recipient: String, text: Option<String>, app_id: Option<String>, timestamp: i64 },
}

/// A customer's message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboundMeta {
    /// `wamid.…` (WhatsApp) or `mid` (Messenger): the id to deduplicate retried webhooks.
    pub external_id: String,
    /// WhatsApp: the sender's phone number as digits (no `+`), or their business-scoped user
    /// id when the phone is withheld (usernames); Messenger: the PSID.
    pub from: String,
    /// WhatsApp's business-scoped user id (`US.1234…`), when given.
    pub user_id: Option<String>,
    pub profile_name: Option<String>,
    /// Unix seconds.
    pub timestamp: i64,
    pub content: MetaContent,
    /// Our side: WhatsApp `phone_number_id`, Messenger page id.
    pub recipient: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum MetaContent {
    /// Text, including the title of a tapped button, list row or postback.
    Text(String),
    /// Anything else: `image`, `audio`, `video`, `document`, `sticker`, `location`, `contacts`,
    /// `reaction`, `order`, `interactive`, `file`, `fallback`, `unsupported` … with the media's
    /// caption when it has one.
    Other { kind: String, caption: Option<String> },
}

/// A status change of a message we sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusUpdate {
    pub external_id: String,
    /// `sent`, `delivered`, `read`, `failed` (`played`, `deleted` … passed through).
    pub status: String,
    /// The customer: phone digits or business-scoped user id (WhatsApp), PSID (Messenger).
    pub recipient: String,
    pub timestamp: i64,
    /// For `failed`: "title (code N): details".
    pub error: Option<String>,
}

/// Why a webhook body or a Graph response could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetaError {
    #[error("the body is not valid JSON: {0}")]
    Json(String),
    #[error("unexpected payload: {0}")]
    Shape(String),
    #[error("the Graph API returned an error: {0}")]
    Graph(String),
}

fn parse_json(body: &[u8]) -> Result<Value, MetaError> {
    serde_json::from_slice(body).map_err(|e| MetaError::Json(e.to_string()))
}

fn entries<'a>(v: &'a Value, expected_objects: &[&str]) -> Result<&'a Vec<Value>, MetaError> {
    if !v.is_object() {
        return Err(MetaError::Shape("the body is not a JSON object".into()));
    }
    if let Some(object) = v["object"].as_str() {
        if !expected_objects.contains(&object) {
            return Err(MetaError::Shape(format!(
                "\"object\" is {object:?}, expected {}",
                expected_objects.join(" or ")
            )));
        }
    }
    v["entry"].as_array().ok_or_else(|| MetaError::Shape("no \"entry\" array".into()))
}

fn str_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A timestamp given as a number or a string, in seconds or milliseconds → seconds.
fn ts_of(v: &Value) -> Option<i64> {
    let n = match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }?;
    Some(if n > 100_000_000_000 { n / 1000 } else { n })
}

fn nonempty(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Parses a WhatsApp Cloud API webhook (`object: whatsapp_business_account`): messages,
/// statuses, and `smb_message_echoes` (messages sent from the WhatsApp Business app).
pub fn parse_whatsapp(body: &[u8]) -> Result<Vec<MetaEvent>, MetaError> {
    let v = parse_json(body)?;
    let mut out = Vec::new();
    for entry in entries(&v, &["whatsapp_business_account"])? {
        let Some(changes) = entry["changes"].as_array() else { continue };
        for change in changes {
            let value = &change["value"];
            match change["field"].as_str() {
                Some("messages") | None => whatsapp_value(value, &mut out),
                Some("smb_message_echoes") => whatsapp_echoes(value, &mut out),
                _ => {}
            }
        }
    }
    Ok(out)
}

fn whatsapp_value(value: &Value, out: &mut Vec<MetaEvent>) {
    let recipient = str_of(&value["metadata"]["phone_number_id"]).unwrap_or_default();
    let contacts = value["contacts"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    for m in value["messages"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let Some(external_id) = str_of(&m["id"]) else { continue };
        let user_id = str_of(&m["from_user_id"]);
        let Some(from) = str_of(&m["from"]).or_else(|| user_id.clone()) else { continue };
        let contact = contacts
            .iter()
            .find(|c| {
                str_of(&c["wa_id"]).as_deref() == Some(from.as_str())
                    || (user_id.is_some() && str_of(&c["user_id"]) == user_id)
            })
            .or_else(|| (contacts.len() == 1).then(|| &contacts[0]));
        let profile_name = contact.and_then(|c| nonempty(c["profile"]["name"].as_str()));
        let user_id = user_id.or_else(|| contact.and_then(|c| str_of(&c["user_id"])));
        out.push(MetaEvent::Message(InboundMeta {
            external_id,
            from,
            user_id,
            profile_name,
            timestamp: ts_of(&m["timestamp"]).unwrap_or(0),
            content: whatsapp_content(m),
            recipient: recipient.clone(),
        }));
    }
    for s in value["statuses"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let (Some(external_id), Some(status)) = (str_of(&s["id"]), str_of(&s["status"])) else { continue };
        let recipient = str_of(&s["recipient_id"]).or_else(|| str_of(&s["recipient_user_id"])).unwrap_or_default();
        let error = s["errors"].as_array().and_then(|e| e.first()).map(whatsapp_error);
        out.push(MetaEvent::Status(StatusUpdate {
            external_id,
            status,
            recipient,
            timestamp: ts_of(&s["timestamp"]).unwrap_or(0),
            error,
        }));
    }
}

fn whatsapp_echoes(value: &Value, out: &mut Vec<MetaEvent>) {
    for m in value["message_echoes"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let Some(external_id) = str_of(&m["id"]) else { continue };
        let text = match whatsapp_content(m) {
            MetaContent::Text(t) => Some(t),
            MetaContent::Other { caption, .. } => caption,
        };
        out.push(MetaEvent::Echo {
            external_id,
            recipient: str_of(&m["to"]).or_else(|| str_of(&m["to_user_id"])).unwrap_or_default(),
            text,
            app_id: None,
            timestamp: ts_of(&m["timestamp"]).unwrap_or(0),
        });
    }
}

fn whatsapp_content(m: &Value) -> MetaContent {
    let kind = m["type"].as_str().unwrap_or("unsupported");
    match kind {
        "text" => match m["text"]["body"].as_str() {
            Some(b) => MetaContent::Text(b.to_owned()),
            None => other("unsupported", None),
        },
        // A tapped quick-reply button of a template.
        "button" => match nonempty(m["button"]["text"].as_str()) {
            Some(t) => MetaContent::Text(t),
            None => other(kind, None),
        },
        "interactive" => {
            let i = &m["interactive"];
            let title =
                nonempty(i["button_reply"]["title"].as_str()).or_else(|| nonempty(i["list_reply"]["title"].as_str()));
            match title {
                Some(t) => MetaContent::Text(t),
                None => other(i["type"].as_str().unwrap_or(kind), None),
            }
        }
        _ => other(kind, nonempty(m[kind]["caption"].as_str())),
    }
}

fn other(kind: &str, caption: Option<String>) -> MetaContent {
    MetaContent::Other { kind: kind.to_owned(), caption }
}

fn whatsapp_error(e: &Value) -> String {
    let title =
        nonempty(e["title"].as_str()).or_else(|| nonempty(e["message"].as_str())).unwrap_or_else(|| "error".into());
    let mut s = match str_of(&e["code"]) {
        Some(code) => format!("{title} (code {code})"),
        None => title,
    };
    let details = nonempty(e["error_data"]["details"].as_str()).or_else(|| nonempty(e["message"].as_str()));
    if let Some(d) = details.filter(|d| !s.starts_with(d.as_str())) {
        s.push_str(": ");
        s.push_str(&d);
    }
    s
}

/// Parses a Messenger Platform webhook (`object: page`; Instagram's `instagram` has the same
/// shape): messages (`is_echo` → [`MetaEvent::Echo`]), postbacks (their title as text),
/// deliveries (with `mids` → [`MetaEvent::Status`], else a [`MetaEvent::Watermark`]) and reads.
pub fn parse_messenger(body: &[u8]) -> Result<Vec<MetaEvent>, MetaError> {
    let v = parse_json(body)?;
    let mut out = Vec::new();
    for entry in entries(&v, &["page", "instagram"])? {
        let Some(events) = entry["messaging"].as_array() else { continue };
        for e in events {
            messenger_event(e, &mut out);
        }
    }
    Ok(out)
}

fn messenger_event(e: &Value, out: &mut Vec<MetaEvent>) {
    let sender = str_of(&e["sender"]["id"]).unwrap_or_default();
    let recipient = str_of(&e["recipient"]["id"]).unwrap_or_default();
    let timestamp = ts_of(&e["timestamp"]).unwrap_or(0);
    let m = &e["message"];
    if m.is_object() {
        let Some(mid) = str_of(&m["mid"]) else { return };
        let text = nonempty(m["text"].as_str());
        if m["is_echo"].as_bool() == Some(true) {
            out.push(MetaEvent::Echo { external_id: mid, recipient, text, app_id: str_of(&m["app_id"]), timestamp });
            return;
        }
        if sender.is_empty() {
            return;
        }
        let content = match text {
            Some(t) => MetaContent::Text(t),
            None => {
                let first = m["attachments"].as_array().and_then(|a| a.first());
                match first {
                    Some(a) => {
                        let kind = if a["payload"]["sticker_id"].is_null() {
                            a["type"].as_str().unwrap_or("unsupported")
                        } else {
                            "sticker"
                        };
                        other(kind, nonempty(a["title"].as_str()))
                    }
                    None => other("unsupported", None),
                }
            }
        };
        out.push(MetaEvent::Message(InboundMeta {
            external_id: mid,
            from: sender,
            user_id: None,
            profile_name: None,
            timestamp,
            content,
            recipient,
        }));
    } else if e["postback"].is_object() {
        let p = &e["postback"];
        if sender.is_empty() {
            return;
        }
        let title = nonempty(p["title"].as_str()).or_else(|| nonempty(p["payload"].as_str()));
        let Some(title) = title else { return };
        let external_id = str_of(&p["mid"]).unwrap_or_else(|| format!("postback:{sender}:{timestamp}"));
        out.push(MetaEvent::Message(InboundMeta {
            external_id,
            from: sender,
            user_id: None,
            profile_name: None,
            timestamp,
            content: MetaContent::Text(title),
            recipient,
        }));
    } else if e["delivery"].is_object() {
        let d = &e["delivery"];
        let watermark = ts_of(&d["watermark"]).unwrap_or(timestamp);
        let mids: Vec<String> = d["mids"].as_array().map(|a| a.iter().filter_map(str_of).collect()).unwrap_or_default();
        if mids.is_empty() {
            out.push(MetaEvent::Watermark { status: "delivered".into(), recipient: sender, timestamp: watermark });
        } else {
            for mid in mids {
                out.push(MetaEvent::Status(StatusUpdate {
                    external_id: mid,
                    status: "delivered".into(),
                    recipient: sender.clone(),
                    timestamp: watermark,
                    error: None,
                }));
            }
        }
    } else if e["read"].is_object() {
        let watermark = ts_of(&e["read"]["watermark"]).unwrap_or(timestamp);
        out.push(MetaEvent::Watermark { status: "read".into(), recipient: sender, timestamp: watermark });
    }
}

/// The Cloud API body sending `text` to WhatsApp user `to` (phone digits, with or without `+`,
/// or a business-scoped user id). Link previews are off: answers cite sources as text.
pub fn whatsapp_text(to: &str, text: &str) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to.trim().trim_start_matches('+'),
        "type": "text",
        "text": { "preview_url": false, "body": text },
    })
}

/// The Send API body answering PSID `psid` with `text` (`messaging_type: RESPONSE`: a reply
/// within the 24-hour window).
pub fn messenger_text(psid: &str, text: &str) -> Value {
    json!({
        "recipient": { "id": psid.trim() },
        "messaging_type": "RESPONSE",
        "message": { "text": text },
    })
}

/// The id of the message just sent, from a successful response of the WhatsApp Cloud API
/// (`messages[0].id`) or the Messenger Send API (`message_id`); a Graph error body gives
/// [`MetaError::Graph`].
pub fn parse_send_response(body: &[u8]) -> Result<String, MetaError> {
    let v = parse_json(body)?;
    if let Some(e) = graph_error_value(&v) {
        return Err(MetaError::Graph(e));
    }
    str_of(&v["messages"][0]["id"])
        .or_else(|| str_of(&v["message_id"]))
        .ok_or_else(|| MetaError::Shape("no message id in the response".into()))
}

/// The message of a Graph API error body (`{"error": {"message", "code", "error_subcode",
/// "error_data": {"details"}}}`), e.g. "(#131030) Recipient phone number not in allowed list
/// (code 131030): Recipient phone number not in allowed list"; `None` when it is not one.
pub fn graph_error(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    graph_error_value(&v)
}

fn graph_error_value(v: &Value) -> Option<String> {
    let e = v.get("error")?;
    if let Some(s) = e.as_str() {
        return nonempty(Some(s));
    }
    let message = nonempty(e["message"].as_str())
        .or_else(|| nonempty(e["error_user_msg"].as_str()))
        .unwrap_or_else(|| "unknown error".into());
    let mut out = message;
    match (str_of(&e["code"]), str_of(&e["error_subcode"])) {
        (Some(c), Some(sc)) => out.push_str(&format!(" (code {c}, subcode {sc})")),
        (Some(c), None) => out.push_str(&format!(" (code {c})")),
        _ => {}
    }
    if let Some(d) = nonempty(e["error_data"]["details"].as_str()).filter(|d| !out.starts_with(d.as_str())) {
        out.push_str(": ");
        out.push_str(&d);
    }
    Some(out)
}

/// Splits `text` into pieces of at most `limit` characters (Unicode scalar values), preferring
/// to cut between paragraphs, then lines, then sentences, then words; a single word longer than
/// `limit` is cut hard. Pieces are trimmed; blank pieces are dropped. `limit` 0 is treated as 1.
pub fn split_text(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(1);
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if rest.chars().count() <= limit {
            out.push(rest.to_owned());
            break;
        }
        // Byte index just past `limit` characters.
        let hard = rest.char_indices().nth(limit).map_or(rest.len(), |(i, _)| i);
        let window = &rest[..hard];
        let min = window.char_indices().nth(limit / 3).map_or(0, |(i, _)| i);
        let cut = best_cut(window, min).unwrap_or(hard);
        let (piece, tail) = rest.split_at(cut);
        let piece = piece.trim();
        if !piece.is_empty() {
            out.push(piece.to_owned());
        }
        rest = tail.trim_start();
    }
    out
}

/// The best place to cut `window` (byte index, after the separator), not before `min`.
fn best_cut(window: &str, min: usize) -> Option<usize> {
    let after = |p: usize, len: usize| (p >= min).then_some(p + len);
    if let Some(p) = window.rfind("\n\n").and_then(|p| after(p, 2)) {
        return Some(p);
    }
    if let Some(p) = window.rfind('\n').and_then(|p| after(p, 1)) {
        return Some(p);
    }
    let sentence = window
        .char_indices()
        .filter(|&(i, c)| {
            matches!(c, '.' | '!' | '?' | '。' | '！' | '？')
                && window[i + c.len_utf8()..].starts_with(|n: char| n.is_whitespace())
        })
        .map(|(i, c)| i + c.len_utf8())
        .next_back();
    if let Some(p) = sentence.filter(|&p| p >= min) {
        return Some(p);
    }
    // Any word boundary beats cutting a word in two.
    window
        .rfind(char::is_whitespace)
        .filter(|&p| p > 0)
        .map(|p| p + window[p..].chars().next().map_or(1, char::len_utf8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_known_vector() {
        // RFC 4231 test case 2.
        let h = "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        assert_eq!(verify_signature(b"Jefe", b"what do ya want for nothing?", Some(h)), Ok(()));
        assert_eq!(
            verify_signature(
                b"Jefe",
                b"what do ya want for nothing?",
                Some(&h.to_uppercase().replace("SHA256", "sha256"))
            ),
            Ok(())
        );
        assert_eq!(verify_signature(b"Jefe", b"what do ya want for nothing!", Some(h)), Err(SignatureError::Mismatch));
        assert_eq!(verify_signature(b"jefe", b"what do ya want for nothing?", Some(h)), Err(SignatureError::Mismatch));
        assert_eq!(verify_signature(b"Jefe", b"x", None), Err(SignatureError::Missing));
        assert_eq!(verify_signature(b"Jefe", b"x", Some("  ")), Err(SignatureError::Missing));
        assert!(matches!(verify_signature(b"Jefe", b"x", Some("5bdc")), Err(SignatureError::Malformed(_))));
        assert!(matches!(verify_signature(b"Jefe", b"x", Some("sha1=5bdc")), Err(SignatureError::Malformed(_))));
        assert!(matches!(verify_signature(b"Jefe", b"x", Some("sha256=zz")), Err(SignatureError::Malformed(_))));
        assert!(matches!(verify_signature(b"Jefe", b"x", Some("sha256=abcd")), Err(SignatureError::Malformed(_))));
        assert_eq!(verify_signature(b"", b"x", Some(h)), Err(SignatureError::NoSecret));
    }

    #[test]
    fn handshake() {
        let ok = verify_handshake(Some("subscribe"), Some("tok"), Some("1158201444"), "tok");
        assert_eq!(ok.as_deref(), Some("1158201444"));
        assert_eq!(verify_handshake(Some("subscribe"), Some("bad"), Some("1"), "tok"), None);
        assert_eq!(verify_handshake(Some("unsubscribe"), Some("tok"), Some("1"), "tok"), None);
        assert_eq!(verify_handshake(None, Some("tok"), Some("1"), "tok"), None);
        assert_eq!(verify_handshake(Some("subscribe"), None, Some("1"), "tok"), None);
        assert_eq!(verify_handshake(Some("subscribe"), Some("tok"), None, "tok"), None);
        assert_eq!(verify_handshake(Some("subscribe"), Some(""), Some("1"), ""), None);
    }

    #[test]
    fn send_bodies() {
        let w = whatsapp_text("+39 333", "Hi");
        assert_eq!(w["messaging_product"], "whatsapp");
        assert_eq!(w["type"], "text");
        assert_eq!(w["to"], "39 333");
        assert_eq!(w["text"]["body"], "Hi");
        let m = messenger_text("123", "Hi");
        assert_eq!(m, json!({"recipient": {"id": "123"}, "messaging_type": "RESPONSE", "message": {"text": "Hi"}}));
    }

    #[test]
    fn send_responses() {
        let wa = br#"{"messaging_product":"whatsapp","contacts":[{"input":"+16505551234","wa_id":"16505551234"}],"messages":[{"id":"wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA","message_status":"accepted"}]}"#;
        assert_eq!(parse_send_response(wa).unwrap(), "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA");
        let ms = br#"{"recipient_id":"1254477777772919","message_id":"m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P"}"#;
        assert!(parse_send_response(ms).unwrap().starts_with("m_AG5Hz2"));
        let err = br#"{"error":{"message":"(#131030) Recipient phone number not in allowed list","type":"OAuthException","code":131030,"error_data":{"messaging_product":"whatsapp","details":"Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again."},"error_subcode":2655007,"fbtrace_id":"AI2"}}"#;
        let e = parse_send_response(err).unwrap_err();
        assert!(
            matches!(&e, MetaError::Graph(m) if m.contains("(code 131030, subcode 2655007)") && m.contains("Add recipient")),
            "{e}"
        );
        assert_eq!(parse_send_response(b"{}"), Err(MetaError::Shape("no message id in the response".into())));
        assert!(matches!(parse_send_response(b"<html>"), Err(MetaError::Json(_))));
        let token = br#"{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190,"error_subcode":463}}"#;
        assert_eq!(
            graph_error(token).as_deref(),
            Some("Error validating access token: Session has expired (code 190, subcode 463)")
        );
        assert_eq!(graph_error(b"{\"ok\":true}"), None);
        assert_eq!(graph_error(b"nope"), None);
    }

    #[test]
    fn split_prefers_boundaries() {
        assert_eq!(split_text("short", 10), vec!["short"]);
        assert_eq!(split_text("  ", 10), Vec::<String>::new());
        let t = "First paragraph here.\n\nSecond paragraph is here.";
        assert_eq!(split_text(t, 30), vec!["First paragraph here.", "Second paragraph is here."]);
        let t = "One sentence. Two sentence. Three sentence.";
        assert_eq!(split_text(t, 30), vec!["One sentence. Two sentence.", "Three sentence."]);
        let t = "word ".repeat(10);
        for piece in split_text(&t, 12) {
            assert!(piece.chars().count() <= 12);
            assert!(!piece.starts_with(' ') && !piece.ends_with(' '));
        }
        assert_eq!(split_text("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(split_text("èèèèè", 2), vec!["èè", "èè", "è"]);
        assert_eq!(split_text("ab", 0), vec!["a", "b"]);
        // Nothing lost but whitespace.
        let long = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(200);
        let pieces = split_text(&long, WHATSAPP_TEXT_LIMIT);
        assert!(pieces.iter().all(|p| p.chars().count() <= WHATSAPP_TEXT_LIMIT));
        let squash = |s: &str| s.split_whitespace().collect::<String>();
        assert_eq!(squash(&pieces.concat()), squash(&long));
    }
}
