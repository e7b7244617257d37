//! Raw RFC 5322 bytes → [`InboundEmail`], on top of `mail-parser` (which never panics and
//! decodes MIME, quoted-printable, base64, RFC 2047 words and ~40 charsets), with repairs for
//! what real mail gets wrong: raw 8-bit headers, undeclared or mislabelled charsets
//! (re-decoded as Windows-1252, a superset of Latin-1), `format=flowed`.

use std::borrow::Cow;

use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::{Address, HeaderName, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType};

use super::auto::{judge, AutoHeaders};
use super::html::html_to_text;
use super::quote::extract_new_text;
use super::{Attachment, InboundEmail, Mailbox};

/// Messages larger than this are refused before parsing (64 MiB: far above what mail servers
/// accept, far below what would strain memory).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// Why a message could not be turned into an [`InboundEmail`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("the message is empty")]
    Empty,
    #[error("the message is {size} bytes, more than the {max} accepted")]
    TooLarge { size: usize, max: usize },
    #[error("no email headers were found: this is not an RFC 5322 message")]
    NoHeaders,
    #[error("the message has no From (or Sender) address, so there is nobody to reply to")]
    MissingFrom,
    #[error("the From header {0:?} holds no usable email address")]
    InvalidFrom(String),
}

/// Parses a raw message. Never panics; see [`EmailError`] for what is refused.
pub fn parse(raw: &[u8]) -> Result<InboundEmail, EmailError> {
    if raw.len() > MAX_MESSAGE_BYTES {
        return Err(EmailError::TooLarge { size: raw.len(), max: MAX_MESSAGE_BYTES });
    }
    if raw.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(EmailError::Empty);
    }
    let buf = repair_header_bytes(raw);
    let buf: &[u8] = &buf;
    let msg = MessageParser::default().parse(buf).ok_or(EmailError::NoHeaders)?;
    let headers = raw_headers(&msg, buf);
    if !headers.iter().any(|(n, _)| KNOWN_HEADERS.contains(&n.as_str())) {
        return Err(EmailError::NoHeaders);
    }

    let from = first_mailbox(msg.from()).or_else(|| first_mailbox(msg.sender()));
    let from = match from {
        Some(m) => m,
        None => {
            return Err(match headers.iter().find(|(n, _)| n == "from") {
                Some((_, v)) if !v.trim().is_empty() => EmailError::InvalidFrom(truncate(v, 200)),
                _ => EmailError::MissingFrom,
            })
        }
    };
    let reply_to = first_mailbox(msg.reply_to());
    let to = mailboxes(msg.header_values(HeaderName::To));
    let cc = mailboxes(msg.header_values(HeaderName::Cc));

    let message_id = msg
        .message_id()
        .map(clean_id)
        .filter(|s| !s.is_empty())
        .or_else(|| header(&headers, "message-id").and_then(|v| extract_ids(v).into_iter().next()));
    let in_reply_to = ids(msg.in_reply_to(), header(&headers, "in-reply-to"));
    let references = ids(msg.references(), header(&headers, "references"));
    let subject = msg.subject().map(clean_line).unwrap_or_default();
    let date = msg
        .date()
        .filter(|d| d.year >= 1970 && (1..=12).contains(&d.month) && (1..=31).contains(&d.day))
        .map(|d| d.to_timestamp());

    let full_text = body_text(&msg, buf);
    let text = if is_forward_subject(&subject) { full_text.clone() } else { extract_new_text(&full_text) };
    let attachments = attachments(&msg);

    let content_type = msg.root_part().content_type().map(mime_type);
    let has_delivery_status_part = msg.parts.iter().any(|p| {
        p.content_type().is_some_and(|ct| {
            let t = mime_type(ct);
            t == "message/delivery-status" || t == "message/global-delivery-status"
        })
    });
    let auto =
        judge(&AutoHeaders { headers: &headers, content_type, has_delivery_status_part, subject: &subject }, &from);

    Ok(InboundEmail {
        message_id,
        in_reply_to,
        references,
        from,
        reply_to,
        to,
        cc,
        subject,
        date,
        text,
        full_text,
        attachments,
        auto,
    })
}

const KNOWN_HEADERS: &[&str] = &[
    "from",
    "sender",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "received",
    "return-path",
    "reply-to",
    "in-reply-to",
    "references",
];

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Headers with raw 8-bit bytes that are not UTF-8 (an old or careless mailer's Latin-1) are
/// re-encoded line by line from Windows-1252 to UTF-8 before parsing; UTF-8 lines, the body
/// and clean messages are left untouched.
fn repair_header_bytes(raw: &[u8]) -> Cow<'_, [u8]> {
    let end = header_end(raw);
    let head = &raw[..end];
    if std::str::from_utf8(head).is_ok() {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len() + 256);
    for line in head.split_inclusive(|&b| b == b'\n') {
        match std::str::from_utf8(line) {
            Ok(_) => out.extend_from_slice(line),
            Err(_) => out.extend_from_slice(decode_cp1252(line).as_bytes()),
        }
    }
    out.extend_from_slice(&raw[end..]);
    Cow::Owned(out)
}

/// Index just past the blank line that ends the header section (or the whole input).
fn header_end(raw: &[u8]) -> usize {
    let mut i = 0;
    while let Some(p) = raw[i..].iter().position(|&b| b == b'\n') {
        let nl = i + p;
        let rest = &raw[nl + 1..];
        if rest.starts_with(b"\n") {
            return nl + 2;
        }
        if rest.starts_with(b"\r\n") {
            return nl + 3;
        }
        i = nl + 1;
    }
    raw.len()
}

pub(crate) fn decode_cp1252(bytes: &[u8]) -> String {
    match charset_decoder(b"windows-1252") {
        Some(decode) => decode(bytes),
        None => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// (lowercased name, unfolded value) for every top-level header, read from the raw bytes.
fn raw_headers(msg: &Message<'_>, buf: &[u8]) -> Vec<(String, String)> {
    msg.root_part()
        .headers()
        .iter()
        .map(|h| {
            let start = (h.offset_start() as usize).min(buf.len());
            let end = (h.offset_end() as usize).clamp(start, buf.len());
            let value = String::from_utf8_lossy(&buf[start..end]);
            (h.name().to_ascii_lowercase(), unfold(&value))
        })
        .collect()
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

fn unfold(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One line of text: control characters and runs of whitespace become one space.
fn clean_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn usable(address: &str) -> bool {
    let a = address.trim();
    match a.rsplit_once('@') {
        Some((local, domain)) => !local.is_empty() && !domain.is_empty() && !a.chars().any(char::is_whitespace),
        None => false,
    }
}

fn first_mailbox(addr: Option<&Address<'_>>) -> Option<Mailbox> {
    addr?.iter().find_map(|a| {
        let address = a.address.as_deref()?;
        usable(address).then(|| Mailbox::new(a.name.as_deref(), address))
    })
}

fn mailboxes<'a, 'x: 'a>(values: impl Iterator<Item = &'a HeaderValue<'x>>) -> Vec<Mailbox> {
    let mut out: Vec<Mailbox> = Vec::new();
    for v in values {
        if let Some(list) = v.as_address() {
            for a in list.iter() {
                if let Some(address) = a.address.as_deref().filter(|s| usable(s)) {
                    let m = Mailbox::new(a.name.as_deref(), address);
                    if !out.iter().any(|o| o.address == m.address) {
                        out.push(m);
                    }
                }
            }
        }
    }
    out
}

fn clean_id(id: &str) -> String {
    id.trim().trim_start_matches('<').trim_end_matches('>').trim().to_owned()
}

/// Message ids from a parsed header, or from its raw text when the parser gave up.
fn ids(value: &HeaderValue<'_>, raw: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = match value {
        HeaderValue::Text(t) => vec![clean_id(t)],
        HeaderValue::TextList(l) => l.iter().map(|t| clean_id(t)).collect(),
        _ => Vec::new(),
    };
    out.retain(|s| !s.is_empty() && !s.chars().any(char::is_whitespace));
    if out.is_empty() {
        if let Some(raw) = raw {
            out = extract_ids(raw);
        }
    }
    let mut dedup: Vec<String> = Vec::with_capacity(out.len());
    for id in out {
        if !dedup.contains(&id) {
            dedup.push(id);
        }
    }
    dedup
}

/// `<id>` tokens of a raw header value.
fn extract_ids(raw: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = raw;
    while let Some(s) = rest.find('<') {
        let Some(e) = rest[s..].find('>') else { break };
        let id = clean_id(&rest[s + 1..s + e]);
        if !id.is_empty() && !id.chars().any(char::is_whitespace) {
            out.push(id);
        }
        rest = &rest[s + e + 1..];
    }
    out
}

fn mime_type(ct: &mail_parser::ContentType<'_>) -> String {
    format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("octet-stream")).to_ascii_lowercase()
}

fn is_forward_subject(subject: &str) -> bool {
    let lower = subject.trim_start().to_lowercase();
    ["fwd:", "fw:", "fwd :", "fw :", "tr:", "tr :", "wg:", "i:", "rv:", "enc:", "doorst:"]
        .iter()
        .any(|p| lower.starts_with(p))
}

/// The body as clean text: the text/plain parts (HTML ones converted), or the HTML parts when
/// the plain ones are blank.
fn body_text(msg: &Message<'_>, buf: &[u8]) -> String {
    let mut parts: Vec<String> = msg.text_bodies().filter_map(|p| part_text(p, buf)).collect();
    if parts.iter().all(|p| p.trim().is_empty()) {
        parts = msg.html_bodies().filter_map(|p| part_text(p, buf)).collect();
    }
    let joined = parts.into_iter().filter(|p| !p.trim().is_empty()).collect::<Vec<_>>().join("\n\n");
    tidy_body(&joined)
}

fn part_text(part: &MessagePart<'_>, buf: &[u8]) -> Option<String> {
    match &part.body {
        PartType::Text(t) => {
            let t = repair_charset(part, t, buf);
            let flowed = part
                .content_type()
                .is_some_and(|ct| ct.attribute("format").is_some_and(|f| f.eq_ignore_ascii_case("flowed")));
            if flowed {
                let delsp = part
                    .content_type()
                    .and_then(|ct| ct.attribute("delsp"))
                    .is_some_and(|d| d.eq_ignore_ascii_case("yes"));
                Some(unflow(&t, delsp))
            } else {
                Some(t.into_owned())
            }
        }
        PartType::Html(h) => Some(html_to_text(&repair_charset(part, h, buf))),
        _ => None,
    }
}

/// When decoding produced replacement characters and the declared charset is absent, unknown
/// or UTF-8 (often a lie), re-decode the raw part: strict UTF-8 if valid, else Windows-1252.
fn repair_charset<'a>(part: &MessagePart<'_>, decoded: &'a str, buf: &[u8]) -> Cow<'a, str> {
    if !decoded.contains('\u{FFFD}') {
        return Cow::Borrowed(decoded);
    }
    let charset = part.content_type().and_then(|ct| ct.attribute("charset")).map(|c| c.trim().to_ascii_lowercase());
    let trusted =
        charset.as_deref().is_some_and(|c| !matches!(c, "utf-8" | "utf8") && charset_decoder(c.as_bytes()).is_some());
    if trusted {
        return Cow::Borrowed(decoded);
    }
    let start = (part.raw_body_offset() as usize).min(buf.len());
    let end = (part.raw_end_offset() as usize).clamp(start, buf.len());
    let raw = &buf[start..end];
    let encoding = part.content_transfer_encoding().map(|e| e.trim().to_ascii_lowercase());
    let bytes = match encoding.as_deref() {
        Some("base64") => base64_decode(raw),
        Some("quoted-printable") => quoted_printable_decode(raw),
        _ => Some(raw.to_vec()),
    };
    match bytes {
        Some(b) if std::str::from_utf8(&b).is_err() => {
            let text = decode_cp1252(&b);
            if part.is_text_html() {
                Cow::Owned(text)
            } else {
                Cow::Owned(text.trim_end_matches(['\r', '\n']).to_owned() + "\n")
            }
        }
        _ => Cow::Borrowed(decoded),
    }
}

/// RFC 3676 `format=flowed`: joins soft-broken lines (ending in a space) of the same quote depth.
fn unflow(text: &str, delsp: bool) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let depth = raw.chars().take_while(|&c| c == '>').count();
        let mut content = &raw[depth..];
        if let Some(stripped) = content.strip_prefix(' ') {
            content = stripped;
        }
        let soft = content.ends_with(' ') && content != "-- ";
        let piece = if soft && delsp { &content[..content.len() - 1] } else { content };
        match &mut current {
            Some((d, buf)) if *d == depth => buf.push_str(piece),
            _ => {
                if let Some((d, buf)) = current.take() {
                    out.push(quote_line(d, &buf));
                }
                current = Some((depth, piece.to_owned()));
            }
        }
        if !soft {
            if let Some((d, buf)) = current.take() {
                out.push(quote_line(d, &buf));
            }
        }
    }
    if let Some((d, buf)) = current.take() {
        out.push(quote_line(d, &buf));
    }
    out.join("\n")
}

fn quote_line(depth: usize, content: &str) -> String {
    if depth == 0 {
        content.to_owned()
    } else {
        format!("{} {content}", ">".repeat(depth))
    }
}

/// Normalises newlines, removes control characters, trailing spaces (but keeps the "-- "
/// signature delimiter recognisable), blank-line runs and outer blank lines.
fn tidy_body(s: &str) -> String {
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    let mut out: Vec<String> = Vec::new();
    for line in s.split('\n') {
        let l: String = line.chars().filter(|&c| c == '\t' || !c.is_control()).collect();
        let l = l.replace('\u{FEFF}', "").replace('\u{A0}', " ");
        let l = if l == "-- " { l.as_str() } else { l.trim_end() };
        if l.is_empty() && out.last().is_none_or(|p| p.is_empty()) {
            continue;
        }
        out.push(l.to_owned());
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out.join("\n")
}

fn attachments(msg: &Message<'_>) -> Vec<Attachment> {
    let mut out = Vec::new();
    for part in msg.attachments() {
        let content_type = part.content_type().map(mime_type).unwrap_or_else(|| "application/octet-stream".to_owned());
        let data = match &part.body {
            PartType::Binary(b) | PartType::InlineBinary(b) => b.to_vec(),
            PartType::Text(t) | PartType::Html(t) => t.as_bytes().to_vec(),
            PartType::Message(m) => m.raw_message().to_vec(),
            PartType::Multipart(_) => continue,
        };
        let inline = matches!(part.body, PartType::InlineBinary(_))
            || part.content_disposition().is_some_and(|d| d.ctype().eq_ignore_ascii_case("inline"));
        let filename = part
            .attachment_name()
            .map(sanitize_filename)
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| default_filename(&content_type, out.len() + 1));
        out.push(Attachment { filename, content_type, data, inline });
    }
    out
}

/// The last path component, without control characters, at most 200 characters.
fn sanitize_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let t = cleaned.trim().trim_matches('.').trim();
    t.to_owned()
}

fn default_filename(content_type: &str, n: usize) -> String {
    let ext = match content_type {
        "message/rfc822" => "eml",
        "text/plain" => "txt",
        "text/html" => "html",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "application/pdf" => "pdf",
        _ => "bin",
    };
    format!("attachment-{n}.{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_end_variants() {
        assert_eq!(header_end(b"A: b\n\nbody"), 6);
        assert_eq!(header_end(b"A: b\r\n\r\nbody"), 8);
        assert_eq!(header_end(b"A: b"), 4);
    }

    #[test]
    fn unflow_joins_soft_breaks() {
        assert_eq!(unflow("Hello \nworld\n-- \nsig", false), "Hello world\n-- \nsig");
        assert_eq!(unflow("> quoted \n> more\nnew", false), "> quoted more\nnew");
        assert_eq!(unflow("ab \ncd", true), "abcd");
    }

    #[test]
    fn ids_from_raw_text() {
        assert_eq!(extract_ids("<a@x> junk <b@y>"), vec!["a@x", "b@y"]);
        assert_eq!(extract_ids("<a@x"), Vec::<String>::new());
    }

    #[test]
    fn filenames() {
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_filename("C:\\x\\report.pdf"), "report.pdf");
        assert_eq!(sanitize_filename(".."), "");
        assert_eq!(default_filename("image/png", 2), "attachment-2.png");
    }
}
