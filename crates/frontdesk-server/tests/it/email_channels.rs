//! Email (C3) against real mail servers on loopback: Dovecot (IMAP) and an
//! SMTP sink (aiosmtpd). A customer's mail is read by IMAP, answered by the
//! agent through SMTP in the same thread (Re: subject, In-Reply-To,
//! References, the team's signature, Auto-Submitted), the customer's reply
//! lands in the same conversation, auto-replies and ignored senders are never
//! answered, a message is processed once across polls, webhooks and restarts.

use std::time::Duration;

use frontdesk_mail::testing::MailServers;
use frontdesk_mail::{ImapTls, SmtpSecurity};
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::common::TestApp;

fn servers() -> Option<MailServers> {
    let s = MailServers::start();
    if s.is_none() {
        eprintln!("SKIPPED: Dovecot or aiosmtpd is not available (scripts/mail-servers.sh)");
    }
    s
}

fn channel_body(m: &MailServers, extra: Value) -> Value {
    let imap = m.imap_config(ImapTls::StartTls);
    let smtp = m.smtp_config(SmtpSecurity::Plain, true);
    let mut config = json!({
        "address": "support@shop.test",
        "display_name": "Shop support",
        "signature": "The Shop team",
        "ignore": ["vip.example"],
        "imap": {"host": imap.host, "port": imap.port, "security": "starttls", "username": imap.username,
                 "accept_invalid_certs": true, "poll_secs": 3600},
        "smtp": {"host": smtp.host, "port": smtp.port, "security": "plain", "username": smtp.username},
    });
    if let (Value::Object(c), Value::Object(e)) = (&mut config, extra) {
        c.extend(e);
    }
    json!({"kind": "email", "name": "Support mail", "config": config,
           "secrets": {"imap_password": imap.password, "smtp_password": smtp.password.unwrap()}})
}

fn mail(from: &str, id: &str, subject: &str, body: &str, extra_headers: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: Shop support <support@shop.test>\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n\
         Date: Sat, 21 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n{extra_headers}\r\n{body}\r\n"
    )
    .into_bytes()
}

async fn poll(app: &TestApp, channel: i64) -> i64 {
    let (s, v) = app.admin(Method::POST, &format!("/api/v1/channels/{channel}/poll"), None).await;
    assert_eq!(s, 200, "{v}");
    v["processed"].as_i64().unwrap()
}

/// Waits until the SMTP sink holds `n` messages.
async fn sent(m: &MailServers, n: usize) -> Vec<frontdesk_mail::testing::SentMessage> {
    for _ in 0..200 {
        let s = m.sent_messages();
        if s.len() >= n {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("expected {n} sent messages, got {}", m.sent_messages().len());
}

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
}

async fn conversations_of(app: &TestApp) -> Vec<Value> {
    let (_, v) = app.admin(Method::GET, "/api/v1/conversations?view=open", None).await;
    v.as_array().cloned().unwrap_or_default()
}

async fn email_round_trip_threads_and_loop_protection(app: TestApp) {
    let Some(m) = servers() else { return };
    app.seed_agent().await;
    let (s, ch) = app.admin(Method::POST, "/api/v1/channels", Some(channel_body(&m, json!({})))).await;
    assert_eq!(s, 201, "{ch}");
    let channel = ch["id"].as_i64().unwrap();
    assert!(ch["key"].as_str().unwrap().starts_with("fdch_"), "the inbound key is shown once: {ch}");
    let (_, again) = app.admin(Method::GET, &format!("/api/v1/channels/{channel}"), None).await;
    assert!(again.get("key").is_none() && again.get("secrets").is_none(), "secrets are never shown: {again}");
    assert_eq!(again["secrets_set"], json!(["imap_password", "smtp_password"]));

    // A customer asks by email; the agent answers in the thread.
    m.deliver(&mail(
        "Ada Lovelace <ada@customer.test>",
        "q1@customer.test",
        "Pricing",
        "How much does the Pro plan cost?",
        "",
    ));
    assert_eq!(poll(&app, channel).await, 1);
    let out = sent(&m, 1).await;
    let raw = String::from_utf8_lossy(&out[0].raw).to_string();
    assert_eq!(out[0].to, vec!["ada@customer.test".to_owned()]);
    assert_eq!(out[0].from, "support@shop.test");
    assert!(raw.contains("12 euros"), "{raw}");
    assert_eq!(header(&raw, "Subject"), Some("Re: Pricing"), "{raw}");
    assert_eq!(header(&raw, "In-Reply-To"), Some("<q1@customer.test>"), "{raw}");
    assert!(header(&raw, "Auto-Submitted").is_some_and(|v| v.starts_with("auto-replied")), "{raw}");
    // The signature after the "-- " delimiter (quoted-printable keeps its space as "=20").
    assert!(raw.replace("--=20", "-- ").replace("\r\n", "\n").contains("-- \nThe Shop team"), "signature: {raw}");
    assert!(raw.contains("> How much does the Pro plan cost?"), "quotes the original: {raw}");
    let reply_id = header(&raw, "Message-ID").unwrap().trim_matches(['<', '>']).to_owned();
    let convs = conversations_of(&app).await;
    assert_eq!(convs.len(), 1, "{convs:?}");
    let conv = convs[0]["id"].as_i64().unwrap();
    assert_eq!(convs[0]["channel"], "email");
    let (_, d) = app.admin(Method::GET, &format!("/api/v1/conversations/{conv}/deliveries"), None).await;
    assert_eq!(d[0]["status"], "sent", "{d}");
    assert_eq!(d[0]["external_id"].as_str(), Some(reply_id.as_str()));
    // Seen on the server; a second poll finds nothing new.
    assert_eq!(m.seen_uids(), vec![1]);
    assert_eq!(poll(&app, channel).await, 0);

    // The customer replies in the thread: same conversation, quoted history stripped.
    let follow = mail(
        "Ada Lovelace <ada@customer.test>",
        "q2@customer.test",
        "Re: Pricing",
        "How do I reset my password?\r\n\r\nOn Sat, Shop support wrote:\r\n> The Pro plan costs 12 euros",
        &format!("In-Reply-To: <{reply_id}>\r\nReferences: <q1@customer.test> <{reply_id}>\r\n"),
    );
    m.deliver(&follow);
    assert_eq!(poll(&app, channel).await, 1);
    let out = sent(&m, 2).await;
    let raw2 = String::from_utf8_lossy(&out[1].raw).to_string();
    assert!(raw2.contains("Forgot password"), "{raw2}");
    assert!(header(&raw2, "References").is_some_and(|r| r.contains("q1@customer.test")), "{raw2}");
    assert_eq!(conversations_of(&app).await.len(), 1, "threaded into the same conversation");
    let (_, detail) = app.admin(Method::GET, &format!("/api/v1/conversations/{conv}"), None).await;
    let visitor: Vec<&str> = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["author"] == "visitor")
        .map(|x| x["text"].as_str().unwrap())
        .collect();
    assert_eq!(visitor, ["How much does the Pro plan cost?", "How do I reset my password?"]);

    // An out-of-office answer and a bounce are stored but never answered.
    m.deliver(&mail(
        "Ada Lovelace <ada@customer.test>",
        "ooo@customer.test",
        "Automatic reply: Re: Pricing",
        "I am out of office until Monday.",
        &format!("Auto-Submitted: auto-replied\r\nIn-Reply-To: <{reply_id}>\r\n"),
    ));
    m.deliver(&mail(
        "MAILER-DAEMON@mx.customer.test",
        "bounce@mx.customer.test",
        "Undelivered Mail",
        "Delivery failed.",
        "",
    ));
    assert_eq!(poll(&app, channel).await, 2);
    // Mail from an ignored domain goes to a human at once.
    m.deliver(&mail("Boss <boss@vip.example>", "vip@vip.example", "Call me", "Please call me back today.", ""));
    assert_eq!(poll(&app, channel).await, 1);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(m.sent_messages().len(), 2, "no reply to auto-replies, bounces or ignored senders");
    let convs = conversations_of(&app).await;
    let vip =
        convs.iter().find(|c| c["contact_email"] == "boss@vip.example").expect("the ignored sender's conversation");
    assert_eq!(vip["assignee_kind"], "none", "{vip}");

    // A human answers from the console: it goes out by email too, without Auto-Submitted.
    let vip_id = vip["id"].as_i64().unwrap();
    let (s, v) = app
        .admin(
            Method::POST,
            &format!("/api/v1/conversations/{vip_id}/messages"),
            Some(json!({"text": "I'll call you at 3pm."})),
        )
        .await;
    assert!(s == 201 || s == 200, "{s} {v}");
    let out = sent(&m, 3).await;
    let raw3 = String::from_utf8_lossy(&out[2].raw).to_string();
    assert_eq!(out[2].to, vec!["boss@vip.example".to_owned()]);
    assert!(header(&raw3, "Auto-Submitted").is_none(), "{raw3}");
    assert_eq!(header(&raw3, "Subject"), Some("Re: Call me"));
}
both_backends!(email_round_trip_threads_and_loop_protection, settings = |s| s.allow_private_mail_servers = true);

async fn raw_mime_webhook_is_processed_once_and_rate_limited(app: TestApp) {
    let Some(m) = servers() else { return };
    app.seed_agent().await;
    let body = channel_body(&m, json!({"imap": null, "max_replies_per_hour": 2}));
    let (s, ch) = app.admin(Method::POST, "/api/v1/channels", Some(body)).await;
    assert_eq!(s, 201, "{ch}");
    let key = ch["key"].as_str().unwrap().to_owned();
    let post = |raw: Vec<u8>, key: String| {
        let app = &app;
        async move {
            let r = app
                .client
                .post(app.url("/api/v1/channels/inbound/email"))
                .bearer_auth(key)
                .header("content-type", "message/rfc822")
                .body(raw)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let q = mail("Bob <bob@customer.test>", "w1@customer.test", "Hours", "What are your opening hours?", "");
    let (s, v) = post(q.clone(), key.clone()).await;
    assert_eq!((s, v["duplicate"].as_bool()), (202, Some(false)), "{v}");
    let (s, v) = post(q, key.clone()).await;
    assert_eq!((s, v["duplicate"].as_bool()), (200, Some(true)), "the same Message-ID again: {v}");
    assert_eq!(sent(&m, 1).await.len(), 1);
    let (s, _) = post(b"From: x@y.z\r\n\r\nhi".to_vec(), "fdch_wrong".into()).await;
    assert_eq!(s, 401);
    let (s, v) = post(b"not an email at all".to_vec(), key.clone()).await;
    assert_eq!((s, v["field"].as_str()), (422, Some("message")), "{v}");

    // New threads from the same sender: at most 2 replies an hour (loop protection).
    for i in 2..5 {
        let q = mail(
            "Bob <bob@customer.test>",
            &format!("w{i}@customer.test"),
            "Hours",
            "What are your opening hours?",
            "",
        );
        let (s, v) = post(q, key.clone()).await;
        assert_eq!(s, 202, "{v}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(m.sent_messages().len(), 2, "the third and fourth threads are not answered");
}
both_backends!(raw_mime_webhook_is_processed_once_and_rate_limited, settings = |s| s.allow_private_mail_servers = true);

async fn a_mailbox_is_read_once_across_restarts(app: TestApp) {
    let Some(m) = servers() else { return };
    app.seed_agent().await;
    let (s, ch) = app.admin(Method::POST, "/api/v1/channels", Some(channel_body(&m, json!({})))).await;
    assert_eq!(s, 201, "{ch}");
    let channel = ch["id"].as_i64().unwrap();
    m.deliver(&mail("Cy <cy@customer.test>", "r1@customer.test", "Hours", "What are your opening hours?", ""));
    assert_eq!(poll(&app, channel).await, 1);
    sent(&m, 1).await;
    let db = app.stop().await;
    let app = TestApp::spawn_on(db, |s| s.allow_private_mail_servers = true).await;
    assert_eq!(poll(&app, channel).await, 0, "the cursor survived the restart");
    m.deliver(&mail("Cy <cy@customer.test>", "r2@customer.test", "Password", "How do I reset my password?", ""));
    assert_eq!(poll(&app, channel).await, 1);
    assert_eq!(sent(&m, 2).await.len(), 2);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(m.sent_messages().len(), 2, "nothing answered twice");
}
both_backends!(a_mailbox_is_read_once_across_restarts, settings = |s| s.allow_private_mail_servers = true);

/// Reply to all participants (our own addresses left out), and a 30 MB
/// attachment stored whole with its message.
async fn reply_all_and_a_large_attachment(app: TestApp) {
    let Some(m) = servers() else { return };
    app.seed_agent().await;
    let body = channel_body(&m, json!({"imap": null, "reply_all": true, "aliases": ["help@shop.test"]}));
    let (s, ch) = app.admin(Method::POST, "/api/v1/channels", Some(body)).await;
    assert_eq!(s, 201, "{ch}");
    let key = ch["key"].as_str().unwrap().to_owned();
    let post = |raw: Vec<u8>| {
        let (app, key) = (&app, key.clone());
        async move {
            let r = app
                .client
                .post(app.url("/api/v1/channels/inbound/email"))
                .bearer_auth(key)
                .body(raw)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let cc = mail(
        "Dee <dee@customer.test>",
        "all1@customer.test",
        "Hours",
        "What are your opening hours?",
        "Cc: Eve <eve@customer.test>, help@shop.test\r\n",
    );
    let (s, v) = post(cc).await;
    assert_eq!(s, 202, "{v}");
    let out = sent(&m, 1).await;
    let mut to = out[0].to.clone();
    to.sort();
    assert_eq!(to, vec!["dee@customer.test".to_owned(), "eve@customer.test".to_owned()], "never our own alias");

    // 30 MB of attachment (base64 in the message): stored whole, listed with its message.
    use base64::Engine as _;
    let data: Vec<u8> = (0..30 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&data);
    let wrapped: String =
        b64.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join("\r\n");
    let raw = format!(
        "From: Dee <dee@customer.test>\r\nTo: support@shop.test\r\nSubject: Logs\r\nMessage-ID: <big@customer.test>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nHere are the logs you asked for.\r\n--b1\r\n\
         Content-Type: application/octet-stream; name=\"logs.bin\"\r\nContent-Disposition: attachment; filename=\"logs.bin\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{wrapped}\r\n--b1--\r\n"
    );
    let (s, v) = post(raw.into_bytes()).await;
    assert_eq!(s, 202, "{v}");
    let conv = v["conversation_id"].as_i64().unwrap();
    let files = app.store().list_attachments(conv).await.unwrap();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!((files[0].filename.as_str(), files[0].size), ("logs.bin", data.len() as i64));
    let (_, bytes) = app.store().attachment_data(files[0].id).await.unwrap();
    assert!(bytes == data, "the attachment is stored byte for byte");
}
both_backends!(reply_all_and_a_large_attachment, settings = |s| s.allow_private_mail_servers = true);

/// A listener on loopback that records whether anything connected to it.
async fn recording_listener() -> (u16, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let called = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = called.clone();
    tokio::spawn(async move {
        while let Ok((_s, _)) = listener.accept().await {
            seen.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    });
    (port, called)
}

/// The network guard (issue 15): with the default settings an IMAP or SMTP
/// host on a private address is refused when saved (the field and the
/// setting named), and a stored one (a name that pointed elsewhere when
/// saved) is refused when connecting: the server is never reached.
async fn private_mail_servers_are_refused_by_default(app: TestApp) {
    app.seed_agent().await;
    let (port, called) = recording_listener().await;
    for (server, host) in
        [("imap", "127.0.0.1"), ("imap", "localhost"), ("smtp", "[::ffff:127.0.0.1]"), ("smtp", "10.0.0.5")]
    {
        let config = json!({"address": "support@shop.test",
            server: {"host": host, "port": port, "security": "plain", "username": "support"}});
        let (s, e) = app
            .admin(Method::POST, "/api/v1/channels", Some(json!({"kind": "email", "name": "Mail", "config": config})))
            .await;
        let field = format!("config.{server}.host");
        assert_eq!((s, e["field"].as_str()), (422, Some(field.as_str())), "{host}: {e}");
        let m = e["message"].as_str().unwrap();
        assert!(m.contains("private or local address") && m.contains("allow_private_mail_servers"), "{m}");
    }
    assert!(app.store().list_channels().await.unwrap().is_empty());

    // Stored anyway: refused at connection time, nothing reached.
    let config = json!({"address": "support@shop.test",
        "imap": {"host": "localhost", "port": port, "security": "plain", "username": "support"}});
    let (id, _) =
        crate::common::stored_channel(&app, frontdesk_core::model::Channel::Email, config, &[("imap_password", "pw")])
            .await;
    let (s, e) = app.admin(Method::POST, &format!("/api/v1/channels/{id}/poll"), None).await;
    assert_eq!(s, 503, "{e}");
    let m = e["message"].as_str().unwrap();
    assert!(m.contains("config.imap.host") && m.contains("allow_private_mail_servers"), "{m}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!called.load(std::sync::atomic::Ordering::SeqCst), "the private IMAP server was reached");
}
both_backends!(private_mail_servers_are_refused_by_default);

/// A local mail relay is allowed by its own setting, without opening the
/// other connections (webhooks, Graph API, crawler) to private networks.
async fn a_local_mail_relay_is_allowed_by_its_setting(app: TestApp) {
    let config = json!({"address": "support@shop.test",
        "smtp": {"host": "127.0.0.1", "port": 25, "security": "plain"}});
    let (s, v) = app
        .admin(Method::POST, "/api/v1/channels", Some(json!({"kind": "email", "name": "Relay", "config": config})))
        .await;
    assert_eq!(s, 201, "{v}");
    let (s, e) = app
        .admin(
            Method::POST,
            "/api/v1/channels",
            Some(json!({"kind": "custom", "name": "Hook", "config": {"webhook_url": "http://127.0.0.1:9/hook"}})),
        )
        .await;
    assert_eq!((s, e["field"].as_str()), (422, Some("config.webhook_url")), "{e}");
}
both_backends!(a_local_mail_relay_is_allowed_by_its_setting, settings = |s| s.allow_private_mail_servers = true);
