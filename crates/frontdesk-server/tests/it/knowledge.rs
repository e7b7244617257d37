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
    let (s, r) = app
        .admin(Method::POST, "/api/v1/agent/preview", Some(json!({"message": "what monthly uptime do you guarantee?"})))
        .await;
    assert_eq!(s, 200);
    assert!(r["text"].as_str().unwrap().contains("99.9%"), "{r}");
    let db = app.stop().await;
    // Deleting the index directory loses nothing.
    let data_dir = crate::common::test_settings(&db).data_dir;
    std::fs::remove_dir_all(data_dir.join("index")).unwrap();
    let app = TestApp::spawn_on(db, |_| {}).await;
    assert!(ask(&app, "what monthly uptime do you guarantee?").await["text"].as_str().unwrap().contains("99.9%"));
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
    assert!(app.state.agent.knowledge.embedder().is_some());
    app.seed_agent().await;
    let md = "# Forgotten password\n\nTo change a password you no longer remember, click 'Forgot password' on the sign-in page and follow the emailed link within 30 minutes.";
    assert_eq!(upload(&app, "password.md", md.as_bytes().to_vec()).await.0, 202);
    app.settled_sources().await;
    for _ in 0..400 {
        if app.state.agent.knowledge.num_vectors() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(app.state.agent.knowledge.num_vectors() > 0, "the chunks were embedded by the background job");
    // Vectors alone find the passage for a paraphrase that shares almost no words with it.
    use frontdesk_agent::knowledge::Retriever;
    let hits = app
        .state
        .agent
        .knowledge
        .search_with("I lost my login credentials", "en", 3, Retriever::Vectors)
        .await
        .unwrap();
    assert!(!hits.is_empty());
    let reply = ask(&app, "I forgot my password, what do I do?").await;
    assert!(reply["text"].as_str().unwrap().contains("Forgot password"), "{reply}");
    // Embeddings live in the store: after a restart they are loaded, not recomputed.
    let db = app.stop().await;
    let app = TestApp::spawn_on(db, |s| s.embeddings = true).await;
    assert!(app.state.agent.knowledge.num_vectors() > 0);
}

/// A fake OpenAI-compatible embeddings server: the model named "fake-a" answers
/// 4-dimensional vectors, any other model 3-dimensional ones (a hash of the text).
/// Returns its base URL and a counter of the texts it embedded.
fn fake_embeddings() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut r = BufReader::new(stream.try_clone().unwrap());
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.split_once(':') {
                    if k.eq_ignore_ascii_case("content-length") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0u8; len];
            if r.read_exact(&mut body).is_err() {
                continue;
            }
            let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let dims = if req["model"] == "fake-a" { 4 } else { 3 };
            let inputs = req["input"].as_array().cloned().unwrap_or_default();
            counter.fetch_add(inputs.len(), std::sync::atomic::Ordering::SeqCst);
            let data: Vec<Value> = inputs
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let h =
                        t.as_str().unwrap_or("").bytes().fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
                    let v: Vec<f64> = (0..dims).map(|d| ((h >> (d * 8)) & 0xff) as f64 + 1.0).collect();
                    json!({"index": i, "embedding": v})
                })
                .collect();
            let out = json!({"data": data}).to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{out}",
                out.len()
            );
        }
    });
    (url, seen)
}

async fn wait_for_vectors(app: &TestApp, n: usize, phase: &str) {
    for _ in 0..1200 {
        if app.state.agent.knowledge.num_vectors() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{phase}: only {} of {n} chunks were embedded", app.state.agent.knowledge.num_vectors());
}

/// Stored vectors are tagged with the embedder that made them. Starting with another
/// embedder clears them in one audited step and the background job re-embeds every
/// chunk; an endpoint that is down leaves the vectors alone, /readyz says so and
/// answers come from BM25.
async fn vectors_follow_the_configured_embedder(app: TestApp) {
    let (url, seen) = fake_embeddings();
    let db = app.stop().await;
    let openai = |s: &mut frontdesk_server::config::Settings, model: &str, url: &str| {
        s.embeddings = true;
        s.embedding_model = "openai".into();
        s.embedding_url = url.to_owned();
        s.embedding_model_name = model.to_owned();
        s.embedding_query_prefix = "query: ".into();
        s.embedding_passage_prefix = "passage: ".into();
    };
    let u = url.clone();
    let app = TestApp::spawn_on(db, |s| openai(s, "fake-a", &u)).await;
    app.seed_agent().await;
    let (s, a) = app
        .admin(
            Method::POST,
            "/api/v1/articles",
            Some(json!({"title": "Deleted files and the Trash", "body": TRASH_ARTICLE})),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    let (s, _) = app.admin(Method::POST, &format!("/api/v1/articles/{}/publish", a["id"]), None).await;
    assert_eq!(s, 202);
    app.settled_sources().await;
    let chunks = app.state.store.all_chunks().await.unwrap().len();
    assert!(chunks > 0);
    wait_for_vectors(&app, chunks, "first embedder").await;
    assert_eq!(app.state.store.embedding_model().await.unwrap(), ("fake-a".to_owned(), 4));
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap().text().await.unwrap();
    assert!(ready.starts_with("ready\n") && ready.contains("embedder: fake-a (4 dimensions): ok"), "{ready}");
    let v = app.state.agent.knowledge.embed_query_vector("how long do deleted files stay?").await.unwrap();
    assert_eq!(v.len(), 4);
    // A repeated question comes from the recent questions' vectors: no request.
    let asked = seen.load(std::sync::atomic::Ordering::SeqCst);
    let again = app.state.agent.knowledge.embed_query_vector("how long do deleted files stay?").await.unwrap();
    assert_eq!(again, v);
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), asked, "a repeated question is not embedded again");
    app.state.agent.knowledge.embed_query_vector("and in the recycle bin?").await.unwrap();
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), asked + 1, "a new question is");

    // Same embedder again: nothing cleared, nothing re-embedded.
    let before = seen.load(std::sync::atomic::Ordering::SeqCst);
    let db = app.stop().await;
    let u = url.clone();
    let app = TestApp::spawn_on(db, |s| openai(s, "fake-a", &u)).await;
    assert_eq!(app.state.agent.knowledge.num_vectors(), chunks, "vectors loaded from the store");
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), before + 1, "only the start-up probe");

    // Another embedder: cleared (audited), re-embedded in the background at 3 dimensions.
    let db = app.stop().await;
    let u = url.clone();
    let app = TestApp::spawn_on(db, |s| openai(s, "fake-b", &u)).await;
    assert_eq!(app.state.store.embedding_model().await.unwrap(), ("fake-b".to_owned(), 3));
    let (_, audit) = app.admin(Method::GET, "/api/v1/audit?entity_type=embedding_model", None).await;
    let entry = &audit.as_array().expect("audit list")[0];
    assert_eq!(entry["action"], "switch", "{audit}");
    wait_for_vectors(&app, chunks, "re-embedding").await;
    let stored = app.state.store.all_chunks().await.unwrap();
    let emb = app.state.store.source_embeddings(stored[0].source_id).await.unwrap();
    assert!(!emb.is_empty() && emb.iter().all(|(_, b)| b.len() == 3 * 4), "re-embedded at 3 dimensions");

    // The endpoint down at start (dimensions configured): the vectors stay, /readyz
    // says why, and questions are answered from BM25.
    let db = app.stop().await;
    // A port bound but never listening: connections are refused, and no other
    // test's server can take it meanwhile (a port merely freed again could be).
    let closed = tokio::net::TcpSocket::new_v4().unwrap();
    closed.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = closed.local_addr().unwrap().port();
    let down = format!("http://127.0.0.1:{port}/v1");
    let app = TestApp::spawn_on(db, |s| {
        openai(s, "fake-b", &down);
        s.embedding_dimensions = 3;
        s.embedding_timeout_ms = 2000;
    })
    .await;
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let ready = ready.text().await.unwrap();
    assert!(ready.contains("endpoint unreachable") && ready.contains("retrieval falls back to BM25"), "{ready}");
    assert_eq!(app.state.store.embedding_model().await.unwrap(), ("fake-b".to_owned(), 3), "not cleared");
    assert_eq!(app.state.agent.knowledge.num_vectors(), chunks, "vectors kept");
    let err = app.state.agent.knowledge.embed_query_vector("how long do deleted files stay?").await.unwrap_err();
    assert!(err.contains("unreachable"), "{err}");
    assert!(!app.state.agent.knowledge.embedder_status().ok);
    // Search falls back to BM25 and still finds the passage.
    let hits = app.state.agent.knowledge.search("How long do deleted files stay in the Trash?", "en", 3).await.unwrap();
    assert!(!hits.is_empty(), "BM25 answers while the endpoint is down");
    drop(closed);
}
both_backends!(vectors_follow_the_configured_embedder);
