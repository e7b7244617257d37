//! The knowledge base and sources from the console: a person writes and
//! publishes an article, uploads files with the upload form (multipart, CSRF
//! in the header as htmx sends it), watches them settle, turns citations
//! off, opens a source and removes sources.

use frontdesk_core::model::Role;
use reqwest::Method;

use crate::both_backends;
use crate::common::TestApp;

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"_csrf\" value=\"").expect("a CSRF field on the page") + "name=\"_csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// Signs in with the form; returns the session cookie.
async fn sign_in(app: &TestApp, email: &str) -> String {
    let r = app
        .client
        .post(app.url("/login"))
        .form(&[("email", email), ("password", "password123"), ("next", "/console/articles")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned()
}

async fn get(app: &TestApp, cookie: &str, path: &str) -> (u16, String) {
    let r = app.client.get(app.url(path)).header("cookie", cookie).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn post(app: &TestApp, cookie: &str, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.client.post(app.url(path)).header("cookie", cookie).form(form).send().await.unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// Sends the console's upload form as htmx does: multipart, the token in the header.
async fn upload(
    app: &TestApp,
    cookie: &str,
    csrf: Option<&str>,
    htmx: bool,
    name: &str,
    bytes: &[u8],
) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_owned()));
    let mut rb = app.client.post(app.url("/console/files")).header("cookie", cookie).multipart(form);
    if let Some(t) = csrf {
        rb = rb.header("x-csrf-token", t);
    }
    if htmx {
        rb = rb.header("hx-request", "true");
    }
    rb.send().await.unwrap()
}

async fn knowledge_is_managed_from_the_console(app: TestApp) {
    app.user_with_key("eda@test.example", Role::Editor, true).await;
    app.user_with_key("ag@test.example", Role::Agent, true).await;
    let cookie = sign_in(&app, "eda@test.example").await;
    let (s, html) = get(&app, &cookie, "/console/articles").await;
    assert_eq!(s, 200);
    assert!(html.contains("href=\"/console/sources\""), "Sources is in the navigation");
    let csrf = csrf_of(&html);

    // A mistake comes back on the page with what was typed.
    let r = post(
        &app,
        &cookie,
        "/console/articles",
        &[("_csrf", &csrf), ("title", "Refunds"), ("slug", "Not A Slug"), ("language", "en"), ("body", "x")],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("slug: use 1 to 80 lowercase letters") && html.contains("value=\"Refunds\""), "{html}");

    // Create a draft, then publish it.
    let r = post(
        &app,
        &cookie,
        "/console/articles",
        &[
            ("_csrf", &csrf),
            ("title", "Refunds <and> returns"),
            ("slug", ""),
            ("category", "Billing"),
            ("language", "en"),
            ("public", "on"),
            ("body", "## Refund window\n\nRefunds are possible within 14 days of purchase."),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(to.starts_with("/console/articles/") && to.ends_with("?flash=created"), "{to}");
    let id: i64 = to["/console/articles/".len()..].split('?').next().unwrap().parse().unwrap();
    let (_, html) = get(&app, &cookie, "/console/articles").await;
    assert!(html.contains("Refunds &#60;and&#62; returns") || html.contains("Refunds &lt;and&gt; returns"));
    assert!(html.contains(">draft<"));
    let r = post(&app, &cookie, &format!("/console/articles/{id}/publish"), &[("_csrf", &csrf)]).await;
    assert_eq!((r.status().as_u16(), location(&r)), (303, format!("/console/articles/{id}?flash=published")));
    let sources = app.settled_sources().await;
    assert_eq!(sources.len(), 1);
    assert_eq!(sources[0]["status"], "ready", "{}", sources[0]);
    let (_, html) = get(&app, &cookie, &format!("/console/articles/{id}")).await;
    assert!(html.contains("href=\"/kb/refunds-and-returns\""), "a view link to the public page");
    assert!(html.contains(">ready<"), "the article shows its source's status");
    assert_eq!(app.client.get(app.url("/kb/refunds-and-returns")).send().await.unwrap().status(), 200);
    let (_, html) = get(&app, &cookie, "/console/sources?kind=article").await;
    assert!(html.contains("Refunds") && html.contains("st-ready"));

    // Uploads: the token must be in the header (the CSRF check does not read multipart).
    let md = b"# Shipping\n\nParcels ship within 2 working days from our warehouse in Turin.\n";
    let r = upload(&app, &cookie, None, true, "shipping.md", md).await;
    assert_eq!(r.status(), 403);
    let r = upload(&app, &cookie, Some(&csrf), true, "shipping.md", md).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["hx-redirect"], "/console/sources?kind=file&flash=uploaded");
    let r = upload(&app, &cookie, Some(&csrf), false, "broken.docx", b"this is not a word document").await;
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/console/sources?kind=file&flash=uploaded".to_owned()));
    // An unsupported type is refused with the allowed types: the form again (htmx) or the page.
    let r = upload(&app, &cookie, Some(&csrf), true, "setup.exe", b"MZ").await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"src-upload\"") && html.contains(".docx") && html.contains("not supported"), "{html}");
    let r = upload(&app, &cookie, Some(&csrf), false, "setup.exe", b"MZ").await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("allowed: .docx"));

    let sources = app.settled_sources().await;
    assert_eq!(sources.len(), 3);
    let by_name =
        |n: &str| sources.iter().find(|s| s["title"].as_str().unwrap().to_lowercase().contains(n)).unwrap().clone();
    let (shipping, broken) = (by_name("shipping"), by_name("broken"));
    assert_eq!(shipping["status"], "ready");
    assert_eq!(broken["status"], "error");
    let (s, html) = get(&app, &cookie, "/console/sources?kind=file&flash=uploaded").await;
    assert_eq!(s, 200);
    assert!(html.contains("File uploaded.") && html.contains("st-error") && html.contains("st-ready"));
    assert!(!html.contains("hx-trigger=\"every 3s\""), "a settled table does not poll");
    // The polled table alone.
    let r = app
        .client
        .get(app.url("/console/sources?kind=file"))
        .header("cookie", &cookie)
        .header("hx-request", "true")
        .send()
        .await
        .unwrap();
    let frag = r.text().await.unwrap();
    assert!(frag.starts_with("<div id=\"src-table\"") && !frag.contains("<html"), "{frag}");

    // Citations off, from the list.
    let sid = shipping["id"].as_i64().unwrap();
    let r = post(
        &app,
        &cookie,
        &format!("/console/sources/{sid}/citations"),
        &[("_csrf", &csrf), ("citations_enabled", "off")],
    )
    .await;
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/console/sources?kind=file&flash=citations_off".to_owned()));
    let (_, v) = app.admin(Method::GET, &format!("/api/v1/sources/{sid}"), None).await;
    assert_eq!(v["source"]["citations_enabled"], false);

    // A source's page shows what the agent reads.
    let (s, html) = get(&app, &cookie, &format!("/console/sources/{sid}")).await;
    assert_eq!(s, 200);
    assert!(html.contains("warehouse in Turin") && html.contains("Chunks ("), "{html}");
    let r =
        post(&app, &cookie, &format!("/console/sources/{sid}/resync"), &[("_csrf", &csrf), ("back", "detail")]).await;
    assert_eq!((r.status().as_u16(), location(&r)), (303, format!("/console/sources/{sid}?flash=resync")));

    // The file library offers a file once it is no longer a source.
    let r = post(&app, &cookie, "/console/sources/remove", &[("_csrf", &csrf), ("kind", "file")]).await;
    assert_eq!(r.status(), 422, "nothing selected");
    let bid = broken["id"].as_i64().unwrap().to_string();
    let sid_s = sid.to_string();
    app.settled_sources().await;
    let r = post(
        &app,
        &cookie,
        "/console/sources/remove",
        &[("_csrf", &csrf), ("kind", "file"), ("ids", &sid_s), ("ids", &bid)],
    )
    .await;
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/console/sources?kind=file&flash=removed".to_owned()));
    let (_, v) = app.admin(Method::GET, "/api/v1/sources?kind=file", None).await;
    assert_eq!(v, serde_json::json!([]));
    let (_, html) = get(&app, &cookie, "/console/sources?kind=file").await;
    assert!(html.contains("Add from file library") && html.contains("shipping.md"));
    let (_, files) = app.admin(Method::GET, "/api/v1/files", None).await;
    let fid = files.as_array().unwrap().iter().find(|f| f["name"] == "shipping.md").unwrap()["id"].as_i64().unwrap();
    let r = post(
        &app,
        &cookie,
        &format!("/console/files/{fid}/source"),
        &[("_csrf", &csrf), ("file_id", &fid.to_string())],
    )
    .await;
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/console/sources?kind=file&flash=added".to_owned()));
    let r = post(&app, &cookie, &format!("/console/files/{fid}/source"), &[("_csrf", &csrf)]).await;
    assert_eq!(r.status(), 422, "already a source");
    assert_eq!(app.settled_sources().await.len(), 2);

    // Someone who may look but not change sees no controls and is refused.
    let agent = sign_in(&app, "ag@test.example").await;
    let (s, html) = get(&app, &agent, "/console/sources?kind=file").await;
    assert_eq!(s, 200);
    assert!(!html.contains("Remove as source") && !html.contains("id=\"src-upload\""));
    let acsrf = csrf_of(&html);
    let r = post(&app, &agent, &format!("/console/articles/{id}/unpublish"), &[("_csrf", &acsrf)]).await;
    assert_eq!(r.status(), 403);

    // Unpublish, then delete: the article's source goes with it.
    let r = post(&app, &cookie, &format!("/console/articles/{id}/unpublish"), &[("_csrf", &csrf)]).await;
    assert_eq!(r.status(), 303);
    let (_, v) = app.admin(Method::GET, "/api/v1/sources?kind=article", None).await;
    assert_eq!(v, serde_json::json!([]));
    let r = post(&app, &cookie, &format!("/console/articles/{id}/delete"), &[("_csrf", &csrf)]).await;
    assert_eq!((r.status().as_u16(), location(&r)), (303, "/console/articles?flash=deleted".to_owned()));
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=article", None).await;
    assert_eq!(audit[0]["actor_label"], "eda@test.example");
}
both_backends!(knowledge_is_managed_from_the_console);
