//! Composing an extractive, cited answer from retrieved passages — pure, so
//! the built-in responder's judgement is tested directly.

use frontdesk_core::text::{fuzzy_eq, terms};

/// A retrieved passage as the composer sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Passage {
    pub chunk_id: i64,
    pub source_id: i64,
    /// The retriever's score (BM25 or fused), higher is better.
    pub score: f32,
    pub title: String,
    pub heading_path: Vec<String>,
    pub text: String,
    pub lang: String,
}

/// How sure the composer must be to answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnswerPolicy {
    /// Share of the question's content terms the best passage must contain (same language).
    pub min_coverage: f32,
    /// Most sentences quoted from the passage.
    pub max_sentences: usize,
    /// Longest answer, in characters.
    pub max_chars: usize,
}

impl Default for AnswerPolicy {
    fn default() -> Self {
        Self { min_coverage: 0.5, max_sentences: 3, max_chars: 600 }
    }
}

/// The composer's decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Composed {
    /// The passage answered from.
    pub passage: Passage,
    /// The quoted sentences, in the passage's order.
    pub text: String,
    /// Share of the question's content terms found in the passage, 0 to 1.
    pub coverage: f32,
}

fn unique_terms(s: &str) -> Vec<String> {
    let mut t = terms(s);
    t.sort();
    t.dedup();
    t
}

fn coverage(question: &[String], passage_terms: &[String]) -> f32 {
    if question.is_empty() {
        return 0.0;
    }
    let hit = question.iter().filter(|q| passage_terms.iter().any(|p| fuzzy_eq(q, p))).count();
    hit as f32 / question.len() as f32
}

/// Splits text into sentences (on . ! ? and line breaks, keeping decimals like 99.9 and "e.g.").
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == '\n' {
            if !cur.trim().is_empty() {
                out.push(cur.trim().to_owned());
            }
            cur.clear();
            continue;
        }
        cur.push(c);
        if matches!(c, '.' | '!' | '?') {
            let next = chars.get(i + 1).copied();
            let prev_is_digit = i > 0 && chars[i - 1].is_ascii_digit();
            let next_is_digit = next.is_some_and(|n| n.is_ascii_digit());
            let ends = next.is_none_or(|n| n.is_whitespace());
            if ends && !(prev_is_digit && next_is_digit) && cur.trim().chars().count() > 3 {
                out.push(cur.trim().to_owned());
                cur.clear();
            }
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_owned());
    }
    out
}

/// Picks the passage that best supports an answer and quotes its most
/// relevant sentences. `None` when no passage is good enough: the caller
/// then says it cannot answer and hands off.
///
/// A passage in the question's language must contain at least
/// `min_coverage` of the question's content terms; a passage in another
/// language is accepted when the retriever ranked it first and its score
/// clearly beats the runner-up (cross-language matches share few terms).
pub fn compose(question: &str, question_lang: &str, passages: &[Passage], policy: &AnswerPolicy) -> Option<Composed> {
    let q = unique_terms(question);
    if q.is_empty() || passages.is_empty() {
        return None;
    }
    let mut best: Option<(f32, &Passage)> = None;
    for p in passages.iter().take(5) {
        let mut context = p.title.clone();
        for h in &p.heading_path {
            context.push(' ');
            context.push_str(h);
        }
        context.push(' ');
        context.push_str(&p.text);
        let cov = coverage(&q, &unique_terms(&context));
        if best.is_none_or(|(b, _)| cov > b + 0.05) {
            best = Some((cov, p));
        }
    }
    let (cov, passage) = best?;
    let same_language = passage.lang == question_lang || passage.lang == "und" || question_lang == "und";
    let accepted = if same_language {
        cov >= policy.min_coverage
    } else {
        let top = &passages[0];
        let runner_up = passages.get(1).map_or(0.0, |p| p.score);
        top.chunk_id == passage.chunk_id && (cov >= policy.min_coverage || top.score >= runner_up * 1.2)
    };
    if !accepted {
        return None;
    }
    let text = quote(&q, &passage.text, policy);
    if text.is_empty() {
        return None;
    }
    Some(Composed { passage: passage.clone(), text, coverage: cov })
}

/// The passage's sentences that share the most terms with the question, in
/// their original order, within the policy's limits.
fn quote(q: &[String], text: &str, policy: &AnswerPolicy) -> String {
    let ss = sentences(text);
    let mut scored: Vec<(usize, f32)> = ss
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let t = unique_terms(s);
            let overlap = q.iter().filter(|w| t.iter().any(|x| fuzzy_eq(w, x))).count() as f32;
            // Sentences with figures tend to carry the answer; early sentences frame it.
            let has_figure = s.chars().any(|c| c.is_ascii_digit()) as u8 as f32 * 0.3;
            (i, overlap + has_figure - i as f32 * 0.01)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut chosen: Vec<usize> = Vec::new();
    let mut len = 0;
    for (i, score) in scored {
        if chosen.len() >= policy.max_sentences || (score <= 0.0 && !chosen.is_empty()) {
            break;
        }
        let n = ss[i].chars().count();
        if len + n > policy.max_chars && !chosen.is_empty() {
            continue;
        }
        chosen.push(i);
        len += n;
        // A following sentence often finishes the thought (a list, a figure).
        if chosen.len() < policy.max_sentences && i + 1 < ss.len() && !chosen.contains(&(i + 1)) {
            let m = ss[i + 1].chars().count();
            if len + m <= policy.max_chars && score > 0.0 {
                chosen.push(i + 1);
                len += m;
            }
        }
    }
    chosen.sort_unstable();
    chosen.dedup();
    let mut out: String = chosen.iter().map(|&i| ss[i].as_str()).collect::<Vec<_>>().join(" ");
    if out.chars().count() > policy.max_chars {
        out = out.chars().take(policy.max_chars).collect::<String>();
        if let Some(cut) = out.rfind(' ') {
            out.truncate(cut);
        }
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(id: i64, score: f32, title: &str, text: &str, lang: &str) -> Passage {
        Passage {
            chunk_id: id,
            source_id: id,
            score,
            title: title.into(),
            heading_path: vec![],
            text: text.into(),
            lang: lang.into(),
        }
    }

    #[test]
    fn sentences_keep_decimals_together() {
        let s = sentences("Uptime is 99.9% per month. Credits apply!\nSee the table");
        assert_eq!(s, vec!["Uptime is 99.9% per month.", "Credits apply!", "See the table"]);
    }

    #[test]
    fn quotes_the_sentences_that_answer() {
        let p = passage(
            1,
            10.0,
            "Version history",
            "Nimbus keeps old versions of your files. On Starter, versions are kept for 60 days. On Business, for 180 days. \
             To restore one, open the file and choose Version history. Our offices are in Lyon.",
            "en",
        );
        let c = compose("How long are versions kept on Starter?", "en", &[p], &AnswerPolicy::default()).unwrap();
        assert!(c.text.contains("60 days"), "{}", c.text);
        assert!(!c.text.contains("Lyon"), "{}", c.text);
        assert!(c.coverage >= 0.5);
    }

    #[test]
    fn refuses_when_the_passage_does_not_support_the_question() {
        let p = passage(1, 3.0, "Share links", "Share links can expire after 7, 30 or 90 days.", "en");
        assert!(
            compose("Is the service HIPAA compliant for hospitals?", "en", &[p], &AnswerPolicy::default()).is_none()
        );
        assert!(compose("", "en", &[], &AnswerPolicy::default()).is_none());
    }

    #[test]
    fn accepts_a_clear_cross_language_winner() {
        let top = passage(1, 9.0, "Cestino", "I file eliminati restano nel Cestino per 30 giorni.", "it");
        let other = passage(2, 4.0, "Fatture", "Le fatture sono disponibili in Impostazioni.", "it");
        let c = compose(
            "How long do deleted files stay in the trash?",
            "en",
            &[top.clone(), other.clone()],
            &AnswerPolicy::default(),
        );
        assert_eq!(c.map(|c| c.passage.chunk_id), Some(1));
        // …but not when the runner-up is as good.
        let close = passage(2, 8.5, "Fatture", "Le fatture sono disponibili in Impostazioni.", "it");
        assert!(compose("How long do deleted files stay in the trash?", "en", &[top, close], &AnswerPolicy::default())
            .is_none());
    }
}
