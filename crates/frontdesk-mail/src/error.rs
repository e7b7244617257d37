//! The one error type of this crate, shared by IMAP and SMTP.

use std::fmt;

/// Which protocol an error came from; part of every message ("IMAP server mail.example:993").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Imap,
    Smtp,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Imap => "IMAP",
            Protocol::Smtp => "SMTP",
        })
    }
}

/// The server an error is about: protocol, host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
}

impl Server {
    pub fn new(protocol: Protocol, host: &str, port: u16) -> Self {
        Server { protocol, host: host.to_owned(), port }
    }
}

impl fmt::Display for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "{} server [{}]:{}", self.protocol, self.host, self.port)
        } else {
            write!(f, "{} server {}:{}", self.protocol, self.host, self.port)
        }
    }
}

/// What went wrong talking to a mail server.
///
/// [`MailError::is_permanent`] tells whether doing the same thing again, unchanged, can
/// succeed: retry only when it is false. [`MailError::needs_operator`] singles out the
/// permanent errors that are about the account's settings (credentials, certificate,
/// mailbox name) rather than about one message, so a caller can pause the channel and
/// alert an administrator instead of failing every message in turn.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// DNS lookup failed, the connection was refused or reset, or it was lost mid-session.
    #[error("cannot reach {server}: {message}")]
    Connection { server: Server, message: String },

    /// TLS could not be set up: handshake failure, an untrusted or mismatched certificate,
    /// a server without STARTTLS when it was required.
    #[error("TLS with {server} failed: {message}")]
    Tls { server: Server, message: String },

    /// The server refused the credentials.
    #[error("{server} refused the login of {username:?}: {message}")]
    Auth { server: Server, username: String, message: String },

    /// The IMAP mailbox to read does not exist (or may not be selected).
    #[error("{server} has no mailbox {mailbox:?}: {message}")]
    MailboxNotFound { server: Server, mailbox: String, message: String },

    /// The SMTP server refused the message or a recipient: `code` 5xx is permanent, 4xx
    /// transient (try again later).
    #[error("{server} rejected the message with {code}: {message}")]
    Rejected { server: Server, code: u16, message: String },

    /// No answer within the configured time.
    #[error("{server} did not answer within {secs} s ({during})")]
    Timeout { server: Server, secs: u64, during: String },

    /// The server answered something unexpected (BAD, a malformed reply, a missing feature).
    #[error("protocol error with {server}: {message}")]
    Protocol { server: Server, message: String },

    /// The arguments cannot work: an invalid address, no recipient, an unusable host name.
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

impl MailError {
    /// True when repeating the same operation unchanged cannot succeed: bad credentials,
    /// a TLS/certificate failure, a missing mailbox, a 5xx rejection, invalid input.
    /// Connection problems, time-outs, protocol hiccups and 4xx rejections are transient.
    pub fn is_permanent(&self) -> bool {
        match self {
            MailError::Connection { .. } | MailError::Timeout { .. } | MailError::Protocol { .. } => false,
            MailError::Rejected { code, .. } => *code >= 500,
            MailError::Tls { .. }
            | MailError::Auth { .. }
            | MailError::MailboxNotFound { .. }
            | MailError::InvalidInput(_) => true,
        }
    }

    /// True for the permanent errors an administrator must fix in the account's settings
    /// (credentials, certificate, mailbox): pause the channel rather than drop messages.
    pub fn needs_operator(&self) -> bool {
        matches!(self, MailError::Tls { .. } | MailError::Auth { .. } | MailError::MailboxNotFound { .. })
    }

    /// The SMTP reply code of a rejection, if this is one.
    pub fn smtp_code(&self) -> Option<u16> {
        match self {
            MailError::Rejected { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The server the error is about (None for invalid input).
    pub fn server(&self) -> Option<&Server> {
        match self {
            MailError::Connection { server, .. }
            | MailError::Tls { server, .. }
            | MailError::Auth { server, .. }
            | MailError::MailboxNotFound { server, .. }
            | MailError::Rejected { server, .. }
            | MailError::Timeout { server, .. }
            | MailError::Protocol { server, .. } => Some(server),
            MailError::InvalidInput(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> Server {
        Server::new(Protocol::Smtp, "mail.example.test", 587)
    }

    #[test]
    fn permanence_follows_the_reply_code() {
        let rejected = |code| MailError::Rejected { server: server(), code, message: "no".into() };
        assert!(rejected(550).is_permanent());
        assert!(rejected(554).is_permanent());
        assert!(!rejected(451).is_permanent());
        assert!(!rejected(421).is_permanent());
        assert_eq!(rejected(451).smtp_code(), Some(451));
        let timeout = MailError::Timeout { server: server(), secs: 30, during: "connect".into() };
        assert!(!timeout.is_permanent());
        let auth = MailError::Auth { server: server(), username: "u".into(), message: "535".into() };
        assert!(auth.is_permanent() && auth.needs_operator());
        assert!(!rejected(550).needs_operator());
    }

    #[test]
    fn messages_name_protocol_host_and_port() {
        let e = MailError::Connection { server: server(), message: "connection refused".into() };
        assert_eq!(e.to_string(), "cannot reach SMTP server mail.example.test:587: connection refused");
        let v6 = Server::new(Protocol::Imap, "::1", 993);
        assert_eq!(v6.to_string(), "IMAP server [::1]:993");
    }
}
