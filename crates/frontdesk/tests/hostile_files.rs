//! The hostile-files corpus (issue 15): files built to stall or exhaust an
//! extractor — deeply nested HTML, an object-bomb PDF, a zip bomb, billion
//! laughs, a huge single line — each end as a failed source naming the limit it
//! broke, or as a ready source that says its text was cut, while an ordinary
//! file queued with them is indexed. Extraction runs in the real child process:
//! this binary (`CARGO_BIN_EXE_frontdesk`) with its hidden extract subcommand.
//! The files are generated here; nothing large is committed.

use std::io::{Cursor, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use frontdesk_engine::extract_child::{extract_limited, ExtractFailure, ExtractLimits};
use frontdesk_knowledge::extract::Limits;
use frontdesk_server::config::Settings;
use frontdesk_store::{source_kind, source_status, Actor, NewFile, NewSource, Source, Store};
use sqlx::Connection;

fn child() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_frontdesk"))
}

fn limits(cpu_seconds: u64, wall_seconds: u64, memory_mb: u64) -> ExtractLimits {
    ExtractLimits { command: Some(child()), cpu_seconds, wall_seconds, memory_mb, limits: Limits::default() }
}

/// `n` pages, each drawing one word, in a PDF of about 130 bytes a page
/// (200,000 pages: the probe's 33 MB file that ran for 18 minutes).
fn object_bomb_pdf(n: usize) -> Vec<u8> {
    let mut objects: Vec<String> = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".into(),
        format!(
            "<< /Type /Pages /Count {n} /Kids [{}] >>",
            (0..n).map(|i| format!("{} 0 R", i + 5)).collect::<Vec<_>>().join(" ")
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into(),
        {
            let draw = "BT /F1 9 Tf 10 10 Td (word) Tj ET";
            format!("<< /Length {} >>\nstream\n{draw}\nendstream", draw.len())
        },
    ];
    for _ in 0..n {
        objects.push(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 99 99] /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
                .into(),
        );
    }
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

/// A .docx whose document.xml inflates to 300 MiB of zeros (the archive: about 300 KiB).
fn zip_bomb_docx() -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("[Content_Types].xml", options).unwrap();
    zip.write_all(b"<Types/>").unwrap();
    zip.start_file("word/document.xml", options).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..300 {
        zip.write_all(&zeros).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// Nine levels of ten references each: a billion "lol"s if entities were expanded.
fn billion_laughs() -> Vec<u8> {
    let mut xml = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 { "lol".to_string() } else { format!("lol{}", i - 1) };
        xml.push_str(&format!("<!ENTITY lol{i} \"{}\">\n", format!("&{prev};").repeat(10)));
    }
    xml.push_str("]>\n<lolz><item>Laugh: &lol9;</item><item>Opening hours are nine to five.</item></lolz>");
    xml.into_bytes()
}

fn nested_html(depth: usize) -> Vec<u8> {
    format!(
        "<html><body><h1>Deep</h1>{}<p>the bottom line</p>{}</body></html>",
        "<div>".repeat(depth),
        "</div>".repeat(depth)
    )
    .into_bytes()
}

// ------------------------------------------------------------------ the child's limits

#[tokio::test]
async fn the_child_is_stopped_at_its_cpu_limit() {
    let started = Instant::now();
    let e = extract_limited(&limits(1, 120, 4096), "objects.pdf", object_bomb_pdf(200_000)).await.unwrap_err();
    assert_eq!(e, ExtractFailure::CpuTime { seconds: 1 });
    assert_eq!(e.to_string(), "extraction stopped after 1 s of CPU time (limit: extract_cpu_seconds)");
    assert!(started.elapsed() < Duration::from_secs(60), "{:?}", started.elapsed());
}

#[tokio::test]
async fn the_child_is_killed_at_its_wall_clock_limit() {
    let started = Instant::now();
    let e = extract_limited(&limits(600, 1, 4096), "objects.pdf", object_bomb_pdf(200_000)).await.unwrap_err();
    assert_eq!(e.to_string(), "extraction stopped after 1 s (limit: extract_timeout_seconds)");
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
}

#[tokio::test]
async fn the_child_is_stopped_at_its_memory_limit() {
    // 40 MB of text with 200 MB of address space: the copies the reader makes do not fit.
    let text = "word ".repeat(8_000_000).into_bytes();
    let e = extract_limited(&limits(600, 120, 200), "big.txt", text).await.unwrap_err();
    assert_eq!(e.to_string(), "extraction stopped: it needed more than 200 MB of memory (limit: extract_memory_mb)");
}

#[tokio::test]
async fn the_child_answers_like_the_reader() {
    let doc = extract_limited(&limits(60, 60, 2048), "faq.md", b"# FAQ\n\nWe open at nine.".to_vec()).await.unwrap();
    assert_eq!(doc.title.as_deref(), Some("FAQ"));
    assert!(doc.sections.iter().any(|s| s.text.contains("We open at nine.")));
    let e = extract_limited(&limits(60, 60, 2048), "bomb.docx", zip_bomb_docx()).await.unwrap_err();
    assert_eq!(e.to_string(), "the archive inflates beyond 209715200 bytes (possible zip bomb)");
    let e = extract_limited(&limits(60, 60, 2048), "setup.exe", b"MZ".to_vec()).await.unwrap_err();
    assert!(matches!(e, ExtractFailure::Extract(frontdesk_knowledge::extract::ExtractError::Unsupported { .. })));
    // A missing child binary is a setup error, said as such.
    let missing = ExtractLimits { command: Some("/nonexistent/frontdesk".into()), ..limits(60, 60, 2048) };
    let e = extract_limited(&missing, "faq.md", b"# FAQ".to_vec()).await.unwrap_err();
    assert!(matches!(e, ExtractFailure::Process(_)), "{e:?}");
}

// ------------------------------------------------------------------ the corpus, through the worker

/// A database for one test: a temporary SQLite file, or a fresh PostgreSQL
/// database on `FRONTDESK_TEST_POSTGRES_URL` (skipped without it, except in CI).
struct Db {
    url: String,
    admin: Option<(String, String)>,
    dir: tempfile::TempDir,
}

impl Db {
    async fn create(postgres: bool) -> Option<Db> {
        let dir = tempfile::tempdir().unwrap();
        if !postgres {
            let url = format!("sqlite://{}", dir.path().join("frontdesk.db").display());
            return Some(Db { url, admin: None, dir });
        }
        let admin_url = match std::env::var("FRONTDESK_TEST_POSTGRES_URL") {
            Ok(u) if !u.trim().is_empty() => u,
            _ => {
                assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true needs FRONTDESK_TEST_POSTGRES_URL");
                eprintln!("SKIPPED: PostgreSQL test (set FRONTDESK_TEST_POSTGRES_URL to run it)");
                return None;
            }
        };
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let name = format!("fdhostile_{}_{nanos}", std::process::id());
        let mut conn = sqlx::PgConnection::connect(&admin_url).await.expect("connect to PostgreSQL");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create the test database");
        let url = format!("{}/{name}", admin_url.rsplit_once('/').expect("…/database").0);
        Some(Db { url, admin: Some((admin_url, name)), dir })
    }

    async fn drop_database(&self) {
        if let Some((admin_url, name)) = &self.admin {
            if let Ok(mut conn) = sqlx::PgConnection::connect(admin_url).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
            }
        }
    }
}

async fn add_file(store: &dyn Store, name: &str, data: Vec<u8>) -> i64 {
    let actor = Actor::system("test");
    let file = store.create_file(&actor, NewFile { name: name.into(), sha256: name.into(), data }).await.unwrap();
    store
        .create_source(
            &actor,
            NewSource {
                kind: source_kind::FILE.into(),
                title: name.into(),
                url: None,
                article_id: None,
                file_id: Some(file.id),
                citations_enabled: true,
                private: false,
            },
        )
        .await
        .unwrap()
        .id
}

async fn corpus_story(postgres: bool) {
    let Some(db) = Db::create(postgres).await else { return };
    let settings = Settings {
        listen: "127.0.0.1:0".into(),
        data_dir: db.dir.path().to_path_buf(),
        database_url: db.url.clone(),
        embeddings: false,
        worker_poll_ms: 50,
        worker_concurrency: 4,
        sweep_interval_secs: 3600,
        extract_command: child().display().to_string(),
        extract_cpu_seconds: 3,
        extract_timeout_seconds: 30,
        extract_memory_mb: 2048,
        extract_max_text_chars: 1_000_000,
        ..Settings::default()
    };
    let app = frontdesk_server::startup::Application::build(settings).await.unwrap();
    let state = app.state.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let store = state.store.as_ref();

    // The hostile files first, the ordinary one last: it must not wait for them to give up.
    let deep = add_file(store, "deep.html", nested_html(100_000)).await;
    let pdf = add_file(store, "objects.pdf", object_bomb_pdf(200_000)).await;
    let zip = add_file(store, "bomb.docx", zip_bomb_docx()).await;
    let laughs = add_file(store, "laughs.xml", billion_laughs()).await;
    let line = add_file(store, "one-line.txt", "word ".repeat(600_000).into_bytes()).await;
    let faq = add_file(store, "faq.md", b"# FAQ\n\nWe open at nine.".to_vec()).await;
    for id in [deep, pdf, zip, laughs, line, faq] {
        frontdesk_engine::ingest::enqueue_sync(&state, id).await.unwrap();
    }

    let started = Instant::now();
    let settled = |s: &Source| !matches!(s.status.as_str(), source_status::PENDING | source_status::SYNCING);
    let sources = loop {
        let all = store.list_sources(Some(source_kind::FILE)).await.unwrap();
        if all.iter().all(settled) {
            break all;
        }
        assert!(started.elapsed() < Duration::from_secs(240), "not settled: {all:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let get = |id: i64| sources.iter().find(|s| s.id == id).unwrap().clone();

    let faq = get(faq);
    assert_eq!((faq.status.as_str(), faq.error.as_deref()), (source_status::READY, None));
    // Nested HTML is parsed with a bounded depth: ready, every word kept.
    let deep = get(deep);
    assert_eq!(deep.status, source_status::READY, "{:?}", deep.error);
    assert!(store.source_text(deep.id).await.unwrap().unwrap().contains("the bottom line"));
    // The object bomb breaks the CPU limit (3 s) in its child: that source fails, naming it.
    let pdf = get(pdf);
    assert_eq!(pdf.status, source_status::ERROR);
    assert_eq!(
        pdf.error.as_deref(),
        Some("extraction stopped after 3 s of CPU time (limit: extract_cpu_seconds)"),
        "{pdf:?}"
    );
    let zip = get(zip);
    assert_eq!(
        (zip.status.as_str(), zip.error.as_deref()),
        (source_status::ERROR, Some("the archive inflates beyond 209715200 bytes (possible zip bomb)"))
    );
    // Billion laughs: entities are not expanded; the rest of the file is indexed.
    let laughs = get(laughs);
    assert_eq!(laughs.status, source_status::READY, "{:?}", laughs.error);
    let text = store.source_text(laughs.id).await.unwrap().unwrap();
    assert!(text.contains("Opening hours are nine to five.") && text.len() < 1000, "{text}");
    // A huge single line is cut at extract_max_text_chars, and the source says so.
    let line = get(line);
    assert_eq!(line.status, source_status::READY, "{:?}", line.error);
    assert_eq!((line.truncated_kept, line.truncated_total), (Some(999_999), Some(2_999_999)));
    assert_eq!(line.truncation_note().as_deref(), Some("indexed the first 999,999 characters of 2,999,999"));

    let _ = stop.send(());
    let _ = server.await;
    drop(state);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_corpus_sqlite() {
    corpus_story(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_corpus_postgres() {
    corpus_story(true).await;
}
