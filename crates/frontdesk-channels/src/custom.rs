//! Custom channels (C1): any system that sends messages in through the public API and receives
//! the agent's replies as signed webhooks.
//!
//! Outbound deliveries carry `Frontdesk-Signature: t=<unix>,v1=<hex>` where the hex is
//! `HMAC-SHA256(secret, "<t>.<body>")` — the scheme Stripe made familiar: the timestamp inside the
//! signed text defeats replays, several `v1` entries allow rotating the secret.

use frontdesk_core::validate::{bounded_text, EmailAddress, MessageText, ValidationError};
use serde::{Deserialize, Serialize};

pub use crate::signature::SignatureError;
use crate::signature::{hmac_matches, hmac_sha256};

/// The header carrying the signature of an outbound delivery.
pub const SIGNATURE_HEADER: &str = "Frontdesk-Signature";
/// A sensible default for [`verify`]'s tolerance: 5 minutes.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// The signature header value for `body` sent at `timestamp`: `t=<timestamp>,v1=<hex>`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let t = timestamp.to_string();
    let mac = hmac_sha256(secret, &[t.as_bytes(), b".", body]);
    format!("t={t},v1={}", hex::encode(mac))
}

/// Verifies a `Frontdesk-Signature` value (what a receiving system does; also used by our
/// tests and by the "send a test event" tool). Accepts any number of `v1=` entries (one per
/// active secret during a rotation) and ignores unknown keys; rejects timestamps more than
/// `tolerance_secs` away from `now` in either direction.
pub fn verify(secret: &[u8], header: &str, body: &[u8], now: i64, tolerance_secs: i64) -> Result<(), SignatureError> {
    if secret.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    let header = header.trim();
    if header.is_empty() {
        return Err(SignatureError::Missing);
    }
    let mut timestamp: Option<&str> = None;
    let mut signatures: Vec<Vec<u8>> = Vec::new();
    for item in header.split(',') {
        let Some((k, v)) = item.split_once('=') else {
            return Err(SignatureError::Malformed(format!("{:?} is not key=value", item.trim())));
        };
        match k.trim() {
            "t" => {
                if timestamp.is_some() {
                    return Err(SignatureError::Malformed("more than one t=".into()));
                }
                timestamp = Some(v.trim());
            }
            "v1" => match hex::decode(v.trim()) {
                Ok(sig) if sig.len() == 32 => signatures.push(sig),
                _ => return Err(SignatureError::Malformed("a v1 signature is not 64 hex digits".into())),
            },
            _ => {}
        }
    }
    let t_str = timestamp.ok_or_else(|| SignatureError::Malformed("no t= timestamp".into()))?;
    let t: i64 = t_str.parse().map_err(|_| SignatureError::Malformed(format!("t={t_str:?} is not a unix time")))?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed("no v1= signature".into()));
    }
    let tolerance = tolerance_secs.max(0);
    let age = now.saturating_sub(t);
    if age.saturating_abs() > tolerance {
        return Err(SignatureError::OutOfTolerance { age_secs: age, tolerance_secs: tolerance });
    }
    // Check every candidate (no early exit) so timing does not reveal which one matched.
    let mut ok = false;
    for sig in &signatures {
        ok |= hmac_matches(secret, &[t_str.as_bytes(), b".", body], sig);
    }
    if ok {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Longest accepted id (ours or the system's).
pub const MAX_EXTERNAL_ID_CHARS: usize = 255;
/// Longest accepted contact name.
pub const MAX_NAME_CHARS: usize = 200;

/// A message posted by a custom channel's system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundCustom {
    /// The system's id for this message: retries with the same id are deduplicated.
    pub external_id: String,
    pub contact: CustomContact,
    pub text: String,
}

/// Who wrote, as the system knows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomContact {
    /// The system's stable id for the person: the conversation key.
    pub external_id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

impl InboundCustom {
    /// Checks every field and returns the cleaned message: ids and text trimmed, blank optional
    /// fields as `None`, the email's domain lowercased, the phone normalised
    /// ([`crate::phone::normalize_phone`]). The error names the field (`external_id`,
    /// `contact.external_id`, `contact.name`, `contact.email`, `contact.phone`, `text`) and why.
    pub fn validate(&self) -> Result<InboundCustom, ValidationError> {
        let external_id = id_field("external_id", &self.external_id)?;
        let contact_id = id_field("contact.external_id", &self.contact.external_id)?;
        let name = optional(&self.contact.name)
            .map(|n| bounded_text("contact.name", n, 1, MAX_NAME_CHARS))
            .transpose()?
            .map(|n| n.split_whitespace().collect::<Vec<_>>().join(" "));
        let email = optional(&self.contact.email)
            .map(|e| EmailAddress::parse("contact.email", e).map(|e| e.as_str().to_owned()))
            .transpose()?;
        let phone = optional(&self.contact.phone)
            .map(|p| {
                crate::phone::normalize_phone(p).ok_or_else(|| {
                    ValidationError::new(
                        "contact.phone",
                        "is not a phone number (digits, spaces, - ( ) and a leading +)",
                    )
                })
            })
            .transpose()?;
        let text = MessageText::parse(&self.text).map_err(|e| ValidationError::new("text", e.message))?.into_inner();
        Ok(InboundCustom { external_id, contact: CustomContact { external_id: contact_id, name, email, phone }, text })
    }
}

fn optional(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn id_field(field: &str, v: &str) -> Result<String, ValidationError> {
    let t = bounded_text(field, v, 1, MAX_EXTERNAL_ID_CHARS)?;
    if t.chars().any(char::is_control) {
        return Err(ValidationError::new(field, "must not contain control characters or line breaks"));
    }
    Ok(t)
}

/// Who wrote an outbound message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomAuthor {
    /// The AI agent.
    Agent,
    /// A person of the team.
    Human,
}

/// A source the answer cites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomCitation {
    pub title: String,
    pub url: Option<String>,
}

/// The JSON body posted to a custom channel's webhook for each message of ours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundCustom {
    /// The same for every retry of this delivery: the receiver deduplicates on it.
    pub idempotency_key: String,
    pub conversation_id: i64,
    pub contact_external_id: String,
    pub message_id: i64,
    pub text: String,
    pub citations: Vec<CustomCitation>,
    pub author: CustomAuthor,
    /// Unix seconds.
    pub created_at: i64,
}

impl OutboundCustom {
    /// The exact bytes to post (and to sign with [`sign`]).
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain strings and integers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"text":"hi"}"#;
    // python3: hmac.new(b"whsec_test", b'1700000000.{"text":"hi"}', hashlib.sha256).hexdigest()
    const KNOWN: &str = "t=1700000000,v1=add2fc7010ee7aa23f65449ce9240cd32763de7515ca26c43cd1e9d447a5361a";

    #[test]
    fn sign_known_vector() {
        assert_eq!(sign(b"whsec_test", 1_700_000_000, BODY), KNOWN);
    }

    #[test]
    fn verify_accepts_and_rejects() {
        let now = 1_700_000_100;
        assert_eq!(verify(b"whsec_test", KNOWN, BODY, now, 300), Ok(()));
        assert_eq!(verify(b"whsec_test", &format!(" {KNOWN} "), BODY, now, 300), Ok(()));
        assert_eq!(verify(b"other", KNOWN, BODY, now, 300), Err(SignatureError::Mismatch));
        assert_eq!(verify(b"whsec_test", KNOWN, br#"{"text":"hi!"}"#, now, 300), Err(SignatureError::Mismatch));
        // Stale and future.
        assert_eq!(
            verify(b"whsec_test", KNOWN, BODY, 1_700_000_301, 300),
            Err(SignatureError::OutOfTolerance { age_secs: 301, tolerance_secs: 300 })
        );
        assert!(matches!(
            verify(b"whsec_test", KNOWN, BODY, 1_699_999_000, 300),
            Err(SignatureError::OutOfTolerance { .. })
        ));
        assert_eq!(verify(b"whsec_test", KNOWN, BODY, 1_700_000_000, -5), Ok(()));
        // Rotation: an old and a new signature; unknown keys ignored.
        let old = sign(b"old", 1_700_000_000, BODY);
        let rotated = format!("{KNOWN},v1={},v0=whatever", &old[old.find("v1=").unwrap() + 3..]);
        assert_eq!(verify(b"old", &rotated, BODY, now, 300), Ok(()));
        assert_eq!(verify(b"whsec_test", &rotated, BODY, now, 300), Ok(()));
        // Malformed.
        for bad in ["t=1700000000", "v1=00", "t=abc,v1=00", "garbage", "t=1,t=2,v1=00", "t=1700000000,v1=xyz"] {
            assert!(matches!(verify(b"whsec_test", bad, BODY, now, 300), Err(SignatureError::Malformed(_))), "{bad}");
        }
        assert_eq!(verify(b"whsec_test", "", BODY, now, 300), Err(SignatureError::Missing));
        assert_eq!(verify(b"", KNOWN, BODY, now, 300), Err(SignatureError::NoSecret));
        assert!(matches!(
            verify(
                b"whsec_test",
                "t=-9223372036854775808,v1=add2fc7010ee7aa23f65449ce9240cd32763de7515ca26c43cd1e9d447a5361a",
                BODY,
                i64::MAX,
                300
            ),
            Err(SignatureError::OutOfTolerance { .. })
        ));
    }

    fn inbound(json: &str) -> InboundCustom {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn inbound_validation() {
        let ok = inbound(
            r#"{"external_id":" m-1 ","contact":{"external_id":"u-9","name":"  Ann   Smith ","email":"Ann@Example.COM","phone":"+39 333 123 4567","extra":1},"text":" Hello ","unknown":true}"#,
        )
        .validate()
        .unwrap();
        assert_eq!(ok.external_id, "m-1");
        assert_eq!(ok.contact.name.as_deref(), Some("Ann Smith"));
        assert_eq!(ok.contact.email.as_deref(), Some("Ann@example.com"));
        assert_eq!(ok.contact.phone.as_deref(), Some("+393331234567"));
        assert_eq!(ok.text, "Hello");

        let minimal =
            inbound(r#"{"external_id":"m","contact":{"external_id":"u","email":""},"text":"x"}"#).validate().unwrap();
        assert_eq!(minimal.contact.email, None);

        for (json, field, why) in [
            (r#"{"external_id":"","contact":{"external_id":"u"},"text":"x"}"#, "external_id", "empty"),
            (r#"{"external_id":"m","contact":{"external_id":" "},"text":"x"}"#, "contact.external_id", "empty"),
            (
                r#"{"external_id":"m","contact":{"external_id":"u","email":"nope"},"text":"x"}"#,
                "contact.email",
                "not a valid email",
            ),
            (
                r#"{"external_id":"m","contact":{"external_id":"u","phone":"call me"},"text":"x"}"#,
                "contact.phone",
                "phone",
            ),
            (r#"{"external_id":"m","contact":{"external_id":"u"},"text":"  "}"#, "text", "empty"),
            (r#"{"external_id":"m\n2","contact":{"external_id":"u"},"text":"x"}"#, "external_id", "control"),
        ] {
            let e = inbound(json).validate().unwrap_err();
            assert_eq!(e.field, field, "{json}");
            assert!(e.message.contains(why), "{json}: {}", e.message);
        }
        let long = format!(r#"{{"external_id":"m","contact":{{"external_id":"u"}},"text":"{}"}}"#, "a".repeat(4001));
        let e = inbound(&long).validate().unwrap_err();
        assert_eq!(e.field, "text");
        assert!(e.message.contains("at most"));
        let long_name =
            format!(r#"{{"external_id":"m","contact":{{"external_id":"u","name":"{}"}},"text":"x"}}"#, "n".repeat(201));
        assert_eq!(inbound(&long_name).validate().unwrap_err().field, "contact.name");
        assert!(serde_json::from_str::<InboundCustom>(r#"{"external_id":"m","text":"x"}"#).is_err());
    }

    #[test]
    fn outbound_json_shape() {
        let o = OutboundCustom {
            idempotency_key: "del_1".into(),
            conversation_id: 7,
            contact_external_id: "u-9".into(),
            message_id: 42,
            text: "Hi".into(),
            citations: vec![CustomCitation { title: "FAQ".into(), url: Some("https://x/faq".into()) }],
            author: CustomAuthor::Agent,
            created_at: 1_700_000_000,
        };
        let v: serde_json::Value = serde_json::from_slice(&o.to_json()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"idempotency_key":"del_1","conversation_id":7,"contact_external_id":"u-9","message_id":42,
                "text":"Hi","citations":[{"title":"FAQ","url":"https://x/faq"}],"author":"agent","created_at":1700000000})
        );
        let body = o.to_json();
        let header = sign(b"s", 1_700_000_000, &body);
        assert_eq!(verify(b"s", &header, &body, 1_700_000_000, DEFAULT_TOLERANCE_SECS), Ok(()));
    }
}
