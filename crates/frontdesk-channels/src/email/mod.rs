//! Email (C3): parsing inbound messages, deciding which ones the agent must never answer,
//! threading, and rendering replies.
//!
//! The flow the server follows for an inbound message:
//! 1. [`parse`] the raw bytes (an error is logged and the message dropped or handed to a human);
//! 2. [`classify`] it: any [`AutoReason`] (auto-reply, bounce, list mail, our own address) means
//!    no reply ever, which is what keeps the agent out of mail loops;
//! 3. the [`IgnoreList`]: a match goes to a human at once;
//! 4. [`rate_exceeded`]: a last guard against loops with systems that send no header at all;
//! 5. [`thread_ids`] to find the conversation, [`InboundEmail::text`] as the customer's words;
//! 6. [`build_reply`] (or [`build_new`]) to render the answer as RFC 5322 bytes to send.

mod auto;
mod html;
mod ignore;
mod parse;
mod quote;
mod reply;

pub use auto::{classify, is_own_address, AutoReason};
pub use html::html_to_text;
pub use ignore::IgnoreList;
pub use parse::{parse, EmailError, MAX_MESSAGE_BYTES};
pub use quote::extract_new_text;
pub use reply::{build_new, build_reply, reply_subject, OutboundEmail, ReplyOptions, MAX_REFERENCES, MAX_REPLY_CC};

use serde::{Deserialize, Serialize};

/// A name and an address. The address is trimmed, stripped of `<>`/`mailto:` and lowercased
/// (mailboxes are case-insensitive in practice, and it makes matching contacts simple).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: String,
}

impl Mailbox {
    /// Builds a normalised mailbox; the name is trimmed, unquoted, its control characters and
    /// line breaks removed, and dropped when empty or equal to the address.
    pub fn new(name: Option<&str>, address: &str) -> Self {
        let address = normalize_address(address);
        let name = name.map(clean_name).filter(|n| !n.is_empty() && !n.eq_ignore_ascii_case(&address));
        Self { name, address }
    }

    /// The part after the last `@`, if any.
    pub fn domain(&self) -> Option<&str> {
        self.address.rsplit_once('@').map(|(_, d)| d).filter(|d| !d.is_empty())
    }

    /// The part before the last `@`.
    pub fn local_part(&self) -> &str {
        self.address.rsplit_once('@').map_or(self.address.as_str(), |(l, _)| l)
    }

    /// `Name <address>`, or the bare address.
    pub fn display(&self) -> String {
        match &self.name {
            Some(n) => format!("{n} <{}>", self.address),
            None => self.address.clone(),
        }
    }
}

/// Trims, removes `mailto:` and angle brackets, lowercases.
pub(crate) fn normalize_address(s: &str) -> String {
    let t = s.trim();
    let t = t.strip_prefix("mailto:").or_else(|| t.strip_prefix("MAILTO:")).unwrap_or(t);
    t.trim().trim_start_matches('<').trim_end_matches('>').trim().to_lowercase()
}

fn clean_name(s: &str) -> String {
    let cleaned: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let t = cleaned.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An attachment, decoded. `inline` marks parts meant to be shown in the body (signature logos,
/// pasted screenshots) rather than attached files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
    pub inline: bool,
}

/// A parsed inbound email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundEmail {
    /// The Message-ID without `<>`.
    pub message_id: Option<String>,
    /// Ids from `In-Reply-To`, without `<>`.
    pub in_reply_to: Vec<String>,
    /// Ids from `References`, oldest first as in the header, without `<>`.
    pub references: Vec<String>,
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    /// Decoded, unfolded; empty when absent.
    pub subject: String,
    /// The `Date` header as unix seconds, when present and valid.
    pub date: Option<i64>,
    /// The customer's new words: the body as clean text (HTML converted) without quoted history
    /// and signature. Empty when the message only quotes; `full_text` then still has the body.
    pub text: String,
    /// The whole body as clean text, history included.
    pub full_text: String,
    pub attachments: Vec<Attachment>,
    /// Why this message must not be answered automatically, judged from its headers
    /// (see [`classify`] to add the own-address check).
    pub auto: Option<AutoReason>,
}

/// True when `replies_to_sender_last_hour` already reached `limit`: no more automatic replies
/// to that sender this hour. A `limit` of 0 means automatic replies to anyone are off (the
/// guard fails closed: a mail loop costs more than a missed answer).
pub fn rate_exceeded(replies_to_sender_last_hour: u32, limit: u32) -> bool {
    replies_to_sender_last_hour >= limit
}

/// The Message-IDs that may identify the thread this email belongs to, newest first:
/// `In-Reply-To`, then `References` from the last (the parent) to the first (the root);
/// without duplicates or empty ids.
pub fn thread_ids(email: &InboundEmail) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in email.in_reply_to.iter().chain(email.references.iter().rev()) {
        let id = id.trim();
        if !id.is_empty() && !out.iter().any(|o| o == id) {
            out.push(id.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_normalisation() {
        let m = Mailbox::new(Some("  \"Ann\r\n  Smith\" "), " <Ann.Smith@Example.COM> ");
        assert_eq!(m.address, "ann.smith@example.com");
        assert_eq!(m.name.as_deref(), Some("Ann Smith"));
        assert_eq!(m.domain(), Some("example.com"));
        assert_eq!(m.local_part(), "ann.smith");
        assert_eq!(m.display(), "Ann Smith <ann.smith@example.com>");
        assert_eq!(Mailbox::new(Some("ann@x.com"), "ANN@x.com").name, None);
        assert_eq!(Mailbox::new(Some(""), "mailto:b@x.com"), Mailbox { name: None, address: "b@x.com".into() });
    }

    #[test]
    fn rate_limit() {
        assert!(!rate_exceeded(0, 5));
        assert!(!rate_exceeded(4, 5));
        assert!(rate_exceeded(5, 5));
        assert!(rate_exceeded(0, 0));
    }

    #[test]
    fn thread_ids_order_and_dedup() {
        let e = InboundEmail {
            message_id: Some("new@x".into()),
            in_reply_to: vec!["c@x".into()],
            references: vec!["a@x".into(), "b@x".into(), "c@x".into(), " ".into()],
            from: Mailbox::new(None, "a@x.com"),
            reply_to: None,
            to: vec![],
            cc: vec![],
            subject: String::new(),
            date: None,
            text: String::new(),
            full_text: String::new(),
            attachments: vec![],
            auto: None,
        };
        assert_eq!(thread_ids(&e), vec!["c@x", "b@x", "a@x"]);
    }
}
