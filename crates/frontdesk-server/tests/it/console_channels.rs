//! Connected channels from the console (C1–C3): a channel is created from
//! the Channels page (its key and webhook secret shown once, on the page
//! answering the post), a bad configuration is named by its field and
//! nothing is saved; the agent is deployed and removed, the channel edited,
//! its secrets cleared, its key rotated, and deleted; the messaging settings
//! (C2) are saved per kind, and refused where they do not apply; people
//! without the editor role and a seat read but change nothing. A
//! conversation from a channel shows where each reply's delivery stands and
//! the attachments, downloaded from the console and never shown inline.

use frontdesk_core::model::{AskEmail, Channel, Role};
use frontdesk_engine::tokens::token_hash;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::common::{create_user, Console, TestApp};

/// The text of the element marked `data-test="{name}"` (up to its first tag end).
fn marked<'a>(html: &'a str, name: &str) -> Option<&'a str> {
    let pattern = format!("data-test=\"{name}\">");
    let at = html.find(&pattern)? + pattern.len();
    html[at..].split('<').next()
}

async fn channels_from_the_console(app: TestApp) {
    create_user(app.store(), "ch-ed@test.example", Role::Editor, true).await;
    let console = Console::sign_in(&app, "ch-ed@test.example").await;
    let (s, html) = console.get("/console/channels").await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("No channels yet"), "{html}");
    assert!(html.contains("href=\"/console/channels\" aria-current=\"page\""), "in the navigation: {html}");
    assert!(html.contains("webhook_url"), "an example configuration per kind: {html}");

    // A bad configuration: named by its field, shown again, nothing created.
    let bad = [
        ("kind", "custom"),
        ("name", "Helpdesk"),
        ("agent_deployed", "on"),
        ("config", r#"{"webhook_url": "not a url"}"#),
        ("secrets", ""),
    ];
    let p = console.post("/console/channels", &bad).await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("config.webhook_url"), "the field is named: {}", p.body);
    assert!(p.body.contains("not a url"), "the input is kept: {}", p.body);
    let p = console.post("/console/channels", &[("kind", "custom"), ("name", "H"), ("config", "{oops")]).await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("config: is not valid JSON"), "{}", p.body);
    let p = console
        .post(
            "/console/channels",
            &[
                ("kind", "email"),
                ("name", "M"),
                ("config", r#"{"address": "a@b.io"}"#),
                ("secrets", r#"{"password": "x"}"#),
            ],
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("secrets.password"), "{}", p.body);
    assert!(app.store().list_channels().await.unwrap().is_empty());

    // Created: the key and the generated webhook secret are on the answer, once.
    let mut good = bad;
    good[3] = ("config", r#"{"webhook_url": "https://helpdesk.example/hook"}"#);
    let p = console.post("/console/channels", &good).await;
    assert_eq!(p.status, 200, "{}", p.body);
    let key = marked(&p.body, "key").expect("the key is shown").to_owned();
    let secret = marked(&p.body, "webhook-secret").expect("the webhook secret is shown").to_owned();
    assert!(key.starts_with("fdch_") && secret.starts_with("whsec_"), "{key} {secret}");
    assert!(p.body.contains("POST /api/v1/channels/inbound"), "what the system must call: {}", p.body);
    assert!(
        p.body.contains("Authorization: Bearer &lt;key&gt;") || p.body.contains("Bearer &#60;key&#62;"),
        "{}",
        p.body
    );
    let channels = app.store().list_channels().await.unwrap();
    assert_eq!(channels.len(), 1);
    let id = channels[0].id;
    assert!(channels[0].agent_deployed);
    assert_eq!(app.store().channel_by_key(&token_hash(&key)).await.unwrap().map(|c| c.id), Some(id));
    assert_eq!(app.store().channel_secrets(id).await.unwrap().get("webhook_secret"), Some(&secret));
    let (s, html) = console.get(&format!("/console/channels/{id}")).await;
    assert_eq!(s, 200);
    assert!(!html.contains(&key) && !html.contains(&secret), "shown once only: {html}");
    assert!(!html.contains("data-test=\"key\""), "{html}");
    assert!(html.contains("webhook_secret <span class=\"muted\" data-test=\"secret-state\">(set)"), "{html}");
    assert!(html.contains("https://helpdesk.example/hook"), "{html}");
    let (_, html) = console.get("/console/channels").await;
    assert!(!html.contains(&key) && !html.contains(&secret));
    assert!(html.contains("Helpdesk") && html.contains(">Remove the agent<"), "{html}");

    // The agent removed, then deployed again from the channel's page.
    let p = console.post(&format!("/console/channels/{id}/toggle"), &[]).await;
    assert_eq!((p.status, p.location.as_str()), (303, "/console/channels?flash=agent_removed"));
    assert!(!app.store().get_channel(id).await.unwrap().agent_deployed);
    let (_, html) = console.get("/console/channels?flash=agent_removed").await;
    assert!(html.contains(">Deploy the agent<") && html.contains("go straight to your team"), "{html}");
    let p = console.post(&format!("/console/channels/{id}/toggle"), &[("from", "channel")]).await;
    assert_eq!((p.status, p.location.as_str()), (303, format!("/console/channels/{id}?flash=agent_deployed").as_str()));
    assert!(app.store().get_channel(id).await.unwrap().agent_deployed);

    // Edit: a bad configuration is named and kept; a good one is saved.
    let p = console
        .post(
            &format!("/console/channels/{id}"),
            &[("name", "Helpdesk 2"), ("config", r#"{"webhook_url": "ftp://x"}"#)],
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("config.webhook_url") && p.body.contains("ftp://x") && p.body.contains("Helpdesk 2"));
    let p = console
        .post(
            &format!("/console/channels/{id}"),
            &[("name", "Helpdesk 2"), ("config", r#"{"webhook_url": "https://helpdesk.example/v2"}"#)],
        )
        .await;
    assert_eq!((p.status, p.location.as_str()), (303, format!("/console/channels/{id}?flash=saved").as_str()));
    let c = app.store().get_channel(id).await.unwrap();
    assert_eq!(
        (c.name.as_str(), c.config["webhook_url"].as_str()),
        ("Helpdesk 2", Some("https://helpdesk.example/v2"))
    );

    // Secrets: cleared (never shown), refused when not the channel's.
    let p = console.post(&format!("/console/channels/{id}/secrets"), &[("access_token", "x")]).await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("secrets.access_token"), "{}", p.body);
    let p = console
        .post(&format!("/console/channels/{id}/secrets"), &[("webhook_secret", ""), ("clear", "webhook_secret")])
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert!(app.store().get_channel(id).await.unwrap().secrets_set.is_empty());
    let p = console.post(&format!("/console/channels/{id}/secrets"), &[("webhook_secret", "whsec_mine")]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let (_, html) = console.get(&format!("/console/channels/{id}?flash=secrets_saved")).await;
    assert!(html.contains("Secrets saved.") && !html.contains("whsec_mine"), "{html}");

    // Rotating the key: the new one is shown once, the old one stops working.
    let p = console.post(&format!("/console/channels/{id}/key"), &[]).await;
    assert_eq!(p.status, 200, "{}", p.body);
    let new_key = marked(&p.body, "key").expect("the new key is shown").to_owned();
    assert!(new_key.starts_with("fdch_") && new_key != key);
    assert!(app.store().channel_by_key(&token_hash(&key)).await.unwrap().is_none());
    assert!(app.store().channel_by_key(&token_hash(&new_key)).await.unwrap().is_some());
    let (_, html) = console.get(&format!("/console/channels/{id}")).await;
    assert!(!html.contains(&new_key));

    // Messaging settings per kind (C2).
    let p = console
        .post("/console/channels/messaging/whatsapp", &[("ask_email", "start"), ("close_after_minutes", "120")])
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let settings = app.store().messaging_settings().await.unwrap();
    let wa = settings.iter().find(|s| s.channel == Channel::WhatsApp).unwrap();
    assert_eq!((wa.ask_email, wa.close_after_minutes), (AskEmail::Start, Some(120)));
    let (_, html) = console.get("/console/channels").await;
    assert!(html.contains("id=\"close-whatsapp\" name=\"close_after_minutes\" value=\"120\""), "{html}");
    let p =
        console.post("/console/channels/messaging/email", &[("ask_email", "start"), ("close_after_minutes", "")]).await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("ask_email") && p.body.contains("live chat, WhatsApp and Messenger only"), "{}", p.body);
    let p = console
        .post("/console/channels/messaging/live_chat", &[("ask_email", "never"), ("close_after_minutes", "3")])
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("close_after_minutes"), "{}", p.body);
    let email = app.store().messaging_settings().await.unwrap();
    let email = email.iter().find(|s| s.channel == Channel::Email).unwrap();
    assert_eq!(email.ask_email, AskEmail::Never, "nothing saved");

    // Someone without a paid seat reads but changes nothing.
    create_user(app.store(), "ch-view@test.example", Role::Agent, false).await;
    let viewer = Console::sign_in(&app, "ch-view@test.example").await;
    let (s, html) = viewer.get("/console/channels").await;
    assert_eq!(s, 200);
    assert!(html.contains("Helpdesk 2") && !html.contains("/toggle") && !html.contains("New channel"), "{html}");
    let (s, html) = viewer.get(&format!("/console/channels/{id}")).await;
    assert_eq!(s, 200);
    assert!(!html.contains("Rotate the inbound key") && !html.contains("Delete this channel"), "{html}");
    for path in [
        format!("/console/channels/{id}/toggle"),
        format!("/console/channels/{id}/key"),
        format!("/console/channels/{id}/delete"),
        format!("/console/channels/{id}"),
        "/console/channels/messaging/whatsapp".to_owned(),
        "/console/channels".to_owned(),
    ] {
        assert_eq!(viewer.post(&path, &[("name", "x")]).await.status, 403, "{path}");
    }
    assert_eq!(app.store().get_channel(id).await.unwrap().name, "Helpdesk 2");

    // Deleted.
    let p = console.post(&format!("/console/channels/{id}/delete"), &[]).await;
    assert_eq!((p.status, p.location.as_str()), (303, "/console/channels?flash=deleted"));
    assert!(app.store().list_channels().await.unwrap().is_empty());
}
both_backends!(channels_from_the_console);

/// "Check mail now" on an email channel whose mailbox cannot be reached
/// shows why; an email channel without a mailbox has no such button.
async fn check_mail_now_shows_the_error(app: TestApp) {
    create_user(app.store(), "mail-ed@test.example", Role::Editor, true).await;
    let console = Console::sign_in(&app, "mail-ed@test.example").await;
    let config = r#"{"address": "support@shop.test",
        "imap": {"host": "127.0.0.1", "port": 9, "security": "plain", "username": "support", "poll_secs": 3600}}"#;
    let p = console
        .post(
            "/console/channels",
            &[("kind", "email"), ("name", "Mail"), ("config", config), ("secrets", r#"{"imap_password": "pw"}"#)],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(marked(&p.body, "key").is_some_and(|k| k.starts_with("fdch_")), "{}", p.body);
    assert!(marked(&p.body, "webhook-secret").is_none(), "email channels have no webhook secret");
    assert!(p.body.contains("POST /api/v1/channels/inbound/email"), "{}", p.body);
    assert!(p.body.contains("Check mail now"), "{}", p.body);
    assert!(!p.body.contains("\"pw\"") && !p.body.contains(">pw<"), "secrets never shown: {}", p.body);
    let id = app.store().list_channels().await.unwrap()[0].id;
    let p = console.post(&format!("/console/channels/{id}/poll"), &[]).await;
    assert_eq!(p.status, 503, "{}", p.body);
    assert!(p.body.contains("Could not read the mailbox"), "{}", p.body);

    let p = console
        .post(
            "/console/channels",
            &[("kind", "email"), ("name", "Push"), ("config", r#"{"address": "push@shop.test"}"#)],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(!p.body.contains("Check mail now"), "no mailbox, no button");
    let push = app.store().list_channels().await.unwrap().into_iter().find(|c| c.name == "Push").unwrap().id;
    let p = console.post(&format!("/console/channels/{push}/poll"), &[]).await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("config.imap"), "{}", p.body);

    // WhatsApp: the webhook URL and the verify token to give Meta; no key to rotate.
    let p = console
        .post(
            "/console/channels",
            &[
                ("kind", "whatsapp"),
                ("name", "WA"),
                ("config", r#"{"account_id": "1234", "verify_token": "tok-verify-1"}"#),
                ("secrets", r#"{"access_token": "EAAG-secret", "app_secret": "shh"}"#),
            ],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let wa = app.store().list_channels().await.unwrap().into_iter().find(|c| c.name == "WA").unwrap().id;
    assert!(p.body.contains(&format!("/webhooks/whatsapp/{wa}")) && p.body.contains("tok-verify-1"), "{}", p.body);
    assert!(!p.body.contains("EAAG-secret") && !p.body.contains("Rotate the inbound key"), "{}", p.body);
    assert!(marked(&p.body, "shown-once").is_none(), "nothing to show once: {}", p.body);
}
both_backends!(check_mail_now_shows_the_error, settings = |s| s.allow_private_mail_servers = true);

async fn wait_for_delivery(console: &Console<'_>, conversation: i64) -> String {
    for _ in 0..100 {
        let (s, html) = console.get(&format!("/console/conversations/{conversation}")).await;
        assert_eq!(s, 200, "{html}");
        if html.contains("data-test=\"delivery\"") {
            return html;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no delivery status on the conversation page");
}

/// A custom channel's conversation: the channel, the contact's handle and
/// each reply's delivery status (its webhook cannot be reached).
async fn conversation_shows_delivery_status(app: TestApp) {
    app.seed_agent().await;
    let body = json!({"kind": "custom", "name": "Helpdesk", "config": {"webhook_url": "http://127.0.0.1:9/hook"}});
    let (s, ch) = app.admin(Method::POST, "/api/v1/channels", Some(body)).await;
    assert_eq!(s, 201, "{ch}");
    let key = ch["key"].as_str().unwrap().to_owned();
    let r = app
        .client
        .post(app.url("/api/v1/channels/inbound"))
        .bearer_auth(&key)
        .json(&json!({"external_id": "m1", "contact": {"external_id": "u1", "name": "Ada"},
                      "text": "How much does the Pro plan cost?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let v: Value = r.json().await.unwrap();
    let conversation = v["conversation_id"].as_i64().unwrap();

    let console = Console::sign_in(&app, "admin@test.example").await;
    let html = wait_for_delivery(&console, conversation).await;
    assert!(html.contains("12 euros"), "the agent answered: {html}");
    assert!(html.contains("Connected channel") && html.contains(">Helpdesk</a>"), "{html}");
    assert!(html.contains("<dt>Contact id</dt><dd>u1</dd>"), "the handle: {html}");
    let status = html.split("data-test=\"delivery\">").nth(1).unwrap();
    assert!(
        status.contains("<span class=\"pill queued\">queued</span>")
            || status.contains("<span class=\"pill failed\">failed</span>"),
        "{status}"
    );
    // The poll fragment refreshes statuses of replies already on the page.
    let r = app
        .client
        .get(app.url(&format!("/console/conversations/{conversation}/messages?after=1000")))
        .header("cookie", &console.cookie)
        .header("hx-request", "true")
        .send()
        .await
        .unwrap();
    let fragment = r.text().await.unwrap();
    assert!(fragment.contains("hx-swap-oob=\"true\">Delivery:"), "{fragment}");
    let d = app.store().deliveries_for(conversation).await.unwrap();
    assert!(fragment.contains(&format!("id=\"delivery-{}\"", d[0].message_id)), "{fragment}");
}
both_backends!(conversation_shows_delivery_status, private_networks);

/// An email with an attachment: listed under its message, downloaded from
/// the console as an attachment (never inline); people who cannot read
/// conversations cannot download it.
async fn attachments_are_downloaded(app: TestApp) {
    let body = json!({"kind": "email", "name": "Support mail", "agent_deployed": false,
                      "config": {"address": "support@shop.test"}});
    let (s, ch) = app.admin(Method::POST, "/api/v1/channels", Some(body)).await;
    assert_eq!(s, 201, "{ch}");
    let key = ch["key"].as_str().unwrap().to_owned();
    let raw = "From: Ada Lovelace <ada@customer.test>\r\nTo: support@shop.test\r\nSubject: Invoice question\r\n\
               Message-ID: <att1@customer.test>\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
               Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
               --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease see the attached notes.\r\n\
               --b1\r\nContent-Type: text/plain; name=\"notes.txt\"\r\nContent-Disposition: attachment; filename=\"notes.txt\"\r\n\r\n\
               hello attachment\r\n--b1--\r\n";
    let r = app
        .client
        .post(app.url("/api/v1/channels/inbound/email"))
        .bearer_auth(&key)
        .header("content-type", "message/rfc822")
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let v: Value = r.json().await.unwrap();
    let conversation = v["conversation_id"].as_i64().unwrap();

    let console = Console::sign_in(&app, "admin@test.example").await;
    let (s, html) = console.get(&format!("/console/conversations/{conversation}")).await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("<dt>Subject</dt><dd>Invoice question</dd>"), "{html}");
    assert!(html.contains("<dt>Email address</dt><dd>ada@customer.test</dd>"), "{html}");
    assert!(!html.contains("hello attachment"), "attachments are never shown inline: {html}");
    let at = html.find("href=\"/console/attachments/").expect("an attachment link") + "href=\"".len();
    let link = html[at..].split('"').next().unwrap().to_owned();
    assert!(html[at..].split("</li>").next().unwrap().contains("notes.txt"), "{html}");

    let r = app.client.get(app.url(&link)).header("cookie", &console.cookie).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "text/plain");
    assert_eq!(h["content-disposition"], "attachment; filename=\"notes.txt\"; filename*=UTF-8''notes.txt");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(r.text().await.unwrap().trim_end(), "hello attachment");
    let (s, _) = console.get("/console/attachments/987654").await;
    assert_eq!(s, 404);

    // Someone who cannot read conversations cannot download it.
    create_user(app.store(), "att-view@test.example", Role::Viewer, true).await;
    let viewer = Console::sign_in(&app, "att-view@test.example").await;
    let (s, body) = viewer.get(&link).await;
    assert_eq!(s, 403, "{body}");
    assert!(!body.contains("hello attachment"));
}
both_backends!(attachments_are_downloaded);
