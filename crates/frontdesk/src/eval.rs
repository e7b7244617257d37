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
    /// Recall@1, recall@k and MRR of retrieval, overall and per language
    /// (with the settings of `--config FILE` and `FRONTDESK_*`).
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
    /// Runs the configured responder on every question and counts what it did
    /// (the settings of `--config FILE` and `FRONTDESK_*` apply, e.g. `llm_url`):
    /// answered citing an expected source, answered with a wrong or missing
    /// source, answered although unanswerable, handed off although
    /// answerable, handed off correctly.
    Answers {
        #[arg(long)]
        content: PathBuf,
        #[arg(long)]
        questions: PathBuf,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Use the embedding model when it is in --models-dir (as the server does).
        #[arg(long, default_value = "./models")]
        models_dir: PathBuf,
        /// Print each question's outcome.
        #[arg(long)]
        verbose: bool,
    },
}

/// What `eval answers` counts, overall and per language.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct AnswerCounts {
    pub n: usize,
    pub answered_correct: usize,
    pub answered_wrong: usize,
    pub answered_unanswerable: usize,
    pub handoff_answerable: usize,
    pub handoff_correct: usize,
    /// Correct answers whose text contains one of the expected phrases.
    pub answer_text_matches: usize,
}

#[derive(Debug, Default, serde::Serialize)]
pub struct AnswerReport {
    #[serde(flatten)]
    pub all: AnswerCounts,
    pub by_lang: std::collections::BTreeMap<String, AnswerCounts>,
}

/// The verdict on one question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    AnsweredCorrect { text_matches: bool },
    AnsweredWrong,
    AnsweredUnanswerable,
    HandoffAnswerable,
    HandoffCorrect,
}

impl AnswerCounts {
    fn add(&mut self, v: Verdict) {
        self.n += 1;
        match v {
            Verdict::AnsweredCorrect { text_matches } => {
                self.answered_correct += 1;
                self.answer_text_matches += text_matches as usize;
            }
            Verdict::AnsweredWrong => self.answered_wrong += 1,
            Verdict::AnsweredUnanswerable => self.answered_unanswerable += 1,
            Verdict::HandoffAnswerable => self.handoff_answerable += 1,
            Verdict::HandoffCorrect => self.handoff_correct += 1,
        }
    }
}

/// Judges a reply: "answered" is an answer from content (or an action);
/// anything else (handoff, decline, small talk) is not answering.
pub fn verdict(
    expected_sources: &[String],
    expected_text: &[String],
    answered: bool,
    cited_paths: &[String],
    text: &str,
) -> Verdict {
    let answerable = !expected_sources.is_empty();
    match (answerable, answered) {
        (true, true) if cited_paths.iter().any(|p| expected_sources.contains(p)) => {
            let folded = frontdesk_core::text::fold(text);
            let text_matches = expected_text.is_empty()
                || expected_text.iter().any(|e| folded.contains(&frontdesk_core::text::fold(e)));
            Verdict::AnsweredCorrect { text_matches }
        }
        (true, true) => Verdict::AnsweredWrong,
        (true, false) => Verdict::HandoffAnswerable,
        (false, true) => Verdict::AnsweredUnanswerable,
        (false, false) => Verdict::HandoffCorrect,
    }
}

impl AnswerReport {
    pub fn to_text(&self) -> String {
        let mut out = String::from(
            "lang  n    correct  wrong  answered-unanswerable  handoff-answerable  handoff-correct  text-match\n",
        );
        let mut row = |name: &str, c: &AnswerCounts| {
            out.push_str(&format!(
                "{name:<5} {:<4} {:<8} {:<6} {:<22} {:<19} {:<16} {}\n",
                c.n,
                c.answered_correct,
                c.answered_wrong,
                c.answered_unanswerable,
                c.handoff_answerable,
                c.handoff_correct,
                c.answer_text_matches
            ));
        };
        row("all", &self.all);
        for (l, c) in &self.by_lang {
            row(l, c);
        }
        out
    }
}

async fn run_answers(
    settings: Settings,
    content: &Path,
    questions: &Path,
    json: bool,
    models_dir: &Path,
    verbose: bool,
) -> anyhow::Result<()> {
    use frontdesk_core::responder::Outcome;
    let text = std::fs::read_to_string(questions).with_context(|| format!("reading {}", questions.display()))?;
    let qs = parse_questions(&text).map_err(|e| anyhow::anyhow!("{}: {e}", questions.display()))?;
    let (state, paths, _tmp) = ingest(content, Some(models_dir), settings).await?;
    let agent = state.agent().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut report = AnswerReport::default();
    for q in &qs {
        let reply = frontdesk_server::respond::respond(
            &state,
            &agent,
            &frontdesk_server::respond::Ask::new(q.question.clone()),
        )
        .await;
        let answered = reply.outcome == Outcome::Answered;
        let cited: Vec<String> = reply.citations.iter().filter_map(|c| paths.get(&c.source_id).cloned()).collect();
        let v = verdict(&q.expected_sources, &q.expected_answer_contains, answered, &cited, &reply.text);
        if verbose {
            eprintln!(
                "{} [{}] {:?}: {:?} cited {:?} — {}",
                q.id, q.lang, v, reply.outcome, cited, reply.trace.decision
            );
        }
        report.all.add(v);
        report.by_lang.entry(q.lang.clone()).or_default().add(v);
    }
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(())
}

/// Every file under `dir`, recursively, sorted.
pub(crate) fn files_under(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
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

/// A throwaway workspace holding `content`, run with `settings` (the settings file
/// of `--config` and `FRONTDESK_*` variables, as `serve` reads them: `llm_url`,
/// `answer_threshold`…) but with its data and database in a temporary directory;
/// returns it and source id → relative path.
pub async fn ingest(
    content: &Path,
    models_dir: Option<&Path>,
    settings: Settings,
) -> anyhow::Result<(AppState, HashMap<i64, String>, tempfile::TempDir)> {
    let tmp = tempfile::tempdir()?;
    let store = frontdesk_store::open(&format!("sqlite://{}", tmp.path().join("eval.db").display())).await?;
    // The embedder `serve` would use (`embedding_model`, `embedding_url` …), from
    // `models_dir`.
    let embedder = match models_dir {
        Some(dir) => {
            let s = Settings { models_dir: dir.to_path_buf(), ..settings.clone() };
            frontdesk_server::knowledge::load_embedder(&s).await?.embedder
        }
        None => None,
    };
    let knowledge = Knowledge::in_memory(tmp.path(), embedder)?;
    let database_url = format!("sqlite://{}", tmp.path().join("eval.db").display());
    let settings = Settings { data_dir: tmp.path().to_path_buf(), database_url, ..settings };
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

/// Runs an eval command; `settings` are the process settings (`--config FILE`,
/// `FRONTDESK_*`), so `eval answers` measures the responder as configured.
pub async fn run(cmd: EvalCommand, settings: Settings) -> anyhow::Result<()> {
    let (content, questions, k, json, retriever, models_dir) = match cmd {
        EvalCommand::Retrieval { content, questions, k, json, retriever, models_dir } => {
            (content, questions, k, json, retriever, models_dir)
        }
        EvalCommand::Answers { content, questions, json, models_dir, verbose } => {
            return run_answers(settings, &content, &questions, json, &models_dir, verbose).await;
        }
    };
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
    let (state, paths, _tmp) = ingest(&content, models, settings).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn verdicts_follow_the_definitions() {
        let exp = s(&["en/a.md", "it/a.md"]);
        let text = s(&["60 days"]);
        assert_eq!(
            verdict(&exp, &text, true, &s(&["it/a.md"]), "Kept for 60 DAYS."),
            Verdict::AnsweredCorrect { text_matches: true }
        );
        assert_eq!(
            verdict(&exp, &text, true, &s(&["en/a.md"]), "Kept."),
            Verdict::AnsweredCorrect { text_matches: false }
        );
        assert_eq!(verdict(&exp, &text, true, &s(&["b.md"]), ""), Verdict::AnsweredWrong);
        assert_eq!(verdict(&exp, &text, true, &[], ""), Verdict::AnsweredWrong);
        assert_eq!(verdict(&exp, &text, false, &[], ""), Verdict::HandoffAnswerable);
        assert_eq!(verdict(&[], &[], true, &s(&["b.md"]), ""), Verdict::AnsweredUnanswerable);
        assert_eq!(verdict(&[], &[], false, &[], ""), Verdict::HandoffCorrect);
        let mut c = AnswerCounts::default();
        c.add(Verdict::AnsweredCorrect { text_matches: true });
        c.add(Verdict::HandoffCorrect);
        assert_eq!((c.n, c.answered_correct, c.handoff_correct, c.answer_text_matches), (2, 1, 1, 1));
    }
}
