//! The figures of `frontdesk eval`: retrieval by every retriever and the
//! answer-or-hand-off decision, overall, per question language and per kind
//! (same-language, cross-language, unanswerable), and the fitting of the
//! ranking and calibration models on labelled questions.

use std::collections::{BTreeMap, HashMap};

use frontdesk_agent::knowledge::Retriever;
use frontdesk_knowledge::eval::Question;
use frontdesk_knowledge::rank::{self, Calibration, Evidence, Example, FusionParams, Signals};
use frontdesk_server::state::AppState;
use serde::{Deserialize, Serialize};

/// What a question asks of the agent, from its labels and the content's languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Some expected source is in the question's language.
    SameLanguage,
    /// Every expected source is in another language.
    CrossLanguage,
    /// Nothing in the content answers it.
    Unanswerable,
    /// The visitor asks for a person.
    Handoff,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::SameLanguage => "same-language",
            Kind::CrossLanguage => "cross-language",
            Kind::Unanswerable => "unanswerable",
            Kind::Handoff => "handoff",
        }
    }

    pub fn of(q: &Question, source_lang: &HashMap<String, String>) -> Kind {
        if q.expect_handoff {
            Kind::Handoff
        } else if q.expected_sources.is_empty() {
            Kind::Unanswerable
        } else if q.expected_sources.iter().any(|s| source_lang.get(s).is_some_and(|l| *l == q.lang)) {
            Kind::SameLanguage
        } else {
            Kind::CrossLanguage
        }
    }
}

/// Each source's language: the most frequent language of its chunks.
pub async fn source_languages(
    state: &AppState,
    paths: &HashMap<i64, String>,
) -> anyhow::Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    for (id, path) in paths {
        let mut count: BTreeMap<String, usize> = BTreeMap::new();
        for c in state.store.list_chunks(*id).await? {
            *count.entry(c.lang).or_default() += 1;
        }
        if let Some((lang, _)) = count.into_iter().max_by_key(|(_, n)| *n) {
            out.insert(path.clone(), lang);
        }
    }
    Ok(out)
}

/// The groups a question counts in: all, its language, its kind.
fn groups(q: &Question, kind: Kind) -> [String; 3] {
    ["all".into(), format!("lang={}", q.lang), format!("kind={}", kind.label())]
}

#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct RankScores {
    pub n: usize,
    pub recall_at_1: f64,
    pub recall_at_k: f64,
    pub mrr: f64,
}

#[derive(Default, Clone, Copy)]
struct RankSums {
    n: usize,
    at1: usize,
    atk: usize,
    rr: f64,
}

impl RankSums {
    fn add(&mut self, rank: Option<usize>, k: usize) {
        self.n += 1;
        if let Some(r) = rank.filter(|r| *r <= k) {
            self.at1 += usize::from(r == 1);
            self.atk += 1;
            self.rr += 1.0 / r as f64;
        }
    }
    fn scores(&self) -> RankScores {
        let n = self.n.max(1) as f64;
        RankScores { n: self.n, recall_at_1: self.at1 as f64 / n, recall_at_k: self.atk as f64 / n, mrr: self.rr / n }
    }
}

/// Retrieval figures: retriever → group → scores (answerable questions only).
#[derive(Debug, Default, Serialize)]
pub struct RetrievalTable {
    pub k: usize,
    pub retrievers: Vec<String>,
    pub groups: BTreeMap<String, BTreeMap<String, RankScores>>,
}

/// Accumulates [`RetrievalTable`].
pub struct RetrievalSums {
    k: usize,
    retrievers: Vec<String>,
    sums: BTreeMap<String, BTreeMap<String, RankSums>>,
}

impl RetrievalSums {
    pub fn new(k: usize, retrievers: &[&str]) -> Self {
        RetrievalSums { k, retrievers: retrievers.iter().map(|r| r.to_string()).collect(), sums: BTreeMap::new() }
    }

    /// Adds one question's ranking (source paths, best first, one per passage) by `retriever`.
    pub fn add(&mut self, retriever: &str, q: &Question, kind: Kind, ranked_paths: &[String]) {
        if q.expected_sources.is_empty() {
            return;
        }
        let rank = ranked_paths.iter().position(|p| q.expected_sources.contains(p)).map(|p| p + 1);
        for g in groups(q, kind) {
            self.sums.entry(g).or_default().entry(retriever.to_owned()).or_default().add(rank, self.k);
        }
    }

    pub fn table(&self) -> RetrievalTable {
        RetrievalTable {
            k: self.k,
            retrievers: self.retrievers.clone(),
            groups: self
                .sums
                .iter()
                .map(|(g, by)| (g.clone(), by.iter().map(|(r, s)| (r.clone(), s.scores())).collect()))
                .collect(),
        }
    }
}

impl RetrievalTable {
    pub fn to_text(&self) -> String {
        let mut out = format!("{:<22} {:>4}", "group", "n");
        for r in &self.retrievers {
            out.push_str(&format!("  {:>24}", format!("{r} R@1/R@{}/MRR", self.k)));
        }
        out.push('\n');
        for (g, by) in &self.groups {
            let n = by.values().map(|s| s.n).max().unwrap_or(0);
            out.push_str(&format!("{g:<22} {n:>4}"));
            for r in &self.retrievers {
                match by.get(r) {
                    Some(s) => out.push_str(&format!(
                        "  {:>24}",
                        format!("{:.2} / {:.2} / {:.3}", s.recall_at_1, s.recall_at_k, s.mrr)
                    )),
                    None => out.push_str(&format!("  {:>24}", "-")),
                }
            }
            out.push('\n');
        }
        out
    }
}

/// What the agent did with one question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub answered: bool,
    /// Answered citing an expected source.
    pub right_source: bool,
    /// Answered with one of the expected strings (or none are given).
    pub text_matches: bool,
    pub handed_off: bool,
}

#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct AnswerScores {
    pub n: usize,
    pub answerable: usize,
    pub unanswerable: usize,
    pub answered: usize,
    pub answered_right: usize,
    pub answered_wrong_source: usize,
    pub answered_unanswerable: usize,
    pub text_matches: usize,
    pub handed_off_when_needed: usize,
    /// Correct ÷ answered.
    pub precision: f64,
    /// Correct answers ÷ answerable questions.
    pub coverage: f64,
    /// Handed off ÷ questions that needed a handoff (unanswerable or asking for a person).
    pub handoff_accuracy: f64,
}

/// Answer figures per group.
#[derive(Debug, Default, Serialize)]
pub struct AnswerTable {
    pub groups: BTreeMap<String, AnswerScores>,
}

impl AnswerTable {
    pub fn add(&mut self, q: &Question, kind: Kind, o: Outcome) {
        for g in groups(q, kind) {
            let s = self.groups.entry(g).or_default();
            s.n += 1;
            let needs_handoff = matches!(kind, Kind::Unanswerable | Kind::Handoff);
            if needs_handoff {
                s.unanswerable += 1;
                s.handed_off_when_needed += usize::from(o.handed_off || (!o.answered && kind == Kind::Unanswerable));
            } else {
                s.answerable += 1;
            }
            if o.answered {
                s.answered += 1;
                if needs_handoff {
                    s.answered_unanswerable += 1;
                } else if o.right_source {
                    s.answered_right += 1;
                    s.text_matches += usize::from(o.text_matches);
                } else {
                    s.answered_wrong_source += 1;
                }
            }
            s.precision = if s.answered == 0 { 1.0 } else { s.answered_right as f64 / s.answered as f64 };
            s.coverage = if s.answerable == 0 { 0.0 } else { s.answered_right as f64 / s.answerable as f64 };
            s.handoff_accuracy =
                if s.unanswerable == 0 { 1.0 } else { s.handed_off_when_needed as f64 / s.unanswerable as f64 };
        }
    }

    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{:<22} {:>4} {:>6} {:>8} {:>7} {:>6} {:>9} {:>9} {:>8} {:>8} {:>7}\n",
            "group", "n", "answd", "correct", "wrong", "unans", "precision", "coverage", "handoff", "text-ok", "needH"
        );
        for (g, s) in &self.groups {
            out.push_str(&format!(
                "{g:<22} {:>4} {:>6} {:>8} {:>7} {:>6} {:>9.3} {:>9.3} {:>8.3} {:>8} {:>7}\n",
                s.n,
                s.answered,
                s.answered_right,
                s.answered_wrong_source,
                s.answered_unanswerable,
                s.precision,
                s.coverage,
                s.handoff_accuracy,
                s.text_matches,
                s.unanswerable
            ));
        }
        out.push_str(
            "precision = answered citing an expected source ÷ answered; coverage = those ÷ answerable questions;\n\
             handoff = handed off ÷ questions that needed it (unanswerable, or asking for a person); \
             wrong = answered citing another source; unans = answered an unanswerable question\n",
        );
        out
    }
}

/// A fitted model for the retrievers in use: how candidates are ranked and
/// when the first is trusted enough to answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Model {
    /// The embedding model the vectors came from (None: BM25 only).
    pub embedder: Option<String>,
    pub ranker: FusionParams,
    pub calibration: Calibration,
}

/// One question's candidates with their texts' support, as the product's
/// second stage sees them.
pub struct Candidates {
    pub ranked: Vec<Signals>,
    /// Source path of each candidate.
    pub paths: Vec<String>,
    /// How alike every two candidates' passages are (vectors), for [`rank::mark_twins`].
    pub similarity: HashMap<(i64, i64), f32>,
}

/// The first- and second-stage candidates of `q` (every candidate the
/// retrievers found, with its support), ranked by `params`.
pub async fn candidates(
    state: &AppState,
    paths: &HashMap<i64, String>,
    q: &Question,
    depth: usize,
) -> anyhow::Result<Candidates> {
    let lang = frontdesk_knowledge::lang::detect_query(&q.question, "en");
    let found = state.agent.knowledge.signals(&q.question, lang, depth, Retriever::Fused).await?;
    let mut ranked = found.ranked;
    frontdesk_agent::respond::read_with_support(&state.agent, &q.question, lang, &mut ranked).await?;
    let paths_of = ranked.iter().map(|s| paths.get(&s.source_id).cloned().unwrap_or_default()).collect();
    let mut similarity = HashMap::new();
    for a in &ranked {
        for b in &ranked {
            if let Some(x) = state.agent.knowledge.pair_similarity(a.chunk_id, b.chunk_id) {
                similarity.insert((a.chunk_id, b.chunk_id), x);
            }
        }
    }
    Ok(Candidates { ranked, paths: paths_of, similarity })
}

impl Candidates {
    /// Source paths best first, by the first stage only (the retrievers'
    /// scores fused by `params`).
    pub fn first_stage_paths(&self, params: &FusionParams) -> Vec<String> {
        self.first_stage(params).into_iter().map(|(_, p)| p).collect()
    }

    /// Source paths best first as the product ranks them: the first stage,
    /// then its best [`SECOND_STAGE`] ranked again with their texts' support.
    pub fn product_paths(&self, params: &FusionParams) -> Vec<String> {
        self.product(params).into_iter().map(|(_, p)| p).collect()
    }

    fn first_stage(&self, params: &FusionParams) -> Vec<(Signals, String)> {
        let mut sig: Vec<Signals> = self
            .ranked
            .iter()
            .cloned()
            .map(|mut s| {
                s.support = None;
                s
            })
            .collect();
        rank::fuse(&mut sig, params);
        let by_id: HashMap<i64, (Option<rank::Support>, String)> =
            self.ranked.iter().zip(&self.paths).map(|(s, p)| (s.chunk_id, (s.support, p.clone()))).collect();
        sig.into_iter()
            .map(|mut s| {
                let (support, path) = by_id.get(&s.chunk_id).cloned().unwrap_or_default();
                s.support = support;
                (s, path)
            })
            .collect()
    }

    fn product(&self, params: &FusionParams) -> Vec<(Signals, String)> {
        let mut first = self.first_stage(params);
        first.truncate(SECOND_STAGE);
        let path_of: HashMap<i64, String> = first.iter().map(|(s, p)| (s.chunk_id, p.clone())).collect();
        let mut sig: Vec<Signals> = first.into_iter().map(|(s, _)| s).collect();
        rank::fuse(&mut sig, params);
        sig.into_iter()
            .map(|s| {
                let p = path_of.get(&s.chunk_id).cloned().unwrap_or_default();
                (s, p)
            })
            .collect()
    }

    /// How alike the product's first passage is to each other source's
    /// (its best chunk among the first `n` candidates), with whether that
    /// source is the same article in another language (the eval sets name an
    /// article's translations `<lang>/<same file>`).
    pub fn twin_pairs(&self, params: &FusionParams, n: usize) -> Vec<(f32, bool)> {
        let ranked = self.product(params);
        let Some((first, first_path)) = ranked.first() else { return Vec::new() };
        let mut best: HashMap<i64, (f32, bool)> = HashMap::new();
        for (s, p) in ranked.iter().take(n).filter(|(s, _)| s.source_id != first.source_id) {
            if let Some(x) = self.similarity.get(&(first.chunk_id, s.chunk_id)) {
                let e = best.entry(s.source_id).or_insert((*x, article(p) == article(first_path)));
                e.0 = e.0.max(*x);
            }
        }
        best.into_values().collect()
    }

    /// The second stage's candidates with a label each (its source answers `q`).
    pub fn labelled_second_stage(&self, params: &FusionParams, q: &Question) -> (Vec<Signals>, Vec<bool>) {
        let mut first = self.first_stage(params);
        first.truncate(SECOND_STAGE);
        let right = first.iter().map(|(_, p)| q.expected_sources.contains(p)).collect();
        (first.into_iter().map(|(s, _)| s).collect(), right)
    }

    /// The decision's example: the evidence of the product's ranking (its
    /// twins marked at `twin_at`) and whether its first source is expected.
    pub fn example(&self, params: &FusionParams, q: &Question, twin_at: Option<f32>) -> Option<Example> {
        let ranked = self.product(params);
        let right = q.expected_sources.contains(&ranked.first()?.1);
        let mut sig: Vec<Signals> = ranked.into_iter().take(8).map(|(s, _)| s).collect();
        if let Some(at) = twin_at {
            rank::mark_twins(&mut sig, at, |a, b| self.similarity.get(&(a, b)).copied());
        }
        Some(Example { evidence: Evidence::of(&sig), right })
    }
}

/// The article a source path of the eval sets names: `<lang>/<article>`
/// (an article's translations share it).
pub fn article(path: &str) -> &str {
    path.split_once('/').map_or(path, |x| x.1)
}

/// How many first-stage candidates the second stage ranks again (as the product does).
pub use frontdesk_agent::respond::SECOND_STAGE;
