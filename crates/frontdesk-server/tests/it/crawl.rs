//! Crawling a real site served on loopback (B3, B5).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{Backend, TestApp};

fn page(title: &str, body: &str, extra_head: &str) -> String {
    format!(
        "<html><head><title>{title} | Example Help</title>{extra_head}</head><body>\
         <nav><a href=\"/\">Home</a> <a href=\"/guide/refunds\">Refunds</a> <a href=\"/guide/shipping\">Shipping</a></nav>\
         <main><h1>{title}</h1>{body}</main><footer>© Example Shop · Careers · Press</footer></body></html>"
    )
}

#[derive(Clone)]
struct Site {
    base: String,
    shipping_gone: Arc<AtomicBool>,
}

async fn robots(State(s): State<Site>) -> String {
    format!("User-agent: *\nDisallow: /private\nSitemap: {}/sitemap.xml\n", s.base)
}

async fn sitemap(State(s): State<Site>) -> Response {
    let b = &s.base;
    (
        [(header::CONTENT_TYPE, "application/xml")],
        format!("<urlset><url><loc>{b}/guide/refunds</loc></url><url><loc>{b}/guide/shipping</loc></url></urlset>"),
    )
        .into_response()
}

async fn home() -> Html<String> {
    Html(page(
        "Help centre",
        "<p>Welcome to the help centre.</p><a href=\"/guide/refunds?utm_source=home\">Refunds again</a> <a href=\"/private/secret\">Staff</a> \
         <a href=\"/missing\">Old page</a> <a href=\"/broken\">Broken</a> <a href=\"/loop\">Loop</a> <a href=\"/trap/a\">Calendar</a> \
         <a href=\"/copy\">Copy</a> <a href=\"/alias\">Alias</a> <a href=\"/hidden\">Hidden</a> <a href=\"/logo.png\">Logo</a> \
         <a href=\"https://elsewhere.example/\">Elsewhere</a>",
        "",
    ))
}

const REFUNDS: &str = "<p>Refunds are possible within 14 days of purchase.</p><p>Send the item back unused; the money is returned to the original card.</p>";
const SHIPPING: &str = "<p>We ship to 27 countries.</p><p>Delivery takes 3 to 5 working days.</p>";

async fn refunds() -> Response {
    ([(header::ETAG, "\"refunds-v1\"")], Html(page("Refund policy", REFUNDS, ""))).into_response()
}

async fn shipping(State(s): State<Site>) -> Response {
    if s.shipping_gone.load(Ordering::SeqCst) {
        return StatusCode::NOT_FOUND.into_response();
    }
    Html(page("Shipping", SHIPPING, "")).into_response()
}

async fn copy() -> Html<String> {
    Html(page("Shipping", SHIPPING, ""))
}

async fn alias() -> Html<String> {
    Html(page("Refunds (old URL)", "<p>Old refunds page.</p>", "<link rel=\"canonical\" href=\"/guide/refunds\">"))
}

async fn hidden() -> Html<String> {
    Html(page("Hidden", "<p>The staff discount code is STAFF50.</p>", "<meta name=\"robots\" content=\"noindex\">"))
}

async fn trap(Path(rest): Path<String>) -> Html<String> {
    Html(page("Calendar", &format!("<p>Events for {rest}.</p><a href=\"/trap/{rest}/x\">next</a>"), ""))
}

async fn site(shipping_gone: Arc<AtomicBool>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = Site { base: base.clone(), shipping_gone };
    let app = axum::Router::new()
        .route("/robots.txt", get(robots))
        .route("/sitemap.xml", get(sitemap))
        .route("/", get(home))
        .route("/guide/refunds", get(refunds))
        .route("/guide/shipping", get(shipping))
        .route("/copy", get(copy))
        .route("/alias", get(alias))
        .route("/hidden", get(hidden))
        .route("/private/secret", get(|| async { Html(page("Secret", "<p>secret</p>", "")) }))
        .route("/broken", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .route("/loop", get(|| async { Redirect::temporary("/loop2") }))
        .route("/loop2", get(|| async { Redirect::temporary("/loop") }))
        .route("/trap/{*rest}", get(trap))
        .with_state(state);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

async fn crawl_done(app: &TestApp, id: i64) -> Value {
    for _ in 0..400 {
        let (_, v) = app.admin(Method::GET, &format!("/api/v1/sources/{id}/crawl"), None).await;
        if v["source"]["status"] == "ready" || v["source"]["status"] == "error" {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the crawl did not finish");
}

async fn ask(app: &TestApp, q: &str) -> Value {
    let (id, token) = app.visitor(json!({})).await;
    app.say(id, &token, q).await;
    app.messages(id, &token).await.last().unwrap().clone()
}

async fn crawls_a_site_politely(backend: Backend) {
    // Private addresses are refused unless the setting allows them.
    let Some(strict) = TestApp::spawn(backend).await else { return };
    let gone = Arc::new(AtomicBool::new(false));
    let base = site(gone.clone()).await;
    let (s, e) =
        strict.admin(Method::POST, "/api/v1/sources/url", Some(json!({"url": base, "import_related": true}))).await;
    assert_eq!((s, e["field"].as_str()), (422, Some("url")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("private"), "{e}");
    let (s, e) = strict.admin(Method::POST, "/api/v1/sources/url", Some(json!({"url": "ftp://example.com/x"}))).await;
    assert_eq!((s, e["field"].as_str()), (422, Some("url")));
    strict.stop().await;

    let app = TestApp::spawn_with(backend, |s| {
        s.allow_private_networks = true;
        s.crawl_delay_ms = 0;
    })
    .await
    .unwrap();
    app.seed_agent().await;
    let (s, r) = app
        .admin(Method::POST, "/api/v1/sources/url", Some(json!({"url": format!("{base}/"), "import_related": true})))
        .await;
    assert_eq!(s, 202, "{r}");
    let id = r["source"]["id"].as_i64().unwrap();
    let v = crawl_done(&app, id).await;
    assert_eq!(v["source"]["status"], "ready", "{v}");
    let p = &v["progress"];
    let reasons = |list: &str| -> Vec<String> {
        v[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| format!("{} {}", x["url"].as_str().unwrap(), x["error"].as_str().unwrap_or("")))
            .collect()
    };
    let failed = reasons("failed");
    let skipped = reasons("skipped");
    for (path, why) in [("/missing", "HTTP 404"), ("/broken", "HTTP 500"), ("/loop", "redirect")] {
        assert!(failed.iter().any(|f| f.contains(path) && f.contains(why)), "{path}: {failed:?}");
    }
    for (path, why) in [
        ("/private/secret", "robots.txt"),
        ("/copy", "duplicate content"),
        ("/alias", "canonical"),
        ("/hidden", "noindex"),
    ] {
        assert!(skipped.iter().any(|f| f.contains(path) && f.contains(why)), "{path}: {skipped:?}");
    }
    let all = format!("{failed:?}{skipped:?}");
    assert!(!all.contains("elsewhere.example") && !all.contains("logo.png") && !all.contains("utm_source"), "{all}");
    assert!(p["fetched"].as_i64().unwrap() >= 3, "{p}");
    assert!(p["found"].as_i64().unwrap() < 25, "the trap was cut short: {p}");
    assert_eq!(p["queued"], 0);

    let reply = ask(&app, "how many days do I have to get a refund?").await;
    assert!(reply["text"].as_str().unwrap().contains("14 days"), "{reply}");
    assert_eq!(reply["citations"][0]["url"], format!("{base}/guide/refunds"), "citations link to the page itself");
    let reply = ask(&app, "how long does delivery take?").await;
    assert!(reply["text"].as_str().unwrap().contains("3 to 5 working days"), "{reply}");
    let reply = ask(&app, "what is the staff discount code?").await;
    assert!(!reply["text"].as_str().unwrap().contains("STAFF50"), "noindex pages are not used: {reply}");

    // Re-sync: the vanished page leaves the index; unchanged pages stay.
    gone.store(true, Ordering::SeqCst);
    let (s, _) = app.admin(Method::POST, &format!("/api/v1/sources/{id}/resync"), None).await;
    assert_eq!(s, 202);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let v = crawl_done(&app, id).await;
    assert_eq!(v["source"]["status"], "ready");
    // The vanished page is no longer cited; /copy, no longer a duplicate, now carries that content.
    let reply = ask(&app, "how long does delivery take?").await;
    let cited = reply["citations"][0]["url"].as_str().unwrap_or_default().to_owned();
    assert_ne!(cited, format!("{base}/guide/shipping"), "{reply}");
    assert_eq!(cited, format!("{base}/copy"), "{reply}");
    let (_, v) = app.admin(Method::GET, &format!("/api/v1/sources/{id}/crawl"), None).await;
    assert!(v["failed"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["url"] == format!("{base}/guide/shipping") && p["error"] == "HTTP 404"));
    assert!(ask(&app, "how many days do I have to get a refund?").await["text"].as_str().unwrap().contains("14 days"));

    // One page only, and a page limit.
    let (_, r) =
        app.admin(Method::POST, "/api/v1/sources/url", Some(json!({"url": format!("{base}/guide/refunds")}))).await;
    let v = crawl_done(&app, r["source"]["id"].as_i64().unwrap()).await;
    assert_eq!(v["progress"]["found"], 1);
    let (_, r) = app
        .admin(
            Method::POST,
            "/api/v1/sources/url",
            Some(json!({"url": format!("{base}/"), "import_related": true, "max_pages": 2})),
        )
        .await;
    let v = crawl_done(&app, r["source"]["id"].as_i64().unwrap()).await;
    assert_eq!(v["progress"]["found"], 2);
    let (s, e) = app
        .admin(
            Method::POST,
            "/api/v1/sources/url",
            Some(json!({"url": base, "import_related": true, "max_pages": 5001})),
        )
        .await;
    assert_eq!((s, e["field"].as_str()), (422, Some("max_pages")));
}

crate::both_backends!(crawls_a_site_politely, backend);

/// A slow site: every page takes a while; the first links to all the others.
async fn slow_site(pages: usize) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/p/{i}",
        get(move |Path(i): Path<usize>| async move {
            tokio::time::sleep(Duration::from_millis(60)).await;
            let links: String = if i == 0 { (1..pages).map(|j| format!("<a href=\"/p/{j}\">page {j}</a> ")).collect() } else { String::new() };
            Html(format!("<html><head><title>Page {i}</title></head><body><main><h1>Page {i}</h1><p>Unique fact number {i}: the code is Z{i}Q.</p>{links}</main></body></html>"))
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// Killing the server mid-crawl loses nothing: after a restart the crawl
/// resumes where it stopped and every page ends up fetched exactly once.
async fn a_crawl_resumes_after_a_restart(backend: Backend) {
    let tweak = |s: &mut frontdesk_server::config::Settings| {
        s.allow_private_networks = true;
        s.crawl_delay_ms = 0;
        s.crawl_concurrency = 1;
        s.job_lease_ms = 600;
        // Stopped mid-crawl: no grace period to finish it in.
        s.shutdown_grace_secs = 0;
    };
    let Some(app) = TestApp::spawn_with(backend, tweak).await else { return };
    let base = slow_site(30).await;
    let (s, r) = app
        .admin(Method::POST, "/api/v1/sources/url", Some(json!({"url": format!("{base}/p/0"), "import_related": true})))
        .await;
    assert_eq!(s, 202, "{r}");
    let id = r["source"]["id"].as_i64().unwrap();
    for _ in 0..200 {
        let (_, v) = app.admin(Method::GET, &format!("/api/v1/sources/{id}/crawl"), None).await;
        if v["progress"]["fetched"].as_i64().unwrap_or(0) >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let db = app.stop().await; // the worker dies mid-crawl
    let app = TestApp::spawn_on(db, tweak).await;
    let (_, v) = app.admin(Method::GET, &format!("/api/v1/sources/{id}/crawl"), None).await;
    let before = v["progress"]["fetched"].as_i64().unwrap();
    assert!((4..30).contains(&before), "stopped mid-crawl: {v}");
    let v = crawl_done(&app, id).await;
    assert_eq!(v["source"]["status"], "ready", "{v}");
    assert_eq!(v["progress"]["found"], 30, "{v}");
    assert_eq!(v["progress"]["fetched"], 30, "{v}");
    assert_eq!(v["source"]["chunk_count"], 30, "one chunk per page, none twice: {v}");
    let reply = ask(&app, "what is the code of unique fact number 27?").await;
    assert!(reply["text"].as_str().unwrap().contains("Z27Q"), "{reply}");
}

crate::both_backends!(a_crawl_resumes_after_a_restart, backend);

/// The network guard (issue 15): a source whose host name resolves to a
/// private address now (DNS rebinding: it pointed elsewhere when saved; here
/// `localhost`, written to the store past the save-time check) is refused
/// when connecting — not robots.txt, not the sitemap, not the page: the site
/// on loopback is never called, and the source's error names the setting.
async fn a_rebound_name_is_refused_when_connecting(app: TestApp) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let called = Arc::new(AtomicBool::new(false));
    let seen = called.clone();
    tokio::spawn(async move {
        while let Ok((_s, _)) = listener.accept().await {
            seen.store(true, Ordering::SeqCst);
        }
    });
    for url in [format!("http://localhost:{port}/"), format!("http://[::ffff:7f00:1]:{port}/")] {
        let store = app.store();
        let source = store
            .create_source(
                &frontdesk_store::Actor::system("test"),
                frontdesk_store::NewSource {
                    kind: frontdesk_store::source_kind::URL.into(),
                    title: url.clone(),
                    url: Some(url.clone()),
                    article_id: None,
                    file_id: None,
                    citations_enabled: true,
                    private: false,
                },
            )
            .await
            .unwrap();
        store.set_crawl_settings(source.id, true, 10).await.unwrap();
        frontdesk_engine::crawler::enqueue_crawl(&app.state, source.id).await.unwrap();
        let v = crawl_done(&app, source.id).await;
        assert_eq!(v["source"]["status"], "error", "{v}");
        let error = v["source"]["error"].as_str().unwrap_or_default();
        assert!(error.contains("private or local address") && error.contains("allow_private_networks"), "{v}");
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!called.load(Ordering::SeqCst), "the private site was called");
}
crate::both_backends!(a_rebound_name_is_refused_when_connecting);

/// A site with one page, `/manual`: over 20,000 characters while `long` is
/// set (a code at its start, another at its end), else short.
async fn long_page_site(long: Arc<AtomicBool>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let site = axum::Router::new().route(
        "/manual",
        get(move || {
            let long = long.load(Ordering::SeqCst);
            async move {
                let filler: String = if long {
                    (0..400)
                        .map(|i| format!("<p>Paragraph {i} of the manual says nothing in particular.</p>"))
                        .collect()
                } else {
                    String::new()
                };
                Html(page(
                    "Manual",
                    &format!("<p>The warranty code is W7K2.</p>{filler}<p>The secret ending code is Q9Z4.</p>"),
                    "",
                ))
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, site).await.unwrap() });
    base
}

/// A page far longer than `extract_max_text_chars` (issue 15): only its
/// beginning is indexed, and the cut is recorded on the page as on a file's
/// source — in the crawl API and as a note on the source's console page —
/// and cleared once the page is short again.
async fn a_long_page_is_cut_and_says_so(app: TestApp) {
    let long = Arc::new(AtomicBool::new(true));
    let base = long_page_site(long.clone()).await;
    let url = format!("{base}/manual");
    let (s, r) = app.admin(Method::POST, "/api/v1/sources/url", Some(json!({"url": url}))).await;
    assert_eq!(s, 202, "{r}");
    let id = r["source"]["id"].as_i64().unwrap();
    let v = crawl_done(&app, id).await;
    assert_eq!((v["source"]["status"].as_str(), v["progress"]["fetched"].as_i64()), (Some("ready"), Some(1)), "{v}");
    assert_eq!(v["truncated_pages"], 1, "{v}");
    let cut = &v["truncated"][0];
    assert_eq!(cut["url"], url.as_str(), "{v}");
    let (kept, total) = (cut["truncated_kept"].as_i64().unwrap(), cut["truncated_total"].as_i64().unwrap());
    assert!(kept <= 1_000 && kept > 900, "{v}");
    assert!(total > 20_000, "{v}");
    assert_eq!(cut["truncated_at_least"], false);
    // Only the beginning is searched.
    let text: String = app.store().list_chunks(id).await.unwrap().iter().map(|c| c.text.clone()).collect();
    assert!(text.contains("W7K2") && !text.contains("Q9Z4"), "{text}");

    // The console's source page says so, with the page and the numbers.
    crate::common::create_user(app.store(), "ed@test.example", frontdesk_core::model::Role::Editor, true).await;
    let console = crate::common::Console::sign_in(&app, "ed@test.example").await;
    let (s, html) = console.get(&format!("/console/sources/{id}")).await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("1 page was indexed only in part"), "{html}");
    let note = format!(
        "<a href=\"{url}\" target=\"_blank\" rel=\"noopener\">{url}</a>: indexed the first {} characters of {}",
        thousands(kept),
        thousands(total)
    );
    assert!(html.contains(&note), "{note} in {html}");
    // Its text is in its chunks: the page does not claim none was extracted.
    assert!(!html.contains("No text was extracted"), "{html}");
    assert!(html.contains("keeps its text only as passages"), "{html}");

    // A re-sync of the page, short now, clears the record.
    long.store(false, Ordering::SeqCst);
    let (s, r) = app.admin(Method::POST, &format!("/api/v1/sources/{id}/resync"), None).await;
    assert!(s == 200 || s == 202, "{s} {r}");
    let mut cleared = false;
    for _ in 0..400 {
        let (_, v) = app.admin(Method::GET, &format!("/api/v1/sources/{id}/crawl"), None).await;
        if v["truncated_pages"] == 0 && v["source"]["status"] == "ready" {
            cleared = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(cleared, "the cut is cleared once the page fits");
    let text: String = app.store().list_chunks(id).await.unwrap().iter().map(|c| c.text.clone()).collect();
    assert!(text.contains("W7K2") && text.contains("Q9Z4"), "{text}");
    let (_, html) = console.get(&format!("/console/sources/{id}")).await;
    assert!(!html.contains("indexed only in part"), "{html}");
}
crate::both_backends!(
    a_long_page_is_cut_and_says_so,
    private_networks,
    settings = |s| {
        s.crawl_delay_ms = 0;
        s.extract_max_text_chars = 1_000;
    }
);

/// 12345 → "12,345".
fn thousands(n: i64) -> String {
    let d = n.to_string();
    d.chars().enumerate().fold(String::new(), |mut out, (i, c)| {
        if i > 0 && (d.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
        out
    })
}

/// The cut page's note on the source's console page, in a real browser under
/// the console's CSP (and a screenshot with `FRONTDESK_SCREENSHOTS`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_page_is_noted_in_a_real_browser() {
    let Some(browser) = crate::browser::Browser::start().await.expect("start the browser") else { return };
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.allow_private_networks = true;
        s.crawl_delay_ms = 0;
        s.extract_max_text_chars = 1_000;
    })
    .await
    .unwrap();
    let base = long_page_site(Arc::new(AtomicBool::new(true))).await;
    let (s, r) = app.admin(Method::POST, "/api/v1/sources/url", Some(json!({"url": format!("{base}/manual")}))).await;
    assert_eq!(s, 202, "{r}");
    let id = r["source"]["id"].as_i64().unwrap();
    assert_eq!(crawl_done(&app, id).await["truncated_pages"], 1);
    crate::common::create_user(app.store(), "ed@test.example", frontdesk_core::model::Role::Editor, true).await;
    let wait = Duration::from_secs(10);
    browser.goto(&app.url("/login")).await.unwrap();
    browser.type_text("#email", "ed@test.example").await.unwrap();
    browser.type_text("#password", "password123").await.unwrap();
    browser.click("button.primary").await.unwrap();
    browser.wait_for("location.pathname === '/console'", wait).await.expect("signed in");
    browser.goto(&app.url(&format!("/console/sources/{id}"))).await.unwrap();
    let note = browser
        .wait_for("(document.querySelector('[data-cut-pages]') || {}).innerText", wait)
        .await
        .expect("the note is shown");
    let note = note.as_str().unwrap();
    assert!(note.contains("1 page was indexed only in part") && note.contains("/manual: indexed the first"), "{note}");
    let shown = browser
        .execute(
            "const n = document.querySelector('[data-cut-pages]'); const r = n.getBoundingClientRect();\
             return {visible: r.width > 0 && r.height > 0, background: getComputedStyle(n).backgroundColor};",
            json!([]),
        )
        .await
        .unwrap();
    assert_eq!(shown["visible"], true, "{shown}");
    assert_ne!(shown["background"], "rgba(0, 0, 0, 0)", "styled as a note: {shown}");
    let log = browser.console_log().await.unwrap();
    let bad: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("Content Security Policy") || l.contains("Refused to") || l.contains("Uncaught"))
        .collect();
    assert!(bad.is_empty(), "{log:#?}");
    if let Ok(dir) = std::env::var("FRONTDESK_SCREENSHOTS") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            std::path::Path::new(&dir).join("source_cut_pages.png"),
            browser.screenshot_png().await.unwrap(),
        )
        .unwrap();
    }
    browser.quit().await.unwrap();
}
