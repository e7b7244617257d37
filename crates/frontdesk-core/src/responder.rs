//! The reply structure every responder returns, the `Responder` trait, and the
//! first responder: answers from short answers, hands off otherwise.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::handoff::asks_for_human;
use crate::lang::detect;
use crate::model::HandoffTrigger;
use crate::persona::Phrase;
use crate::short_answers::{ShortAnswer, ShortAnswerIndex};
use crate::text::words;

/// A source a reply used, as stored with the message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Citation {
    /// `short_answer`, `article`, `file`, `url`…
    pub source_kind: String,
    pub source_id: i64,
    pub title: String,
    /// Shown to the visitor only when the source is public and citable.
    pub url: Option<String>,
}

/// An action (external call) performed while replying.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionTaken {
    pub name: String,
    pub ok: bool,
}

/// One scored candidate considered while replying.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceCandidate {
    pub source_kind: String,
    pub source_id: i64,
    pub title: String,
    pub score: f32,
}

/// A tool the responder called (an LLM's tool call, or an action the
/// built-in responder triggered), as the trace shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolTrace {
    pub name: String,
    /// The arguments as given (JSON text), secrets never included.
    pub arguments: String,
    pub ok: bool,
    /// What came back, shortened.
    pub output: String,
    pub ms: u64,
}

/// Why the responder did what it did (K2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    pub responder: String,
    pub language: String,
    pub candidates: Vec<TraceCandidate>,
    pub threshold: f32,
    pub decision: String,
    /// The checks applied, in order (guardrails, fallbacks, timings).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Tools called while replying.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolTrace>,
    /// Where the time went, when a model drafted the reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm: Option<LlmTimings>,
    /// The evidence weighed to answer from a passage or hand off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<TraceEvidence>,
    /// How long retrieval took (both retrievers and the second stage), in
    /// microseconds, when the reply searched the content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrieval_us: Option<u64>,
}

/// The answer-or-hand-off decision on retrieved passages (K2): every signal,
/// the calibrated probability that the first source is right, and the
/// threshold it had to reach.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TraceEvidence {
    /// The calibration used (which retrievers and models it was fitted for).
    pub model: String,
    /// Signal name → value, in the model's order.
    pub signals: Vec<(String, f32)>,
    pub probability: f32,
    pub threshold: f32,
    pub answered: bool,
}

/// Time spent by the LLM responder, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LlmTimings {
    pub model_calls: u32,
    /// From the start of the run to the first streamed token of the answer.
    pub first_token_us: Option<u64>,
    /// Waiting for the model (every call, request to last byte).
    pub model_us: u64,
    /// Running tools (searches, actions).
    pub tools_us: u64,
    /// The whole run (model calls, tools, Frontdesk's own work).
    pub total_us: u64,
}

/// What the responder decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Answered from content (citations say which).
    Answered,
    /// Greeting, thanks, a request to rephrase: no content needed, no handoff.
    SmallTalk,
    /// Refused on purpose (a topic to avoid, an attempt to change the
    /// agent's rules): no handoff, not a knowledge gap.
    Declined,
    /// The conversation goes to humans.
    Handoff(HandoffTrigger),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub text: String,
    pub citations: Vec<Citation>,
    pub actions: Vec<ActionTaken>,
    pub confidence: f32,
    pub outcome: Outcome,
    pub trace: Trace,
}

/// The agent's voice as a responder needs it: name, personality, the
/// workspace's own phrases and its default language.
pub type Persona = crate::persona::Voice;

/// A visitor's message to answer.
#[derive(Debug, Clone)]
pub struct Question {
    pub text: String,
    pub persona: Persona,
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Anything that can answer a visitor: the built-in responders and, later,
/// an LLM. Implementations never fail: a failure becomes a handoff reply.
pub trait Responder: Send + Sync {
    fn respond<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Reply>;
}

/// Answers from short answers only.
#[derive(Debug, Clone, Default)]
pub struct ShortAnswerResponder {
    index: Arc<ShortAnswerIndex>,
    threshold: f32,
}

impl ShortAnswerResponder {
    pub const DEFAULT_THRESHOLD: f32 = 0.5;

    pub fn new(answers: impl IntoIterator<Item = ShortAnswer>, threshold: f32) -> Self {
        Self { index: Arc::new(ShortAnswerIndex::new(answers)), threshold }
    }

    /// The decision, synchronously: it does no I/O.
    pub fn reply(&self, q: &Question) -> Reply {
        let lang = detect(&q.text, q.persona.default_lang);
        let say = |p: Phrase| q.persona.say(lang, p);
        let mut trace = Trace {
            responder: "short_answers".into(),
            language: lang.code().into(),
            threshold: self.threshold,
            ..Trace::default()
        };
        if asks_for_human(&q.text) {
            trace.decision = "the visitor asked for a human".into();
            return Reply {
                text: say(Phrase::HandoffRequested),
                citations: vec![],
                actions: vec![],
                confidence: 1.0,
                outcome: Outcome::Handoff(HandoffTrigger::VisitorAsked),
                trace,
            };
        }
        let matches = self.index.search(&q.text, 5);
        trace.candidates = matches
            .iter()
            .filter_map(|m| {
                self.index.get(m.id).map(|a| TraceCandidate {
                    source_kind: "short_answer".into(),
                    source_id: a.id,
                    title: a.question.clone(),
                    score: m.score,
                })
            })
            .collect();
        if let Some(best) = matches.first().filter(|m| m.score >= self.threshold) {
            if let Some(a) = self.index.get(best.id) {
                trace.decision = format!(
                    "short answer #{} scored {:.2}, at or above the threshold {:.2}",
                    a.id, best.score, self.threshold
                );
                return Reply {
                    text: q.persona.frame_answer(lang, &a.answer),
                    citations: vec![Citation {
                        source_kind: "short_answer".into(),
                        source_id: a.id,
                        title: a.question.clone(),
                        url: None,
                    }],
                    actions: vec![],
                    confidence: best.score,
                    outcome: Outcome::Answered,
                    trace,
                };
            }
        }
        if let Some(kind) = small_talk(&q.text) {
            trace.decision = format!("small talk ({kind:?}), no content needed");
            let text = match kind {
                SmallTalk::Greeting => say(Phrase::Greeting),
                SmallTalk::Thanks => say(Phrase::Thanks),
            };
            return Reply {
                text,
                citations: vec![],
                actions: vec![],
                confidence: 1.0,
                outcome: Outcome::SmallTalk,
                trace,
            };
        }
        trace.decision = match matches.first() {
            Some(m) => format!("best score {:.2} is below the threshold {:.2}", m.score, self.threshold),
            None => "no short answer shares a term with the question".into(),
        };
        Reply {
            text: say(Phrase::CannotAnswer),
            citations: vec![],
            actions: vec![],
            confidence: matches.first().map_or(0.0, |m| m.score),
            outcome: Outcome::Handoff(HandoffTrigger::CannotAnswer),
            trace,
        }
    }
}

impl Outcome {
    /// The label stored with the reply and counted by the reports.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Answered => "answered",
            Outcome::SmallTalk => "small_talk",
            Outcome::Declined => "declined",
            Outcome::Handoff(_) => "handoff",
        }
    }
}

impl Responder for ShortAnswerResponder {
    fn respond<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Reply> {
        Box::pin(std::future::ready(self.reply(question)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SmallTalk {
    Greeting,
    Thanks,
}

/// A message that is only a greeting or only thanks.
fn small_talk(text: &str) -> Option<SmallTalk> {
    const GREETINGS: &[&str] = &[
        "hi",
        "hello",
        "hey",
        "hiya",
        "morning",
        "good",
        "afternoon",
        "evening",
        "ciao",
        "salve",
        "buongiorno",
        "buonasera",
        "hola",
        "buenas",
        "buenos",
        "dias",
        "tardes",
        "bonjour",
        "bonsoir",
        "salut",
        "coucou",
        "there",
        "all",
        "everyone",
        "hallo",
        "guten",
        "tag",
        "morgen",
        "moin",
        "servus",
        "ola",
        "oi",
        "bom",
        "dia",
        "boa",
        "tarde",
        "noite",
        "hoi",
        "goedemorgen",
        "goedemiddag",
        "goedenavond",
        "dag",
        "hej",
        "hejsan",
        "god",
        "morgon",
        "привет",
        "здравствуйте",
        "добрый",
        "день",
        "こんにちは",
        "こんばんは",
        "おはようございます",
        "你好",
        "您好",
        "안녕하세요",
        "안녕",
    ];
    const THANKS: &[&str] = &[
        "thanks",
        "thank",
        "you",
        "thx",
        "ty",
        "much",
        "so",
        "very",
        "grazie",
        "mille",
        "tante",
        "gracias",
        "muchas",
        "merci",
        "beaucoup",
        "great",
        "perfect",
        "ok",
        "okay",
        "cool",
        "perfetto",
        "perfecto",
        "parfait",
        "a",
        "lot",
        "danke",
        "vielen",
        "dank",
        "schon",
        "super",
        "perfekt",
        "prima",
        "obrigado",
        "obrigada",
        "valeu",
        "muito",
        "perfeito",
        "otimo",
        "bedankt",
        "dankjewel",
        "dankuwel",
        "top",
        "tack",
        "sa",
        "mycket",
        "toppen",
        "спасибо",
        "большое",
        "отлично",
        "ありがとう",
        "ありがとうございます",
        "ありがとうございました",
        "谢谢",
        "谢谢你",
        "谢谢您",
        "多谢",
        "감사합니다",
        "고마워요",
        "고맙습니다",
    ];
    let ws = words(text);
    if ws.is_empty() || ws.len() > 5 {
        return None;
    }
    // Words are folded (Japanese voicing marks and Korean syllables too), so
    // the lists are compared folded.
    let listed = |list: &[&str], w: &str| list.iter().any(|l| *l == w || (!l.is_ascii() && crate::text::fold(l) == w));
    if ws.iter().all(|w| listed(GREETINGS, w)) {
        return Some(SmallTalk::Greeting);
    }
    if ws.iter().all(|w| listed(THANKS, w)) {
        return Some(SmallTalk::Thanks);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::Lang;
    use crate::model::Personality;

    fn responder() -> ShortAnswerResponder {
        ShortAnswerResponder::new(
            [ShortAnswer {
                id: 7,
                question: "What are your opening hours?".into(),
                answer: "We are open 9:00 to 18:00, Monday to Friday.".into(),
            }],
            ShortAnswerResponder::DEFAULT_THRESHOLD,
        )
    }

    fn ask(text: &str, personality: Personality) -> Reply {
        responder().reply(&Question { text: text.into(), persona: Persona::new("Luma", personality, "", Lang::En) })
    }

    #[test]
    fn answers_and_cites_a_matching_short_answer() {
        let r = ask("opening hours?", Personality::Friendly);
        assert_eq!(r.outcome, Outcome::Answered);
        assert!(r.text.contains("9:00 to 18:00"));
        assert_eq!(r.citations[0].source_id, 7);
        assert!(r.trace.decision.contains("#7"));
    }

    #[test]
    fn personality_frames_but_keeps_the_facts() {
        let a = ask("opening hours?", Personality::Friendly);
        let b = ask("opening hours?", Personality::Witty);
        assert_ne!(a.text, b.text);
        assert!(b.text.contains("9:00 to 18:00"));
    }

    #[test]
    fn hands_off_when_it_cannot_answer_in_the_visitors_language() {
        let r = ask("Posso pagare con bonifico bancario?", Personality::Professional);
        assert_eq!(r.outcome, Outcome::Handoff(HandoffTrigger::CannotAnswer));
        assert!(r.text.contains("Non posso rispondere"), "{}", r.text);
        assert!(r.citations.is_empty());
    }

    #[test]
    fn hands_off_at_once_when_asked_for_a_human() {
        let r = ask("what are your opening hours? actually just let me talk to a human", Personality::Casual);
        assert_eq!(r.outcome, Outcome::Handoff(HandoffTrigger::VisitorAsked));
    }

    #[test]
    fn greets_without_handing_off() {
        let r = ask("Hello!", Personality::Friendly);
        assert_eq!(r.outcome, Outcome::SmallTalk);
        assert!(r.text.contains("Luma"));
    }

    #[test]
    fn greetings_and_thanks_in_every_language_are_small_talk_in_that_language() {
        let cases = [
            ("Guten Tag!", "Guten Tag, ich bin Luma."),
            ("Olá, bom dia", "Olá, sou Luma."),
            ("Goedemorgen", "Goedendag, ik ben Luma."),
            ("Hej hej", "Välkommen, jag heter Luma."),
            ("Здравствуйте!", "Здравствуйте, я Luma."),
            ("こんにちは", "お問い合わせありがとうございます。Lumaと申します。"),
            ("你好", "您好，我是Luma。"),
            ("안녕하세요", "안녕하십니까, Luma입니다."),
        ];
        for (text, starts) in cases {
            let r = ask(text, Personality::Professional);
            assert_eq!(r.outcome, Outcome::SmallTalk, "{text}");
            assert!(r.text.starts_with(starts), "{text}: {}", r.text);
        }
        for (text, starts) in [
            ("Danke schön!", "Gern geschehen!"),
            ("Muito obrigado", "De nada!"),
            ("Bedankt!", "Graag gedaan!"),
            ("Tack så mycket", "Varsågod!"),
            ("Спасибо большое", "Пожалуйста!"),
            ("ありがとうございます", "どういたしまして！"),
            ("谢谢", "不客气！"),
            ("감사합니다", "별말씀을요."),
        ] {
            let r = ask(text, Personality::Professional);
            assert_eq!(r.outcome, Outcome::SmallTalk, "{text}");
            assert!(r.text.starts_with(starts), "{text}: {}", r.text);
        }
    }
}
