//! Hostile content held by construction (issue 15, part 1): an editor's
//! article cannot put a live link, element or script on `/kb/{slug}`, every
//! response carries the security headers, and the console, the knowledge-base
//! pages, the API docs and the widget still work in a real browser under the
//! Content-Security-Policy.

use std::time::Duration;

use frontdesk_core::links::SafeLink;
use frontdesk_core::model::Role;
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::common::{create_user, sign_in, TestApp};

/// Every trick of the report and its relatives; each sets `window.__xss` if it ever runs.
const HOSTILE: &str = r#"Deleted notes stay in the Trash for 30 days.

[click me](javascript:window.__xss=1) and [mixed](JaVaScRiPt:window.__xss=2) and [spaced]( javascript:window.__xss=3)
[tab](<java	script:window.__xss=4>) [entity](&#106;avascript:window.__xss=5) [colon](javascript&colon;window.__xss=6)
[data link](data:text/html,<script>window.__xss=7</script>) [vb](vbscript:msgbox(1)) [file](file:///etc/passwd)
<javascript:window.__xss=8> [by reference][evil]

<script>window.__xss=9</script>

<img src=x onerror="window.__xss=10"> inline <svg onload="window.__xss=11"></svg>

<iframe src="javascript:window.__xss=12"></iframe>

<a href="javascript:window.__xss=13">raw anchor</a>

![picture](javascript:window.__xss=14) ![svg picture](data:image/svg+xml,<svg onload=window.__xss=15>)

[safe web](https://example.com/help) [safe mail](mailto:help@example.com) [safe phone](tel:+442079460000) [safe page](/kb/other)

[evil]: data:text/html,<script>window.__xss=16</script>
"#;

/// The article's HTML holds no element outside the renderer's tags, no attribute that runs
/// script, and no href/src outside the scheme allow-list.
fn assert_inert(html: &str) {
    let start = html.find("<article>").expect("an article on the page");
    let end = html.rfind("</article>").expect("the article's end") + "</article>".len();
    let article = &html[start..end];
    for (i, _) in article.match_indices('<') {
        let rest = &article[i + 1..];
        let rest = rest.strip_prefix('/').unwrap_or(rest);
        let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        // The renderer's own list, and the page's <article> around it.
        let allowed = name == "article" || frontdesk_server::markdown::TAGS.contains(&name.as_str());
        assert!(allowed, "element <{name}> leaked into the page: {article}");
        let tag = &rest[..rest.find('>').expect("a closed tag")];
        for attr in tag.split_whitespace().skip(1) {
            let key = attr.split('=').next().unwrap_or_default().to_ascii_lowercase();
            assert!(["href", "src", "alt", "title", "/"].contains(&key.as_str()), "attribute {attr} in <{tag}>");
        }
    }
    for attr in ["href=\"", "src=\""] {
        for (i, _) in article.match_indices(attr) {
            // Only attributes: the same letters in escaped text are text.
            if article[..i].rfind('<') < article[..i].rfind('>') {
                continue;
            }
            let value = &article[i + attr.len()..];
            let value = &value[..value.find('"').expect("a closed attribute")];
            let value = value.replace("&amp;", "&").replace("&quot;", "\"").replace("&#39;", "'");
            assert!(SafeLink::parse(&value).is_some(), "{attr}{value}\" on the page: {article}");
        }
    }
}

/// nosniff, Referrer-Policy, X-Frame-Options and a CSP with no inline script,
/// no eval and no framing; returns the CSP.
fn assert_security_headers(what: &str, h: &HeaderMap) -> String {
    let get =
        |name: &str| h.get(name).unwrap_or_else(|| panic!("{what}: no {name} header")).to_str().unwrap().to_owned();
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("referrer-policy"), "strict-origin-when-cross-origin", "{what}");
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    let csp = get("content-security-policy");
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    assert!(directives.contains(&"default-src 'none'"), "{what}: {csp}");
    assert!(directives.contains(&"frame-ancestors 'none'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-eval"), "{what}: {csp}");
    if let Some(script) = directives.iter().find(|d| d.starts_with("script-src")) {
        assert_eq!(*script, "script-src 'self'", "{what}: {csp}");
    }
    csp
}

fn directive<'a>(csp: &'a str, name: &str) -> Option<&'a str> {
    csp.split(';').map(str::trim).find(|d| d.split_whitespace().next() == Some(name))
}

/// Creates and publishes an article as `key`'s user; returns its slug once its source is ready.
async fn publish(app: &TestApp, key: &str, title: &str, body: &str) -> (i64, String) {
    let (s, a) = app
        .api(key, Method::POST, "/api/v1/articles", Some(json!({"title": title, "body": body, "category": "Help"})))
        .await;
    assert_eq!(s, 201, "{a}");
    let id = a["id"].as_i64().unwrap();
    let (s, p) = app.api(key, Method::POST, &format!("/api/v1/articles/{id}/publish"), None).await;
    assert_eq!(s, 202, "{p}");
    app.settled_sources().await;
    (id, a["slug"].as_str().unwrap().to_owned())
}

/// The defect of the report: an editor's article with `javascript:`/`data:`
/// links and raw HTML, stored through the API and shown at `/kb/{slug}`.
async fn an_editors_hostile_article_renders_inert(app: TestApp) {
    let (_, editor) = app.user_with_key("editor@example.com", Role::Editor, true).await;
    let (_, slug) = publish(&app, &editor, "Trash <script>window.__xss=0</script>", HOSTILE).await;
    let r = app.client.get(app.url(&format!("/kb/{slug}"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = assert_security_headers("/kb page", r.headers());
    assert_eq!(directive(&csp, "script-src"), None, "a knowledge-base page runs no script: {csp}");
    let html = r.text().await.unwrap();
    assert_inert(&html);
    assert!(!html.contains("<script>window.__xss"), "{html}");
    assert!(html.contains("<title>Trash &lt;script&gt;window.__xss=0&lt;/script&gt;</title>"), "{html}");
    // Refused links keep their text; raw HTML is shown as text.
    for text in ["click me", "mixed", "data link", "by reference", "&lt;script&gt;window.__xss=9&lt;/script&gt;"] {
        assert!(html.contains(text), "{text} in {html}");
    }
    assert!(html.contains("&lt;img src=x onerror=\"window.__xss=10\"&gt;"), "{html}");
    // Allowed links stay links.
    for link in [
        "<a href=\"https://example.com/help\">safe web</a>",
        "<a href=\"mailto:help@example.com\">safe mail</a>",
        "<a href=\"tel:+442079460000\">safe phone</a>",
        "<a href=\"/kb/other\">safe page</a>",
    ] {
        assert!(html.contains(link), "{link} in {html}");
    }
    assert_eq!(html.matches("<a href=").count(), 4, "only the four safe links: {html}");
}
both_backends!(an_editors_hostile_article_renders_inert);

/// The headers on the console, the API (answers and errors), a knowledge-base
/// page, the demo page, assets and the widget's routes.
async fn every_response_carries_the_security_headers(app: TestApp) {
    create_user(app.store(), "admin@example.com", Role::Admin, true).await;
    let cookie = sign_in(&app, "admin@example.com").await;
    let get = |path: &str| app.client.get(app.url(path)).header("cookie", &cookie).send();

    // The console and its sign-in page: only our own scripts and styles.
    for path in ["/console", "/console/sources", "/console/agent", "/console/reports", "/login"] {
        // The sign-in page is seen signed out (signed in, it redirects to the console).
        let r = if path == "/login" { app.client.get(app.url(path)).send().await } else { get(path).await }.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let csp = assert_security_headers(path, r.headers());
        assert_eq!(directive(&csp, "style-src"), Some("style-src 'self'"), "{path}: {csp}");
        let html = r.text().await.unwrap();
        assert!(!html.contains(" onclick=") && !html.contains(" onsubmit=") && !html.contains("hx-on"), "{path}");
        assert!(!html.contains("<script>") && !html.contains(" style=\""), "{path}: inline script or style");
    }

    // The API: answers, errors (401, 404, malformed JSON) and the fallback.
    let (_, key) = app.user_with_key("ed@example.com", Role::Editor, true).await;
    let r = app.client.get(app.url("/api/v1/articles")).bearer_auth(&key).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_security_headers("API answer", r.headers());
    for (path, status) in [("/api/v1/articles", 401), ("/api/v1/no-such-route", 404), ("/healthz", 200)] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), status, "{path}");
        assert_security_headers(path, r.headers());
    }
    let r = app
        .client
        .post(app.url("/api/v1/articles"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_security_headers("API bad input", r.headers());

    // A knowledge-base page.
    let (_, slug) = publish(&app, &key, "Opening hours", "We open at **9:00**.").await;
    let r = get(&format!("/kb/{slug}")).await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = assert_security_headers("/kb page", r.headers());
    assert_eq!(directive(&csp, "style-src"), Some("style-src 'self'"), "{csp}");
    assert!(r.text().await.unwrap().contains("<link rel=\"stylesheet\" href=\"/assets/kb.css\">"));
    let r = get("/assets/kb.css").await.unwrap();
    assert_eq!(r.headers()["content-type"], "text/css");
    assert_security_headers("kb.css", r.headers());

    // The widget: a script on customers' pages (not a frame), and its CORS chat API.
    let r = app.client.get(app.url("/widget.js")).header("origin", "https://shop.example").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().contains("javascript"));
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert!(r.headers().get("cross-origin-resource-policy").is_none(), "widget.js loads on any site");
    assert_security_headers("/widget.js", r.headers());
    let r = app
        .client
        .request(Method::OPTIONS, app.url("/api/v1/chat/sessions"))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert_security_headers("chat preflight", r.headers());
    let r = app
        .client
        .post(app.url("/api/v1/chat/sessions"))
        .header("origin", "https://shop.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert_security_headers("chat API", r.headers());
    let c: Value = r.json().await.unwrap();
    let stream = format!("/api/v1/chat/conversations/{}/stream", c["conversation_id"]);
    let r = app
        .client
        .get(app.url(&stream))
        .bearer_auth(c["visitor_token"].as_str().unwrap())
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{stream}");
    assert_security_headers("chat stream", r.headers());
    drop(r);

    // The demo page hosts the widget on our origin under the strict policy:
    // neither its script nor any style is inline.
    let r = get("/demo").await.unwrap();
    let csp = assert_security_headers("/demo", r.headers());
    assert_eq!(directive(&csp, "script-src"), Some("script-src 'self'"), "{csp}");
    assert_eq!(directive(&csp, "style-src"), Some("style-src 'self'"), "{csp}");
    assert_eq!(directive(&csp, "connect-src"), Some("connect-src 'self'"), "{csp}");
    assert!(!r.text().await.unwrap().contains("<style"), "the demo page's CSS is a file");
    let r = get("/widget.css").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(r.headers()["access-control-allow-origin"], "*", "linked from customers' pages");
    assert!(r.text().await.unwrap().contains(".launcher{position:fixed"));
    // The console's own script is a served file.
    let r = get("/assets/console.js").await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().contains("javascript"));
}
both_backends!(every_response_carries_the_security_headers);

/// Console pages visited in the browser test, with an element each must show
/// once htmx and the console's script have run.
const CONSOLE_PAGES: &[(&str, &str)] = &[
    ("/console", "main"),
    ("/console/sources", "#src-table"),
    ("/console/agent", "#preview-log"),
    ("/console/reports", "svg.chart"),
    ("/console/conversations", "#conv-list"),
    ("/console/crm", "main"),
    ("/console/users", "main"),
];

/// Console entries that are Content-Security-Policy violations or script errors.
fn violations(log: &[String]) -> Vec<&String> {
    log.iter()
        .filter(|l| l.contains("Content Security Policy") || l.contains("Refused to") || l.contains("Uncaught"))
        .collect()
}

fn save_screenshot(name: &str, png: &[u8]) {
    // Set to a folder to look at the pages (`FRONTDESK_SCREENSHOTS=/tmp/shots`).
    if let Ok(dir) = std::env::var("FRONTDESK_SCREENSHOTS") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }
}

/// A real browser under the CSP: the console signs in, its htmx requests and
/// small behaviours (select all, confirm, preview, upload errors) work, the API
/// docs render, a hostile article's page runs nothing, and the browser's
/// console records no CSP violation anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_kb_and_docs_work_under_the_csp_in_a_real_browser() {
    let Some(browser) = crate::browser::Browser::start().await.expect("start the browser") else { return };
    let app = TestApp::spawn(crate::common::Backend::Sqlite).await.unwrap();
    app.seed_agent().await;
    create_user(app.store(), "admin@example.com", Role::Admin, true).await;
    let (id, slug) = publish(&app, &app.admin_key.clone(), "Trash", HOSTILE).await;
    let wait = Duration::from_secs(10);

    // Sign in through the form.
    browser.goto(&app.url("/login")).await.unwrap();
    browser.type_text("#email", "admin@example.com").await.unwrap();
    browser.type_text("#password", "password123").await.unwrap();
    browser.click("button.primary").await.unwrap();
    browser.wait_for("location.pathname === '/console'", wait).await.expect("signed in");

    for (path, ready) in CONSOLE_PAGES {
        browser.goto(&app.url(path)).await.unwrap();
        browser
            .wait_for(&format!("window.htmx && document.querySelector('{ready}')"), wait)
            .await
            .unwrap_or_else(|e| panic!("{path}: {e:#}"));
        let log = browser.console_log().await.unwrap();
        assert!(violations(&log).is_empty(), "{path}: {log:#?}");
        save_screenshot(&path.replace('/', "_"), &browser.screenshot_png().await.unwrap());
    }

    // The account page: setting up the second factor shows the key and the code form.
    browser.goto(&app.url("/console/account")).await.unwrap();
    browser.wait_for("document.querySelector('#two-factor form button.primary')", wait).await.unwrap();
    save_screenshot("console_account", &browser.screenshot_png().await.unwrap());
    browser.click("#two-factor form button.primary").await.unwrap();
    browser
        .wait_for("document.querySelector('.secret') && document.querySelector('#on-code')", wait)
        .await
        .expect("the setup shows the key");
    let log = browser.console_log().await.unwrap();
    assert!(violations(&log).is_empty(), "/console/account: {log:#?}");
    save_screenshot("console_account_totp_setup", &browser.screenshot_png().await.unwrap());

    // Select all (was an onclick attribute).
    browser.goto(&app.url("/console/sources")).await.unwrap();
    browser.wait_for("document.querySelector('input[name=ids]')", wait).await.unwrap();
    browser.click("#src-sel-all").await.unwrap();
    browser
        .wait_for("[...document.querySelectorAll('input[name=ids]')].every(c => c.checked)", wait)
        .await
        .expect("select all checks every source");

    // A delete asks first (was an onsubmit attribute); declining keeps the article.
    browser.goto(&app.url(&format!("/console/articles/{id}"))).await.unwrap();
    browser.wait_for("document.querySelector('form[data-confirm] button')", wait).await.unwrap();
    browser
        .execute("window.confirm = (q) => { window.__asked = q; return false; }; return true;", json!([]))
        .await
        .unwrap();
    browser.click("form[data-confirm] button").await.unwrap();
    browser.wait_for("window.__asked && window.__asked.startsWith('Delete this article?')", wait).await.unwrap();
    let (s, _) = app.admin(Method::GET, &format!("/api/v1/articles/{id}"), None).await;
    assert_eq!(s, 200, "declining the confirmation keeps the article");

    // The agent preview: an htmx POST with the CSRF header, then the form resets (was hx-on).
    browser.goto(&app.url("/console/agent")).await.unwrap();
    browser.wait_for("window.htmx && document.querySelector('#preview_message')", wait).await.unwrap();
    browser.type_text("#preview_message", "What are your opening hours?").await.unwrap();
    browser.click("form[data-reset-on-success] button").await.unwrap();
    browser
        .wait_for("document.querySelector('#preview-log').textContent.includes('9:00')", wait)
        .await
        .expect("the preview answers through htmx");
    browser.wait_for("document.querySelector('#preview_message').value === ''", wait).await.expect("reset");
    let log = browser.console_log().await.unwrap();
    assert!(violations(&log).is_empty(), "{log:#?}");

    // The upload form says why an upload failed (was hx-on): pointed at a route that
    // does not exist, htmx reports the error and console.js shows the server's message.
    browser.goto(&app.url("/console/sources?kind=file")).await.unwrap();
    browser.wait_for("window.htmx && document.querySelector('#src-upload')", wait).await.unwrap();
    browser
        .execute(
            "const f = document.querySelector('#src-upload'); f.setAttribute('hx-post', '/console/no-such-route'); htmx.process(f);\
             const dt = new DataTransfer(); dt.items.add(new File(['hello'], 'notes.txt', {type: 'text/plain'}));\
             document.querySelector('#upload-file').files = dt.files;\
             f.querySelector('button').click(); return true;",
            json!([]),
        )
        .await
        .unwrap();
    browser
        .wait_for(
            "document.querySelector('[data-upload-error]').textContent === 'The upload failed: no such route'",
            wait,
        )
        .await
        .expect("the upload error is shown");
    let log = browser.console_log().await.unwrap();
    assert!(violations(&log).is_empty(), "upload: {log:#?}");

    // The API docs (Swagger UI) render.
    browser.goto(&app.url("/api/docs/")).await.unwrap();
    browser.wait_for("document.querySelector('.swagger-ui .info')", Duration::from_secs(20)).await.expect("docs");
    let log = browser.console_log().await.unwrap();
    assert!(violations(&log).is_empty(), "/api/docs: {log:#?}");
    save_screenshot("api_docs", &browser.screenshot_png().await.unwrap());

    // The hostile article's page: no script ran, no link leaves the allow-list,
    // even after every link on it is clicked... except the ones that navigate away.
    browser.goto(&app.url(&format!("/kb/{slug}"))).await.unwrap();
    browser.wait_for("document.querySelector('article')", wait).await.unwrap();
    let found = browser
        .execute(
            "const bad = [...document.querySelectorAll('a[href], img[src]')]\
               .map(e => e.href || e.src).filter(u => !['http:', 'https:', 'mailto:', 'tel:'].includes(new URL(u).protocol));\
             const elements = document.querySelectorAll('article script, article iframe, article svg, article [onerror], article [onload]').length;\
             return {bad, elements, xss: window.__xss === undefined ? null : window.__xss,\
                     styled: getComputedStyle(document.body).maxWidth};",
            json!([]),
        )
        .await
        .unwrap();
    assert_eq!(found["bad"], json!([]), "{found}");
    assert_eq!(found["elements"], 0, "{found}");
    assert_eq!(found["xss"], Value::Null, "{found}");
    assert_ne!(found["styled"], "none", "kb.css applies: {found}");
    let log = browser.console_log().await.unwrap();
    assert!(violations(&log).is_empty(), "/kb: {log:#?}");
    save_screenshot("kb_hostile", &browser.screenshot_png().await.unwrap());
    browser.quit().await.unwrap();
}

/// The launcher's and the panel's computed styles, and how the shadow root is styled.
const WIDGET_LOOK_JS: &str = "const r = __host.shadowRoot; const l = r.querySelector('[data-fd=\"launcher\"]');\
    const p = r.querySelector('[data-fd=\"panel\"]'); const h = r.querySelector('header');\
    const cs = getComputedStyle(l), ps = getComputedStyle(p);\
    return {position: cs.position, radius: cs.borderTopLeftRadius, width: cs.width, background: cs.backgroundColor,\
            right: cs.right, bottom: cs.bottom, panel_position: ps.position, panel_width: ps.width,\
            panel_radius: ps.borderTopLeftRadius, header: getComputedStyle(h).backgroundColor,\
            panel_hidden: p.hidden, adopted: r.adoptedStyleSheets ? r.adoptedStyleSheets.length : null,\
            links: r.querySelectorAll('link[rel=stylesheet]').length, styles: r.querySelectorAll('style').length};";

/// The widget keeps its look on a page whose CSP has no `'unsafe-inline'` for
/// styles (`/demo` now has the strict policy): a constructed stylesheet, and in
/// browsers without one the `/widget.css` link; no CSP violation either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_keeps_its_look_under_a_strict_csp_in_a_real_browser() {
    let Some(browser) = crate::browser::Browser::start().await.expect("start the browser") else { return };
    let app = TestApp::spawn(crate::common::Backend::Sqlite).await.unwrap();
    app.seed_agent().await;
    let wait = Duration::from_secs(10);
    let r = app.client.get(app.url("/demo")).send().await.unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert_eq!(directive(&csp, "style-src"), Some("style-src 'self'"), "{csp}");
    assert_eq!(directive(&csp, "script-src"), Some("script-src 'self'"), "{csp}");

    browser.goto(&app.url("/demo")).await.unwrap();
    browser.wait_for("window.FrontdeskWidget && __host && __host.shadowRoot", wait).await.unwrap();
    browser.wait_for("getComputedStyle(document.body).margin === '0px'", wait).await.expect("demo.css applies");
    let look = browser.execute(&format!("{FIND} {WIDGET_LOOK_JS}"), json!([])).await.unwrap();
    assert_eq!(look["position"], "fixed", "{look}");
    assert_eq!(
        (look["width"].as_str(), look["right"].as_str(), look["bottom"].as_str()),
        (Some("56px"), Some("20px"), Some("20px")),
        "{look}"
    );
    assert_eq!(look["radius"], "50%", "{look}");
    assert_eq!(look["background"], "rgb(79, 70, 229)", "the accent colour reaches the shadow root: {look}");
    assert_eq!(
        (look["adopted"].as_i64(), look["links"].as_i64(), look["styles"].as_i64()),
        (Some(1), Some(0), Some(0)),
        "{look}"
    );
    save_screenshot("widget_strict_csp_closed", &browser.screenshot_png().await.unwrap());

    browser.click("[data-fd=\"launcher\"]").await.unwrap();
    browser.wait_for("!__find('[data-fd=\"panel\"]').hidden", wait).await.expect("the panel opens");
    browser.wait_for("((__find('[data-fd=\"agent-name\"]') || {}).textContent || '') === 'Luma'", wait).await.unwrap();
    let look = browser.execute(&format!("{FIND} {WIDGET_LOOK_JS}"), json!([])).await.unwrap();
    assert_eq!(
        (look["panel_position"].as_str(), look["panel_width"].as_str()),
        (Some("fixed"), Some("370px")),
        "{look}"
    );
    assert_eq!(
        (look["panel_radius"].as_str(), look["header"].as_str()),
        (Some("14px"), Some("rgb(79, 70, 229)")),
        "{look}"
    );
    save_screenshot("widget_strict_csp_open", &browser.screenshot_png().await.unwrap());
    let log = browser.console_log().await.unwrap();
    assert!(violations(&log).is_empty(), "/demo: {log:#?}");

    // A browser without constructable stylesheets: the widget, loaded again
    // with them removed, links /widget.css (allowed by style-src 'self').
    browser
        .execute(
            "document.querySelector('[data-frontdesk-root]').remove(); delete window.FrontdeskWidget;\
             delete ShadowRoot.prototype.adoptedStyleSheets;\
             const s = document.createElement('script'); s.src = '/widget.js'; s.setAttribute('data-frontdesk', '');\
             document.body.append(s); return 'adoptedStyleSheets' in ShadowRoot.prototype;",
            json!([]),
        )
        .await
        .unwrap();
    browser.wait_for("window.FrontdeskWidget && __host && __host.shadowRoot", wait).await.unwrap();
    browser
        .wait_for("getComputedStyle(__find('[data-fd=\"launcher\"]')).position === 'fixed'", wait)
        .await
        .expect("the linked stylesheet applies");
    let look = browser.execute(&format!("{FIND} {WIDGET_LOOK_JS}"), json!([])).await.unwrap();
    assert_eq!(
        (look["adopted"].as_i64(), look["links"].as_i64(), look["styles"].as_i64()),
        (None, Some(1), Some(0)),
        "{look}"
    );
    assert_eq!((look["width"].as_str(), look["radius"].as_str()), (Some("56px"), Some("50%")), "{look}");
    assert_eq!(look["background"], "rgb(79, 70, 229)", "{look}");
    save_screenshot("widget_strict_csp_linked", &browser.screenshot_png().await.unwrap());
    let log = browser.console_log().await.unwrap();
    assert!(violations(&log).is_empty(), "the fallback: {log:#?}");
    browser.quit().await.unwrap();
}

/// Finds the widget's host (the browser helper's prelude, for `execute`).
const FIND: &str = "const __host = document.querySelector('[data-frontdesk-root]');\
    const __find = (css) => (__host && __host.shadowRoot && __host.shadowRoot.querySelector(css)) || document.querySelector(css);";
