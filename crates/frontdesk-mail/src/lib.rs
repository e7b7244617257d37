//! Email I/O for Frontdesk: IMAP in, SMTP out.
//!
//! This crate moves raw RFC 5322 bytes and nothing else: it does not parse, build or
//! thread messages (that lives with the callers), and depends on no other Frontdesk
//! crate.
//!
//! - Inbound: [`fetch_new`] returns the messages after an [`ImapCursor`] (UID +
//!   UIDVALIDITY, persisted by the caller), [`mark_processed`] sets `\Seen`,
//!   [`wait_for_new`] / [`wait_for_new_after`] block on IMAP IDLE (or sleep when the
//!   server lacks it), [`current_cursor`] gives a cursor at the end of the mailbox.
//!   [`ImapSession`] does the same on one connection. A poller's loop:
//!
//! ```no_run
//! # async fn poll(cfg: frontdesk_mail::ImapConfig, mut cursor: Option<frontdesk_mail::ImapCursor>)
//! #     -> Result<(), frontdesk_mail::MailError> {
//! use std::time::Duration;
//! loop {
//!     let (mails, next) = frontdesk_mail::fetch_new(&cfg, cursor, 200).await?;
//!     // … store each `mail.raw` (dedupe by Message-ID), then persist `next` …
//!     let uids: Vec<u32> = mails.iter().map(|m| m.uid).collect();
//!     frontdesk_mail::mark_processed(&cfg, &uids).await?;
//!     cursor = Some(next);
//!     if mails.len() < 200 {
//!         frontdesk_mail::wait_for_new_after(&cfg, cursor, Duration::from_secs(300)).await?;
//!     }
//! }
//! # }
//! ```
//! - Outbound: [`send`] hands a raw message with its envelope to an SMTP server.
//! - Errors: one [`MailError`]; [`MailError::is_permanent`] says whether a retry can help.
//!
//! TLS is rustls with the ring provider (the stack reqwest already brings into the
//! workspace) and the Mozilla roots from webpki-roots; no OpenSSL.
//!
//! With the feature `testing`, [`testing::MailServers`] runs a real Dovecot and an SMTP
//! sink on loopback for integration tests.

mod error;
mod imap;
mod net;
mod smtp;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::{MailError, Protocol, Server};
pub use imap::{
    current_cursor, fetch_new, mark_processed, wait_for_new, wait_for_new_after, FetchedMail, ImapConfig, ImapCursor,
    ImapSession, ImapTls, DEFAULT_MAILBOX, FETCH_BATCH,
};
pub use smtp::{send, SmtpConfig, SmtpSecurity};

/// Default per-step network limit, in seconds, of [`ImapConfig::new`] and [`SmtpConfig::new`].
pub const DEFAULT_TIMEOUT_SECS: u64 = imap::DEFAULT_TIMEOUT_SECS;
