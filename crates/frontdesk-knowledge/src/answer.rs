//! The words of an extractive answer, pure: how well a passage's words
//! support a question ([`support`], a signal of the calibrated decision in
//! `crate::rank`) and which of its sentences to quote ([`quote_passage`]).

use frontdesk_core::text::{fuzzy_eq, is_stopword, stem, terms, words};

/// A retrieved passage.
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

/// How much of a passage is quoted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnswerPolicy {
    /// Most sentences quoted from the passage.
    pub max_sentences: usize,
    /// Longest answer, in characters.
    pub max_chars: usize,
}

impl Default for AnswerPolicy {
    fn default() -> Self {
        Self { max_sentences: 3, max_chars: 600 }
    }
}

fn unique_terms(s: &str) -> Vec<String> {
    let mut t = terms(s);
    t.sort();
    t.dedup();
    t
}

/// Weight of a name, acronym or code the visitor wrote, against 1 for other terms.
const SPECIFIC_WEIGHT: f32 = 2.0;
/// A content term of the question and how much it counts.
#[derive(Debug, Clone)]
struct QTerm {
    term: String,
    /// A name, acronym or code the visitor wrote ("Dropbox", "SDI", "TV"):
    /// a passage that lacks it is about something else.
    specific: bool,
    weight: f32,
}

/// The question's content terms, each marked specific when the visitor wrote
/// it capitalised inside a sentence or as an acronym. German capitalises
/// every noun, so there only acronyms count.
fn question_terms(question: &str, lang: &str) -> Vec<QTerm> {
    let nouns_capitalised = lang == "de";
    let mut out: Vec<QTerm> = Vec::new();
    let mut sentence_start = true;
    let mut word = String::new();
    let mut flush = |word: &mut String, sentence_start: &mut bool| {
        if word.is_empty() {
            return;
        }
        let upper = word.chars().filter(|c| c.is_uppercase()).count();
        let letters = word.chars().filter(|c| c.is_alphabetic()).count();
        let first_upper = word.chars().next().is_some_and(char::is_uppercase);
        let specific = letters >= 2 && ((first_upper && !*sentence_start && !nouns_capitalised) || upper >= 2);
        *sentence_start = false;
        for w in words(word) {
            if is_stopword(&w) {
                continue;
            }
            let term = stem(&w);
            match out.iter_mut().find(|q| q.term == term) {
                Some(q) => q.specific |= specific,
                None => out.push(QTerm { term, specific, weight: 1.0 }),
            }
        }
        word.clear();
    };
    for c in question.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut sentence_start);
            if matches!(c, '.' | '!' | '?' | '\n' | '¿' | '¡' | ':') {
                sentence_start = true;
            }
        }
    }
    flush(&mut word, &mut sentence_start);
    for q in &mut out {
        if q.specific {
            q.weight = SPECIFIC_WEIGHT;
        }
    }
    out
}

/// Words that ask for a quantity, a duration or a limit (en, it, es, fr):
/// the answer is then most likely a sentence with a figure.
const QUANTITY_WORDS: &[&str] = &[
    "many", "much", "long", "often", "quanto", "quanti", "quante", "quanta", "cuanto", "cuantos", "cuanta", "cuantas",
    "combien", "maximum", "minimum", "max", "min", "massimo", "minimo", "maximo",
];

fn asks_for_figure(question: &str) -> bool {
    words(question).iter().any(|w| QUANTITY_WORDS.contains(&w.as_str()))
}

/// A passage's content terms (title, headings and text), for lookups.
struct Bag {
    exact: std::collections::HashSet<String>,
    all: Vec<String>,
}

impl Bag {
    fn new(p: &Passage) -> Bag {
        let mut context = p.title.clone();
        for h in &p.heading_path {
            context.push(' ');
            context.push_str(h);
        }
        context.push(' ');
        context.push_str(&p.text);
        let all = unique_terms(&context);
        Bag { exact: all.iter().cloned().collect(), all }
    }

    fn has(&self, t: &str) -> bool {
        self.exact.contains(t) || self.all.iter().any(|p| fuzzy_eq(t, p))
    }
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

/// How well a passage supports a question, by its words: the weighted share
/// of the question's content terms it contains (title and headings
/// included), and how many names or acronyms the visitor wrote it lacks.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Support {
    pub coverage: f32,
    pub missing_specific: usize,
}

/// The [`Support`] of `passage` for `question` (in `question_lang`).
pub fn support(question: &str, question_lang: &str, passage: &Passage) -> Support {
    let qt = question_terms(question, question_lang);
    let total: f32 = qt.iter().map(|t| t.weight).sum();
    if qt.is_empty() || total <= 0.0 {
        return Support::default();
    }
    let bag = Bag::new(passage);
    let (mut hit, mut missing_specific) = (0.0, 0);
    for t in &qt {
        if bag.has(&t.term) {
            hit += t.weight;
        } else if t.specific {
            missing_specific += 1;
        }
    }
    Support { coverage: hit / total, missing_specific }
}

/// The sentences of `passage` that answer `question` best (those sharing
/// the most of its terms, a figure when a quantity is asked), without judging whether the passage is the right
/// one: the caller decided that.
pub fn quote_passage(question: &str, question_lang: &str, passage: &Passage, policy: &AnswerPolicy) -> String {
    let qt = question_terms(question, question_lang);
    quote(&qt, asks_for_figure(question), &passage.text, policy)
}

/// The passage's sentences that share the most terms with the question, in
/// their original order, within the policy's limits.
fn quote(q: &[QTerm], wants_figure: bool, text: &str, policy: &AnswerPolicy) -> String {
    let ss = sentences(text);
    // Sentences with figures tend to carry the answer, all the more when a quantity is asked.
    let figure_bonus = if wants_figure { 1.0 } else { 0.3 };
    let mut scored: Vec<(usize, f32)> = ss
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let t = unique_terms(s);
            let overlap: f32 = q.iter().filter(|w| t.iter().any(|x| fuzzy_eq(&w.term, x))).map(|w| w.weight).sum();
            // Early sentences frame the answer.
            let has_figure = s.chars().any(|c| c.is_ascii_digit()) as u8 as f32 * figure_bonus;
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
        let q = "How long are versions kept on Starter?";
        let text = quote_passage(q, "en", &p, &AnswerPolicy::default());
        assert!(text.contains("60 days"), "{text}");
        assert!(!text.contains("Lyon"), "{text}");
        assert!(support(q, "en", &p).coverage >= 0.5);
    }

    #[test]
    fn a_passage_that_does_not_support_the_question_covers_little() {
        let p = passage(1, 3.0, "Share links", "Share links can expire after 7, 30 or 90 days.", "en");
        let s = support("Is the service HIPAA compliant for hospitals?", "en", &p);
        assert!(s.coverage < 0.5, "{s:?}");
        assert_eq!(s.missing_specific, 1);
        assert_eq!(support("", "en", &p), Support::default());
    }

    #[test]
    fn names_and_acronyms_inside_a_sentence_are_specific() {
        let t = question_terms("Is Nimbus HIPAA compliant? We moved from Dropbox, the files are big.", "en");
        let specific: Vec<&str> = t.iter().filter(|t| t.specific).map(|t| t.term.as_str()).collect();
        assert_eq!(specific, vec!["nimbu", "hipa", "dropbox"]);
        assert!(t.iter().any(|t| t.term == "moved" && !t.specific));
        assert!(t.iter().filter(|t| t.specific).all(|t| t.weight == SPECIFIC_WEIGHT));
        assert!(question_terms("Ok. Files are big", "en").iter().all(|t| !t.specific));
        let de = question_terms("Wie lange bleiben gelöschte Dateien im Papierkorb bei SAML?", "de");
        let specific: Vec<&str> = de.iter().filter(|t| t.specific).map(|t| t.term.as_str()).collect();
        assert_eq!(specific, vec!["saml"]);
    }

    #[test]
    fn a_name_the_visitor_wrote_and_the_passage_lacks_is_counted() {
        let p = passage(
            1,
            20.0,
            "Move your files to Nimbus",
            "You can move all your files to Nimbus with the desktop app: drag them into the Nimbus folder.",
            "en",
        );
        assert_eq!(support("Can I move all my files from Dropbox to Nimbus?", "en", &p).missing_specific, 1);
        // Without the name the same passage supports the question fully.
        let s = support("Can I move all my files to Nimbus?", "en", &p);
        assert_eq!(s.missing_specific, 0);
        assert!(s.coverage >= 0.5, "{s:?}");
    }

    #[test]
    fn a_question_about_a_quantity_quotes_the_sentence_with_the_figure() {
        let p = passage(
            1,
            10.0,
            "Invite members",
            "Admins invite members from the Members page. Invitations are sent by email. \
             Each invitation is valid for 7 days. Members can be removed at any time.",
            "en",
        );
        let policy = AnswerPolicy { max_sentences: 1, ..AnswerPolicy::default() };
        let text = quote_passage("How long is an invitation for members valid?", "en", &p, &policy);
        assert!(text.contains("7 days"), "{text}");
        assert!(asks_for_figure("Quanti file posso ripristinare?"));
        assert!(!asks_for_figure("Where is the Trash?"));
    }
}
