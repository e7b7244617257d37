//! Content sources: articles and files become passages the agent answers
//! from and cites; bad files stay isolated; the index is only a cache.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::common::TestApp;

async fn ask(app: &TestApp, question: &str) -> Value {
    let (id, token) = app.visitor(json!({})).await;
    let (s, _) = app.say(id, &token, question).await;
    assert_eq!(s, 201);
    let ms = app.messages(id, &token).await;
    ms.last().unwrap().clone()
}

async fn upload(app: &TestApp, name: &str, bytes: Vec<u8>) -> (u16, Value) {
    let form =
        reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()));
    let r = app.client.post(app.url("/api/v1/files")).bearer_auth(&app.admin_key).multipart(form).send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

const TRASH_ARTICLE: &str = "Deleted files are not gone at once.\n\n## How long files stay in the Trash\n\nDeleted files stay in the Trash for 30 days. \
After 30 days they are erased for good and cannot be recovered.\n\n## Restoring\n\nOpen the Trash, select the files and choose Restore.";

async fn articles_are_synced_answered_and_cited(app: TestApp) {
    app.seed_agent().await;
    let (s, a) = app
        .admin(
            Method::POST,
            "/api/v1/articles",
            Some(json!({"title": "Deleted files and the Trash", "body": TRASH_ARTICLE, "category": "Files"})),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    let id = a["id"].as_i64().unwrap();
    assert_eq!(a["slug"], "deleted-files-and-the-trash");
    // A draft is not a source yet.
    let reply = ask(&app, "how long do deleted files stay in the trash?").await;
    assert!(reply["text"].as_str().unwrap().contains("can't answer"), "{reply}");

    let (s, p) = app.admin(Method::POST, &format!("/api/v1/articles/{id}/publish"), None).await;
    assert_eq!(s, 202, "{p}");
    let sources = app.settled_sources().await;
    assert_eq!(sources.len(), 1);
    assert_eq!(sources[0]["status"], "ready", "{}", sources[0]);
    assert!(sources[0]["chunk_count"].as_i64().unwrap() >= 1);

    let reply = ask(&app, "How many days do deleted files stay in the trash?").await;
    assert_eq!(reply["author"], "agent");
    assert!(reply["text"].as_str().unwrap().contains("30 days"), "{reply}");
    assert_eq!(reply["citations"][0]["title"], "Deleted files and the Trash");
    assert_eq!(reply["citations"][0]["url"], "/kb/deleted-files-and-the-trash");
    let page = app.client.get(app.url("/kb/deleted-files-and-the-trash")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<h1>Deleted files and the Trash</h1>") && html.contains("30 days"));

    // An edit re-syncs at once (B5).
    let (s, _) = app
        .admin(Method::PUT, &format!("/api/v1/articles/{id}"), Some(json!({"title": "Deleted files and the Trash", "slug": "deleted-files-and-the-trash", "body": TRASH_ARTICLE.replace("30 days", "45 days")})))
        .await;
    assert_eq!(s, 200);
    let mut ok = false;
    for _ in 0..100 {
        let r = ask(&app, "How many days do deleted files stay in the trash?").await;
        if r["text"].as_str().unwrap().contains("45 days") {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ok, "the edited article is answered from");

    // Private: used, never linked (B7).
    let (_, b) = app
        .admin(Method::POST, "/api/v1/articles", Some(json!({"title": "Internal escalation matrix", "body": "Escalate invoices above 5000 euros to the finance lead within 2 hours.", "public": false})))
        .await;
    let bid = b["id"].as_i64().unwrap();
    app.admin(Method::POST, &format!("/api/v1/articles/{bid}/publish"), None).await;
    let sources = app.settled_sources().await;
    let private = sources.iter().find(|s| s["article_id"] == bid).unwrap();
    assert_eq!(private["private"], true);
    assert_eq!(private["citations_enabled"], false);
    assert_eq!(private["url"], Value::Null);
    let (s, e) = app
        .admin(Method::PATCH, &format!("/api/v1/sources/{}", private["id"]), Some(json!({"citations_enabled": true})))
        .await;
    assert_eq!((s, e["field"].as_str()), (422, Some("citations_enabled")));
    let reply = ask(&app, "who do I escalate invoices above 5000 euros to?").await;
    assert!(reply["text"].as_str().unwrap().contains("finance lead"), "{reply}");
    assert_eq!(reply["citations"], json!([]), "private content is never linked");
    assert_eq!(app.client.get(app.url("/kb/internal-escalation-matrix")).send().await.unwrap().status(), 404);

    // Unpublishing removes it from the agent's sources.
    app.admin(Method::POST, &format!("/api/v1/articles/{id}/unpublish"), None).await;
    assert_eq!(app.client.get(app.url("/kb/deleted-files-and-the-trash")).send().await.unwrap().status(), 404);
    let reply = ask(&app, "How many days do deleted files stay in the trash?").await;
    assert!(!reply["text"].as_str().unwrap().contains("45 days"), "{reply}");

    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=article", None).await;
    let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["unpublish", "publish", "create", "update", "publish", "create"]);
}
both_backends!(articles_are_synced_answered_and_cited);

async fn files_are_extracted_and_bad_files_stay_isolated(app: TestApp) {
    app.seed_agent().await;
    let md = "# Rate limits\n\nThe API allows 600 requests per minute per key. Above that it answers 429 Too Many Requests.\n";
    let (s, r) = upload(&app, "rate-limits.md", md.as_bytes().to_vec()).await;
    assert_eq!(s, 202, "{r}");
    assert_eq!(r["source"]["kind"], "file");
    let html = "<html><head><title>Desktop app</title></head><body><nav>Home Pricing Blog Careers</nav>\
        <div class=\"cookie-banner\">We use cookies. Accept all cookies</div><main><h1>Windows desktop app</h1>\
        <p>The Windows app needs Windows 11 version 22H2 or later.</p></main><footer>© Example Ltd</footer></body></html>";
    assert_eq!(upload(&app, "windows-app.html", html.as_bytes().to_vec()).await.0, 202);
    let csv = "Plan,Price per user,Storage\nFree,0 EUR,5 GB\nStarter,6 EUR,1 TB\nBusiness,12 EUR,5 TB\n";
    assert_eq!(upload(&app, "plans.csv", csv.as_bytes().to_vec()).await.0, 202);
    // Not a zip at all: a corrupt .docx.
    assert_eq!(upload(&app, "broken.docx", b"this is not a word document".to_vec()).await.0, 202);
    // Refused before storing anything.
    let (s, e) = upload(&app, "setup.exe", b"MZ...".to_vec()).await;
    assert_eq!(s, 422);
    assert_eq!(e["field"], "file");
    assert!(e["message"].as_str().unwrap().contains(".docx") || e["message"].as_str().unwrap().contains("docx"), "{e}");
    let (s, _) = upload(&app, "empty.txt", vec![]).await;
    assert_eq!(s, 422);

    let sources = app.settled_sources().await;
    assert_eq!(sources.len(), 4);
    // A source takes its document's own title when it has one ("Rate limits"), else the file name.
    let by_title =
        |t: &str| sources.iter().find(|s| s["title"].as_str().unwrap().to_lowercase().contains(t)).unwrap().clone();
    let broken = by_title("broken");
    assert_eq!(broken["status"], "error");
    assert!(!broken["error"].as_str().unwrap().is_empty());
    for t in ["rate", "windows", "plans"] {
        assert_eq!(by_title(t)["status"], "ready", "{t}: {}", by_title(t));
    }
    // The page's boilerplate is not in what the agent reads.
    let win = by_title("windows");
    let (_, detail) = app.admin(Method::GET, &format!("/api/v1/sources/{}", win["id"]), None).await;
    let text = detail["text"].as_str().unwrap();
    assert!(text.contains("22H2"), "{text}");
    assert!(!text.contains("Accept all cookies") && !text.contains("Careers"), "{text}");
    assert!(!detail["chunks"].as_array().unwrap().is_empty());

    let reply = ask(&app, "how many requests per minute does the API allow?").await;
    assert!(reply["text"].as_str().unwrap().contains("600"), "{reply}");
    assert_eq!(reply["citations"][0]["title"], "Rate limits");
    assert_eq!(reply["citations"][0]["url"], Value::Null, "files have no public URL");
    let reply = ask(&app, "What Windows version do I need for the desktop app?").await;
    assert!(reply["text"].as_str().unwrap().contains("22H2"), "{reply}");
    let reply = ask(&app, "How much storage does the Starter plan include?").await;
    assert!(reply["text"].as_str().unwrap().contains("1 TB"), "{reply}");

    // Citations off: used, not linked.
    let rate = by_title("rate");
    let (s, _) = app
        .admin(Method::PATCH, &format!("/api/v1/sources/{}", rate["id"]), Some(json!({"citations_enabled": false})))
        .await;
    assert_eq!(s, 200);
    let reply = ask(&app, "how many requests per minute does the API allow?").await;
    assert!(reply["text"].as_str().unwrap().contains("600"));
    assert_eq!(reply["citations"], json!([]));

    // Re-sync of unchanged content costs no re-indexing.
    let before = by_title("plans")["last_synced_at"].clone();
    let (s, _) = app.admin(Method::POST, &format!("/api/v1/sources/{}/resync", by_title("plans")["id"]), None).await;
    assert_eq!(s, 202);
    let after = app.settled_sources().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let plans = after.iter().find(|s| s["title"] == "plans.csv").unwrap();
    assert_eq!(plans["last_synced_at"], before);
    assert_eq!(plans["status"], "ready");

    // Remove several at once; answers from them stop.
    let ids = json!([rate["id"], by_title("windows")["id"]]);
    let (s, r) = app.admin(Method::POST, "/api/v1/sources/remove", Some(json!({"ids": ids}))).await;
    assert_eq!((s, r["removed"].as_i64()), (200, Some(2)));
    let reply = ask(&app, "how many requests per minute does the API allow?").await;
    assert!(!reply["text"].as_str().unwrap().contains("600"), "{reply}");
    let (s, _) = app
        .admin(Method::POST, "/api/v1/sources/remove", Some(json!({"ids": [by_title("plans")["id"], 999999]})))
        .await;
    assert_eq!(s, 404);
    assert_eq!(app.settled_sources().await.len(), 2, "a failed removal removes nothing");
    // The file stays in the library and can be picked again.
    let (_, files) = app.admin(Method::GET, "/api/v1/files", None).await;
    let rate_file = files.as_array().unwrap().iter().find(|f| f["name"] == "rate-limits.md").unwrap().clone();
    let (s, _) = app.admin(Method::POST, &format!("/api/v1/files/{}/source", rate_file["id"]), None).await;
    assert_eq!(s, 202);
    app.settled_sources().await;
    let reply = ask(&app, "how many requests per minute does the API allow?").await;
    assert!(reply["text"].as_str().unwrap().contains("600"), "{reply}");
}
both_backends!(files_are_extracted_and_bad_files_stay_isolated);

async fn the_index_is_rebuilt_from_the_store(app: TestApp) {
    app.seed_agent().await;
    upload(
        &app,
        "sla.txt",
        b"Uptime SLA\n\nWe guarantee 99.9% monthly uptime. Below that you get service credits of 10%.".to_vec(),
    )
    .await;
    app.settled_sources().await;
    assert!(ask(&app, "what uptime do you guarantee each month?").await["text"].as_str().unwrap().contains("99.9%"));
    let db = app.stop().await;
    // Deleting the index directory loses nothing.
    let data_dir = crate::common::test_settings(&db).data_dir;
    std::fs::remove_dir_all(data_dir.join("index")).unwrap();
    let app = TestApp::spawn_on(db, |_| {}).await;
    assert!(ask(&app, "what uptime do you guarantee each month?").await["text"].as_str().unwrap().contains("99.9%"));
}
both_backends!(the_index_is_rebuilt_from_the_store);

/// With the embedding model present, chunks are embedded in the background
/// and retrieval fuses vectors with BM25; without it, BM25 alone (skipped loudly).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunks_are_embedded_and_searched_with_vectors() {
    let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
    if !models.join("all-MiniLM-L6-v2/model.safetensors").exists() {
        eprintln!("SKIPPED: MiniLM model not found; run scripts/fetch-models.sh");
        return;
    }
    let app = TestApp::spawn_with(crate::common::Backend::Sqlite, |s| s.embeddings = true).await.unwrap();
    assert!(app.state.knowledge.embedder().is_some());
    app.seed_agent().await;
    let md = "# Forgotten password\n\nTo change a password you no longer remember, click 'Forgot password' on the sign-in page and follow the emailed link within 30 minutes.";
    assert_eq!(upload(&app, "password.md", md.as_bytes().to_vec()).await.0, 202);
    app.settled_sources().await;
    for _ in 0..400 {
        if app.state.knowledge.num_vectors() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(app.state.knowledge.num_vectors() > 0, "the chunks were embedded by the background job");
    // Vectors alone find the passage for a paraphrase that shares almost no words with it.
    use frontdesk_server::knowledge::Retriever;
    let hits =
        app.state.knowledge.search_with("I lost my login credentials", "en", 3, Retriever::Vectors).await.unwrap();
    assert!(!hits.is_empty());
    let reply = ask(&app, "I forgot my password, what do I do?").await;
    assert!(reply["text"].as_str().unwrap().contains("Forgot password"), "{reply}");
    // Embeddings live in the store: after a restart they are loaded, not recomputed.
    let db = app.stop().await;
    let app = TestApp::spawn_on(db, |s| s.embeddings = true).await;
    assert!(app.state.knowledge.num_vectors() > 0);
}
