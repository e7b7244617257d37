//! `frontdesk eval retrieval`: ingests a folder of content through the real
//! pipeline (file library → sources → extraction → chunks → index) into a
//! throwaway store and scores retrieval on labelled questions.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use frontdesk_knowledge::eval::{parse_questions, score_retrieval};
use frontdesk_knowledge::extract::kind_of;
use frontdesk_server::config::Settings;
use frontdesk_server::knowledge::Knowledge;
use frontdesk_server::state::AppState;
use frontdesk_store::{source_kind, Actor, NewFile, NewSource};

#[derive(Subcommand)]
pub enum EvalCommand {
    /// Recall@1, recall@k and MRR of retrieval, overall and per language.
    Retrieval {
        /// Folder of content files (any supported type), searched recursively.
        #[arg(long)]
        content: PathBuf,
        /// Questions, one JSON object per line: {id, question, lang, expected_sources, …}.
        #[arg(long)]
        questions: PathBuf,
        #[arg(long, default_value_t = 5)]
        k: usize,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// bm25, vectors or fused (vectors need the model: scripts/fetch-models.sh).
        #[arg(long, default_value = "fused")]
        retriever: String,
        /// Where the embedding model is.
        #[arg(long, default_value = "./models")]
        models_dir: PathBuf,
    },
}

fn files_under(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let p = entry?.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A throwaway workspace holding `content`; returns it and source id → relative path.
pub async fn ingest(
    content: &Path,
    models_dir: Option<&Path>,
) -> anyhow::Result<(AppState, HashMap<i64, String>, tempfile::TempDir)> {
    let tmp = tempfile::tempdir()?;
    let store = frontdesk_store::open(&format!("sqlite://{}", tmp.path().join("eval.db").display())).await?;
    let embedder = models_dir
        .and_then(frontdesk_embed::load_default)
        .map(|m| std::sync::Arc::new(m) as std::sync::Arc<dyn frontdesk_embed::Embedder>);
    let knowledge = Knowledge::in_memory(tmp.path(), embedder)?;
    let settings = Settings { data_dir: tmp.path().to_path_buf(), ..Settings::default() };
    let state = AppState::new(store, settings, knowledge);
    let actor = Actor::system("eval");
    let mut paths = HashMap::new();
    for path in files_under(content)? {
        let rel = path.strip_prefix(content).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        if kind_of(&rel).is_err() {
            eprintln!("skipped (unsupported type): {rel}");
            continue;
        }
        let data = std::fs::read(&path)?;
        let file = state.store.create_file(&actor, NewFile { name: rel.clone(), sha256: String::new(), data }).await?;
        let source = state
            .store
            .create_source(
                &actor,
                NewSource {
                    kind: source_kind::FILE.into(),
                    title: rel.clone(),
                    url: None,
                    article_id: None,
                    file_id: Some(file.id),
                    citations_enabled: true,
                    private: false,
                },
            )
            .await?;
        frontdesk_server::knowledge::sync_source(&state, source.id).await?;
        let s = state.store.get_source(source.id).await?;
        if s.status != frontdesk_store::source_status::READY {
            eprintln!("not indexed ({}): {rel}: {}", s.status, s.error.unwrap_or_default());
        }
        paths.insert(source.id, rel);
    }
    // Embed everything now (the server does it in a background job).
    frontdesk_server::knowledge::embed_pending(&state, std::time::Duration::from_secs(24 * 3600)).await?;
    Ok((state, paths, tmp))
}

pub async fn run(cmd: EvalCommand) -> anyhow::Result<()> {
    let EvalCommand::Retrieval { content, questions, k, json, retriever, models_dir } = cmd;
    use frontdesk_server::knowledge::Retriever;
    let retriever = match retriever.as_str() {
        "bm25" => Retriever::Bm25,
        "vectors" => Retriever::Vectors,
        "fused" => Retriever::Fused,
        other => anyhow::bail!("--retriever must be bm25, vectors or fused, not {other:?}"),
    };
    let text = std::fs::read_to_string(&questions).with_context(|| format!("reading {}", questions.display()))?;
    let questions = parse_questions(&text).map_err(|e| anyhow::anyhow!("{}: {e}", questions.display()))?;
    let models = (retriever != Retriever::Bm25).then_some(models_dir.as_path());
    let (state, paths, _tmp) = ingest(&content, models).await?;
    if retriever != Retriever::Bm25 && state.knowledge.embedder().is_none() {
        anyhow::bail!(
            "no embedding model in {}: run scripts/fetch-models.sh, or use --retriever bm25",
            models_dir.display()
        );
    }
    let mut ranked = Vec::with_capacity(questions.len());
    for q in &questions {
        let lang = frontdesk_knowledge::lang::detect_query(&q.question, "en");
        let hits = state.knowledge.search_with(&q.question, lang, k.max(5), retriever).await?;
        let ids: Vec<i64> = hits.iter().map(|h| h.source_id).collect();
        ranked.push(ids.iter().filter_map(|id| paths.get(id).cloned()).collect::<Vec<_>>());
    }
    let report = score_retrieval(&questions, &ranked, k);
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("{}", report.to_text());
    }
    Ok(())
}
