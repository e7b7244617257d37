//! `frontdesk eval retrieval`: ingests a folder of content through the real
//! pipeline (file library → sources → extraction → chunks → index) into a
//! throwaway store and scores retrieval on labelled questions.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use frontdesk_agent::knowledge::Knowledge;
use frontdesk_knowledge::eval::parse_questions;
use frontdesk_knowledge::extract::kind_of;
use frontdesk_server::config::Settings;
use frontdesk_server::state::AppState;
use frontdesk_store::{source_kind, Actor, NewFile, NewSource};

mod injection;
mod quality;

#[derive(Subcommand)]
pub enum EvalCommand {
    /// Recall@1, recall@k and MRR of every retriever (bm25, vectors, fused,
    /// ranked: what the agent uses), overall, per question language and per
    /// kind (same-language, cross-language), with the settings of `--config
    /// FILE` and `FRONTDESK_*`.
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
        /// Where the embedding model is.
        #[arg(long, default_value = "./models")]
        models_dir: PathBuf,
        /// A model fitted by `eval calibrate` (JSON) instead of the built-in one.
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Runs the configured responder on every question and counts what it did
    /// (the settings of `--config FILE` and `FRONTDESK_*` apply, e.g. `llm_url`):
    /// precision when answering (answered citing an expected source ÷
    /// answered), coverage (÷ answerable questions) and handoff accuracy,
    /// overall, per language and per kind.
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
        /// A model fitted by `eval calibrate` (JSON) instead of the built-in one.
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Fits the ranking model and the answer-or-hand-off calibration on
    /// labelled questions (give `--content` and `--questions` once per set,
    /// in the same order), prints them and the operating points, and writes
    /// them as JSON to `--out`.
    Calibrate {
        #[arg(long, required = true)]
        content: Vec<PathBuf>,
        #[arg(long, required = true)]
        questions: Vec<PathBuf>,
        /// Precision the agent must keep when it answers: the threshold is
        /// the lowest at which the one-sided 95 % lower bound of the
        /// out-of-fold precision reaches it.
        #[arg(long, default_value_t = 0.9)]
        target: f32,
        #[arg(long, default_value = "./models")]
        models_dir: PathBuf,
        /// Where to write the fitted model (JSON).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The classifier of sentences addressed to the assistant (prompt
    /// injection recognised by meaning): precision, recall and the
    /// false-positive rate on the held-out languages and forms of
    /// `eval/injection` (see its README); `--fit` fits it on the fitting part
    /// first (threshold from the fitting part only).
    Injection {
        /// Fit the model instead of testing the built-in one.
        #[arg(long)]
        fit: bool,
        /// The written sentences (addressed.tsv, reader.tsv).
        #[arg(long, default_value = "eval/injection")]
        set: PathBuf,
        /// The evaluation sets whose real help content gives the negatives.
        #[arg(long, default_value = "eval/sets")]
        content: PathBuf,
        /// More real help pages (plain text), held out unless in a fitting language.
        #[arg(long, default_value = "../shared/seeds")]
        seeds: PathBuf,
        #[arg(long, default_value = "./models")]
        models_dir: PathBuf,
        /// L2 penalty of the fit (on standardised features).
        #[arg(long, default_value_t = 0.01)]
        l2: f32,
        /// The largest false-positive rate on real sentences the threshold may
        /// have (measured leaving each fitting language out).
        #[arg(long, default_value_t = 0.005)]
        max_fpr: f32,
        /// With --fit: write the weights as the Rust source the product includes.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print the held-out sentences it got wrong.
        #[arg(long)]
        verbose: bool,
        /// Weigh the classes equally when fitting.
        #[arg(long)]
        balance: bool,
    },
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

#[allow(clippy::too_many_arguments)]
async fn run_answers(
    settings: Settings,
    content: &Path,
    questions: &Path,
    json: bool,
    models_dir: &Path,
    verbose: bool,
    model: Option<&Path>,
) -> anyhow::Result<()> {
    use frontdesk_core::responder::Outcome;
    let qs = read_questions(questions)?;
    let (state, paths, _tmp) = ingest(content, Some(models_dir), settings).await?;
    use_model(&state, model)?;
    let langs = quality::source_languages(&state, &paths).await?;
    let agent = state.agent.snapshot().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut table = quality::AnswerTable::default();
    let mut latencies = Vec::with_capacity(qs.len());
    for q in &qs {
        let started = std::time::Instant::now();
        let reply = frontdesk_agent::respond::respond(
            &state.agent,
            &agent,
            &frontdesk_agent::respond::Ask::new(q.question.clone()),
        )
        .await;
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        let answered = reply.outcome == Outcome::Answered;
        let cited: Vec<String> = reply.citations.iter().filter_map(|c| paths.get(&c.source_id).cloned()).collect();
        let v = verdict(&q.expected_sources, &q.expected_answer_contains, answered, &cited, &reply.text);
        let kind = quality::Kind::of(q, &langs);
        if verbose {
            let p = reply.trace.evidence.as_ref().map_or(-1.0, |e| e.probability);
            eprintln!(
                "{} [{}|{}] {:?}: {:?} cited {:?} p={p:.2} — {}",
                q.id,
                q.lang,
                kind.label(),
                v,
                reply.outcome,
                cited,
                reply.trace.decision
            );
        }
        table.add(
            q,
            kind,
            quality::Outcome {
                answered,
                right_source: matches!(v, Verdict::AnsweredCorrect { .. }),
                text_matches: matches!(v, Verdict::AnsweredCorrect { text_matches: true }),
                handed_off: matches!(reply.outcome, Outcome::Handoff(_)),
            },
        );
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies.get(((latencies.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0.0);
    if json {
        println!("{}", serde_json::json!({"groups": table.groups, "latency_ms": {"p50": pct(0.5), "p99": pct(0.99)}}));
    } else {
        print!("{}", table.to_text());
        println!("reply latency: p50 {:.1} ms, p99 {:.1} ms over {} questions", pct(0.5), pct(0.99), latencies.len());
    }
    Ok(())
}

fn read_questions(path: &Path) -> anyhow::Result<Vec<frontdesk_knowledge::eval::Question>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_questions(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Loads a model fitted by `eval calibrate` into the workspace's knowledge.
fn use_model(state: &AppState, model: Option<&Path>) -> anyhow::Result<()> {
    let Some(path) = model else { return Ok(()) };
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let m: quality::Model =
        serde_json::from_str(&text).with_context(|| format!("{} is not a model", path.display()))?;
    let loaded = state.agent.knowledge.embedder().map(|e| e.name().to_owned());
    if m.embedder != loaded {
        eprintln!("warning: {} was fitted for {:?}, the embedder here is {:?}", path.display(), m.embedder, loaded);
    }
    state.agent.knowledge.set_fusion(Some(m.ranker));
    state.agent.knowledge.set_calibration(Some(m.calibration));
    Ok(())
}

/// (probability, right) pairs.
type Scored = Vec<(f32, bool)>;

/// The `q` quantile (0–1) of `xs` (sorted in place), None when empty.
fn quantile(xs: &mut [f32], q: f32) -> Option<f32> {
    xs.sort_by(f32::total_cmp);
    let last = xs.len().checked_sub(1)?;
    Some(xs[((last as f32) * q).round() as usize])
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
            frontdesk_engine::ingest::load_embedder(&s).await?.embedder
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
        frontdesk_engine::ingest::sync_source(&state, source.id).await?;
        let s = state.store.get_source(source.id).await?;
        if s.status != frontdesk_store::source_status::READY {
            eprintln!("not indexed ({}): {rel}: {}", s.status, s.error.unwrap_or_default());
        }
        paths.insert(source.id, rel);
    }
    // Embed everything now (the server does it in a background job).
    frontdesk_engine::ingest::embed_pending(&state, std::time::Duration::from_secs(24 * 3600)).await?;
    Ok((state, paths, tmp))
}

/// Runs an eval command; `settings` are the process settings (`--config FILE`,
/// `FRONTDESK_*`), so `eval answers` measures the responder as configured.
pub async fn run(cmd: EvalCommand, settings: Settings) -> anyhow::Result<()> {
    match cmd {
        EvalCommand::Retrieval { content, questions, k, json, models_dir, model } => {
            run_retrieval(settings, &content, &questions, k, json, &models_dir, model.as_deref()).await
        }
        EvalCommand::Answers { content, questions, json, models_dir, verbose, model } => {
            run_answers(settings, &content, &questions, json, &models_dir, verbose, model.as_deref()).await
        }
        EvalCommand::Calibrate { content, questions, target, models_dir, out } => {
            run_calibrate(settings, &content, &questions, target, &models_dir, out.as_deref()).await
        }
        EvalCommand::Injection { fit, set, content, seeds, models_dir, l2, max_fpr, out, verbose, balance } => {
            if !(0.0..1.0).contains(&max_fpr) {
                anyhow::bail!("--max-fpr must be at least 0 and below 1 (a rate), not {max_fpr}");
            }
            let seeds = seeds.is_dir().then_some(seeds);
            let paths = injection::Paths { set, content, seeds };
            injection::run(settings, paths, &models_dir, fit, l2, max_fpr, out.as_deref(), verbose, balance).await
        }
    }
}

async fn run_retrieval(
    settings: Settings,
    content: &Path,
    questions: &Path,
    k: usize,
    json: bool,
    models_dir: &Path,
    model: Option<&Path>,
) -> anyhow::Result<()> {
    use frontdesk_knowledge::rank::FusionParams;
    let questions = read_questions(questions)?;
    let (state, paths, _tmp) = ingest(content, Some(models_dir), settings).await?;
    use_model(&state, model)?;
    let langs = quality::source_languages(&state, &paths).await?;
    let vectors = state.agent.knowledge.embedder().is_some();
    let names: &[&str] = if vectors { &["bm25", "vectors", "fused", "ranked"] } else { &["bm25", "ranked"] };
    let mut sums = quality::RetrievalSums::new(k, names);
    for q in &questions {
        let kind = quality::Kind::of(q, &langs);
        let c = quality::candidates(&state, &paths, q, k.max(quality::SECOND_STAGE)).await?;
        let params = state.agent.knowledge.fusion(vectors);
        sums.add("bm25", q, kind, &c.first_stage_paths(&FusionParams::BM25));
        if vectors {
            sums.add("vectors", q, kind, &c.first_stage_paths(&FusionParams::VECTORS));
            sums.add("fused", q, kind, &c.first_stage_paths(&params));
        }
        sums.add("ranked", q, kind, &c.product_paths(&params));
    }
    let table = sums.table();
    if json {
        println!("{}", serde_json::to_string(&table)?);
    } else {
        print!("{}", table.to_text());
        println!("fused = first stage (retrievers' scores); ranked = as the agent ranks (second stage with the passages' words)");
    }
    Ok(())
}

async fn run_calibrate(
    settings: Settings,
    contents: &[PathBuf],
    questions: &[PathBuf],
    target: f32,
    models_dir: &Path,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    use frontdesk_knowledge::rank;
    if contents.len() != questions.len() {
        anyhow::bail!(
            "give --content and --questions once per set, in pairs ({} vs {})",
            contents.len(),
            questions.len()
        );
    }
    // Every set's candidates, ingested once.
    let mut sets = Vec::new();
    let mut embedder = None;
    for (content, qpath) in contents.iter().zip(questions) {
        let qs = read_questions(qpath)?;
        let (state, paths, tmp) = ingest(content, Some(models_dir), settings.clone()).await?;
        embedder = state.agent.knowledge.embedder().map(|e| e.name().to_owned());
        let mut cands = Vec::new();
        for q in qs.iter().filter(|q| !q.expect_handoff) {
            cands.push((q.clone(), quality::candidates(&state, &paths, q, quality::SECOND_STAGE).await?));
        }
        eprintln!("{}: {} questions", qpath.display(), cands.len());
        sets.push((cands, state, tmp));
    }
    let vectors = embedder.is_some();
    // Every question's group: its article (a question's translations, and the
    // same question in a set derived from another, share it), so that
    // cross-validation never tests on a question whose twin it trained on.
    let mut article_of: HashMap<String, String> = HashMap::new();
    for (cands, ..) in &sets {
        for (q, _) in cands {
            if let Some(src) = q.expected_sources.first() {
                let article = quality::article(src);
                article_of.insert(q.id.clone(), format!("{}:{article}", q.id.split('-').next().unwrap_or("")));
            }
        }
    }
    let questions: Vec<(&frontdesk_knowledge::eval::Question, &quality::Candidates)> =
        sets.iter().flat_map(|(cands, ..)| cands.iter().map(|(q, c)| (q, c))).collect();
    let groups: Vec<String> =
        questions.iter().map(|(q, _)| article_of.get(&q.id).cloned().unwrap_or_else(|| q.id.clone())).collect();
    let all: Vec<bool> = vec![true; questions.len()];
    // 1. The ranker: candidates of answerable questions, from the first stage of the current model.
    let start = if vectors { rank::FusionParams::default() } else { rank::ranker_for(None) };
    let fit_ranker = |keep: &[bool]| {
        let training: Vec<_> = questions
            .iter()
            .zip(keep)
            .filter(|((q, _), k)| **k && !q.expected_sources.is_empty())
            .map(|((q, c), _)| c.labelled_second_stage(&start, q))
            .collect();
        rank::fit_ranker(&training, 0.01)
    };
    let ranker = fit_ranker(&all);
    // 2. Twins: where a different article's passage is as alike to the first
    // passage as a translation of it is, for only 1 % of the candidates.
    let twin_at = if vectors {
        let mut translations = Vec::new();
        let mut others = Vec::new();
        for (_, c) in &questions {
            for (x, same_article) in c.twin_pairs(&ranker, 8) {
                if same_article {
                    translations.push(x)
                } else {
                    others.push(x)
                }
            }
        }
        let at = quantile(&mut others, 0.99);
        println!(
            "twins: passages of different articles (n={}) median {:.3}, 99th percentile {:.3}; translations (n={}) median {:.3}; {:.0} % of translations at or above it",
            others.len(),
            quantile(&mut others, 0.5).unwrap_or(f32::NAN),
            at.unwrap_or(f32::NAN),
            translations.len(),
            quantile(&mut translations, 0.5).unwrap_or(f32::NAN),
            100.0 * translations.iter().filter(|x| at.is_some_and(|a| **x >= a)).count() as f32
                / translations.len().max(1) as f32,
        );
        at
    } else {
        None
    };
    // 3. The calibration, on the ranker's first answers.
    let examples_with = |ranker: &rank::FusionParams| -> Vec<Option<rank::Example>> {
        questions.iter().map(|(q, c)| c.example(ranker, q, twin_at)).collect()
    };
    let name = match &embedder {
        Some(e) => format!("{e}+bm25"),
        None => "bm25".to_owned(),
    };
    // Nested cross-validation by group: for each fold, the ranker and the
    // calibration are fitted on the other folds and the fold's questions are
    // ranked and scored by them — what the whole fit will say of questions
    // about articles it never saw. The regularisation and the threshold are
    // chosen on these out-of-fold probabilities.
    // With questions from several corpora (question ids `<corpus>-…`), each
    // corpus is a fold: the model is judged on a corpus it never saw, as it
    // will be on a team's own content. With one corpus, five folds by article.
    let corpus = |g: &str| g.split([':', '-']).next().unwrap_or("").to_owned();
    let mut corpora: Vec<String> = groups.iter().map(|g| corpus(g)).collect();
    corpora.sort();
    corpora.dedup();
    let (folds, fold): (usize, Vec<usize>) = if corpora.len() > 1 {
        println!("cross-validation: leave one corpus out ({})", corpora.join(", "));
        (corpora.len(), groups.iter().map(|g| corpora.iter().position(|c| *c == corpus(g)).unwrap_or(0)).collect())
    } else {
        println!("cross-validation: 5 folds by article");
        (5, groups.iter().map(|g| rank::fold_of(g, 5)).collect())
    };
    let mut per_fold = Vec::new();
    for k in 0..folds {
        let keep: Vec<bool> = fold.iter().map(|f| *f != k).collect();
        let ranker_k = fit_ranker(&keep);
        per_fold.push(examples_with(&ranker_k));
    }
    // (out-of-fold log-loss, l2, out-of-fold (probability, right) pairs)
    let mut best: Option<(f32, f32, Scored)> = None;
    for l2 in [0.01f32, 0.1, 1.0] {
        let mut scored = Vec::new();
        let mut oof_examples = Vec::new();
        for (k, examples_k) in per_fold.iter().enumerate() {
            let train: Vec<rank::Example> =
                examples_k.iter().zip(&fold).filter(|(_, f)| **f != k).filter_map(|(e, _)| *e).collect();
            let model = rank::fit("fold", &train, l2);
            for e in examples_k.iter().zip(&fold).filter(|(_, f)| **f == k).filter_map(|(e, _)| *e) {
                scored.push((model.probability(&e.evidence), e.right));
                oof_examples.push(e);
            }
        }
        let probabilities: Vec<f32> = scored.iter().map(|s| s.0).collect();
        let loss = rank::log_loss(&probabilities, &oof_examples);
        println!("l2 {l2}: out-of-fold log-loss {loss:.4}");
        if best.as_ref().is_none_or(|b| loss < b.0) {
            best = Some((loss, l2, scored));
        }
    }
    let (_, l2, scored) = best.context("no labelled questions to calibrate on")?;
    let examples: Vec<rank::Example> = examples_with(&ranker).into_iter().flatten().collect();
    let mut calibration = rank::fit(&name, &examples, l2);
    calibration.threshold = rank::threshold_for_precision_of(scored.clone(), target);
    calibration.twin_at = twin_at;
    println!("out-of-fold (l2 {l2}): threshold  answered  right  precision  lower bound");
    for t in [0.5, 0.7, 0.8, 0.85, 0.9, 0.92, 0.94, 0.96, calibration.threshold] {
        let above: Vec<&(f32, bool)> = scored.iter().filter(|(p, _)| *p >= t).collect();
        let right = above.iter().filter(|(_, r)| *r).count();
        let precision = if above.is_empty() { 1.0 } else { right as f32 / above.len() as f32 };
        println!(
            "{:>9.3}  {:>8}  {:>5}  {:>9.3}  {:>11.3}",
            t,
            above.len(),
            right,
            precision,
            rank::precision_lower_bound(right, above.len())
        );
    }
    let model = quality::Model { embedder, ranker, calibration };
    println!("ranker weights ({}):", rank::FusionParams::NAMES.join(", "));
    println!("    {:?}", model.ranker.weights);
    println!("calibration weights ({}), bias:", rank::Evidence::NAMES.join(", "));
    println!("    {:?}, {}", model.calibration.weights, model.calibration.bias);
    let right = examples.iter().filter(|e| e.right).count();
    println!("{} questions, first source right for {right}", examples.len());
    println!("threshold  answered  right  precision");
    for t in [0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.92, 0.94, model.calibration.threshold] {
        let op = rank::operating(&model.calibration, &examples, t);
        println!("{:>9.3}  {:>8}  {:>5}  {:>9.3}", t, op.answered, op.right, op.precision);
    }
    println!(
        "chosen threshold {:.3} (out-of-fold precision's 95 % lower bound ≥ {target} at it)",
        model.calibration.threshold
    );
    if let Some(path) = out {
        std::fs::write(path, serde_json::to_string_pretty(&model)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("written to {}", path.display());
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
        let q = |sources: &[&str]| frontdesk_knowledge::eval::Question {
            id: "q".into(),
            question: "?".into(),
            lang: "en".into(),
            expected_sources: s(sources),
            expected_answer_contains: vec![],
            expect_handoff: false,
        };
        let mut t = quality::AnswerTable::default();
        let answered =
            |right| quality::Outcome { answered: true, right_source: right, text_matches: right, handed_off: false };
        let handoff = quality::Outcome { answered: false, right_source: false, text_matches: false, handed_off: true };
        t.add(&q(&["a.md"]), quality::Kind::SameLanguage, answered(true));
        t.add(&q(&["a.md"]), quality::Kind::CrossLanguage, answered(false));
        t.add(&q(&["a.md"]), quality::Kind::SameLanguage, handoff);
        t.add(&q(&[]), quality::Kind::Unanswerable, handoff);
        t.add(&q(&[]), quality::Kind::Unanswerable, answered(false));
        let all = &t.groups["all"];
        assert_eq!((all.n, all.answered, all.answered_right, all.answered_unanswerable), (5, 3, 1, 1));
        assert!((all.precision - 1.0 / 3.0).abs() < 1e-9);
        assert!((all.coverage - 1.0 / 3.0).abs() < 1e-9);
        assert!((all.handoff_accuracy - 0.5).abs() < 1e-9);
        assert_eq!(t.groups["kind=cross-language"].answered_wrong_source, 1);
    }
}
