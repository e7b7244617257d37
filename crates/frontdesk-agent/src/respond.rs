//! The agent's judgement around a reply: guardrails first (nothing to
//! answer, a request for a human, the admin's handoff phrases, topics to
//! avoid, instruction-like text), then the responder drafts (short answers,
//! actions, retrieved passages — or the LLM), then the draft is checked
//! again. Reads the store and the index, writes nothing: the engine stores
//! the reply, the preview and the agent tests only show it.

use std::collections::HashMap;

use frontdesk_core::guard::{self, Noise, Topic};
use frontdesk_core::lang::{detect, Lang};
use frontdesk_core::model::{Author, HandoffTrigger};
use frontdesk_core::persona::Phrase;
use frontdesk_core::responder::{Citation, Outcome, Persona, Question, Reply, Trace, TraceCandidate, TraceEvidence};
use frontdesk_knowledge::answer::{AnswerPolicy, Passage};
use frontdesk_knowledge::rank::{Calibration, Evidence, Signals};
use frontdesk_store::StoredChunk;
use serde_json::{json, Value};

use crate::snapshot::{persona, AgentSnapshot};
use crate::Context;

/// A visitor's message with what the responder may know around it.
#[derive(Debug, Clone, Default)]
pub struct Ask {
    pub text: String,
    /// Earlier messages of the conversation, oldest first.
    pub history: Vec<(Author, String)>,
    /// The contact behind the conversation, for CRM properties.
    pub contact_id: Option<i64>,
    /// The conversation, when there is one (the preview has none).
    pub conversation_id: Option<i64>,
}

impl Ask {
    pub fn new(text: impl Into<String>) -> Ask {
        Ask { text: text.into(), ..Ask::default() }
    }
}

/// A passage retrieved for a question, with what a citation needs.
#[derive(Debug, Clone)]
pub struct Retrieved {
    pub passage: Passage,
    /// The crawled page the passage came from, if any.
    pub page_url: Option<String>,
}

fn reply(text: String, outcome: Outcome, confidence: f32, trace: Trace) -> Reply {
    Reply { text, citations: vec![], actions: vec![], confidence, outcome, trace }
}

/// The agent's reply to `ask`, decided with the configuration in `agent`.
pub async fn respond(cx: &Context, agent: &AgentSnapshot, ask: &Ask) -> Reply {
    let voice = persona(&agent.profile);
    // A message with no telling words ("A-12345", "ok") keeps the conversation's language.
    let conversation_lang = ask
        .history
        .iter()
        .rev()
        .find(|(a, _)| *a == Author::Visitor)
        .map_or(voice.default_lang, |(_, t)| detect(t, voice.default_lang));
    let lang = detect(&ask.text, conversation_lang);
    let mut trace = Trace {
        responder: "built_in".into(),
        language: lang.code().into(),
        threshold: cx.settings.answer_threshold,
        ..Trace::default()
    };
    if let Some(id) = ask.conversation_id {
        remember_contact_details(cx, agent, id, &ask.text, &mut trace).await;
    }
    // Lead qualification (F3, leads.rs): a bare answer to the question asked
    // last is stored and acknowledged; other replies get the next question.
    let lead = crate::leads::start(cx, agent, ask, &mut trace).await;
    if let Some(l) = lead.clone().filter(|l| l.answered.is_some()) {
        let mut r = crate::leads::noted(lang, &mut trace);
        crate::leads::finish(cx, l, lang, &mut r).await;
        return r;
    }
    if let Some(r) = guard_question(cx, agent, &voice, lang, &ask.text, &mut trace) {
        return r;
    }
    let injection = guard::injection(&ask.text);
    if let Some(what) = &injection {
        trace.notes.push(format!("{INSTRUCTION_NOTE} ({what}): treated as data, not followed"));
    }
    let mut draft = match &cx.llm {
        Some(client) => match crate::llm::reply(cx, client, agent, &voice, lang, ask, trace.clone()).await {
            Ok(r) => r,
            Err(failure) => {
                // The model failed, or its answer was withheld as ungrounded (llm.rs).
                let mut trace = failure.trace;
                let why = if failure.withheld { "the model's answer was not grounded" } else { "the LLM failed" };
                trace.notes.push(format!("{why}: {}", failure.error));
                match client.config().on_failure {
                    frontdesk_llm::FailurePolicy::Fallback => {
                        trace.notes.push("answered by the built-in responder instead (setting llm_on_failure)".into());
                        built_in(cx, agent, &voice, lang, ask, trace).await
                    }
                    frontdesk_llm::FailurePolicy::Handoff => {
                        trace.decision = format!("handed off because {why} (setting llm_on_failure)");
                        let outcome = Outcome::Handoff(HandoffTrigger::CannotAnswer);
                        reply(voice.say(lang, Phrase::CannotAnswer), outcome, 0.0, trace)
                    }
                }
            }
        },
        None => built_in(cx, agent, &voice, lang, ask, trace).await,
    };
    check_draft(agent, &voice, lang, &mut draft);
    // Recognised by the phrase rules (above) or by meaning (the question's
    // vector, when retrieval embedded it: see `retrieve_ranked`).
    let injection = injection.is_some() || draft.trace.notes.iter().any(|n| n.starts_with(INSTRUCTION_NOTE));
    if injection && draft.outcome == Outcome::Handoff(HandoffTrigger::CannotAnswer) {
        draft.trace.decision =
            "declined: the message tries to instruct the agent and the content answers nothing in it".into();
        draft.text = voice.say(lang, Phrase::Decline);
        draft.outcome = Outcome::Declined;
    }
    if let Some(l) = lead {
        crate::leads::finish(cx, l, lang, &mut draft).await;
    }
    draft
}

/// The checks made before drafting; `Some` when one of them decides.
fn guard_question(
    cx: &Context,
    agent: &AgentSnapshot,
    voice: &Persona,
    lang: Lang,
    text: &str,
    trace: &mut Trace,
) -> Option<Reply> {
    let take = std::mem::take;
    if let Some(noise) = guard::noise(text) {
        trace.decision = match noise {
            Noise::NoWords => "the message has no words to answer: asked to rephrase".into(),
            Noise::Gibberish => "the message forms no recognisable words: asked to rephrase".into(),
        };
        return Some(reply(voice.say(lang, Phrase::Clarify), Outcome::SmallTalk, 1.0, take(trace)));
    }
    if frontdesk_core::handoff::asks_for_human(text) {
        trace.decision = "the visitor asked for a human".into();
        let outcome = Outcome::Handoff(HandoffTrigger::VisitorAsked);
        return Some(reply(voice.say(lang, Phrase::HandoffRequested), outcome, 1.0, take(trace)));
    }
    if let Some(p) = guard::custom_trigger(text, &agent.profile.handoff_phrases) {
        trace.decision = format!("the message contains the handoff phrase {p:?}");
        let outcome = Outcome::Handoff(HandoffTrigger::CustomTrigger);
        return Some(reply(voice.say(lang, Phrase::HandoffRequested), outcome, 1.0, take(trace)));
    }
    let topic = guard::avoided_topic(text, &agent.profile.topics_to_avoid)
        .map(|(topic, phrase)| (topic.clone(), format!("the question mentions {phrase:?}")))
        .or_else(|| similar_topic(cx, agent, text, trace));
    topic.map(|(topic, why)| avoid(voice, lang, &topic, &why, take(trace)))
}

/// A topic to avoid whose meaning is close to the question (embeddings), when
/// the model is loaded and the question is in a language it knows.
fn similar_topic(cx: &Context, agent: &AgentSnapshot, text: &str, trace: &mut Trace) -> Option<(Topic, String)> {
    // MiniLM gives short texts low cosines: on a probe of questions against
    // "topic. keyword, …" texts, on-topic questions without a keyword scored
    // 0.34–0.41 and unrelated support questions at most 0.16.
    const MIN_SIMILARITY: f32 = 0.3;
    if agent.topic_vectors.is_empty() || frontdesk_knowledge::lang::detect_query(text, "en") != "en" {
        return None;
    }
    let embedder = cx.knowledge.embedder()?;
    if embedder.name() != frontdesk_embed::MINILM_NAME {
        // The threshold is MiniLM's; another model's cosines are on another
        // scale (e5 puts unrelated questions near 0.8). Keywords only.
        trace.notes.push(format!(
            "topics to avoid matched by keywords only: no similarity threshold is calibrated for {}",
            embedder.name()
        ));
        return None;
    }
    let q = embedder.embed(&[text.to_owned()]).ok()?.pop()?;
    let (i, sim) = agent
        .topic_vectors
        .iter()
        .enumerate()
        .map(|(i, v)| (i, v.iter().zip(&q).map(|(a, b)| a * b).sum::<f32>()))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    if sim < MIN_SIMILARITY {
        trace.notes.push(format!(
            "closest topic to avoid {:?}: similarity {sim:.2}, below {MIN_SIMILARITY}",
            agent.profile.topics_to_avoid[i].name
        ));
        return None;
    }
    Some((agent.profile.topics_to_avoid[i].clone(), format!("the question is close in meaning (similarity {sim:.2})")))
}

/// The reply for a topic to avoid: hand off or decline, as the topic says.
fn avoid(voice: &Persona, lang: Lang, topic: &Topic, why: &str, mut trace: Trace) -> Reply {
    trace.decision = format!(
        "topic to avoid {:?}: {why}; {}",
        topic.name,
        if topic.handoff { "handed off as configured" } else { "declined as configured" }
    );
    if !topic.instruction.is_empty() {
        trace.notes.push(format!("handling instruction: {}", topic.instruction));
    }
    if topic.handoff {
        reply(voice.say(lang, Phrase::HandoffRequested), Outcome::Handoff(HandoffTrigger::AvoidedTopic), 1.0, trace)
    } else {
        reply(voice.say(lang, Phrase::Decline), Outcome::Declined, 1.0, trace)
    }
}

/// Checks a drafted answer again: it must not touch a topic to avoid,
/// whatever the content or the visitor said.
pub fn check_draft(agent: &AgentSnapshot, voice: &Persona, lang: Lang, draft: &mut Reply) {
    if draft.outcome != Outcome::Answered {
        return;
    }
    if let Some((topic, phrase)) = guard::avoided_topic(&draft.text, &agent.profile.topics_to_avoid) {
        let topic = topic.clone();
        let mut trace = std::mem::take(&mut draft.trace);
        trace.notes.push(format!("the drafted answer was withheld: it mentions {phrase:?}"));
        *draft = avoid(voice, lang, &topic, &format!("the drafted answer mentions {phrase:?}"), trace);
    }
}

/// CRM (F1): stores what the visitor said about themselves in the writable
/// contact properties (validated; one `contact_updated` event each).
async fn remember_contact_details(
    cx: &Context,
    agent: &AgentSnapshot,
    conversation_id: i64,
    text: &str,
    trace: &mut Trace,
) {
    if !agent.tools.crm_fields.iter().any(|f| f.agent_write) {
        return;
    }
    match crate::actions::apply_visitor_updates(cx, &agent.tools, conversation_id, text).await {
        Ok(changes) if !changes.is_empty() => {
            let keys: Vec<&str> = changes.iter().map(|c| c.key.as_str()).collect();
            trace.notes.push(format!("contact properties updated from the message: {}", keys.join(", ")));
        }
        Ok(_) => {}
        Err(e) => trace.notes.push(format!("could not update the contact: {e}")),
    }
}

/// CRM (F1): answers a question about the visitor's own readable
/// properties ("which plan am I on?").
async fn answer_from_contact(
    cx: &Context,
    agent: &AgentSnapshot,
    voice: &Persona,
    lang: Lang,
    ask: &Ask,
    trace: &mut Trace,
) -> Option<Reply> {
    let id = ask.conversation_id?;
    if !agent.tools.crm_fields.iter().any(|f| f.agent_read) {
        return None;
    }
    let view = crate::actions::readable_contact(cx, &agent.tools, id).await.ok()?;
    let m = frontdesk_core::crm::match_property(&ask.text, &view)?;
    trace.decision =
        format!("answered from the contact's readable property {:?} (score {:.2})", m.property.key, m.score);
    let text = voice.frame_answer(lang, &frontdesk_core::crm::property_reply(lang, &m.property));
    Some(reply(text, Outcome::Answered, m.score, std::mem::take(trace)))
}

/// Actions (F2): the action whose example phrases the question matches,
/// called with the parameters found in the question and the contact.
async fn answer_with_action(
    cx: &Context,
    agent: &AgentSnapshot,
    voice: &Persona,
    lang: Lang,
    ask: &Ask,
    trace: &mut Trace,
) -> Option<Reply> {
    use crate::actions::ActionReply;
    if agent.tools.actions.is_empty() {
        return None;
    }
    let conversation = ask.conversation_id.unwrap_or(0);
    let found = match crate::actions::builtin_action(cx, &agent.tools, conversation, &ask.text, lang).await {
        Ok(Some(f)) => f,
        Ok(None) => {
            // The answer to "I need your order number": the previous question with this message.
            let previous = ask.history.iter().rev().find(|(a, _)| *a == Author::Visitor)?;
            let both = format!("{} {}", previous.1, ask.text);
            match crate::actions::builtin_action(cx, &agent.tools, conversation, &both, lang).await {
                Ok(Some(f @ ActionReply::Ran { .. })) => {
                    trace.notes.push(
                        "the action's parameters came with this message, its request with the previous one".into(),
                    );
                    f
                }
                _ => return None,
            }
        }
        Err(e) => {
            trace.notes.push(format!("actions could not be checked: {e}"));
            return None;
        }
    };
    let mut t = std::mem::take(trace);
    t.notes.push(format!("action: {}", found.trace()));
    Some(match found {
        ActionReply::Ran { matched, result } => {
            t.tools.push(frontdesk_core::responder::ToolTrace {
                name: result.action.clone(),
                arguments: result.request.clone().unwrap_or_default(),
                ok: result.ok,
                output: result.detail.clone(),
                ms: result.ms,
            });
            let mut r = if result.ok {
                t.decision = format!("the question matches action {:?} ({:?}); it ran", matched.name, matched.phrase);
                reply(voice.frame_answer(lang, &result.reply_text), Outcome::Answered, matched.score, t)
            } else if result.failure.is_some_and(frontdesk_core::actions::failure_needs_human) {
                t.decision = format!("action {:?} failed ({}): handed off", matched.name, result.detail);
                reply(result.reply_text.clone(), Outcome::Handoff(HandoffTrigger::ActionFailed), 0.0, t)
            } else {
                t.decision = format!("action {:?} found nothing ({})", matched.name, result.detail);
                reply(result.reply_text.clone(), Outcome::Answered, matched.score, t)
            };
            r.actions.push(result.taken());
            r
        }
        ActionReply::NeedsParams { matched, text, .. } => {
            t.decision = format!("the question matches action {:?}; asked the visitor for what it needs", matched.name);
            reply(text, Outcome::SmallTalk, matched.score, t)
        }
    })
}

/// The built-in responder: the contact's own data, actions, short answers
/// and small talk, then the content sources' passages; "I can't answer"
/// otherwise.
async fn built_in(
    cx: &Context,
    agent: &AgentSnapshot,
    voice: &Persona,
    lang: Lang,
    ask: &Ask,
    mut trace: Trace,
) -> Reply {
    if let Some(r) = answer_from_contact(cx, agent, voice, lang, ask, &mut trace).await {
        return r;
    }
    if let Some(r) = answer_with_action(cx, agent, voice, lang, ask, &mut trace).await {
        return r;
    }
    let question = Question { text: ask.text.clone(), persona: voice.clone() };
    let mut r = agent.responder.reply(&question);
    let mut notes = trace.notes;
    notes.append(&mut r.trace.notes);
    r.trace.notes = notes;
    r.trace.responder = "built_in".into();
    if is_edge_short_answer(&r) {
        // A short answer only just above the threshold must not beat a
        // passage that matches far better (a question about renting an
        // e-bike answered with the plan prices).
        let mut probe = r.clone();
        probe.outcome = Outcome::Handoff(HandoffTrigger::CannotAnswer);
        let passage = answer_from_sources(cx, agent, voice, lang, &ask.text, probe).await;
        if passage.outcome == Outcome::Answered {
            let mut passage = passage;
            passage.trace.notes.push(format!(
                "a short answer scored {:.2}, just above its threshold {:.2}; the passage clears its calibrated threshold (probability {:.2}): the passage answers",
                r.confidence, r.trace.threshold, passage.confidence
            ));
            return passage;
        }
        r.trace.notes.push(format!(
            "the short answer is near its threshold, but no passage clears its own ({})",
            passage.trace.decision
        ));
        return r;
    }
    if r.outcome != Outcome::Handoff(HandoffTrigger::CannotAnswer) {
        return r;
    }
    answer_from_sources(cx, agent, voice, lang, &ask.text, r).await
}

/// A short answer matched at or above its threshold scores at least this
/// to be taken without looking at the passages.
const CLEAR_SHORT_ANSWER: f32 = 0.75;

fn is_edge_short_answer(r: &Reply) -> bool {
    r.outcome == Outcome::Answered
        && r.citations.first().is_some_and(|c| c.source_kind == "short_answer")
        && r.confidence < CLEAR_SHORT_ANSWER
}

/// Retrieves the passages for `query`, best first, with their pages.
pub async fn retrieve(cx: &Context, query: &str, lang: &str, k: usize) -> anyhow::Result<Vec<Retrieved>> {
    Ok(retrieve_ranked(cx, query, lang, k).await?.0)
}

/// How many candidates get their text read and are ranked again with it.
pub const SECOND_STAGE: usize = 20;

/// [`retrieve`], with what every retriever said of each passage and the
/// search's notes (a retriever that could not run). Two stages: the
/// retrievers' candidates are fused by their scores; the first
/// [`SECOND_STAGE`] are read from the store and ranked again by the same
/// learned model with their words' support of the question added.
pub async fn retrieve_ranked(
    cx: &Context,
    query: &str,
    lang: &str,
    k: usize,
) -> anyhow::Result<(Vec<Retrieved>, Vec<Signals>, Vec<String>)> {
    let mut found = cx.knowledge.signals(query, lang, k.max(SECOND_STAGE), crate::knowledge::Retriever::Fused).await?;
    if let Some(note) = addressed_question(cx, found.question_vector.as_deref()) {
        found.notes.push(note);
    }
    let mut ranked = found.ranked;
    ranked.truncate(k.max(SECOND_STAGE));
    if ranked.is_empty() {
        return Ok((vec![], vec![], found.notes));
    }
    let chunks = read_with_support(cx, query, lang, &mut ranked).await?;
    frontdesk_knowledge::rank::fuse(&mut ranked, &cx.knowledge.fusion(found.vectors));
    if let Some(at) = cx.knowledge.twin_threshold(found.vectors) {
        frontdesk_knowledge::rank::mark_twins(&mut ranked, at, |a, b| cx.knowledge.pair_similarity(a, b));
    }
    ranked.truncate(k);
    let retrieved = ranked
        .iter()
        .map(|h| {
            let c = &chunks[&h.chunk_id];
            Retrieved { passage: passage_of(c, h.fused), page_url: c.url.clone() }
        })
        .collect();
    Ok((retrieved, ranked, found.notes))
}

/// Reads the candidates' chunks (dropping any removed meanwhile) and sets
/// each candidate's support of the question: the second stage's input.
pub async fn read_with_support(
    cx: &Context,
    query: &str,
    lang: &str,
    ranked: &mut Vec<Signals>,
) -> anyhow::Result<HashMap<i64, StoredChunk>> {
    let ids: Vec<i64> = ranked.iter().map(|h| h.chunk_id).collect();
    let chunks: HashMap<i64, StoredChunk> =
        cx.store.chunks_by_ids(&ids).await?.into_iter().map(|c| (c.id, c)).collect();
    ranked.retain(|s| chunks.contains_key(&s.chunk_id));
    for s in ranked.iter_mut() {
        let c = &chunks[&s.chunk_id];
        s.support = Some(support_of(query, lang, &passage_of(c, 0.0)));
    }
    Ok(chunks)
}

/// The passage of a chunk, without its sentences addressed to the assistant:
/// what every responder quotes, ranks and puts in a model's prompt.
fn passage_of(c: &StoredChunk, score: f32) -> Passage {
    let p = Passage {
        chunk_id: c.id,
        source_id: c.source_id,
        score,
        title: c.title.clone(),
        heading_path: c.heading_path.clone(),
        text: c.text.clone(),
        lang: c.lang.clone(),
    };
    without_instructions(p, &c.addressed)
}

/// How a trace note about instruction-like text begins (the phrase rules'
/// and the classifier's alike).
pub const INSTRUCTION_NOTE: &str = "instruction-like text";

/// The passage without its sentences that try to instruct the agent:
/// `addressed`, recognised by meaning when the chunk was embedded (stored
/// with it), and those the phrase rules flag (the fallback without an e5
/// model). Instructions hidden in content are data, never quoted, never put
/// in a prompt, and never count as support for a question that repeats them.
pub fn without_instructions(mut p: Passage, addressed: &[String]) -> Passage {
    if addressed.is_empty() && guard::injection(&p.text).is_none() {
        return p;
    }
    let all = frontdesk_knowledge::answer::sentences(&p.text);
    let n = all.len();
    let kept: Vec<String> =
        all.into_iter().filter(|s| guard::injection(s).is_none() && !addressed.iter().any(|a| a == s)).collect();
    if kept.len() < n {
        p.text = kept.join(" ");
    }
    p
}

/// A trace note when the question's vector (computed for retrieval, so this
/// costs nothing) is recognised as text addressed to the assistant.
fn addressed_question(cx: &Context, question_vector: Option<&[f32]>) -> Option<String> {
    let v = question_vector?;
    let model = frontdesk_knowledge::addressed::addressed_model_for(cx.knowledge.embedder().map(|e| e.name()))?;
    let p = model.addressed(v)?;
    Some(format!(
        "{INSTRUCTION_NOTE} (addressed to the assistant by meaning: {} classifier p={p:.2} ≥ {:.2}): treated as data, not followed",
        model.embedder, model.threshold
    ))
}

/// How the passage's words support the question (the second-stage signals).
pub fn support_of(question: &str, query_lang: &str, p: &Passage) -> frontdesk_knowledge::rank::Support {
    let s = frontdesk_knowledge::answer::support(question, query_lang, p);
    let same_lang = p.lang == query_lang || p.lang == "und" || query_lang == "und";
    frontdesk_knowledge::rank::Support {
        coverage: s.coverage,
        same_lang: f32::from(u8::from(same_lang)),
        // Names and codes are only comparable within one language.
        missing_specific: if same_lang { s.missing_specific.min(3) as f32 } else { 0.0 },
    }
}

/// The citation for a retrieved passage: a crawled page is cited as itself
/// (its title and URL), anything else as its source; private sources and
/// sources with citations off never show a URL (B7).
pub async fn cite(cx: &Context, r: &Retrieved) -> Option<Citation> {
    let source = cx.store.get_source(r.passage.source_id).await.ok()?;
    let (title, url) = match &r.page_url {
        Some(u) => (r.passage.title.clone(), Some(u.clone())),
        None => (source.title.clone(), source.url.clone()),
    };
    Some(Citation {
        source_kind: source.kind.clone(),
        source_id: source.id,
        title,
        url: url.filter(|_| source.citations_enabled && !source.private),
    })
}

fn candidates(retrieved: &[Retrieved]) -> Vec<TraceCandidate> {
    retrieved
        .iter()
        .map(|r| TraceCandidate {
            source_kind: "source".into(),
            source_id: r.passage.source_id,
            title: r.passage.title.clone(),
            score: r.passage.score,
        })
        .collect()
}

/// The evidence that the first ranked passage answers the question, and the
/// calibrated probability that it is the right source.
pub fn weigh(calibration: &Calibration, ranked: &[Signals]) -> (Evidence, f32) {
    if ranked.is_empty() {
        return (Evidence::default(), 0.0);
    }
    let e = Evidence::of(ranked);
    let p = calibration.probability(&e);
    (e, p)
}

/// Quotes the first retrieved passage when the calibrated evidence says it
/// answers the question; keeps `fallback` (the "cannot answer" handoff)
/// otherwise, with the candidates and the evidence in its trace.
async fn answer_from_sources(
    cx: &Context,
    _agent: &AgentSnapshot,
    voice: &Persona,
    lang: Lang,
    text: &str,
    mut fallback: Reply,
) -> Reply {
    let query_lang = frontdesk_knowledge::lang::detect_query(text, voice.default_lang.code());
    let started = std::time::Instant::now();
    let searched = retrieve_ranked(cx, text, query_lang, 8).await;
    fallback.trace.retrieval_us = Some(started.elapsed().as_micros() as u64);
    let (retrieved, ranked, notes) = match searched {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "search failed; answering without sources");
            fallback.trace.notes.push(format!("search failed: {e}"));
            return fallback;
        }
    };
    fallback.trace.notes.extend(notes);
    let found = candidates(&retrieved);
    fallback.trace.candidates.extend(found.iter().cloned());
    if retrieved.is_empty() {
        fallback.trace.decision = "no short answer matched and no passage shares a term with the question".into();
        return fallback;
    }
    let calibration = cx.knowledge.calibration(ranked.iter().any(|s| s.cosine.is_some()));
    let (evidence, probability) = weigh(&calibration, &ranked);
    let answered = probability >= calibration.threshold;
    fallback.trace.evidence = Some(TraceEvidence {
        model: calibration.name.clone(),
        signals: Evidence::NAMES.iter().map(|n| n.to_string()).zip(evidence.features()).collect(),
        probability,
        threshold: calibration.threshold,
        answered,
    });
    fallback.trace.threshold = calibration.threshold;
    let first = &retrieved[0];
    if !answered {
        fallback.trace.decision = format!(
            "no short answer matched; the best passage ({:?}) is right with probability {:.2}, below {:.2}: handed off",
            first.passage.title, probability, calibration.threshold
        );
        return fallback;
    }
    let passage = first.passage.clone();
    let quote = frontdesk_knowledge::answer::quote_passage(text, query_lang, &passage, &AnswerPolicy::default());
    if quote.trim().is_empty() {
        fallback.trace.decision = "the best passage has nothing to quote once instructions are removed".into();
        return fallback;
    }
    let Some(citation) = cite(cx, first).await else {
        return fallback;
    };
    let mut trace = fallback.trace;
    trace.candidates = found;
    trace.decision = format!(
        "passage {} of source #{} ({:?}) is right with probability {:.2} (at least {:.2})",
        passage.chunk_id, citation.source_id, citation.title, probability, calibration.threshold
    );
    let body = if passage.lang != lang.code() && passage.lang != "und" {
        trace.notes.push(format!(
            "answered from a passage in {:?}: the content has no better passage in the visitor's language",
            passage.lang
        ));
        // Said in the visitor's language, naming the article's language.
        voice.frame_foreign_answer(lang, &passage.lang, &citation.title, &quote)
    } else {
        voice.frame_answer(lang, &quote)
    };
    Reply {
        text: body,
        citations: vec![citation],
        actions: vec![],
        confidence: probability,
        outcome: Outcome::Answered,
        trace,
    }
}

/// A reply as the preview and the tests show it: what the visitor would
/// see, plus what a visitor never sees (hidden citations, the trace).
pub fn reply_json(agent: &AgentSnapshot, r: &Reply) -> Value {
    let shown: Vec<_> = r.citations.iter().filter(|c| agent.shows_citation(c)).collect();
    json!({
        "text": r.text,
        "outcome": r.outcome.label(),
        "handoff_trigger": match r.outcome { Outcome::Handoff(t) => Some(t.as_str()), _ => None },
        "confidence": r.confidence,
        "citations": shown,
        "citations_used": r.citations,
        "actions": r.actions,
        "trace": r.trace,
    })
}
