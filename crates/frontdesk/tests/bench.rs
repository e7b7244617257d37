//! The store-backed benchmarks, run small: they must work end to end (the
//! figures themselves come from release runs, see docs/benchmarks.md).

use std::process::Command;

fn frontdesk() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_frontdesk"));
    c.env_remove("FRONTDESK_DATABASE_URL").env("FRONTDESK_LOG", "warn");
    c
}

fn run(c: &mut Command) -> String {
    let out = c.output().expect("run frontdesk");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

#[test]
fn bench_ingest_generates_every_format_and_ingests_it_all() {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("content");
    let out = run(frontdesk().args(["bench", "ingest", "--generate", "18", "--dir"]).arg(&content));
    assert!(out.contains("generated 18 files"), "{out}");
    assert!(out.contains("18 ingested"), "{out}");
    assert!(out.contains(", 0 failures"), "{out}");
    for ext in ["md", "html", "txt", "csv", "json", "docx", "pptx", "xlsx", "pdf"] {
        assert!(out.lines().any(|l| l.trim_start().starts_with(ext)), "{ext} in {out}");
    }
    let chunks: u64 = out
        .lines()
        .find_map(|l| l.trim().split_once(" chunks (").map(|(n, _)| n.parse().unwrap()))
        .expect("a chunk count");
    assert!(chunks >= 18, "{out}");
    // Twice over, into a given store.
    let db = format!("sqlite://{}", dir.path().join("ingest.db").display());
    let out = run(frontdesk().args(["bench", "ingest", "--repeat", "2", "--database-url", &db, "--dir"]).arg(&content));
    assert!(out.contains("18 files × 2 = 36 ingested") && out.contains(", 0 failures"), "{out}");
}

#[test]
fn bench_retrieval_runs_against_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("retrieval.db").display());
    let args = ["bench", "retrieval", "--chunks", "500", "--queries", "50", "--database-url", &db, "--models-dir"];
    let out = run(frontdesk().args(args).arg(dir.path().join("no-models")));
    assert!(out.contains("store filled with 500 chunks in 10 sources"), "{out}");
    assert!(out.contains("index rebuilt from the store") && out.contains("500 chunks"), "{out}");
    assert!(out.contains("BM25: 50 questions, p50"), "{out}");
    // A second run reuses the filled store.
    let out = run(frontdesk().args(args).arg(dir.path().join("no-models")));
    assert!(out.contains("reusing the 500 chunks"), "{out}");
}

#[test]
fn bench_reply_embeds_questions_and_searches_stored_vectors() {
    let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
    if !models.join("multilingual-e5-small/e5-small-q4.bin").exists() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true: scripts/fetch-models.sh must have fetched e5");
        eprintln!("SKIPPED: multilingual-e5-small is not in ./models (scripts/fetch-models.sh e5)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("reply.db").display());
    let args = ["bench", "reply", "--chunks", "300", "--questions", "10", "--embeddings", "--database-url", &db];
    let out = run(frontdesk().args(args).arg("--models-dir").arg(&models));
    assert!(out.contains("retrieval=bm25 + vectors (e5)"), "{out}");
    assert!(out.contains("300 chunk vectors stored"), "{out}");
    assert!(out.contains("vectors: 300 loaded"), "{out}");
    assert!(out.contains("reply decision: p50"), "{out}");
    // Without the model the mode refuses to measure BM25 under its name.
    let db2 = format!("sqlite://{}", dir.path().join("reply2.db").display());
    let args = ["bench", "reply", "--chunks", "50", "--questions", "5", "--embeddings", "--database-url", &db2];
    let out = frontdesk().args(args).arg("--models-dir").arg(dir.path().join("none")).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("multilingual-e5-small"), "{err}");
}
