//! IMAP against a real Dovecot on loopback (scripts/mail-servers.sh). Skipped loudly
//! without Dovecot; a failure under CI=true.

use std::time::{Duration, Instant};

use frontdesk_mail::testing::{MailServers, MailServersOptions};
use frontdesk_mail::{
    fetch_new, mark_processed, wait_for_new, wait_for_new_after, ImapCursor, ImapSession, ImapTls, MailError,
};

fn message(n: usize) -> Vec<u8> {
    format!(
        "From: Customer {n} <customer{n}@example.test>\r\n\
         To: support@example.test\r\n\
         Subject: Question {n}\r\n\
         Message-ID: <q{n}@example.test>\r\n\
         Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Hello, this is question number {n}. Ça va ?\r\n"
    )
    .into_bytes()
}

fn uids(mails: &[frontdesk_mail::FetchedMail]) -> Vec<u32> {
    mails.iter().map(|m| m.uid).collect()
}

#[tokio::test]
async fn fetches_new_mail_over_implicit_tls_without_marking_it() {
    let Some(servers) = MailServers::start() else {
        return;
    };
    servers.deliver(&message(1));
    servers.deliver(&message(2));
    let cfg = servers.imap_config(ImapTls::Tls);

    let (mails, cursor) = fetch_new(&cfg, None, 10).await.unwrap();
    assert_eq!(uids(&mails), vec![1, 2]);
    assert_eq!(mails[0].raw, message(1), "the raw bytes come back unchanged");
    assert_eq!(mails[1].raw, message(2));
    assert_eq!(cursor.last_uid, 2);
    assert_ne!(cursor.uid_validity, 0);
    assert!(servers.seen_uids().is_empty(), "fetch_new must not set \\Seen (BODY.PEEK)");
}

#[tokio::test]
async fn fetches_over_starttls_and_plain() {
    let Some(servers) = MailServers::start() else {
        return;
    };
    servers.deliver(&message(1));
    let (mails, _) = fetch_new(&servers.imap_config(ImapTls::StartTls), None, 10).await.unwrap();
    assert_eq!(uids(&mails), vec![1]);
    assert_eq!(mails[0].raw, message(1));

    let (mails, _) = fetch_new(&servers.imap_config(ImapTls::Plain), None, 10).await.unwrap();
    assert_eq!(uids(&mails), vec![1]);
}

#[tokio::test]
async fn the_cursor_returns_only_what_is_new() {
    let Some(servers) = MailServers::start() else {
        return;
    };
    let cfg = servers.imap_config(ImapTls::Tls);

    // Empty mailbox: nothing, and a cursor to start from.
    let (mails, empty) = fetch_new(&cfg, None, 10).await.unwrap();
    assert!(mails.is_empty());
    assert_eq!(empty.last_uid, 0);

    servers.deliver(&message(1));
    servers.deliver(&message(2));
    let (mails, cursor) = fetch_new(&cfg, Some(empty), 10).await.unwrap();
    assert_eq!(uids(&mails), vec![1, 2]);

    // Nothing new: the `UID 3:*` quirk (always returns the highest UID) is filtered out.
    let (mails, again) = fetch_new(&cfg, Some(cursor), 10).await.unwrap();
    assert!(mails.is_empty(), "got {mails:?}");
    assert_eq!(again, cursor);

    servers.deliver(&message(3));
    let (mails, cursor) = fetch_new(&cfg, Some(cursor), 10).await.unwrap();
    assert_eq!(uids(&mails), vec![3]);
    assert_eq!(mails[0].raw, message(3));
    assert_eq!(cursor.last_uid, 3);

    // `max` limits a fetch; the cursor stops at the last message returned.
    for n in 4..=8 {
        servers.deliver(&message(n));
    }
    let (mails, cursor) = fetch_new(&cfg, Some(cursor), 2).await.unwrap();
    assert_eq!(uids(&mails), vec![4, 5]);
    assert_eq!(cursor.last_uid, 5);
    let (mails, cursor) = fetch_new(&cfg, Some(cursor), 100).await.unwrap();
    assert_eq!(uids(&mails), vec![6, 7, 8]);
    assert_eq!(cursor.last_uid, 8);
}

#[tokio::test]
async fn a_changed_uidvalidity_starts_over() {
    let Some(servers) = MailServers::start() else {
        return;
    };
    servers.deliver(&message(1));
    servers.deliver(&message(2));
    let cfg = servers.imap_config(ImapTls::Tls);
    let (_, cursor) = fetch_new(&cfg, None, 10).await.unwrap();
    let stale = ImapCursor { uid_validity: cursor.uid_validity.wrapping_add(1), last_uid: 2 };
    let (mails, fresh) = fetch_new(&cfg, Some(stale), 10).await.unwrap();
    assert_eq!(uids(&mails), vec![1, 2], "every message again");
    assert_eq!(fresh, cursor);
}

#[tokio::test]
async fn mark_processed_sets_seen() {
    let Some(servers) = MailServers::start() else {
        return;
    };
    for n in 1..=3 {
        servers.deliver(&message(n));
    }
    let cfg = servers.imap_config(ImapTls::Tls);
    let (mails, _) = fetch_new(&cfg, None, 10).await.unwrap();
    assert_eq!(uids(&mails), vec![1, 2, 3]);

    mark_processed(&cfg, &[1, 3]).await.unwrap();
    mark_processed(&cfg, &[]).await.unwrap();
    // Asked of Dovecot directly, not through our own client.
    assert_eq!(servers.seen_uids(), vec![1, 3]);

    // And over IMAP, on one session.
    let mut session = ImapSession::connect(&cfg).await.unwrap();
    assert_eq!(session.search_uids("SEEN").await.unwrap(), vec![1, 3]);
    assert_eq!(session.search_uids("UNSEEN").await.unwrap(), vec![2]);
    session.mark_processed(&[2, 2]).await.unwrap();
    assert_eq!(session.search_uids("UNSEEN").await.unwrap(), Vec::<u32>::new());
    session.logout().await;
    assert_eq!(servers.seen_uids(), vec![1, 2, 3]);
}

#[tokio::test]
async fn one_session_fetches_marks_and_fetches_again() {
    let Some(servers) = MailServers::start() else {
        return;
    };
    servers.deliver(&message(1));
    let mut session = ImapSession::connect(&servers.imap_config(ImapTls::StartTls)).await.unwrap();
    assert!(session.supports_idle());
    let (mails, cursor) = session.fetch_new(None, 10).await.unwrap();
    assert_eq!(uids(&mails), vec![1]);
    session.mark_processed(&[1]).await.unwrap();
    servers.deliver(&message(2));
    let (mails, cursor) = session.fetch_new(Some(cursor), 10).await.unwrap();
    assert_eq!(uids(&mails), vec![2]);
    assert_eq!(session.current_cursor().await.unwrap(), cursor);
    session.logout().await;
    assert_eq!(servers.seen_uids(), vec![1]);
}

/// Batching: 450 messages cross the 200-UID FETCH batches (200 + 200 + 50).
#[tokio::test]
async fn fetches_hundreds_of_messages_in_batches() {
    let Some(servers) = MailServers::start() else {
        return;
    };
    let all: Vec<Vec<u8>> = (1..=450).map(message).collect();
    servers.deliver_many(&all);
    let cfg = servers.imap_config(ImapTls::Tls);

    let started = Instant::now();
    let (first, cursor) = fetch_new(&cfg, None, 300).await.unwrap();
    assert_eq!(uids(&first), (1..=300).collect::<Vec<u32>>());
    assert_eq!(cursor.last_uid, 300);
    let (rest, cursor) = fetch_new(&cfg, Some(cursor), 1000).await.unwrap();
    assert_eq!(uids(&rest), (301..=450).collect::<Vec<u32>>());
    assert_eq!(cursor.last_uid, 450);
    let elapsed = started.elapsed();
    // Dovecot numbers the Maildir files in directory order, not in the order written.
    let mut got: Vec<&Vec<u8>> = first.iter().chain(&rest).map(|m| &m.raw).collect();
    let mut expected: Vec<&Vec<u8>> = all.iter().collect();
    got.sort();
    expected.sort();
    assert!(got == expected, "every message exactly once, unchanged");
    mark_processed(&cfg, &(1..=450).collect::<Vec<u32>>()).await.unwrap();
    assert_eq!(servers.seen_uids().len(), 450);
    eprintln!("fetched 450 messages in {elapsed:?}");
}

#[tokio::test]
async fn a_wrong_password_is_an_auth_error() {
    let Some(servers) = MailServers::start() else {
        return;
    };
    for tls in [ImapTls::Tls, ImapTls::StartTls] {
        let mut cfg = servers.imap_config(tls);
        cfg.password = "wrong".into();
        let err = fetch_new(&cfg, None, 10).await.unwrap_err();
        assert!(matches!(err, MailError::Auth { .. }), "{err:?}");
        assert!(err.is_permanent() && err.needs_operator());
        let text = err.to_string();
        assert!(text.contains(&format!("127.0.0.1:{}", cfg.port)), "names host and port: {text}");
        assert!(text.contains("support@example.test"), "{text}");
    }
}

#[tokio::test]
async fn a_missing_mailbox_is_reported_as_such() {
    let Some(servers) = MailServers::start() else {
        return;
    };
    let mut cfg = servers.imap_config(ImapTls::Tls);
    cfg.mailbox = "Support/Nope".into();
    let err = fetch_new(&cfg, None, 10).await.unwrap_err();
    assert!(matches!(err, MailError::MailboxNotFound { .. }), "{err:?}");
    assert!(err.is_permanent());
}

#[tokio::test]
async fn a_self_signed_certificate_is_refused_unless_accepted() {
    let Some(servers) = MailServers::start() else {
        return;
    };
    for tls in [ImapTls::Tls, ImapTls::StartTls] {
        let mut cfg = servers.imap_config(tls);
        cfg.accept_invalid_certs = false;
        let err = fetch_new(&cfg, None, 10).await.unwrap_err();
        assert!(matches!(err, MailError::Tls { .. }), "{err:?}");
        assert!(err.is_permanent());
    }
    // Implicit TLS spoken to the plain port: a TLS error, not a hang.
    let mut cfg = servers.imap_config(ImapTls::Tls);
    cfg.port = servers.imap_port;
    let err = fetch_new(&cfg, None, 10).await.unwrap_err();
    assert!(matches!(err, MailError::Tls { .. }), "{err:?}");
}

#[tokio::test]
async fn an_unreachable_server_is_a_connection_error() {
    // Bound but never listening: refused, and no other test's server can take it.
    let closed = tokio::net::TcpSocket::new_v4().unwrap();
    closed.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = closed.local_addr().unwrap().port();
    let mut cfg = frontdesk_mail::ImapConfig::new("127.0.0.1", "u", "p");
    cfg.port = port;
    cfg.timeout_secs = 5;
    let err = fetch_new(&cfg, None, 10).await.unwrap_err();
    assert!(matches!(err, MailError::Connection { .. }), "{err:?}");
    assert!(!err.is_permanent(), "worth retrying later");
    assert!(err.to_string().contains(&format!("127.0.0.1:{port}")), "{err}");

    let mut cfg = frontdesk_mail::ImapConfig::new("no-such-host.invalid", "u", "p");
    cfg.timeout_secs = 5;
    let err = fetch_new(&cfg, None, 10).await.unwrap_err();
    assert!(matches!(err, MailError::Connection { .. } | MailError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("no-such-host.invalid"), "{err}");
}

#[tokio::test]
async fn idle_wakes_on_a_new_delivery() {
    let Some(servers) = MailServers::start() else {
        return;
    };
    let cfg = servers.imap_config(ImapTls::Tls);
    let waiter = {
        let cfg = cfg.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let woke = wait_for_new(&cfg, Duration::from_secs(20)).await;
            (woke, started.elapsed())
        })
    };
    // Let the waiter reach IDLE, then deliver from a blocking thread.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let servers = std::sync::Arc::new(servers);
    let s = servers.clone();
    tokio::task::spawn_blocking(move || s.deliver(&message(1))).await.unwrap();
    let (woke, elapsed) = waiter.await.unwrap();
    assert!(woke.unwrap(), "IDLE should report the new message");
    assert!(elapsed < Duration::from_secs(10), "woke after {elapsed:?}");
}

#[tokio::test]
async fn idle_times_out_and_sees_mail_already_waiting() {
    let Some(servers) = MailServers::start() else {
        return;
    };
    let cfg = servers.imap_config(ImapTls::StartTls);
    let started = Instant::now();
    assert!(!wait_for_new(&cfg, Duration::from_millis(1500)).await.unwrap());
    assert!(started.elapsed() >= Duration::from_millis(1500));

    // Mail that arrived after the last fetch is reported at once.
    let (_, cursor) = fetch_new(&cfg, None, 10).await.unwrap();
    servers.deliver(&message(1));
    let started = Instant::now();
    assert!(wait_for_new_after(&cfg, Some(cursor), Duration::from_secs(20)).await.unwrap());
    assert!(started.elapsed() < Duration::from_secs(5));

    // After fetching it, nothing is pending any more.
    let (mails, cursor) = fetch_new(&cfg, Some(cursor), 10).await.unwrap();
    assert_eq!(uids(&mails), vec![1]);
    assert!(!wait_for_new_after(&cfg, Some(cursor), Duration::from_millis(500)).await.unwrap());
}

#[tokio::test]
async fn without_idle_waiting_falls_back_to_sleeping() {
    let Some(servers) = MailServers::start_with(MailServersOptions { imap_without_idle: true, ..Default::default() })
    else {
        return;
    };
    let cfg = servers.imap_config(ImapTls::Tls);
    let mut session = ImapSession::connect(&cfg).await.unwrap();
    assert!(!session.supports_idle());
    let started = Instant::now();
    assert!(!session.wait_for_new(None, Duration::from_millis(800)).await.unwrap());
    assert!(started.elapsed() >= Duration::from_millis(800));
    session.logout().await;

    // Mail already past the cursor is still reported at once, without sleeping.
    let (_, cursor) = fetch_new(&cfg, None, 10).await.unwrap();
    servers.deliver(&message(1));
    let started = Instant::now();
    assert!(wait_for_new_after(&cfg, Some(cursor), Duration::from_secs(30)).await.unwrap());
    assert!(started.elapsed() < Duration::from_secs(5));
    let started = Instant::now();
    assert!(!wait_for_new(&cfg, Duration::from_millis(800)).await.unwrap());
    assert!(started.elapsed() >= Duration::from_millis(800));
}

/// A large mailbox is read in pages of `max`, oldest first, each page picking up
/// where the cursor stopped, every message exactly once; marking them all is one
/// call, and a poll after the last page is empty. (The throughput figure for
/// 10,000 messages through the whole channel is `frontdesk bench imap`, see
/// docs/benchmarks.md.)
#[tokio::test]
async fn a_large_mailbox_is_read_in_pages_exactly_once() {
    let Some(servers) = MailServers::start() else {
        return;
    };
    const N: usize = 1_200;
    let all: Vec<Vec<u8>> = (1..=N).map(message).collect();
    servers.deliver_many(&all);
    let cfg = servers.imap_config(ImapTls::Tls);
    let mut cursor = None;
    let mut seen: Vec<u32> = Vec::new();
    let mut raws: Vec<Vec<u8>> = Vec::new();
    let mut pages = 0;
    loop {
        let (mails, next) = fetch_new(&cfg, cursor, 500).await.unwrap();
        if mails.is_empty() {
            break;
        }
        pages += 1;
        assert!(mails.len() <= 500, "a page holds at most max messages");
        // Each page continues from the cursor, oldest first.
        assert_eq!(mails[0].uid, seen.last().map_or(1, |u| u + 1));
        raws.extend(mails.iter().map(|m| m.raw.clone()));
        assert_eq!(next.last_uid, mails.last().unwrap().uid);
        seen.extend(uids(&mails));
        cursor = Some(next);
    }
    assert_eq!(pages, 3, "1,200 messages in pages of 500");
    assert_eq!(seen, (1..=N as u32).collect::<Vec<_>>(), "every UID exactly once, in order");
    // Dovecot numbers the Maildir files in directory order, not in the order written.
    let mut expected = all.clone();
    expected.sort();
    raws.sort();
    assert!(raws == expected, "every message exactly once, unchanged");
    assert!(servers.seen_uids().is_empty(), "reading marks nothing");

    mark_processed(&cfg, &seen).await.unwrap();
    assert_eq!(servers.seen_uids().len(), N, "one call marks them all");
    let (none, last) = fetch_new(&cfg, cursor, 500).await.unwrap();
    assert!(none.is_empty());
    assert_eq!(last.last_uid, N as u32);
}
