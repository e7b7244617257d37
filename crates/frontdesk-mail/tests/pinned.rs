//! Connecting to addresses the caller resolved and checked (the network
//! guard's "resolve once, check, connect to that address"): the host name is
//! not resolved again — here it could not be — and stays the server's name.

use std::net::SocketAddr;

use frontdesk_mail::{ImapConfig, ImapTls, MailError, SmtpConfig, SmtpSecurity};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A server on loopback speaking just enough of a line protocol: `greeting`,
/// then the answer `reply(line)` to each line read (None: close).
async fn line_server(greeting: &'static str, reply: fn(&str) -> Option<String>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let _ = write.write_all(greeting.as_bytes()).await;
                let mut lines = BufReader::new(read).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    match reply(&line) {
                        Some(answer) => {
                            let _ = write.write_all(answer.as_bytes()).await;
                        }
                        None => break,
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn imap_connects_to_the_pinned_address_without_resolving() {
    let addr = line_server("* OK IMAP ready\r\n", |line| {
        let tag = line.split(' ').next().unwrap_or("*");
        Some(format!("{tag} NO [AUTHENTICATIONFAILED] wrong password\r\n"))
    })
    .await;
    let mut cfg = ImapConfig::new("mail.invalid", "support", "pw");
    cfg.tls = ImapTls::Plain;
    cfg.port = addr.port();
    cfg.timeout_secs = 5;
    // Without the pinned address the name cannot be resolved.
    let e = frontdesk_mail::current_cursor(&cfg).await.unwrap_err();
    assert!(matches!(e, MailError::Connection { .. }), "{e}");
    // With it, the server at that address answers (and refuses the login).
    cfg.addresses = vec![addr];
    let e = frontdesk_mail::current_cursor(&cfg).await.unwrap_err();
    assert!(matches!(&e, MailError::Auth { server, .. } if server.host == "mail.invalid"), "{e}");
}

#[tokio::test]
async fn smtp_connects_to_the_pinned_address_without_resolving() {
    let addr = line_server("220 sink ready\r\n", |line| {
        let verb = line.split([' ', ':']).next().unwrap_or_default().to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" | "HELO" => Some("250 sink\r\n".into()),
            "MAIL" => Some("550 5.7.1 not from you\r\n".into()),
            "QUIT" => None,
            _ => Some("250 ok\r\n".into()),
        }
    })
    .await;
    let mut cfg = SmtpConfig::new("mail.invalid");
    cfg.security = SmtpSecurity::Plain;
    cfg.port = addr.port();
    cfg.timeout_secs = 5;
    let raw = b"From: a@shop.test\r\nTo: b@customer.test\r\nSubject: hi\r\n\r\nhello\r\n";
    let to = vec!["b@customer.test".to_owned()];
    let e = frontdesk_mail::send(&cfg, "a@shop.test", &to, raw).await.unwrap_err();
    assert!(matches!(e, MailError::Connection { .. }), "the name is not resolvable: {e}");
    // Pinned (two addresses, the first refusing connections): the reachable one is used.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    cfg.addresses = vec![closed, addr];
    let e = frontdesk_mail::send(&cfg, "a@shop.test", &to, raw).await.unwrap_err();
    assert_eq!(e.smtp_code(), Some(550), "the pinned server answered: {e}");
}
