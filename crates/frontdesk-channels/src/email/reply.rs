//! Rendering replies and new messages as RFC 5322 bytes (with `mail-builder`).

use mail_builder::headers::address::Address;
use mail_builder::headers::raw::Raw;
use mail_builder::MessageBuilder;

use super::auto::is_noreply;
use super::{normalize_address, InboundEmail, Mailbox};

/// At most this many ids in `References`: the thread's root and the most recent ones (RFC 5322
/// allows trimming the middle; very long headers are a common cause of rejected mail).
pub const MAX_REFERENCES: usize = 20;
/// At most this many Cc recipients on a reply-all: a message with hundreds of Cc must not turn
/// the agent into an amplifier.
pub const MAX_REPLY_CC: usize = 20;

/// How replies are written for one inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyOptions {
    /// The inbox's own mailbox (the From of our replies).
    pub from: Mailbox,
    /// C3: reply to all participants rather than the sender only.
    pub reply_all: bool,
    /// Every address of ours (inbox addresses, aliases): never a recipient.
    pub own_addresses: Vec<String>,
    /// The team's signature (C3), appended after the RFC 3676 "-- " delimiter.
    pub signature: Option<String>,
    /// The domain of our Message-IDs (`<unique@domain>`); the From domain when empty.
    pub message_id_domain: String,
    /// Sets `Auto-Submitted: auto-replied` (RFC 3834) so that other systems' auto-responders
    /// don't answer the agent: true for the agent's replies, false for a human's messages.
    pub auto_submitted: bool,
}

impl ReplyOptions {
    /// Sender-only replies, no signature, `Auto-Submitted` set, Message-IDs on the From domain.
    pub fn new(from: Mailbox) -> Self {
        Self {
            from,
            reply_all: false,
            own_addresses: Vec::new(),
            signature: None,
            message_id_domain: String::new(),
            auto_submitted: true,
        }
    }
}

/// A message ready to send: the structured fields (to store) and the exact bytes (to send).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundEmail {
    /// Without `<>`.
    pub message_id: String,
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub subject: String,
    /// Without `<>`.
    pub in_reply_to: Option<String>,
    /// Without `<>`, oldest first.
    pub references: Vec<String>,
    /// The text/plain body as sent (answer, signature, quoted original).
    pub text: String,
    /// RFC 5322 bytes, CRLF line endings, a single text/plain UTF-8 part.
    pub raw: Vec<u8>,
}

/// "Re: " + the original subject, without stacking prefixes: leading `Re:`, `RE:`, `Aw:`, `R:`,
/// `Rif:`, `Sv:`, `Antw:`, `Res:`, `Odp:`, `Vs:`, `Re[2]:`, `Re(3):` … are removed first;
/// other prefixes (`Fwd:`, `[Ticket 42]`) stay. An empty subject gives "Re:".
pub fn reply_subject(original: &str) -> String {
    let mut rest = clean_line(original);
    loop {
        let trimmed = rest.trim_start();
        match strip_reply_prefix(trimmed) {
            Some(after) => rest = after.to_owned(),
            None => {
                rest = trimmed.to_owned();
                break;
            }
        }
    }
    if rest.is_empty() {
        "Re:".to_owned()
    } else {
        format!("Re: {rest}")
    }
}

fn strip_reply_prefix(s: &str) -> Option<&str> {
    const PREFIXES: &[&str] = &["re", "aw", "r", "rif", "sv", "antw", "res", "odp", "vs", "ynt", "atb", "απ"];
    let word_end = s.find(|c: char| !c.is_alphabetic()).unwrap_or(s.len());
    let word = s[..word_end].to_lowercase();
    if !PREFIXES.contains(&word.as_str()) {
        return None;
    }
    let mut after = &s[word_end..];
    // Counters: "Re[2]:", "Re(2):", "Re^2:".
    if let Some(inner) = after.strip_prefix('[').and_then(|a| a.split_once(']')) {
        if inner.0.chars().all(|c| c.is_ascii_digit()) {
            after = inner.1;
        }
    } else if let Some(inner) = after.strip_prefix('(').and_then(|a| a.split_once(')')) {
        if inner.0.chars().all(|c| c.is_ascii_digit()) {
            after = inner.1;
        }
    } else if let Some(a) = after.strip_prefix('^') {
        after = a.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let after = after.trim_start();
    after.strip_prefix(':').or_else(|| after.strip_prefix('：'))
}

/// Renders the reply to `original`.
///
/// * Subject: [`reply_subject`]; `In-Reply-To`: the original's id; `References`: the
///   original's references plus its id (at most [`MAX_REFERENCES`], keeping the root).
/// * To: the original's Reply-To, else its From (never one of our addresses). With
///   `reply_all`, Cc: the original's To and Cc minus our addresses, the recipient, no-reply
///   addresses and duplicates (at most [`MAX_REPLY_CC`]).
/// * Body: `body`, the signature after "-- ", then `On <date>, <sender> wrote:` and the
///   original's new text quoted with "> ".
/// * Message-ID: `<unique@domain>`; `unique` must be unique per message (the caller's random
///   token or row id); characters not allowed in a Message-ID are replaced.
///
/// If every candidate recipient is one of our addresses, `to` is empty: the caller must not
/// send (and [`super::classify`] would have said `OwnAddress` already).
pub fn build_reply(
    original: &InboundEmail,
    body: &str,
    opts: &ReplyOptions,
    unique: &str,
    now_unix: i64,
) -> OutboundEmail {
    let own = own_set(opts);
    let is_own = |m: &Mailbox| own.contains(&m.address);

    let primary = original.reply_to.as_ref().filter(|m| !is_own(m)).unwrap_or(&original.from);
    let to: Vec<Mailbox> = if is_own(primary) { Vec::new() } else { vec![primary.clone()] };
    let mut cc: Vec<Mailbox> = Vec::new();
    if opts.reply_all {
        for m in original.to.iter().chain(&original.cc) {
            if cc.len() >= MAX_REPLY_CC {
                break;
            }
            let dup = to.iter().chain(&cc).any(|o| o.address == m.address);
            if !dup && !is_own(m) && !is_noreply(m.local_part()) {
                cc.push(m.clone());
            }
        }
    }

    let mut references: Vec<String> = Vec::new();
    for id in original.references.iter().chain(original.message_id.as_ref()) {
        let id = id.trim();
        if !id.is_empty() && !references.iter().any(|r| r == id) {
            references.push(id.to_owned());
        }
    }
    if references.len() > MAX_REFERENCES {
        let tail = references.split_off(references.len() - (MAX_REFERENCES - 1));
        references.truncate(1);
        references.extend(tail);
    }

    let mut text = compose_body(body, opts.signature.as_deref());
    let quoted = quote_original(original);
    if !quoted.is_empty() {
        text.push_str("\n\n");
        text.push_str(&quoted);
    }

    let message_id = make_message_id(unique, opts);
    render(
        OutboundEmail {
            message_id,
            from: opts.from.clone(),
            to,
            cc,
            subject: reply_subject(&original.subject),
            in_reply_to: original.message_id.clone().filter(|s| !s.trim().is_empty()),
            references,
            text,
            raw: Vec::new(),
        },
        opts.auto_submitted,
        now_unix,
    )
}

/// Renders a message that starts a thread (e.g. a human's answer when there was no inbound
/// email): no `In-Reply-To`, no quote; our own addresses are removed from `to`.
pub fn build_new(
    to: &[Mailbox],
    subject: &str,
    body: &str,
    opts: &ReplyOptions,
    unique: &str,
    now_unix: i64,
) -> OutboundEmail {
    let own = own_set(opts);
    let mut recipients: Vec<Mailbox> = Vec::new();
    for m in to {
        if !own.contains(&m.address) && !recipients.iter().any(|o| o.address == m.address) {
            recipients.push(m.clone());
        }
    }
    render(
        OutboundEmail {
            message_id: make_message_id(unique, opts),
            from: opts.from.clone(),
            to: recipients,
            cc: Vec::new(),
            subject: clean_line(subject),
            in_reply_to: None,
            references: Vec::new(),
            text: compose_body(body, opts.signature.as_deref()),
            raw: Vec::new(),
        },
        opts.auto_submitted,
        now_unix,
    )
}

fn own_set(opts: &ReplyOptions) -> Vec<String> {
    opts.own_addresses
        .iter()
        .map(|a| normalize_address(a))
        .chain(std::iter::once(opts.from.address.clone()))
        .filter(|a| !a.is_empty())
        .collect()
}

fn clean_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Newlines normalised to `\n`, trailing spaces trimmed per line (keeping "-- "), control
/// characters other than tab removed.
fn normalize_text(s: &str) -> String {
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    s.split('\n')
        .map(|l| {
            let l: String = l.chars().filter(|&c| c == '\t' || !c.is_control()).collect();
            l.trim_end().to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
        .trim_matches('\n')
        .to_owned()
}

fn compose_body(body: &str, signature: Option<&str>) -> String {
    let mut text = normalize_text(body);
    if let Some(sig) = signature.map(normalize_text).filter(|s| !s.trim().is_empty()) {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str("-- \n");
        text.push_str(&sig);
    }
    text
}

fn quote_original(original: &InboundEmail) -> String {
    let quoted_text = normalize_text(&original.text);
    if quoted_text.trim().is_empty() {
        return String::new();
    }
    let who = original.from.display();
    let when = original
        .date
        .and_then(|d| jiff::Timestamp::from_second(d).ok())
        .map(|ts| ts.to_zoned(jiff::tz::TimeZone::UTC).strftime("%a, %-d %b %Y at %H:%M UTC").to_string());
    let mut out = match when {
        Some(w) => format!("On {w}, {who} wrote:\n"),
        None => format!("{who} wrote:\n"),
    };
    for (i, line) in quoted_text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if line.is_empty() {
            out.push('>');
        } else if line.starts_with('>') {
            out.push('>');
            out.push_str(line);
        } else {
            out.push_str("> ");
            out.push_str(line);
        }
    }
    out
}

fn make_message_id(unique: &str, opts: &ReplyOptions) -> String {
    let left: String = unique
        .trim()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c) { c } else { '-' })
        .collect();
    let left = left.trim_matches('.');
    let left = if left.is_empty() { "frontdesk" } else { left };
    let domain_src = if opts.message_id_domain.trim().is_empty() {
        opts.from.domain().unwrap_or("")
    } else {
        opts.message_id_domain.trim()
    };
    let domain: String = domain_src
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
        .collect();
    let domain = domain.trim_matches('.');
    let domain = if domain.is_empty() { "localhost" } else { domain };
    format!("{left}@{domain}")
}

fn address(m: &Mailbox) -> Address<'static> {
    Address::new_address(m.name.clone(), m.address.clone())
}

fn render(mut e: OutboundEmail, auto_submitted: bool, now_unix: i64) -> OutboundEmail {
    let mut b = MessageBuilder::new()
        .message_id(e.message_id.clone())
        .from(address(&e.from))
        .subject(e.subject.clone())
        .date(now_unix);
    if !e.to.is_empty() {
        b = b.to(Address::new_list(e.to.iter().map(address).collect()));
    }
    if !e.cc.is_empty() {
        b = b.cc(Address::new_list(e.cc.iter().map(address).collect()));
    }
    if let Some(id) = &e.in_reply_to {
        b = b.in_reply_to(id.clone());
    }
    if !e.references.is_empty() {
        b = b.references(e.references.clone());
    }
    if auto_submitted {
        b = b.header("Auto-Submitted", Raw::new("auto-replied"));
    }
    // CRLF line endings on the wire; the builder picks 7bit, quoted-printable or base64.
    let body = e.text.replace('\n', "\r\n") + "\r\n";
    b = b.text_body(body);
    // Writing into a Vec cannot fail; an empty `raw` would only signal a builder bug.
    e.raw = b.write_to_vec().unwrap_or_default();
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects() {
        for (orig, want) in [
            ("Order 42", "Re: Order 42"),
            ("Re: Order 42", "Re: Order 42"),
            ("RE: Re: re:Order 42", "Re: Order 42"),
            ("Aw: Order", "Re: Order"),
            ("R: Ordine", "Re: Ordine"),
            ("Rif: R: Ordine", "Re: Ordine"),
            ("Re[2]: Order", "Re: Order"),
            ("Re(3): Order", "Re: Order"),
            ("Fwd: Order", "Re: Fwd: Order"),
            ("Re: Fwd: Order", "Re: Fwd: Order"),
            ("[Ticket 7] Re: Order", "Re: [Ticket 7] Re: Order"),
            ("Regarding my order", "Re: Regarding my order"),
            ("Really: no", "Re: Really: no"),
            ("", "Re:"),
            ("Re:", "Re:"),
            ("Line\r\nbreak", "Re: Line break"),
        ] {
            assert_eq!(reply_subject(orig), want, "{orig:?}");
        }
    }

    #[test]
    fn message_ids() {
        let mut o = ReplyOptions::new(Mailbox::new(None, "help@shop.com"));
        assert_eq!(make_message_id("abc 123<>", &o), "abc-123--@shop.com");
        o.message_id_domain = "Mail.Shop.com".into();
        assert_eq!(make_message_id("", &o), "frontdesk@mail.shop.com");
        let o = ReplyOptions::new(Mailbox::new(None, "nodomain"));
        assert_eq!(make_message_id("x", &o), "x@localhost");
    }
}
