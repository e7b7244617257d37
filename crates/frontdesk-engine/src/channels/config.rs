//! Each channel kind's configuration: what the admin sends, validated with
//! the field named on every error (`config.smtp.host: …`). Secrets travel
//! apart (`secrets`), are stored, and are never shown again.

use std::collections::BTreeMap;

use frontdesk_core::model::Channel;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// The Graph API's default address (configurable for tests and proxies).
pub const GRAPH_BASE_URL: &str = "https://graph.facebook.com/v21.0";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// The support address the agent answers from (and never replies to).
    pub address: String,
    #[serde(default)]
    pub display_name: Option<String>,
    /// Other addresses of ours (aliases): never replied to, never Cc'd.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Reply to all participants (else to the sender only).
    #[serde(default)]
    pub reply_all: bool,
    /// Appended to the agent's emails.
    #[serde(default)]
    pub signature: Option<String>,
    /// Addresses and domains the agent never answers: their mail goes to a human at once.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// The agent's replies per sender per hour, at most (loop protection).
    #[serde(default = "default_max_replies")]
    pub max_replies_per_hour: u32,
    /// Inbound by IMAP (absent: only the raw-MIME webhook).
    #[serde(default)]
    pub imap: Option<ImapSettings>,
    /// Outbound by SMTP (absent: replies stay queued and fail visibly).
    #[serde(default)]
    pub smtp: Option<SmtpSettings>,
}

fn default_max_replies() -> u32 {
    5
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ImapSettings {
    pub host: String,
    #[serde(default = "imap_port")]
    pub port: u16,
    /// `tls` (implicit), `starttls` or `plain` (loopback only).
    #[serde(default = "tls")]
    pub security: String,
    pub username: String,
    #[serde(default = "inbox")]
    pub mailbox: String,
    /// Seconds between polls when the server has no IDLE.
    #[serde(default = "poll_secs")]
    pub poll_secs: u64,
    #[serde(default)]
    pub accept_invalid_certs: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    #[serde(default = "smtp_port")]
    pub port: u16,
    /// `tls` (implicit), `starttls` or `plain` (loopback only).
    #[serde(default = "starttls")]
    pub security: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub accept_invalid_certs: bool,
}

fn imap_port() -> u16 {
    993
}
fn smtp_port() -> u16 {
    587
}
fn tls() -> String {
    "tls".into()
}
fn starttls() -> String {
    "starttls".into()
}
fn inbox() -> String {
    "INBOX".into()
}
fn poll_secs() -> u64 {
    60
}

/// WhatsApp Business Cloud API or Messenger Platform.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MetaConfig {
    /// WhatsApp: the business phone number id; Messenger: the page id.
    pub account_id: String,
    /// The token Meta echoes in the GET verification handshake.
    pub verify_token: String,
    #[serde(default = "graph_base")]
    pub graph_base_url: String,
}

fn graph_base() -> String {
    GRAPH_BASE_URL.into()
}

/// Any system as a channel.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CustomConfig {
    /// Where outbound messages are posted (signed).
    pub webhook_url: String,
}

/// The secrets each kind needs (names), for validation and display.
pub fn secret_names(kind: Channel) -> &'static [&'static str] {
    match kind {
        Channel::Email => &["imap_password", "smtp_password"],
        Channel::WhatsApp | Channel::Messenger => &["access_token", "app_secret"],
        Channel::Custom => &["webhook_secret"],
        Channel::LiveChat => &[],
    }
}

fn field(path: &str, e: impl std::fmt::Display) -> Error {
    Error::invalid_field(path, e.to_string())
}

fn parse<T: serde::de::DeserializeOwned>(config: &Value) -> Result<T> {
    serde_json::from_value(config.clone()).map_err(|e| field("config", format!("is not valid: {e}")))
}

fn non_empty(path: &str, v: &str, max: usize) -> Result<()> {
    if v.trim().is_empty() {
        return Err(field(path, "must not be empty"));
    }
    if v.chars().count() > max {
        return Err(field(path, format!("must be at most {max} characters")));
    }
    Ok(())
}

fn security(path: &str, v: &str) -> Result<()> {
    match v {
        "tls" | "starttls" | "plain" => Ok(()),
        _ => Err(field(path, "must be tls, starttls or plain")),
    }
}

fn http_url(path: &str, v: &str) -> Result<()> {
    match url::Url::parse(v) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(field(path, "must be an http(s) URL")),
    }
}

fn email_address(path: &str, v: &str) -> Result<()> {
    frontdesk_core::validate::EmailAddress::parse(path, v).map(|_| ()).map_err(|e| field(path, e.message))
}

/// Validates a kind's configuration; returns it normalised.
pub fn validate(kind: Channel, config: &Value) -> Result<Value> {
    let out = match kind {
        Channel::Email => {
            let mut c: EmailConfig = parse(config)?;
            c.address = c.address.trim().to_lowercase();
            email_address("config.address", &c.address)?;
            for (i, a) in c.aliases.iter_mut().enumerate() {
                *a = a.trim().to_lowercase();
                email_address(&format!("config.aliases[{i}]"), a)?;
            }
            frontdesk_channels::email::IgnoreList::parse(&c.ignore).map_err(|e| field("config.ignore", e))?;
            if c.max_replies_per_hour > 1000 {
                return Err(field("config.max_replies_per_hour", "must be at most 1000"));
            }
            if let Some(sig) = &c.signature {
                if sig.chars().count() > 2000 {
                    return Err(field("config.signature", "must be at most 2000 characters"));
                }
            }
            if let Some(i) = &c.imap {
                non_empty("config.imap.host", &i.host, 253)?;
                non_empty("config.imap.username", &i.username, 320)?;
                non_empty("config.imap.mailbox", &i.mailbox, 200)?;
                security("config.imap.security", &i.security)?;
                if i.port == 0 {
                    return Err(field("config.imap.port", "must be a port number"));
                }
                if !(5..=3600).contains(&i.poll_secs) {
                    return Err(field("config.imap.poll_secs", "must be between 5 and 3600"));
                }
            }
            if let Some(s) = &c.smtp {
                non_empty("config.smtp.host", &s.host, 253)?;
                security("config.smtp.security", &s.security)?;
                if s.port == 0 {
                    return Err(field("config.smtp.port", "must be a port number"));
                }
            }
            serde_json::to_value(c)
        }
        Channel::WhatsApp | Channel::Messenger => {
            let c: MetaConfig = parse(config)?;
            non_empty("config.account_id", &c.account_id, 100)?;
            non_empty("config.verify_token", &c.verify_token, 200)?;
            http_url("config.graph_base_url", &c.graph_base_url)?;
            serde_json::to_value(c)
        }
        Channel::Custom => {
            let c: CustomConfig = parse(config)?;
            http_url("config.webhook_url", &c.webhook_url)?;
            serde_json::to_value(c)
        }
        Channel::LiveChat => return Err(field("kind", "live chat is built in: it needs no channel")),
    };
    out.map_err(|e| Error::internal(anyhow::anyhow!(e)))
}

/// The refusal of a saved address, naming it and the setting that allows it.
fn private(path: &str, p: &frontdesk_net::PrivateAddress) -> Error {
    field(path, format!("points to a private or local address ({}); set {} to allow it", p.ip, p.setting))
}

async fn guard_url(path: &str, v: &str, allow_private: bool) -> Result<()> {
    let Ok(url) = url::Url::parse(v) else { return Ok(()) };
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else { return Ok(()) };
    frontdesk_net::check_host(host, port, allow_private).await.map_err(|p| private(path, &p))
}

async fn guard_mail(path: &str, host: &str, port: u16, allow_private: bool) -> Result<()> {
    frontdesk_net::check_host(host, port, allow_private).await.map_err(|mut p| {
        p.setting = super::email::MAIL_SETTING;
        private(path, &p)
    })
}

/// The network guard on a configuration being saved (after [`validate`]):
/// `graph_base_url`, `webhook_url` and the IMAP/SMTP hosts must not be, or
/// resolve to, private addresses unless the settings allow it. The same check
/// runs again at every connection (a DNS answer can change).
pub async fn check_addresses(kind: Channel, config: &Value, settings: &crate::config::Settings) -> Result<()> {
    let networks = settings.allow_private_networks;
    match kind {
        Channel::Email => {
            let c: EmailConfig = parse(config)?;
            let mail = settings.private_mail_servers();
            if let Some(i) = &c.imap {
                guard_mail("config.imap.host", &i.host, i.port, mail).await?;
            }
            if let Some(s) = &c.smtp {
                guard_mail("config.smtp.host", &s.host, s.port, mail).await?;
            }
        }
        Channel::WhatsApp | Channel::Messenger => {
            let c: MetaConfig = parse(config)?;
            guard_url("config.graph_base_url", &c.graph_base_url, networks).await?;
        }
        Channel::Custom => {
            let c: CustomConfig = parse(config)?;
            guard_url("config.webhook_url", &c.webhook_url, networks).await?;
        }
        Channel::LiveChat => {}
    }
    Ok(())
}

/// Refuses secrets a kind does not use.
pub fn validate_secrets(kind: Channel, secrets: &BTreeMap<String, String>) -> Result<()> {
    for (k, v) in secrets {
        if !secret_names(kind).contains(&k.as_str()) {
            return Err(field(
                &format!("secrets.{k}"),
                format!("is not a secret of this channel (expected one of: {})", secret_names(kind).join(", ")),
            ));
        }
        if v.chars().count() > 4096 {
            return Err(field(&format!("secrets.{k}"), "must be at most 4096 characters"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err_field(kind: Channel, v: Value) -> String {
        validate(kind, &v).unwrap_err().field().unwrap_or_default().to_owned()
    }

    #[test]
    fn bad_configuration_is_named_by_field() {
        assert_eq!(err_field(Channel::Email, json!({"address": "nope"})), "config.address");
        assert_eq!(err_field(Channel::Email, json!({"address": "a@b.io", "ignore": ["@@"]})), "config.ignore");
        assert_eq!(
            err_field(Channel::Email, json!({"address": "a@b.io", "imap": {"host": "", "username": "u"}})),
            "config.imap.host"
        );
        assert_eq!(
            err_field(Channel::Email, json!({"address": "a@b.io", "smtp": {"host": "h", "security": "ssl3"}})),
            "config.smtp.security"
        );
        assert_eq!(err_field(Channel::Email, json!({"address": "a@b.io", "colour": 1})), "config");
        assert_eq!(
            err_field(Channel::WhatsApp, json!({"account_id": "1", "verify_token": "t", "graph_base_url": "ftp://x"})),
            "config.graph_base_url"
        );
        assert_eq!(err_field(Channel::Custom, json!({"webhook_url": "not a url"})), "config.webhook_url");
        assert_eq!(err_field(Channel::LiveChat, json!({})), "kind");
    }

    #[test]
    fn good_configuration_is_normalised() {
        let v = validate(Channel::Email, &json!({"address": " Support@Shop.IO "})).unwrap();
        assert_eq!(v["address"], "support@shop.io");
        assert_eq!(v["max_replies_per_hour"], 5);
        let v = validate(Channel::WhatsApp, &json!({"account_id": "123", "verify_token": "t"})).unwrap();
        assert_eq!(v["graph_base_url"], GRAPH_BASE_URL);
    }

    #[test]
    fn unknown_secrets_are_refused() {
        let mut s = BTreeMap::new();
        s.insert("password".to_owned(), "x".to_owned());
        assert!(validate_secrets(Channel::Email, &s).is_err());
        s.clear();
        s.insert("smtp_password".to_owned(), "x".to_owned());
        assert!(validate_secrets(Channel::Email, &s).is_ok());
    }
}
