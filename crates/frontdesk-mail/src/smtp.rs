//! SMTP outbound: hands one raw RFC 5322 message to a submission server (lettre over
//! tokio + rustls/ring). The message bytes are sent as they are; the envelope (MAIL FROM,
//! RCPT TO) is given separately, so Bcc recipients never appear in the headers.

use std::borrow::Cow;
use std::error::Error as _;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use lettre::address::{Address, Envelope};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::error::{MailError, Protocol, Server};

/// The default limit, in seconds, for connecting and for each reply.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmtpSecurity {
    /// Implicit TLS from the first byte (SMTPS / submissions, port 465).
    Tls,
    /// Plain connection upgraded with STARTTLS, required (submission, port 587). The default.
    #[default]
    StartTls,
    /// No encryption: credentials and mail in clear. Loopback and tests only.
    Plain,
}

impl SmtpSecurity {
    /// The usual port: 465 for `Tls`, 587 for `StartTls`, 25 for `Plain`.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::Tls => 465,
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Plain => 25,
        }
    }
}

/// Where and how to send mail.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// AUTH (PLAIN, else LOGIN) with these when set.
    pub username: Option<String>,
    pub password: Option<String>,
    /// Accept any certificate (self-signed test servers). Never for real servers.
    pub accept_invalid_certs: bool,
    /// Limit, in seconds, for connecting and for each step; the whole send is bounded by
    /// four times this plus one second per 64 KiB of message.
    pub timeout_secs: u64,
    /// Where to connect, when the caller resolved `host` itself and checked the
    /// addresses (the network guard); empty: `host` is resolved here. `host`
    /// stays the TLS server name either way.
    pub addresses: Vec<SocketAddr>,
}

impl SmtpConfig {
    /// STARTTLS on port 587, no AUTH, certificates verified, 30 s.
    pub fn new(host: impl Into<String>) -> Self {
        SmtpConfig {
            host: host.into(),
            port: SmtpSecurity::StartTls.default_port(),
            security: SmtpSecurity::StartTls,
            username: None,
            password: None,
            accept_invalid_certs: false,
            timeout_secs: DEFAULT_TIMEOUT_SECS,
            addresses: Vec::new(),
        }
    }

    fn limit(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.max(1))
    }
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("accept_invalid_certs", &self.accept_invalid_certs)
            .field("timeout_secs", &self.timeout_secs)
            .field("addresses", &self.addresses)
            .finish()
    }
}

/// Sends `raw` (a complete RFC 5322 message) with envelope sender `from` to the envelope
/// recipients `to`. `from` may be empty for the null sender `<>` (bounces, auto-replies
/// per RFC 3834). The server receives `raw` byte for byte, except that bare LF line ends
/// become CRLF (SMTP requires CRLF, and servers guarding against SMTP smuggling refuse
/// bare LF); dot-stuffing is done on the wire.
///
/// All recipients go in one transaction: if the server refuses any of them the whole
/// send fails ([`MailError::Rejected`], 5xx permanent / 4xx transient) and nothing is
/// delivered; send one recipient per call when partial delivery matters.
pub async fn send(cfg: &SmtpConfig, from: &str, to: &[String], raw: &[u8]) -> Result<(), MailError> {
    let server = Server::new(Protocol::Smtp, &cfg.host, cfg.port);
    let envelope = envelope(from, to)?;
    let target = target(cfg, &server).await?;
    let transport = transport(cfg, &server, target)?;
    let data = wire_data(raw);
    let budget = cfg.limit() * 4 + Duration::from_secs(raw.len() as u64 / 65_536);
    match tokio::time::timeout(budget, transport.send_raw(&envelope, &data)).await {
        Ok(Ok(response)) => {
            tracing::debug!(
                %server,
                code = %response.code(),
                recipients = to.len(),
                bytes = raw.len(),
                "SMTP message accepted"
            );
            Ok(())
        }
        Ok(Err(e)) => Err(map_error(&server, cfg, e)),
        Err(_) => Err(MailError::Timeout { server, secs: budget.as_secs(), during: "sending the message".into() }),
    }
}

/// CRLF line ends, and without the final CRLF: lettre ends DATA with `CRLF . CRLF`
/// itself, so a message's own last line end would otherwise become an extra empty line.
fn wire_data(raw: &[u8]) -> Cow<'_, [u8]> {
    let bare_lf = raw.iter().enumerate().any(|(i, &b)| b == b'\n' && (i == 0 || raw[i - 1] != b'\r'));
    let mut data: Cow<'_, [u8]> = if bare_lf {
        let mut out = Vec::with_capacity(raw.len() + raw.len() / 32);
        for (i, &b) in raw.iter().enumerate() {
            if b == b'\n' && (i == 0 || raw[i - 1] != b'\r') {
                out.push(b'\r');
            }
            out.push(b);
        }
        Cow::Owned(out)
    } else {
        Cow::Borrowed(raw)
    };
    if data.ends_with(b"\r\n") {
        match &mut data {
            Cow::Borrowed(d) => *d = &d[..d.len() - 2],
            Cow::Owned(d) => d.truncate(d.len() - 2),
        }
    }
    data
}

fn envelope(from: &str, to: &[String]) -> Result<Envelope, MailError> {
    let from = from.trim();
    let sender = if from.is_empty() || from == "<>" { None } else { Some(parse_address("sender", from)?) };
    if to.is_empty() {
        return Err(MailError::InvalidInput("no recipient".into()));
    }
    let recipients = to.iter().map(|r| parse_address("recipient", r.trim())).collect::<Result<Vec<_>, _>>()?;
    Envelope::new(sender, recipients).map_err(|e| MailError::InvalidInput(e.to_string()))
}

fn parse_address(what: &str, address: &str) -> Result<Address, MailError> {
    let bare = address.strip_prefix('<').and_then(|a| a.strip_suffix('>')).unwrap_or(address);
    bare.parse::<Address>().map_err(|e| MailError::InvalidInput(format!("{what} {address:?} is not an address: {e}")))
}

/// The address lettre connects to: with pinned addresses, the first that
/// accepts a connection (probed when there are several), as an IP — lettre
/// then resolves nothing — while the TLS parameters keep the host name.
async fn target(cfg: &SmtpConfig, server: &Server) -> Result<Option<SocketAddr>, MailError> {
    match cfg.addresses.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        several => {
            let (probe, addr) = crate::net::connect_tcp(server, several, cfg.limit()).await?;
            drop(probe);
            Ok(Some(addr))
        }
    }
}

fn transport(
    cfg: &SmtpConfig,
    server: &Server,
    target: Option<SocketAddr>,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
    let tls_parameters = || {
        TlsParameters::builder(cfg.host.clone())
            .dangerous_accept_invalid_certs(cfg.accept_invalid_certs)
            .build_rustls()
            .map_err(|e| MailError::Tls { server: server.clone(), message: e.to_string() })
    };
    let tls = match cfg.security {
        SmtpSecurity::Tls => Tls::Wrapper(tls_parameters()?),
        SmtpSecurity::StartTls => Tls::Required(tls_parameters()?),
        SmtpSecurity::Plain => {
            let loopback =
                cfg.host == "localhost" || cfg.host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if !loopback {
                tracing::warn!(%server, "SMTP without TLS: mail and password travel in clear");
            }
            Tls::None
        }
    };
    let (connect_to, port) = match target {
        Some(a) => (a.ip().to_string(), a.port()),
        None => (cfg.host.clone(), cfg.port),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(connect_to)
        .port(port)
        .tls(tls)
        .timeout(Some(cfg.limit()));
    if let Some(username) = &cfg.username {
        builder = builder
            .credentials(Credentials::new(username.clone(), cfg.password.clone().unwrap_or_default()))
            .authentication(vec![Mechanism::Plain, Mechanism::Login]);
    }
    Ok(builder.build())
}

fn map_error(server: &Server, cfg: &SmtpConfig, e: lettre::transport::smtp::Error) -> MailError {
    let server = server.clone();
    // The server's own words (lettre keeps them as the error's source).
    let detail = e.source().map(|s| s.to_string()).unwrap_or_else(|| e.to_string());
    if let Some(code) = e.status() {
        let code = u16::from(code);
        return match code {
            // Authentication required / too weak / credentials invalid / encryption needed.
            530 | 534 | 535 | 538 => MailError::Auth {
                server,
                username: cfg.username.clone().unwrap_or_default(),
                message: format!("{code} {detail}"),
            },
            _ => MailError::Rejected { server, code, message: detail },
        };
    }
    if e.is_timeout() {
        return MailError::Timeout { server, secs: cfg.limit().as_secs(), during: detail };
    }
    if e.is_tls() || has_tls_cause(&e) {
        return MailError::Tls { server, message: e.to_string() };
    }
    if e.is_client() {
        if detail.contains("STARTTLS") {
            return MailError::Tls { server, message: detail };
        }
        if detail.contains("authentication mechanism") {
            return MailError::Auth {
                server,
                username: cfg.username.clone().unwrap_or_default(),
                message: format!("{detail} (the server offers no AUTH PLAIN or LOGIN here)"),
            };
        }
        return MailError::Protocol { server, message: detail };
    }
    if e.is_response() {
        return MailError::Protocol { server, message: e.to_string() };
    }
    MailError::Connection { server, message: e.to_string() }
}

/// Whether a rustls error (handshake, certificate, a non-TLS peer) is behind `e`.
fn has_tls_cause(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cause {
        if err.is::<rustls::Error>() {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) {
                return true;
            }
        }
        cause = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes() {
        assert!(envelope("a@example.test", &["b@example.test".into()]).is_ok());
        assert!(envelope("", &["b@example.test".into()]).is_ok());
        assert!(envelope("<a@example.test>", &["<b@example.test>".into()]).is_ok());
        assert!(matches!(envelope("a@example.test", &[]), Err(MailError::InvalidInput(_))));
        let bad = envelope("a@example.test", &["not an address".into()]).unwrap_err();
        assert!(bad.is_permanent());
        assert!(bad.to_string().contains("not an address"), "{bad}");
    }

    #[test]
    fn wire_data_has_crlf_and_no_final_line_end() {
        assert_eq!(&*wire_data(b"A: b\r\n\r\nbody\r\n"), b"A: b\r\n\r\nbody");
        assert_eq!(&*wire_data(b"A: b\n\nbody\n"), b"A: b\r\n\r\nbody");
        assert_eq!(&*wire_data(b"A: b\r\n\r\nbody"), b"A: b\r\n\r\nbody");
        assert_eq!(&*wire_data(b"A: b\r\n\r\nx\r\n\r\n"), b"A: b\r\n\r\nx\r\n");
        assert!(matches!(wire_data(b"A: b\r\n\r\nbody\r\n"), Cow::Borrowed(_)));
    }

    #[test]
    fn config_debug_hides_the_password() {
        let mut cfg = SmtpConfig::new("smtp.example.test");
        cfg.username = Some("me".into());
        cfg.password = Some("s3cret".into());
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert_eq!(cfg.port, 587);
        assert_eq!(SmtpSecurity::Tls.default_port(), 465);
    }
}
