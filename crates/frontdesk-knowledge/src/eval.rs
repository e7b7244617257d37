//! Retrieval evaluation: labelled questions (JSON Lines) and the scores of a
//! ranking against them — recall@1, recall@k and mean reciprocal rank,
//! overall and per question language.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One labelled customer question (a line of `questions.jsonl`).
#[derive(Debug, Clone, Deserialize)]
pub struct Question {
    pub id: String,
    pub question: String,
    pub lang: String,
    /// Source paths (relative to the content directory) that answer it; empty
    /// when nothing does.
    #[serde(default)]
    pub expected_sources: Vec<String>,
    #[serde(default)]
    pub expected_answer_contains: Vec<String>,
    #[serde(default)]
    pub expect_handoff: bool,
}

/// Parses JSON Lines; blank lines are skipped. The error names the 1-based
/// line that failed.
pub fn parse_questions(jsonl: &str) -> Result<Vec<Question>, String> {
    let mut out = Vec::new();
    for (i, line) in jsonl.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let q: Question = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        out.push(q);
    }
    Ok(out)
}

/// Scores over a set of questions.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Scores {
    pub n: usize,
    pub recall_at_1: f64,
    pub recall_at_5: f64,
    pub mrr: f64,
}

/// Scores over all answerable questions, and per question language.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RetrievalReport {
    pub n: usize,
    pub recall_at_1: f64,
    pub recall_at_5: f64,
    pub mrr: f64,
    pub by_lang: BTreeMap<String, Scores>,
}

#[derive(Default)]
struct Sums {
    n: usize,
    at_1: f64,
    at_k: f64,
    rr: f64,
}

impl Sums {
    fn add(&mut self, rank: Option<usize>) {
        self.n += 1;
        if let Some(r) = rank {
            self.at_1 += f64::from(u8::from(r == 1));
            self.at_k += 1.0;
            self.rr += 1.0 / r as f64;
        }
    }

    fn scores(&self) -> Scores {
        if self.n == 0 {
            return Scores::default();
        }
        let n = self.n as f64;
        Scores { n: self.n, recall_at_1: self.at_1 / n, recall_at_5: self.at_k / n, mrr: self.rr / n }
    }
}

/// Scores a ranking: `ranked[i]` lists the source paths of the passages
/// retrieved for `questions[i]`, best first (a source may repeat, one entry
/// per passage). A hit is any expected source. Questions without expected
/// sources are skipped; a missing ranking counts as no hit. `recall_at_5` is
/// recall within the first `k` entries and MRR is the mean of 1/rank of the
/// first hit within `k` (0 when none).
pub fn score_retrieval(questions: &[Question], ranked: &[Vec<String>], k: usize) -> RetrievalReport {
    let mut all = Sums::default();
    let mut by_lang: BTreeMap<String, Sums> = BTreeMap::new();
    for (i, q) in questions.iter().enumerate() {
        if q.expected_sources.is_empty() {
            continue;
        }
        let results = ranked.get(i).map(Vec::as_slice).unwrap_or_default();
        let rank = results.iter().take(k).position(|s| q.expected_sources.iter().any(|e| e == s)).map(|p| p + 1);
        all.add(rank);
        by_lang.entry(q.lang.clone()).or_default().add(rank);
    }
    let s = all.scores();
    RetrievalReport {
        n: s.n,
        recall_at_1: s.recall_at_1,
        recall_at_5: s.recall_at_5,
        mrr: s.mrr,
        by_lang: by_lang.into_iter().map(|(l, s)| (l, s.scores())).collect(),
    }
}

impl RetrievalReport {
    /// A table: one row for all questions, one per language.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{:<6} {:>5} {:>9} {:>9} {:>7}", "lang", "n", "recall@1", "recall@k", "MRR");
        let mut row = |name: &str, s: &Scores| {
            let _ =
                writeln!(out, "{:<6} {:>5} {:>9.3} {:>9.3} {:>7.3}", name, s.n, s.recall_at_1, s.recall_at_5, s.mrr);
        };
        row("all", &Scores { n: self.n, recall_at_1: self.recall_at_1, recall_at_5: self.recall_at_5, mrr: self.mrr });
        for (lang, s) in &self.by_lang {
            row(lang, s);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(id: &str, lang: &str, expected: &[&str]) -> Question {
        Question {
            id: id.into(),
            question: String::new(),
            lang: lang.into(),
            expected_sources: expected.iter().map(|s| s.to_string()).collect(),
            expected_answer_contains: vec![],
            expect_handoff: false,
        }
    }

    fn r(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_jsonl_with_defaults_and_blank_lines() {
        let text = r#"{"id": "q1", "question": "hi?", "lang": "en", "expected_sources": ["a.md"], "expected_answer_contains": ["20 GB"]}

{"id": "q2", "question": "operatore", "lang": "it", "expect_handoff": true}
"#;
        let qs = parse_questions(text).unwrap();
        assert_eq!(qs.len(), 2);
        assert_eq!(qs[0].expected_sources, vec!["a.md"]);
        assert!(qs[1].expect_handoff);
        assert!(qs[1].expected_sources.is_empty());
    }

    #[test]
    fn parse_error_names_the_line() {
        let text = "{\"id\": \"q1\", \"question\": \"x\", \"lang\": \"en\"}\n\n{\"id\": 3}\n";
        let err = parse_questions(text).unwrap_err();
        assert!(err.starts_with("line 3:"), "{err}");
    }

    #[test]
    fn scores_recall_and_mrr_by_language() {
        let questions = vec![
            q("1", "en", &["a"]),
            q("2", "en", &["b", "c"]),
            q("3", "it", &["d"]),
            q("4", "it", &[]), // unanswerable: skipped
            q("5", "it", &["e"]),
        ];
        let ranked = vec![
            r(&["a", "x"]),                     // rank 1
            r(&["x", "x", "c", "b"]),           // rank 3 (duplicates count as positions)
            r(&["x", "y", "z", "w", "v", "d"]), // rank 6: outside k = 5
            r(&["d"]),
            // question 5 has no ranking at all
        ];
        let rep = score_retrieval(&questions, &ranked, 5);
        assert_eq!(rep.n, 4);
        assert!((rep.recall_at_1 - 0.25).abs() < 1e-9);
        assert!((rep.recall_at_5 - 0.5).abs() < 1e-9);
        assert!((rep.mrr - (1.0 + 1.0 / 3.0) / 4.0).abs() < 1e-9);
        let en = &rep.by_lang["en"];
        assert_eq!(en.n, 2);
        assert!((en.recall_at_5 - 1.0).abs() < 1e-9);
        let it = &rep.by_lang["it"];
        assert_eq!((it.n, it.recall_at_5, it.mrr), (2, 0.0, 0.0));

        let json = serde_json::to_value(&rep).unwrap();
        for key in ["n", "recall_at_1", "recall_at_5", "mrr", "by_lang"] {
            assert!(json.get(key).is_some(), "{key}");
        }
        assert!(json["by_lang"]["it"].get("recall_at_5").is_some());
        let text = rep.to_text();
        assert!(text.contains("all") && text.contains("en") && text.contains("it"), "{text}");
    }

    #[test]
    fn empty_input_scores_zero() {
        let rep = score_retrieval(&[], &[], 5);
        assert_eq!(rep, RetrievalReport::default());
        assert!(rep.to_text().contains("all"));
    }
}
