//! Matching a visitor's question against short answers (B4), tolerant of
//! case, accents, punctuation, word order, plurals and typos.

use crate::text::{fuzzy_eq, terms};

/// A short answer as the matcher sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ShortAnswer {
    pub id: i64,
    pub question: String,
    pub answer: String,
}

#[derive(Debug, Clone)]
struct Entry {
    answer: ShortAnswer,
    question_terms: Vec<String>,
    answer_terms: Vec<String>,
}

/// A scored candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub id: i64,
    pub score: f32,
}

/// Short answers prepared for matching.
#[derive(Debug, Clone, Default)]
pub struct ShortAnswerIndex {
    entries: Vec<Entry>,
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// How many of `needles` have a (fuzzy) counterpart in `haystack`.
fn matched(needles: &[String], haystack: &[String]) -> usize {
    needles.iter().filter(|n| haystack.iter().any(|h| fuzzy_eq(n, h))).count()
}

impl ShortAnswerIndex {
    pub fn new(answers: impl IntoIterator<Item = ShortAnswer>) -> Self {
        let entries = answers
            .into_iter()
            .map(|a| Entry {
                question_terms: dedup(terms(&a.question)),
                answer_terms: dedup(terms(&a.answer)),
                answer: a,
            })
            .collect();
        Self { entries }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, id: i64) -> Option<&ShortAnswer> {
        self.entries.iter().find(|e| e.answer.id == id).map(|e| &e.answer)
    }

    /// Candidates best first, scored in [0, 1]. The score is the Dice overlap
    /// of content terms with the short answer's question; a question whose
    /// terms all appear in the answer text scores a little lower, so that
    /// paraphrases the admin did not anticipate still match.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Match> {
        let q = dedup(terms(query));
        if q.is_empty() {
            return Vec::new();
        }
        let mut out: Vec<Match> = self
            .entries
            .iter()
            .filter_map(|e| {
                let mq = matched(&q, &e.question_terms) as f32;
                let dice = if e.question_terms.is_empty() {
                    0.0
                } else {
                    // Count overlap from both sides so that fuzzy matches are symmetric.
                    let ms = matched(&e.question_terms, &q) as f32;
                    (mq + ms) / (q.len() + e.question_terms.len()) as f32
                };
                let in_answer =
                    if q.len() >= 2 { 0.75 * matched(&q, &e.answer_terms) as f32 / q.len() as f32 } else { 0.0 };
                let score = dice.max(in_answer);
                (score > 0.0).then_some(Match { id: e.answer.id, score })
            })
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
        out.truncate(limit);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> ShortAnswerIndex {
        ShortAnswerIndex::new([
            ShortAnswer {
                id: 1,
                question: "How much does the Pro plan cost?".into(),
                answer: "Pro costs 12 euros per user per month.".into(),
            },
            ShortAnswer {
                id: 2,
                question: "How do I reset my password?".into(),
                answer: "Use 'Forgot password' on the sign-in page.".into(),
            },
            ShortAnswer {
                id: 3,
                question: "Dove si trovano le fatture?".into(),
                answer: "In Impostazioni > Fatturazione.".into(),
            },
        ])
    }

    #[test]
    fn tolerates_case_accents_punctuation_order_and_typos() {
        let idx = index();
        for (q, id) in [
            ("how much does the pro plan cost", 1),
            ("PRO PLAN: how much does it COST??", 1),
            ("cost of the pro plan", 1),
            ("how do i reset my pasword", 2),
            ("password reset", 2),
            ("dove si trovano le fàtture", 3),
        ] {
            let best = idx.search(q, 1);
            assert_eq!(best.first().map(|m| m.id), Some(id), "{q}: {best:?}");
            assert!(best[0].score >= 0.5, "{q}: {best:?}");
        }
    }

    #[test]
    fn unrelated_questions_score_low() {
        let idx = index();
        for q in ["Do you ship to Canada?", "what is the weather", "hello"] {
            let best = idx.search(q, 1);
            assert!(best.first().is_none_or(|m| m.score < 0.5), "{q}: {best:?}");
        }
    }
}
