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
