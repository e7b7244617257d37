//! SMTP against a real aiosmtpd sink on loopback (scripts/mail-servers.sh). Skipped
//! loudly without it; a failure under CI=true.

use frontdesk_mail::testing::{MailServers, MailServersOptions};
use frontdesk_mail::{send, MailError, SmtpConfig, SmtpSecurity};

fn reply(n: usize) -> Vec<u8> {
    format!(
        "From: Support <support@example.test>\r\n\
         To: customer@example.test\r\n\
         Subject: Re: Question {n}\r\n\
         Message-ID: <r{n}@example.test>\r\n\
         In-Reply-To: <q{n}@example.test>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\
         \r\n\
         Here is the answer to question {n}. Grüße.\r\n\
         .A line starting with a dot survives dot-stuffing.\r\n"
    )
    .into_bytes()
}

fn to(addresses: &[&str]) -> Vec<String> {
    addresses.iter().map(|a| a.to_string()).collect()
}

#[tokio::test]
async fn sends_over_plain_with_auth() {
    let Some(servers) = MailServers::start() else {
        return;
    };
    let cfg = servers.smtp_config(SmtpSecurity::Plain, true);
    send(&cfg, "support@example.test", &to(&["customer@example.test"]), &reply(1)).await.unwrap();
    let sent = servers.sent_messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].from, "support@example.test");
    assert_eq!(sent[0].to, to(&["customer@example.test"]));
    assert_eq!(sent[0].raw, reply(1), "the bytes arrive unchanged");

    // Bare LF line ends go out as CRLF (SMTP requires it).
    let lf_only = String::from_utf8(reply(2)).unwrap().replace("\r\n", "\n");
    send(&cfg, "support@example.test", &to(&["c@example.test"]), lf_only.as_bytes()).await.unwrap();
    let sent = servers.sent_messages();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].raw, reply(2));
}

#[tokio::test]
async fn sends_over_starttls_and_implicit_tls() {
    let Some(servers) = MailServers::start() else {
        return;
    };
    send(
        &servers.smtp_config(SmtpSecurity::StartTls, true),
        "support@example.test",
        &to(&["a@example.test", "b@example.test"]),
        &reply(1),
    )
    .await
    .unwrap();
    send(&servers.smtp_config(SmtpSecurity::Tls, false), "", &to(&["c@example.test"]), &reply(2)).await.unwrap();
    let sent = servers.sent_messages();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].to, to(&["a@example.test", "b@example.test"]));
    assert_eq!(sent[0].raw, reply(1));
    assert_eq!(sent[1].from, "", "null sender <>");
    assert_eq!(sent[1].to, to(&["c@example.test"]));
    assert_eq!(sent[1].raw, reply(2));
}

#[tokio::test]
async fn rejected_recipients_are_permanent_or_transient() {
    let Some(servers) = MailServers::start() else {
        return;
    };
    let cfg = servers.smtp_config(SmtpSecurity::StartTls, true);

    let err = send(&cfg, "support@example.test", &to(&["reject@example.test"]), &reply(1)).await.unwrap_err();
    assert!(matches!(err, MailError::Rejected { code: 550, .. }), "{err:?}");
    assert!(err.is_permanent());
    assert!(!err.needs_operator());
    assert!(err.to_string().contains("mailbox unavailable"), "{err}");

    let err = send(&cfg, "support@example.test", &to(&["ok@example.test", "busy@example.test"]), &reply(2))
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::Rejected { code: 451, .. }), "{err:?}");
    assert!(!err.is_permanent(), "4xx: retry later");
    assert_eq!(err.smtp_code(), Some(451));

    assert!(servers.sent_messages().is_empty(), "nothing was delivered");
}

#[tokio::test]
async fn a_wrong_smtp_password_is_an_auth_error() {
    let Some(servers) = MailServers::start() else {
        return;
    };
    let mut cfg = servers.smtp_config(SmtpSecurity::StartTls, true);
    cfg.password = Some("wrong".into());
    let err = send(&cfg, "support@example.test", &to(&["a@example.test"]), &reply(1)).await.unwrap_err();
    assert!(matches!(err, MailError::Auth { .. }), "{err:?}");
    assert!(err.is_permanent() && err.needs_operator());
    assert!(err.to_string().contains(&format!("127.0.0.1:{}", cfg.port)), "{err}");
    assert!(servers.sent_messages().is_empty());
}

#[tokio::test]
async fn a_server_requiring_auth_refuses_anonymous_mail() {
    let Some(servers) = MailServers::start_with(MailServersOptions { smtp_auth_required: true, ..Default::default() })
    else {
        return;
    };
    let err = send(
        &servers.smtp_config(SmtpSecurity::StartTls, false),
        "support@example.test",
        &to(&["a@example.test"]),
        &reply(1),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, MailError::Auth { .. }), "{err:?}");
    send(
        &servers.smtp_config(SmtpSecurity::StartTls, true),
        "support@example.test",
        &to(&["a@example.test"]),
        &reply(1),
    )
    .await
    .unwrap();
    assert_eq!(servers.sent_messages().len(), 1);
}

#[tokio::test]
async fn certificates_are_verified_unless_told_otherwise() {
    let Some(servers) = MailServers::start() else {
        return;
    };
    for security in [SmtpSecurity::StartTls, SmtpSecurity::Tls] {
        let mut cfg = servers.smtp_config(security, false);
        cfg.accept_invalid_certs = false;
        let err = send(&cfg, "support@example.test", &to(&["a@example.test"]), &reply(1)).await.unwrap_err();
        assert!(matches!(err, MailError::Tls { .. }), "{security:?}: {err:?}");
    }
    assert!(servers.sent_messages().is_empty());
}

#[tokio::test]
async fn an_unreachable_smtp_server_is_a_connection_error() {
    // Bound but never listening: refused, and no other test's server can take it.
    let closed = tokio::net::TcpSocket::new_v4().unwrap();
    closed.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = closed.local_addr().unwrap().port();
    let mut cfg = SmtpConfig::new("127.0.0.1");
    cfg.port = port;
    cfg.security = SmtpSecurity::Plain;
    cfg.timeout_secs = 5;
    let err = send(&cfg, "a@example.test", &to(&["b@example.test"]), &reply(1)).await.unwrap_err();
    assert!(matches!(err, MailError::Connection { .. }), "{err:?}");
    assert!(!err.is_permanent());
    assert!(err.to_string().contains(&format!("127.0.0.1:{port}")), "{err}");
}

#[tokio::test]
async fn invalid_addresses_are_refused_before_connecting() {
    let cfg = SmtpConfig::new("127.0.0.1");
    let err = send(&cfg, "a@example.test", &to(&["not an address"]), &reply(1)).await.unwrap_err();
    assert!(matches!(err, MailError::InvalidInput(_)), "{err:?}");
    let err = send(&cfg, "a@example.test", &[], &reply(1)).await.unwrap_err();
    assert!(matches!(err, MailError::InvalidInput(_)), "{err:?}");
}
