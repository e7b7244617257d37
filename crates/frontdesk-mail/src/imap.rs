//! IMAP inbound: new messages by UID, marking them `\Seen`, waiting with IDLE.
//!
//! The free functions ([`fetch_new`], [`mark_processed`], [`wait_for_new`], …) open a
//! connection, do one thing and log out: the simple path for a poller. [`ImapSession`]
//! keeps one connection for several operations.
//!
//! Messages are identified by UID within a UIDVALIDITY: the caller keeps an
//! [`ImapCursor`] (UIDVALIDITY + last UID handed out) in its database. When the server's
//! UIDVALIDITY changes (mailbox recreated, server migrated) the old UIDs mean nothing, so
//! the cursor restarts from the first message; the caller dedupes by Message-ID.

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use async_imap::error::Error as ImapError;
use async_imap::extensions::idle::IdleResponse;
use async_imap::imap_proto::{MailboxDatum, Response, Status};
use async_imap::types::Mailbox;
use futures::TryStreamExt;
use tokio::time::{timeout, Instant};

use crate::error::{MailError, Protocol, Server};
use crate::net::{connect_tcp, start_tls, Stream};

/// The mailbox read when none is configured.
pub const DEFAULT_MAILBOX: &str = "INBOX";
/// The default limit, in seconds, for each network step (connect, TLS, login, a command,
/// the next message of a FETCH).
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;
/// UIDs per `UID FETCH` command.
pub const FETCH_BATCH: usize = 200;
/// UIDs per `UID STORE` command.
const STORE_BATCH: usize = 1000;

/// How the IMAP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImapTls {
    /// Implicit TLS from the first byte (IMAPS, port 993). The default.
    #[default]
    Tls,
    /// Plain connection upgraded with STARTTLS before login (port 143).
    StartTls,
    /// No encryption at all: password in clear. Loopback and tests only.
    Plain,
}

impl ImapTls {
    /// The usual port for this mode: 993 for `Tls`, 143 otherwise.
    pub fn default_port(self) -> u16 {
        match self {
            ImapTls::Tls => 993,
            ImapTls::StartTls | ImapTls::Plain => 143,
        }
    }
}

/// Where and how to read mail.
#[derive(Clone, PartialEq, Eq)]
pub struct ImapConfig {
    pub host: String,
    pub port: u16,
    pub tls: ImapTls,
    pub username: String,
    pub password: String,
    /// The mailbox to read, as the server names it; `INBOX` by default.
    pub mailbox: String,
    /// Accept any certificate (self-signed test servers). Never for real servers.
    pub accept_invalid_certs: bool,
    /// Limit for each network step, in seconds (not for the whole operation).
    pub timeout_secs: u64,
    /// Where to connect, when the caller resolved `host` itself and checked the
    /// addresses (the network guard); empty: `host` is resolved here. `host`
    /// stays the TLS server name either way.
    pub addresses: Vec<SocketAddr>,
}

impl ImapConfig {
    /// Implicit TLS on port 993, mailbox INBOX, certificates verified, 30 s steps.
    pub fn new(host: impl Into<String>, username: impl Into<String>, password: impl Into<String>) -> Self {
        ImapConfig {
            host: host.into(),
            port: ImapTls::Tls.default_port(),
            tls: ImapTls::Tls,
            username: username.into(),
            password: password.into(),
            mailbox: DEFAULT_MAILBOX.to_owned(),
            accept_invalid_certs: false,
            timeout_secs: DEFAULT_TIMEOUT_SECS,
            addresses: Vec::new(),
        }
    }

    fn limit(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.max(1))
    }

    fn server(&self) -> Server {
        Server::new(Protocol::Imap, &self.host, self.port)
    }

    fn mailbox(&self) -> &str {
        if self.mailbox.is_empty() {
            DEFAULT_MAILBOX
        } else {
            &self.mailbox
        }
    }
}

impl fmt::Debug for ImapConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("mailbox", &self.mailbox)
            .field("accept_invalid_certs", &self.accept_invalid_certs)
            .field("timeout_secs", &self.timeout_secs)
            .field("addresses", &self.addresses)
            .finish()
    }
}

/// How far the caller has read a mailbox: persist it after processing what a fetch
/// returned, and pass it to the next fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ImapCursor {
    pub uid_validity: u32,
    /// The highest UID already handed out (0: none).
    pub last_uid: u32,
}

/// One message as the server stores it: the raw RFC 5322 bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct FetchedMail {
    pub uid: u32,
    pub raw: Vec<u8>,
}

impl fmt::Debug for FetchedMail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FetchedMail")
            .field("uid", &self.uid)
            .field("raw", &format_args!("<{} bytes>", self.raw.len()))
            .finish()
    }
}

/// Fetches the messages that arrived after `cursor` (all of them without one), oldest
/// first, at most `max`, and returns them with the cursor to store once they are
/// processed. Reads with `BODY.PEEK[]`: nothing is marked. A cursor from another
/// UIDVALIDITY starts over from the first message.
pub async fn fetch_new(
    cfg: &ImapConfig,
    cursor: Option<ImapCursor>,
    max: usize,
) -> Result<(Vec<FetchedMail>, ImapCursor), MailError> {
    let mut session = ImapSession::connect(cfg).await?;
    let result = session.fetch_new(cursor, max).await;
    session.logout().await;
    result
}

/// Sets `\Seen` on these UIDs (`UID STORE … +FLAGS.SILENT (\Seen)`). No UIDs: no connection.
pub async fn mark_processed(cfg: &ImapConfig, uids: &[u32]) -> Result<(), MailError> {
    if uids.is_empty() {
        return Ok(());
    }
    let mut session = ImapSession::connect(cfg).await?;
    let result = session.mark_processed(uids).await;
    session.logout().await;
    result
}

/// Waits up to `max_wait` for new mail: with IMAP IDLE when the server has it (true as
/// soon as the server announces a new message, false at the end of `max_wait`), else by
/// sleeping `max_wait` and returning false. Call [`fetch_new`] afterwards either way.
/// Keep `max_wait` under about 25 minutes: servers may drop an IDLE connection after 30.
pub async fn wait_for_new(cfg: &ImapConfig, max_wait: Duration) -> Result<bool, MailError> {
    wait_for_new_after(cfg, None, max_wait).await
}

/// Like [`wait_for_new`], but returns true at once when the mailbox already holds mail
/// past `after` (mail that arrived between the last fetch and this call), or when its
/// UIDVALIDITY changed.
pub async fn wait_for_new_after(
    cfg: &ImapConfig,
    after: Option<ImapCursor>,
    max_wait: Duration,
) -> Result<bool, MailError> {
    let mut session = ImapSession::connect(cfg).await?;
    if !session.supports_idle() {
        let pending = session.has_mail_after(after).await;
        session.logout().await;
        if pending? {
            return Ok(true);
        }
        tokio::time::sleep(max_wait).await;
        return Ok(false);
    }
    let result = session.wait_for_new(after, max_wait).await;
    session.logout().await;
    result
}

/// The cursor at the current end of the mailbox, to start reading "from now on" rather
/// than from the first message.
pub async fn current_cursor(cfg: &ImapConfig) -> Result<ImapCursor, MailError> {
    let mut session = ImapSession::connect(cfg).await?;
    let result = session.current_cursor().await;
    session.logout().await;
    result
}

/// One logged-in IMAP connection, for several operations in a row.
pub struct ImapSession {
    cfg: ImapConfig,
    server: Server,
    session: Option<async_imap::Session<Stream>>,
    idle: bool,
}

impl fmt::Debug for ImapSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapSession")
            .field("server", &self.server.to_string())
            .field("mailbox", &self.cfg.mailbox())
            .field("open", &self.session.is_some())
            .field("idle", &self.idle)
            .finish()
    }
}

impl ImapSession {
    /// Connects (TLS, STARTTLS or plain as configured), reads the greeting and logs in.
    pub async fn connect(cfg: &ImapConfig) -> Result<Self, MailError> {
        let server = cfg.server();
        let limit = cfg.limit();
        if cfg.tls == ImapTls::Plain && !is_loopback(&cfg.host) {
            tracing::warn!(%server, "IMAP without TLS: the password travels in clear");
        }
        let (tcp, _) = connect_tcp(&server, &cfg.addresses, limit).await?;
        let stream = match cfg.tls {
            ImapTls::Tls => start_tls(&server, tcp, cfg.accept_invalid_certs, limit).await?,
            ImapTls::StartTls | ImapTls::Plain => Stream::Plain(tcp),
        };
        let mut client = async_imap::Client::new(stream);
        read_greeting(&server, limit, &mut client).await?;

        if cfg.tls == ImapTls::StartTls {
            match timeout(limit, client.run_command_and_check_ok("STARTTLS", None)).await {
                Ok(Ok(())) => {}
                Ok(Err(ImapError::Bad(m) | ImapError::No(m))) => {
                    return Err(MailError::Tls { server, message: format!("the server refused STARTTLS: {m}") })
                }
                Ok(Err(e)) => return Err(map_error(&server, "STARTTLS", e)),
                Err(_) => return Err(timed_out(&server, limit, "STARTTLS")),
            }
            let Stream::Plain(tcp) = client.into_inner() else {
                unreachable!("STARTTLS is only sent on a plain connection")
            };
            let tls = start_tls(&server, tcp, cfg.accept_invalid_certs, limit).await?;
            // No greeting after STARTTLS.
            client = async_imap::Client::new(tls);
        }

        let mut session = match timeout(limit, client.login(&cfg.username, &cfg.password)).await {
            Ok(Ok(session)) => session,
            Ok(Err((ImapError::No(m), _))) => {
                return Err(MailError::Auth { server, username: cfg.username.clone(), message: m })
            }
            Ok(Err((e, _))) => return Err(map_error(&server, "LOGIN", e)),
            Err(_) => return Err(timed_out(&server, limit, "LOGIN")),
        };
        let idle = match timeout(limit, session.capabilities()).await {
            Ok(Ok(caps)) => caps.has_str("IDLE"),
            Ok(Err(e)) => return Err(map_error(&server, "CAPABILITY", e)),
            Err(_) => return Err(timed_out(&server, limit, "CAPABILITY")),
        };
        tracing::debug!(%server, idle, "IMAP session open");
        Ok(ImapSession { cfg: cfg.clone(), server, session: Some(session), idle })
    }

    /// Whether the server announced IDLE (RFC 2177).
    pub fn supports_idle(&self) -> bool {
        self.idle
    }

    /// See [`fetch_new`](crate::imap::fetch_new): the same, on this connection.
    pub async fn fetch_new(
        &mut self,
        cursor: Option<ImapCursor>,
        max: usize,
    ) -> Result<(Vec<FetchedMail>, ImapCursor), MailError> {
        let mailbox = self.select().await?;
        let uid_validity = self.uid_validity(&mailbox)?;
        let last = match cursor {
            Some(c) if c.uid_validity == uid_validity => c.last_uid,
            Some(c) => {
                tracing::warn!(
                    server = %self.server,
                    mailbox = self.cfg.mailbox(),
                    old = c.uid_validity,
                    new = uid_validity,
                    "UIDVALIDITY changed: reading the mailbox again from the start"
                );
                0
            }
            None => 0,
        };
        let mut next = ImapCursor { uid_validity, last_uid: last };
        if max == 0 {
            return Ok((Vec::new(), next));
        }
        // Every UID below UIDNEXT (as of this SELECT) that is not in the mailbox now has
        // been expunged and can never come back.
        let below_next = mailbox.uid_next.map(|n| n.saturating_sub(1));
        if mailbox.exists == 0 || below_next.is_some_and(|b| b <= last) {
            next.last_uid = last.max(below_next.unwrap_or(0));
            return Ok((Vec::new(), next));
        }
        let Some(first) = last.checked_add(1) else {
            return Ok((Vec::new(), next));
        };
        // `first:*` always includes the highest UID, even when it is below `first`.
        let mut uids: Vec<u32> =
            self.uid_search(&format!("UID {first}:*")).await?.into_iter().filter(|&uid| uid > last).collect();
        uids.sort_unstable();
        let truncated = uids.len() > max;
        uids.truncate(max);
        let mails = self.fetch_uids(&uids).await?;
        next.last_uid = match (truncated, uids.last()) {
            (true, Some(&highest)) => highest,
            (_, highest) => last.max(highest.copied().unwrap_or(0)).max(below_next.unwrap_or(0)),
        };
        Ok((mails, next))
    }

    /// Fetches these UIDs (`BODY.PEEK[]`, nothing marked), FETCH_BATCH per command, in UID
    /// order. UIDs no longer in the mailbox are left out.
    pub async fn fetch_uids(&mut self, uids: &[u32]) -> Result<Vec<FetchedMail>, MailError> {
        self.ensure_selected().await?;
        let mut wanted = uids.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        let mut out = Vec::with_capacity(wanted.len());
        for chunk in wanted.chunks(FETCH_BATCH) {
            let set = uid_set(chunk);
            let (server, limit, session) = self.parts()?;
            let during = "UID FETCH";
            let mut stream = run(server, limit, during, session.uid_fetch(&set, "(UID BODY.PEEK[])")).await?;
            loop {
                let fetch = match run(server, limit, during, stream.try_next()).await? {
                    Some(fetch) => fetch,
                    None => break,
                };
                // Unsolicited FETCH responses (flag changes) carry no body: skip them.
                let (Some(uid), Some(body)) = (fetch.uid, fetch.body()) else {
                    continue;
                };
                if chunk.binary_search(&uid).is_ok() {
                    out.push(FetchedMail { uid, raw: body.to_vec() });
                }
            }
        }
        out.sort_by_key(|m| m.uid);
        out.dedup_by_key(|m| m.uid);
        Ok(out)
    }

    /// See [`mark_processed`](crate::imap::mark_processed).
    pub async fn mark_processed(&mut self, uids: &[u32]) -> Result<(), MailError> {
        self.add_flags(uids, "\\Seen").await
    }

    /// Adds IMAP flags (e.g. `\Seen`, `\Flagged`, `$Frontdesk`) to these UIDs.
    pub async fn add_flags(&mut self, uids: &[u32], flags: &str) -> Result<(), MailError> {
        if uids.is_empty() {
            return Ok(());
        }
        self.ensure_selected().await?;
        let mut sorted = uids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        for chunk in sorted.chunks(STORE_BATCH) {
            let set = uid_set(chunk);
            let (server, limit, session) = self.parts()?;
            let during = "UID STORE";
            let query = format!("+FLAGS.SILENT ({flags})");
            let mut stream = run(server, limit, during, session.uid_store(&set, &query)).await?;
            while run(server, limit, during, stream.try_next()).await?.is_some() {}
        }
        Ok(())
    }

    /// `UID SEARCH <query>` in the mailbox, sorted (e.g. `"UNSEEN"`, `"SEEN"`, `"UID 5:*"`).
    pub async fn search_uids(&mut self, query: &str) -> Result<Vec<u32>, MailError> {
        self.ensure_selected().await?;
        let mut uids: Vec<u32> = self.uid_search(query).await?.into_iter().collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// The cursor at the current end of the mailbox.
    pub async fn current_cursor(&mut self) -> Result<ImapCursor, MailError> {
        let mailbox = self.select().await?;
        let uid_validity = self.uid_validity(&mailbox)?;
        let last_uid = match mailbox.uid_next {
            Some(next) => next.saturating_sub(1),
            None => self.uid_search("ALL").await?.into_iter().max().unwrap_or(0),
        };
        Ok(ImapCursor { uid_validity, last_uid })
    }

    /// See [`wait_for_new_after`](crate::imap::wait_for_new_after). Without IDLE support
    /// it sleeps `max_wait` on this connection and returns false.
    pub async fn wait_for_new(&mut self, after: Option<ImapCursor>, max_wait: Duration) -> Result<bool, MailError> {
        let mailbox = self.select().await?;
        if self.mailbox_has_mail_after(&mailbox, after) {
            return Ok(true);
        }
        if !self.idle {
            tokio::time::sleep(max_wait).await;
            return Ok(false);
        }
        let server = self.server.clone();
        let limit = self.cfg.limit();
        let session = self.session.take().ok_or_else(|| closed(&server))?;
        let mut handle = session.idle();
        match timeout(limit, handle.init()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(map_error(&server, "IDLE", e)),
            Err(_) => return Err(timed_out(&server, limit, "IDLE")),
        }
        let deadline = Instant::now() + max_wait;
        let mut exists = mailbox.exists;
        let outcome = loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                break Ok(false);
            }
            // `_stop` must live while waiting: dropping it interrupts the wait.
            let (wait, _stop) = handle.wait_with_timeout(remaining);
            match timeout(remaining, wait).await {
                Err(_) | Ok(Ok(IdleResponse::Timeout)) => break Ok(false),
                Ok(Ok(IdleResponse::ManualInterrupt)) => {
                    break Err(MailError::Connection {
                        server: server.clone(),
                        message: "the server closed the connection during IDLE".into(),
                    })
                }
                Ok(Ok(IdleResponse::NewData(data))) => match data.parsed() {
                    Response::MailboxData(MailboxDatum::Exists(n)) => {
                        if *n > exists {
                            break Ok(true);
                        }
                        exists = *n;
                    }
                    Response::Expunge(_) => exists = exists.saturating_sub(1),
                    Response::Data { status: Status::Bye, .. } => {
                        break Err(MailError::Connection {
                            server: server.clone(),
                            message: "the server said BYE during IDLE".into(),
                        })
                    }
                    _ => {}
                },
                Ok(Err(e)) => break Err(map_error(&server, "IDLE", e)),
            }
        };
        if outcome.is_ok() {
            match timeout(limit, handle.done()).await {
                Ok(Ok(session)) => self.session = Some(session),
                Ok(Err(e)) => tracing::debug!(%server, error = %e, "IMAP DONE failed"),
                Err(_) => tracing::debug!(%server, "IMAP DONE timed out"),
            }
        }
        outcome
    }

    /// Logs out and closes the connection; errors are ignored (the connection goes anyway).
    pub async fn logout(mut self) {
        let limit = self.cfg.limit();
        if let Some(mut session) = self.session.take() {
            let _ = timeout(limit.min(Duration::from_secs(5)), session.logout()).await;
        }
    }

    async fn has_mail_after(&mut self, after: Option<ImapCursor>) -> Result<bool, MailError> {
        if after.is_none() {
            return Ok(false);
        }
        let mailbox = self.select().await?;
        Ok(self.mailbox_has_mail_after(&mailbox, after))
    }

    fn mailbox_has_mail_after(&self, mailbox: &Mailbox, after: Option<ImapCursor>) -> bool {
        let Some(cursor) = after else { return false };
        if mailbox.uid_validity != Some(cursor.uid_validity) {
            return true;
        }
        mailbox.uid_next.is_some_and(|next| next.saturating_sub(1) > cursor.last_uid && mailbox.exists > 0)
    }

    fn parts(&mut self) -> Result<(&Server, Duration, &mut async_imap::Session<Stream>), MailError> {
        let limit = self.cfg.limit();
        match self.session.as_mut() {
            Some(session) => Ok((&self.server, limit, session)),
            None => Err(closed(&self.server)),
        }
    }

    fn uid_validity(&self, mailbox: &Mailbox) -> Result<u32, MailError> {
        mailbox.uid_validity.ok_or_else(|| MailError::Protocol {
            server: self.server.clone(),
            message: format!("SELECT {:?} returned no UIDVALIDITY", self.cfg.mailbox()),
        })
    }

    async fn select(&mut self) -> Result<Mailbox, MailError> {
        let name = self.cfg.mailbox().to_owned();
        let (server, limit, session) = self.parts()?;
        match timeout(limit, session.select(&name)).await {
            Ok(Ok(mailbox)) => Ok(mailbox),
            Ok(Err(ImapError::No(message))) => {
                Err(MailError::MailboxNotFound { server: server.clone(), mailbox: name, message })
            }
            Ok(Err(e)) => Err(map_error(server, "SELECT", e)),
            Err(_) => Err(timed_out(server, limit, "SELECT")),
        }
    }

    async fn ensure_selected(&mut self) -> Result<(), MailError> {
        // Cheap enough (one round trip) and keeps the session state simple: every
        // operation works on a freshly selected mailbox.
        self.select().await.map(|_| ())
    }

    async fn uid_search(&mut self, query: &str) -> Result<HashSet<u32>, MailError> {
        let (server, limit, session) = self.parts()?;
        run(server, limit, "UID SEARCH", session.uid_search(query)).await
    }
}

async fn read_greeting(
    server: &Server,
    limit: Duration,
    client: &mut async_imap::Client<Stream>,
) -> Result<(), MailError> {
    let greeting = match timeout(limit, client.read_response()).await {
        Ok(Ok(Some(greeting))) => greeting,
        Ok(Ok(None)) => {
            return Err(MailError::Connection {
                server: server.clone(),
                message: "closed the connection before its greeting".into(),
            })
        }
        Ok(Err(e)) => {
            return Err(MailError::Connection { server: server.clone(), message: format!("reading the greeting: {e}") })
        }
        Err(_) => return Err(timed_out(server, limit, "greeting")),
    };
    match greeting.parsed() {
        Response::Data { status: Status::Ok | Status::PreAuth, .. } => Ok(()),
        Response::Data { status: Status::Bye, outcome } => Err(MailError::Connection {
            server: server.clone(),
            message: format!("the server refused the connection: {}", outcome.information.as_deref().unwrap_or("BYE")),
        }),
        other => Err(MailError::Protocol { server: server.clone(), message: format!("unexpected greeting {other:?}") }),
    }
}

/// Runs one IMAP step within `limit`, mapping its errors.
async fn run<T>(
    server: &Server,
    limit: Duration,
    during: &str,
    step: impl Future<Output = Result<T, ImapError>>,
) -> Result<T, MailError> {
    match timeout(limit, step).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(map_error(server, during, e)),
        Err(_) => Err(timed_out(server, limit, during)),
    }
}

fn map_error(server: &Server, during: &str, e: ImapError) -> MailError {
    let server = server.clone();
    match e {
        ImapError::Io(e) => MailError::Connection { server, message: format!("{during}: {e}") },
        ImapError::ConnectionLost => {
            MailError::Connection { server, message: format!("connection lost during {during}") }
        }
        ImapError::Bad(m) => MailError::Protocol { server, message: format!("{during} answered BAD: {m}") },
        ImapError::No(m) => MailError::Protocol { server, message: format!("{during} answered NO: {m}") },
        ImapError::Validate(v) => MailError::InvalidInput(format!("{during}: {v}")),
        other => MailError::Protocol { server, message: format!("{during}: {other}") },
    }
}

fn timed_out(server: &Server, limit: Duration, during: &str) -> MailError {
    MailError::Timeout { server: server.clone(), secs: limit.as_secs(), during: during.to_owned() }
}

fn closed(server: &Server) -> MailError {
    MailError::Connection {
        server: server.clone(),
        message: "the IMAP session is closed (a previous IDLE failed): connect again".into(),
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A compact UID set for sorted, deduplicated UIDs: `1:3,7,9:12`.
fn uid_set(sorted: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_collapse_runs() {
        assert_eq!(uid_set(&[]), "");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10, 11, 12]), "1:3,7,9:12");
        assert_eq!(uid_set(&[1, 3, 5]), "1,3,5");
        let many: Vec<u32> = (1..=200).collect();
        assert_eq!(uid_set(&many), "1:200");
        assert_eq!(uid_set(&[u32::MAX - 1, u32::MAX]), "4294967294:4294967295");
    }

    #[test]
    fn config_debug_hides_the_password() {
        let cfg = ImapConfig::new("imap.example.test", "support@example.test", "s3cret");
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert_eq!(cfg.port, 993);
        assert_eq!(cfg.mailbox, "INBOX");
        assert_eq!(ImapTls::StartTls.default_port(), 143);
    }

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("::1"));
        assert!(is_loopback("localhost"));
        assert!(!is_loopback("imap.example.test"));
    }
}
