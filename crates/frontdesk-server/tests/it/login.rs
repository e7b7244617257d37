//! Sign-in security (I2): throttling per account and per address (429 with
//! `Retry-After`, even for the right password), counters that survive a
//! restart, and the optional TOTP second factor. The throttle's rules (window,
//! doubling) are tested without a clock in `frontdesk_core::throttle`; here a
//! lockout that has passed is made by recording failures in the past through
//! the store, so nothing sleeps for minutes.

use frontdesk_core::model::Role;
use frontdesk_core::throttle::{self, ACCOUNT};
use frontdesk_engine::totp;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::common::{create_user, Backend, Console, TestApp};

/// Signs in through the JSON API; returns status, `Retry-After` and body.
async fn login(app: &TestApp, email: &str, password: &str, code: Option<&str>) -> (u16, Option<i64>, Value) {
    let mut body = json!({"email": email, "password": password});
    if let Some(c) = code {
        body["totp"] = json!(c);
    }
    let r = app.client.post(app.url("/api/v1/auth/login")).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().parse::<i64>().expect("whole seconds"));
    (status, retry, r.json().await.unwrap_or(Value::Null))
}

/// The current TOTP time step, waiting first when fewer than 3 seconds of it
/// remain (a code computed here must still be current at the server).
async fn current_step() -> i64 {
    loop {
        let now = frontdesk_store::now_ms() / 1000;
        if totp::STEP_SECS - now % totp::STEP_SECS >= 3 {
            return totp::step_at(now);
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

fn code(secret: &str, step: i64) -> String {
    totp::code_at(&totp::base32_decode(secret).unwrap(), step)
}

/// A code that is valid at no step within the accepted drift.
fn wrong_code(secret: &str, step: i64) -> String {
    let valid: Vec<String> = (step - 1..=step + 1).map(|s| code(secret, s)).collect();
    (0..1000).map(|n| format!("{:06}", n * 7919 % 1_000_000)).find(|c| !valid.contains(c)).unwrap()
}

async fn throttled_after_wrong_passwords_even_with_the_right_one(app: TestApp) {
    create_user(app.store(), "eve@test.example", Role::Editor, true).await;
    create_user(app.store(), "bob@test.example", Role::Agent, true).await;
    // The defect: 200 wrong passwords, then the right one was accepted.
    for i in 1..ACCOUNT.max_failures {
        let (s, retry, e) = login(&app, "eve@test.example", &format!("wrong-{i}"), None).await;
        assert_eq!((s, retry), (401, None), "failure {i}: {e}");
        assert_eq!(e["message"], "wrong email or password");
    }
    let (s, retry, e) = login(&app, "eve@test.example", "wrong-5", None).await;
    assert_eq!(s, 429, "the failure that reaches the limit locks: {e}");
    assert_eq!(retry, Some(15 * 60));
    assert_eq!(e["code"], "too_many_requests");
    let (s, retry, e) = login(&app, "eve@test.example", "password123", None).await;
    assert_eq!(s, 429, "the right password waits too: {e}");
    let retry = retry.expect("Retry-After");
    assert!((1..=900).contains(&retry), "{retry}");
    assert!(
        e["message"].as_str().unwrap().starts_with("too many failed sign-ins for this account; try again in"),
        "{e}"
    );
    // The console's form is refused the same way, with the wait on the page.
    let r = app
        .client
        .post(app.url("/login"))
        .form(&[("email", "eve@test.example"), ("password", "password123"), ("next", "/console")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
    assert!(r.headers().get("set-cookie").is_none());
    assert!(r.text().await.unwrap().contains("too many failed sign-ins for this account"));

    // An unknown email is counted and answered exactly like a known one.
    for _ in 1..ACCOUNT.max_failures {
        let (s, _, e) = login(&app, "ghost@test.example", "wrong", None).await;
        assert_eq!((s, e["message"].as_str()), (401, Some("wrong email or password")));
    }
    let (s, retry, _) = login(&app, "Ghost@Test.example ", "wrong", None).await;
    assert_eq!((s, retry), (429, Some(15 * 60)), "the account key ignores case and spaces");

    // Another account from the same address is not locked by eve's count.
    let (s, _, e) = login(&app, "bob@test.example", "password123", None).await;
    assert_eq!(s, 200, "{e}");

    // Each lockout is audited (failures are logged as warnings).
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=login", None).await;
    let ids: Vec<&str> = audit.as_array().unwrap().iter().map(|a| a["entity_id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"account:eve@test.example"), "{audit}");
    assert!(ids.contains(&"account:ghost@test.example"), "{audit}");
    assert!(audit.as_array().unwrap().iter().all(|a| a["action"] == "lockout"));

    // Once the lockout has passed the right password works and clears the
    // count. (A lockout that ended a minute ago, recorded in the past.)
    let key = "account:carol@test.example".to_owned();
    create_user(app.store(), "carol@test.example", Role::Agent, true).await;
    let past = frontdesk_store::now_ms() - ACCOUNT.lockout_ms - 60_000;
    for _ in 0..ACCOUNT.max_failures {
        app.store().record_login_failure(&key, &ACCOUNT, past).await.unwrap();
    }
    let c = app.store().login_counters(std::slice::from_ref(&key)).await.unwrap()[0].1;
    assert_eq!(c.lockouts, 1);
    assert_eq!(throttle::retry_after_secs(&c, frontdesk_store::now_ms()), None);
    let (s, _, e) = login(&app, "carol@test.example", "password123", None).await;
    assert_eq!(s, 200, "{e}");
    assert!(app.store().login_counters(&[key]).await.unwrap().is_empty(), "success resets the account's counter");
}
both_backends!(throttled_after_wrong_passwords_even_with_the_right_one);

async fn an_address_is_limited_across_emails(app: TestApp) {
    create_user(app.store(), "dora@test.example", Role::Agent, true).await;
    // Password spraying: one wrong password on each of many accounts.
    for i in 1..throttle::ADDRESS.max_failures {
        let (s, _, e) = login(&app, &format!("user{i}@test.example"), "Summer2026!", None).await;
        assert_eq!(s, 401, "attempt {i}: {e}");
    }
    let (s, retry, _) = login(&app, "user20@test.example", "Summer2026!", None).await;
    assert_eq!((s, retry), (429, Some(15 * 60)));
    // Now even a valid account with the right password waits, from this address.
    let (s, retry, e) = login(&app, "dora@test.example", "password123", None).await;
    assert_eq!(s, 429, "{e}");
    assert!(retry.is_some());
    assert!(e["message"].as_str().unwrap().contains("from your network address"), "{e}");
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=login", None).await;
    assert!(audit.as_array().unwrap().iter().any(|a| a["entity_id"] == "address:127.0.0.1"), "{audit}");
}
both_backends!(an_address_is_limited_across_emails);

/// Signs in through the JSON API with an `X-Forwarded-For` header.
async fn login_via(app: &TestApp, forwarded_for: &str, email: &str, password: &str) -> (u16, Value) {
    let r = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Behind a trusted reverse proxy (here the test client's own 127.0.0.1),
/// each visitor is counted at the address the proxy forwarded: one client's
/// lockout does not lock out everyone behind the proxy.
async fn clients_behind_a_trusted_proxy_are_throttled_apart(app: TestApp) {
    create_user(app.store(), "dora@test.example", Role::Agent, true).await;
    // The proxy appends the address it saw; whatever the client sent is on the left.
    let attacker = "6.6.6.6, 198.51.100.66";
    for i in 1..throttle::ADDRESS.max_failures {
        let (s, e) = login_via(&app, attacker, &format!("user{i}@test.example"), "Summer2026!").await;
        assert_eq!(s, 401, "attempt {i}: {e}");
    }
    let (s, _) = login_via(&app, attacker, "user20@test.example", "Summer2026!").await;
    assert_eq!(s, 429, "the sprayer is locked out");
    // Changing the part the client controls does not help it.
    let (s, e) = login_via(&app, "203.0.113.1, 198.51.100.66", "dora@test.example", "password123").await;
    assert_eq!(s, 429, "{e}");
    assert!(e["message"].as_str().unwrap().contains("from your network address"), "{e}");
    // Another visitor behind the same proxy signs in.
    let (s, e) = login_via(&app, "198.51.100.77", "dora@test.example", "password123").await;
    assert_eq!(s, 200, "{e}");
    // So does one behind two proxies (the inner one trusted too).
    let (s, e) = login_via(&app, "6.6.6.6, 198.51.100.88, 127.0.0.1", "dora@test.example", "password123").await;
    assert_eq!(s, 200, "{e}");
    // A malformed header counts as the proxy itself, which is not locked.
    let (s, e) = login_via(&app, "not-an-address", "dora@test.example", "password123").await;
    assert_eq!(s, 200, "{e}");
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=login", None).await;
    let ids: Vec<&str> = audit.as_array().unwrap().iter().map(|a| a["entity_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["address:198.51.100.66"], "the lockout names the forwarded client, not the proxy");
}
both_backends!(
    clients_behind_a_trusted_proxy_are_throttled_apart,
    settings = |s| {
        s.trusted_proxies = vec!["127.0.0.1".into(), "10.0.0.0/8".into()];
    }
);

/// Without `trusted_proxies` a forged `X-Forwarded-For` changes nothing: the
/// peer is counted, so rotating the header does not escape the limit.
async fn a_forged_forwarded_for_does_not_escape_the_throttle(app: TestApp) {
    create_user(app.store(), "dora@test.example", Role::Agent, true).await;
    for i in 1..throttle::ADDRESS.max_failures {
        let (s, e) = login_via(&app, &format!("198.51.100.{i}"), &format!("user{i}@test.example"), "Summer2026!").await;
        assert_eq!(s, 401, "attempt {i}: {e}");
    }
    let (s, _) = login_via(&app, "198.51.100.20", "user20@test.example", "Summer2026!").await;
    assert_eq!(s, 429, "twenty failures from one peer lock it, whatever the header said");
    let (s, e) = login_via(&app, "203.0.113.99", "dora@test.example", "password123").await;
    assert_eq!(s, 429, "{e}");
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=login", None).await;
    let ids: Vec<&str> = audit.as_array().unwrap().iter().map(|a| a["entity_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["address:127.0.0.1"]);
}
both_backends!(a_forged_forwarded_for_does_not_escape_the_throttle);

/// A bad network in `trusted_proxies` stops the start with an error naming it.
#[tokio::test]
async fn a_bad_trusted_proxy_is_refused_at_start() {
    let db = crate::common::TestDb::create(Backend::Sqlite).await.unwrap();
    let mut settings = crate::common::test_settings(&db);
    settings.trusted_proxies = vec!["10.0.0.0/8".into(), "10.0.0.0/33".into()];
    let e = match frontdesk_server::startup::Application::build(settings).await {
        Ok(_) => panic!("started with a bad trusted_proxies"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("trusted_proxies") && e.contains("\"10.0.0.0/33\""), "{e}");
}

async fn a_lockout_survives_a_restart(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    create_user(app.store(), "eve@test.example", Role::Agent, true).await;
    for _ in 0..ACCOUNT.max_failures {
        login(&app, "eve@test.example", "wrong", None).await;
    }
    let db = app.stop().await;
    let app = TestApp::spawn_on(db, |_| {}).await;
    let (s, retry, e) = login(&app, "eve@test.example", "password123", None).await;
    assert_eq!(s, 429, "the counter is in the store, not in the old process: {e}");
    assert!(retry.is_some_and(|r| r > 0 && r <= 900));
}
both_backends!(a_lockout_survives_a_restart, backend);

async fn totp_second_factor(app: TestApp) {
    let (uid, key) = app.user_with_key("tess@test.example", Role::Agent, true).await;
    let (s, st) = app.api(&key, Method::GET, "/api/v1/me/totp", None).await;
    assert_eq!((s, &st), (200, &json!({"enabled": false, "pending": false})));

    // Enrol: the server makes the secret and shows it with an otpauth:// URI.
    let (s, e) = app.api(&key, Method::POST, "/api/v1/me/totp", None).await;
    assert_eq!(s, 201, "{e}");
    let secret = e["secret"].as_str().unwrap().to_owned();
    assert_eq!(totp::base32_decode(&secret).unwrap().len(), 20);
    let uri = e["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Frontdesk:tess%40test.example?secret="), "{uri}");
    assert!(uri.contains(&format!("secret={secret}&")) && uri.contains("period=30") && uri.contains("digits=6"));
    let (_, st) = app.api(&key, Method::GET, "/api/v1/me/totp", None).await;
    assert_eq!(st, json!({"enabled": false, "pending": true}));
    // Not confirmed yet: the password alone still signs in.
    assert_eq!(login(&app, "tess@test.example", "password123", None).await.0, 200);

    // A wrong code does not confirm it.
    let step = current_step().await;
    let (s, e) =
        app.api(&key, Method::POST, "/api/v1/me/totp/confirm", Some(json!({"code": wrong_code(&secret, step)}))).await;
    assert_eq!((s, e["field"].as_str()), (422, Some("code")), "{e}");
    let (s, e) = app.api(&key, Method::POST, "/api/v1/me/totp/confirm", Some(json!({"code": ""}))).await;
    assert_eq!((s, e["field"].as_str()), (422, Some("code")), "{e}");
    let step = current_step().await;
    let (s, st) =
        app.api(&key, Method::POST, "/api/v1/me/totp/confirm", Some(json!({"code": code(&secret, step - 1)}))).await;
    assert_eq!((s, &st), (200, &json!({"enabled": true, "pending": false})));

    // Now the password alone is not enough, and the answer says what is missing.
    let (s, _, e) = login(&app, "tess@test.example", "password123", None).await;
    assert_eq!((s, e["code"].as_str(), e["field"].as_str()), (401, Some("totp_required"), Some("totp")), "{e}");
    let step = current_step().await;
    let (s, _, e) = login(&app, "tess@test.example", "password123", Some(&wrong_code(&secret, step))).await;
    assert_eq!((s, e["field"].as_str()), (401, Some("totp")), "{e}");
    // A code with the wrong password gets nothing (and no hint about the code).
    let (s, _, e) = login(&app, "tess@test.example", "nope", Some(&code(&secret, step))).await;
    assert_eq!((s, e["message"].as_str()), (401, Some("wrong email or password")));
    let now_code = code(&secret, current_step().await);
    let (s, _, e) = login(&app, "tess@test.example", "password123", Some(&now_code)).await;
    assert_eq!(s, 200, "{e}");
    // The same code cannot be used twice.
    let (s, _, _) = login(&app, "tess@test.example", "password123", Some(&now_code)).await;
    assert_eq!(s, 401);

    // Turning it off needs a valid (unused) code.
    let (s, e) = app.api(&key, Method::POST, "/api/v1/me/totp/disable", Some(json!({"code": now_code}))).await;
    assert_eq!((s, e["field"].as_str()), (422, Some("code")), "{e}");
    let next = code(&secret, current_step().await + 1);
    let (s, st) = app.api(&key, Method::POST, "/api/v1/me/totp/disable", Some(json!({"code": next}))).await;
    assert_eq!((s, &st), (200, &json!({"enabled": false, "pending": false})));
    assert_eq!(login(&app, "tess@test.example", "password123", None).await.0, 200);
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=user_totp", None).await;
    let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["disable", "enable"], "{audit}");

    // An admin resets a user's second factor (a lost phone); others may not.
    let (_, e) = app.api(&key, Method::POST, "/api/v1/me/totp", None).await;
    let secret = e["secret"].as_str().unwrap().to_owned();
    let step = current_step().await;
    app.api(&key, Method::POST, "/api/v1/me/totp/confirm", Some(json!({"code": code(&secret, step)}))).await;
    let (s, e) = app.api(&key, Method::POST, "/api/v1/me/totp", None).await;
    assert_eq!(s, 409, "no second enrolment while one is on: {e}");
    let (s, _) = app.api(&key, Method::DELETE, &format!("/api/v1/users/{uid}/totp"), None).await;
    assert_eq!(s, 403);
    let (s, r) = app.admin(Method::DELETE, &format!("/api/v1/users/{uid}/totp"), None).await;
    assert_eq!((s, r), (200, json!({"reset": true})));
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=user_totp&limit=1", None).await;
    assert_eq!(audit[0]["action"], "reset");
    assert_eq!(audit[0]["actor_label"], "admin@test.example");
    assert_eq!(audit[0]["entity_id"], uid.to_string());
    assert_eq!(login(&app, "tess@test.example", "password123", None).await.0, 200);
    let (_, r) = app.admin(Method::DELETE, &format!("/api/v1/users/{uid}/totp"), None).await;
    assert_eq!(r, json!({"reset": false}));
    let (s, _) = app.admin(Method::DELETE, "/api/v1/users/999999/totp", None).await;
    assert_eq!(s, 404);

    // Wrong codes count as failed sign-ins: the right password and the right
    // code then wait too.
    let (_, e) = app.api(&key, Method::POST, "/api/v1/me/totp", None).await;
    let secret = e["secret"].as_str().unwrap().to_owned();
    let step = current_step().await;
    app.api(&key, Method::POST, "/api/v1/me/totp/confirm", Some(json!({"code": code(&secret, step - 1)}))).await;
    let bad = wrong_code(&secret, step);
    for i in 1..ACCOUNT.max_failures {
        let (s, _, _) = login(&app, "tess@test.example", "password123", Some(&bad)).await;
        assert_eq!(s, 401, "code failure {i}");
    }
    assert_eq!(login(&app, "tess@test.example", "password123", Some(&bad)).await.0, 429);
    let good = code(&secret, current_step().await);
    let (s, retry, _) = login(&app, "tess@test.example", "password123", Some(&good)).await;
    assert_eq!(s, 429);
    assert!(retry.is_some());
}
both_backends!(totp_second_factor);

async fn console_account_page_and_sign_in_with_a_code(app: TestApp) {
    let (uid, _) = app.user_with_key("ivy@test.example", Role::Agent, true).await;
    let c = Console::sign_in(&app, "ivy@test.example").await;
    let (s, html) = c.get("/console/account").await;
    assert_eq!(s, 200);
    assert!(html.contains("Two-factor authentication") && html.contains("Set up two-factor authentication"));
    let (_, home) = c.get("/console").await;
    assert!(home.contains("href=\"/console/account\""), "the header links to the account page");

    let p = c.post("/console/account/totp", &[]).await;
    assert_eq!((p.status, p.location.as_str()), (303, "/console/account#two-factor"));
    let (_, html) = c.get("/console/account").await;
    let secret = app.store().user_totp(uid).await.unwrap().unwrap().secret;
    let grouped: Vec<String> = secret.as_bytes().chunks(4).map(|g| String::from_utf8(g.to_vec()).unwrap()).collect();
    assert!(html.contains(&grouped.join(" ")), "the key is shown in groups of four");
    assert!(html.contains("Frontdesk:ivy%40test.example?secret="), "the otpauth:// link is shown");
    let step = current_step().await;
    let p = c.post("/console/account/totp/confirm", &[("code", &wrong_code(&secret, step))]).await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("is not the current code"), "{}", p.body);
    let p = c.post("/console/account/totp/confirm", &[("code", &code(&secret, step - 1))]).await;
    assert_eq!((p.status, p.location.as_str()), (303, "/console/account?flash=totp_on#two-factor"));
    let (_, html) = c.get("/console/account?flash=totp_on").await;
    assert!(html.contains("Two-factor authentication is on") && html.contains("Turn off two-factor authentication"));

    // The sign-in form asks for the code after the right password.
    let form = |code: Option<String>| {
        let mut f = vec![("email", "ivy@test.example".to_owned()), ("password", "password123".to_owned())];
        if let Some(c) = code {
            f.push(("totp", c));
        }
        f.push(("next", "/console".to_owned()));
        app.client.post(app.url("/login")).form(&f).send()
    };
    let r = form(None).await.unwrap();
    assert_eq!(r.status(), 401);
    let html = r.text().await.unwrap();
    assert!(html.contains("name=\"totp\"") && html.contains("two-factor authentication"), "{html}");
    let r = form(Some(code(&secret, current_step().await))).await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers().get("set-cookie").is_some());

    // The admin's users page shows it on and resets it.
    let admin = Console::sign_in(&app, "admin@test.example").await;
    let (_, users) = admin.get("/console/users").await;
    assert!(users.contains(&format!("/console/users/{uid}/totp/reset")));
    let p = admin.post(&format!("/console/users/{uid}/totp/reset"), &[]).await;
    assert_eq!((p.status, p.location.as_str()), (303, "/console/users?flash=totp_reset"));
    assert!(app.store().user_totp(uid).await.unwrap().is_none());
    let r = form(None).await.unwrap();
    assert_eq!(r.status(), 303, "after the reset the password alone signs in");
}
both_backends!(console_account_page_and_sign_in_with_a_code);
