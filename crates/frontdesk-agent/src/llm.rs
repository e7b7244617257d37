//! The LLM responder: the model drafts the answer from the retrieved
//! passages and the tools (search, handoff, actions, CRM) that the engine
//! supplies here. Streams the draft to the conversation's widget; maps the
//! run into the core `Reply` with a trace.
//!
//! Grounded like the built-in path: a matching short answer is sent without
//! calling the model; near matches and the retrieved passages are put in the
//! prompt before the model is called; a factual question that nothing
//! retrieved is about is handed off without calling it; the model's answer
//! is sent only when it cites what was retrieved (or reports what its tools
//! did) and every figure, link and name in it is in what it cites
//! (`frontdesk_llm::grounding`). A failed run or a withheld answer is returned
//! to `respond`, which applies `llm_on_failure` — the visitor never sees an
//! error or an ungrounded answer.

use std::sync::Mutex;

use frontdesk_core::lang::Lang;
use frontdesk_core::model::{Author, HandoffTrigger};
use frontdesk_core::persona::Phrase;
use frontdesk_core::responder::{Citation, Outcome, Persona, Question, Reply, ToolTrace, Trace};
use frontdesk_llm::{
    handoff_to_human_spec, prompt, search_knowledge_spec, AgentRun, AvoidTopic, BoxFuture, Client, Delta, Finish,
    Message, PromptInput, RunError, ToolBox, ToolOutput, ToolSpec, Turn, HANDOFF_TO_HUMAN, SEARCH_KNOWLEDGE,
};
use serde_json::Value;

use crate::respond::{cite, retrieve, Ask, Retrieved};
use crate::snapshot::AgentSnapshot;
use crate::Context;
use crate::Draft;

/// The tool that stores contact properties the visitor gave (F1).
const UPDATE_CONTACT: &str = "update_contact";

/// Passages placed in the system prompt before the model is called.
const PROMPT_PASSAGES: usize = 5;
/// Passages one `search_knowledge` call returns.
const SEARCH_PASSAGES: usize = 4;
/// Earlier messages of the conversation sent with the question.
const HISTORY_MESSAGES: usize = 10;

/// Something the model may cite: a retrieved passage, or a short answer whose
/// question is close to the visitor's (near the matching threshold).
#[derive(Debug, Clone)]
enum Found {
    Passage(Retrieved),
    ShortAnswer { id: i64, question: String, answer: String },
}

impl Found {
    fn same(&self, other: &Found) -> bool {
        match (self, other) {
            (Found::Passage(a), Found::Passage(b)) => a.passage.chunk_id == b.passage.chunk_id,
            (Found::ShortAnswer { id: a, .. }, Found::ShortAnswer { id: b, .. }) => a == b,
            _ => false,
        }
    }

    /// What a reply citing it may state (for the grounding check).
    fn text(&self) -> String {
        match self {
            Found::Passage(r) => {
                format!("{}\n{}\n{}", r.passage.title, r.passage.heading_path.join("\n"), r.passage.text)
            }
            Found::ShortAnswer { question, answer, .. } => format!("{question}\n{answer}"),
        }
    }
}

/// The passages of one reply, numbered from 1 in the order the model saw them.
struct Retrievals {
    items: Mutex<Vec<Found>>,
}

impl Retrievals {
    fn add(&self, found: Vec<Found>) -> Vec<(u32, Found)> {
        let mut items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::with_capacity(found.len());
        for r in found {
            // The same chunk keeps its first id.
            let id = match items.iter().position(|x| x.same(&r)) {
                Some(i) => i,
                None => {
                    items.push(r.clone());
                    items.len() - 1
                }
            };
            out.push((id as u32 + 1, r));
        }
        out
    }

    fn get(&self, id: u32) -> Option<Found> {
        let items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        items.get((id as usize).checked_sub(1)?).cloned()
    }
}

fn prompt_passages(numbered: &[(u32, Found)]) -> Vec<frontdesk_llm::Passage> {
    numbered
        .iter()
        .map(|(id, f)| match f {
            Found::Passage(r) => frontdesk_llm::Passage {
                id: *id,
                title: r.passage.title.clone(),
                // The model never sees URLs: it cannot cite or leak a private page's address.
                url: None,
                text: r.passage.text.clone(),
            },
            Found::ShortAnswer { question, answer, .. } => frontdesk_llm::Passage {
                id: *id,
                title: format!("Short answer: {question}"),
                url: None,
                text: format!("Question: {question}\nAnswer: {answer}"),
            },
        })
        .collect()
}

/// The tools the engine offers the model.
struct EngineTools<'a> {
    cx: &'a Context,
    agent: &'a AgentSnapshot,
    conversation_id: Option<i64>,
    lang: &'a str,
    reply_lang: Lang,
    retrievals: &'a Retrievals,
    handoff_reason: Mutex<Option<String>>,
    /// Actions performed, for the reply (they count for resolution).
    actions: Mutex<Vec<frontdesk_core::responder::ActionTaken>>,
}

impl ToolBox for EngineTools<'_> {
    fn specs(&self) -> Vec<ToolSpec> {
        let mut specs = vec![search_knowledge_spec(), handoff_to_human_spec()];
        if self.conversation_id.is_some() && self.agent.tools.crm_fields.iter().any(|f| f.agent_write) {
            specs.push(ToolSpec::new(
                UPDATE_CONTACT,
                "Save what the visitor told you about themselves (e.g. their email, phone or order number) in their contact record. Only the listed properties; values are validated.",
                frontdesk_core::crm::update_schema(&self.agent.tools.crm_fields),
            ));
        }
        for v in self.agent.tools.tool_specs() {
            let f = &v["function"];
            if let Some(name) = f["name"].as_str() {
                let description = f["description"].as_str().unwrap_or("");
                specs.push(ToolSpec::new(name, description, f["parameters"].clone()));
            }
        }
        specs
    }

    fn call<'a>(&'a self, name: &'a str, arguments: &'a Value) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async move {
            match name {
                SEARCH_KNOWLEDGE => {
                    let query = arguments.get("query").and_then(Value::as_str).unwrap_or("").trim();
                    if query.is_empty() {
                        return ToolOutput::error("query must be a non-empty string");
                    }
                    let lang = frontdesk_knowledge::lang::detect_query(query, self.lang);
                    match retrieve(self.cx, query, lang, SEARCH_PASSAGES).await {
                        Ok(found) => {
                            let numbered = self.retrievals.add(found.into_iter().map(Found::Passage).collect());
                            let ids: Vec<u32> = numbered.iter().map(|(id, _)| *id).collect();
                            ToolOutput::ok(prompt::search_result(&prompt_passages(&numbered))).with_passages(ids)
                        }
                        Err(e) => ToolOutput::error(format!("the search failed: {e}")),
                    }
                }
                HANDOFF_TO_HUMAN => {
                    let reason = arguments.get("reason").and_then(Value::as_str).unwrap_or("cannot_answer");
                    *self.handoff_reason.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason.to_owned());
                    ToolOutput::handoff("The conversation is now with the team.")
                }
                UPDATE_CONTACT => {
                    let Some(conversation) = self.conversation_id else {
                        return ToolOutput::error("there is no contact in this conversation");
                    };
                    match crate::actions::update_contact_from_tool(self.cx, &self.agent.tools, conversation, arguments)
                        .await
                    {
                        Ok((changed, refused)) => {
                            let saved: Vec<&str> = changed.iter().map(|c| c.key.as_str()).collect();
                            let mut out = format!(
                                "saved: {}",
                                if saved.is_empty() { "nothing".into() } else { saved.join(", ") }
                            );
                            if !refused.is_empty() {
                                out.push_str(&format!("; refused: {}", refused.join("; ")));
                            }
                            if changed.is_empty() && !refused.is_empty() {
                                ToolOutput::error(out)
                            } else {
                                ToolOutput::ok(out)
                            }
                        }
                        Err(e) => ToolOutput::error(format!("the contact could not be updated: {e}")),
                    }
                }
                name if self.agent.tools.action_by_name(name).is_some() => {
                    let conversation = self.conversation_id.unwrap_or(0);
                    let tools = &self.agent.tools;
                    match crate::actions::call_tool(self.cx, tools, conversation, name, arguments, self.reply_lang)
                        .await
                    {
                        Ok(result) => {
                            self.actions.lock().unwrap_or_else(|e| e.into_inner()).push(result.taken());
                            if result.ok {
                                ToolOutput::ok(result.reply_text)
                            } else {
                                // The model sees why; the visitor only ever sees the polite sentence.
                                ToolOutput::error(format!(
                                    "the action failed ({}). Tell the visitor politely, in their language: {}",
                                    result.detail, result.reply_text
                                ))
                            }
                        }
                        Err(e) => ToolOutput::error(format!("the action could not run: {e}")),
                    }
                }
                other => ToolOutput::error(format!("unknown tool {other:?}")),
            }
        })
    }
}

/// The conversation so far as chat messages, the new question last.
fn history(ask: &Ask) -> Vec<Message> {
    let start = ask.history.len().saturating_sub(HISTORY_MESSAGES);
    let mut out: Vec<Message> = ask.history[start..]
        .iter()
        .filter_map(|(author, text)| match author {
            Author::Visitor => Some(Message::user(text.clone())),
            Author::Agent | Author::Human => Some(Message::assistant(text.clone())),
            Author::System => None,
        })
        .collect();
    out.push(Message::user(ask.text.clone()));
    out
}

fn tool_traces(steps: &[frontdesk_llm::ToolStep]) -> Vec<ToolTrace> {
    steps
        .iter()
        .map(|s| ToolTrace {
            name: s.name.clone(),
            arguments: s.arguments.chars().take(500).collect(),
            ok: s.ok,
            output: if s.executed { s.output.chars().take(300).collect() } else { format!("refused: {}", s.output) },
            ms: s.duration.as_millis() as u64,
        })
        .collect()
}

/// Why the model's run gave no reply to send, with the trace so far (the tools it
/// called, the candidates, the timings).
pub struct LlmFailure {
    pub error: String,
    /// True when the model answered but the answer was withheld as ungrounded (it
    /// cites nothing retrieved, or states figures, links or names its passages do
    /// not contain); false when the model itself failed.
    pub withheld: bool,
    pub trace: Trace,
}

/// Short answers at or above this share of the matching threshold are given to
/// the model as passages (a confident match is answered without the model).
const NEAR_SHORT_ANSWER: f32 = 0.6;
/// Near-threshold short answers put in the prompt.
const PROMPT_SHORT_ANSWERS: usize = 2;

/// Whether a passage shares a content term with the question (after stemming),
/// or is in another language than the question (cross-language retrieval shares
/// no words): anything else is not about the question.
fn relevant(question_terms: &[String], query_lang: &str, r: &Retrieved) -> bool {
    let p = &r.passage;
    if p.lang != query_lang && p.lang != "und" && query_lang != "und" {
        return true;
    }
    let terms = frontdesk_core::text::terms(&format!("{} {} {}", p.title, p.heading_path.join(" "), p.text));
    question_terms.iter().any(|t| terms.contains(t))
}

fn candidate(r: &Retrieved) -> frontdesk_core::responder::TraceCandidate {
    frontdesk_core::responder::TraceCandidate {
        source_kind: "source".into(),
        source_id: r.passage.source_id,
        title: r.passage.title.clone(),
        score: r.passage.score,
    }
}

/// Drafts the reply with the model, grounded: a short answer that matches is sent
/// as it is without calling the model; short answers near the threshold and the
/// retrieved passages go into the prompt; a question nothing retrieved is about is
/// handed off without calling the model; the model's answer must cite what was
/// retrieved and state no figure, link or name that the cited text lacks.
/// `Err` means no model answer can be sent (the model failed, or its answer was
/// withheld): the caller applies `llm_on_failure`.
pub async fn reply(
    cx: &Context,
    client: &Client,
    agent: &AgentSnapshot,
    voice: &Persona,
    lang: Lang,
    ask: &Ask,
    mut trace: Trace,
) -> Result<Reply, LlmFailure> {
    let query_lang = frontdesk_knowledge::lang::detect_query(&ask.text, voice.default_lang.code());
    let retrievals = Retrievals { items: Mutex::new(Vec::new()) };

    // 1. Short answers first, as on the built-in path.
    let matched = agent.responder.reply(&Question { text: ask.text.clone(), persona: voice.clone() });
    trace.candidates = matched.trace.candidates.clone();
    let near_threshold = matched.trace.threshold * NEAR_SHORT_ANSWER;
    let mut small_talk = None;
    match matched.outcome {
        Outcome::Answered => {
            let mut r = matched;
            trace.decision = format!("{}: sent as written, the model was not called", r.trace.decision);
            trace.threshold = r.trace.threshold;
            r.trace = trace;
            return Ok(r);
        }
        Outcome::SmallTalk => small_talk = Some(matched),
        Outcome::Handoff(HandoffTrigger::VisitorAsked) => {
            let mut r = matched;
            r.trace.notes.splice(0..0, trace.notes);
            return Ok(r);
        }
        _ => {}
    }
    let mut found: Vec<Found> = Vec::new();
    for c in trace.candidates.iter().filter(|c| c.score >= near_threshold).take(PROMPT_SHORT_ANSWERS) {
        match cx.store.get_short_answer(c.source_id).await {
            Ok(a) => found.push(Found::ShortAnswer { id: a.id, question: a.question, answer: a.answer }),
            Err(e) => trace.notes.push(format!("short answer #{} could not be read: {e}", c.source_id)),
        }
    }
    let near_short_answers = found.len();

    // 2. Passages, retrieved before the model is called.
    let question_terms = frontdesk_core::text::terms(&ask.text);
    let started = std::time::Instant::now();
    let searched = crate::respond::retrieve_ranked(cx, &ask.text, query_lang, PROMPT_PASSAGES).await;
    trace.retrieval_us = Some(started.elapsed().as_micros() as u64);
    let mut passages = match searched {
        Ok((p, _, notes)) => {
            // E.g. the question recognised as addressed to the assistant.
            trace.notes.extend(notes.into_iter().filter(|n| n.starts_with(crate::respond::INSTRUCTION_NOTE)));
            p
        }
        Err(e) => {
            trace.notes.push(format!("search failed before the model was called: {e}"));
            Vec::new()
        }
    };
    let previous = ask.history.iter().rev().find(|(a, _)| *a == Author::Visitor).map(|(_, t)| t.as_str());
    let mut relevant_passages = passages.iter().filter(|r| relevant(&question_terms, query_lang, r)).count();
    if relevant_passages == 0 {
        // A follow-up ("and for Business?") is searched with the message before it.
        if let Some(prev) = previous {
            let both = format!("{prev} {}", ask.text);
            if let Ok(more) = retrieve(cx, &both, query_lang, PROMPT_PASSAGES).await {
                let terms = frontdesk_core::text::terms(&both);
                relevant_passages = more.iter().filter(|r| relevant(&terms, query_lang, r)).count();
                if relevant_passages > 0 {
                    trace.notes.push("searched with the previous message too (a follow-up question)".into());
                    passages = more;
                }
            }
        }
    }
    trace.candidates.extend(passages.iter().map(candidate));
    found.extend(passages.into_iter().map(Found::Passage));

    // 3. Nothing is about the question: the model is not asked to answer from its own knowledge.
    let other_tools = !agent.tools.actions.is_empty()
        || (ask.conversation_id.is_some() && agent.tools.crm_fields.iter().any(|f| f.agent_read || f.agent_write));
    if small_talk.is_none() && near_short_answers == 0 && relevant_passages == 0 && !other_tools {
        trace.decision = format!(
            "no short answer is close to the question and no retrieved passage shares a term with it \
             ({} passages): handed off without calling the model",
            found.len()
        );
        return Ok(Reply {
            text: voice.say(lang, Phrase::CannotAnswer),
            citations: vec![],
            actions: vec![],
            confidence: 0.0,
            outcome: Outcome::Handoff(HandoffTrigger::CannotAnswer),
            trace,
        });
    }
    let initial = retrievals.add(found);
    if near_short_answers > 0 {
        trace
            .notes
            .push(format!("{near_short_answers} short answer(s) near the threshold given to the model as passages"));
    }

    let topics: Vec<AvoidTopic> = agent
        .profile
        .topics_to_avoid
        .iter()
        .map(|t| AvoidTopic { topic: t.name.clone(), instruction: t.instruction.clone() })
        .collect();
    let passages = prompt_passages(&initial);
    // Only the contact properties the admin made readable (F1).
    let contact: Vec<(String, String)> = match ask.conversation_id {
        Some(id) if agent.tools.crm_fields.iter().any(|f| f.agent_read) => {
            crate::actions::readable_contact(cx, &agent.tools, id)
                .await
                .map(|v| v.into_iter().map(|p| (p.label, p.value)).collect())
                .unwrap_or_default()
        }
        _ => Vec::new(),
    };
    let mut tool_names = vec![SEARCH_KNOWLEDGE, HANDOFF_TO_HUMAN];
    if ask.conversation_id.is_some() && agent.tools.crm_fields.iter().any(|f| f.agent_write) {
        tool_names.push(UPDATE_CONTACT);
    }
    tool_names.extend(agent.tools.actions.iter().map(|a| a.name.as_str()));
    let system = prompt::system_prompt(&PromptInput {
        agent_name: &agent.profile.name,
        personality: agent.profile.personality,
        brand_voice: &agent.profile.brand_voice,
        language: Some(lang.code()),
        topics_to_avoid: &topics,
        contact: &contact,
        passages: &passages,
        tools: &tool_names,
    });
    let tools = EngineTools {
        cx,
        agent,
        conversation_id: ask.conversation_id,
        lang: query_lang,
        reply_lang: lang,
        retrievals: &retrievals,
        handoff_reason: Mutex::new(None),
        actions: Mutex::new(Vec::new()),
    };
    let messages = history(ask);
    let retrieved: Vec<u32> = initial.iter().map(|(id, _)| *id).collect();
    let conversation = ask.conversation_id;
    let mut on_delta = |d: Delta<'_>| {
        let Some(id) = conversation else { return };
        match d {
            Delta::Text { step, text } => cx.drafts.draft(id, Draft::Text { step, text: text.to_owned() }),
            Delta::Discard { step } => cx.drafts.draft(id, Draft::Discard { step }),
            Delta::Tool { .. } => {}
        }
    };
    let run = frontdesk_llm::run(
        client,
        Turn { system_prompt: &system, history: &messages, retrieved: &retrieved },
        &tools,
        &mut on_delta,
    )
    .await;
    let discard = || {
        if let Some(id) = conversation {
            cx.drafts.draft(id, Draft::Discard { step: usize::MAX });
        }
    };
    let run: AgentRun = match run {
        Ok(r) => r,
        Err(RunError { error, steps, .. }) => {
            discard();
            trace.tools = tool_traces(&steps);
            return Err(LlmFailure { error: format!("{} ({})", error, error.kind()), withheld: false, trace });
        }
    };
    trace.responder =
        format!("llm:{}", if client.config().model.is_empty() { "default" } else { &client.config().model });
    trace.tools = tool_traces(&run.steps);
    trace.llm = Some(frontdesk_core::responder::LlmTimings {
        model_calls: run.model_calls as u32,
        first_token_us: run.timings.first_token.map(|d| d.as_micros() as u64),
        model_us: run.timings.model.as_micros() as u64,
        tools_us: run.timings.tools.as_micros() as u64,
        total_us: run.timings.total.as_micros() as u64,
    });
    trace.notes.push(format!(
        "model calls {}, first token {} ms, model {} ms, tools {} ms, Frontdesk {} ms",
        run.model_calls,
        run.timings.first_token.map_or("-".to_owned(), |d| d.as_millis().to_string()),
        run.timings.model.as_millis(),
        run.timings.tools.as_millis(),
        run.timings.overhead().as_millis()
    ));
    if !run.dropped_citations.is_empty() {
        trace
            .notes
            .push(format!("dropped citations of passages that were never retrieved: {:?}", run.dropped_citations));
    }
    if run.finish == Finish::Handoff {
        let reason = tools.handoff_reason.lock().unwrap_or_else(|e| e.into_inner()).clone().unwrap_or_default();
        let (trigger, phrase) = match reason.as_str() {
            "visitor_asked" => (HandoffTrigger::VisitorAsked, Phrase::HandoffRequested),
            _ => (HandoffTrigger::CannotAnswer, Phrase::CannotAnswer),
        };
        trace.decision = format!("the model handed off ({reason})");
        return Ok(Reply {
            text: voice.say(lang, phrase),
            citations: vec![],
            actions: vec![],
            confidence: 0.0,
            outcome: Outcome::Handoff(trigger),
            trace,
        });
    }
    if leaks_prompt(&run.text, &system) {
        discard();
        trace.decision = "declined: the draft repeated the agent's instructions".into();
        trace.notes.push("the drafted answer quoted the system prompt and was withheld".into());
        return Ok(Reply {
            text: voice.say(lang, Phrase::Decline),
            citations: vec![],
            actions: vec![],
            confidence: 1.0,
            outcome: Outcome::Declined,
            trace,
        });
    }
    if run.text.trim().is_empty() {
        return Err(LlmFailure { error: "the model returned an empty answer".into(), withheld: false, trace });
    }

    // 4. Grounding: what the reply cites, and what it may rely on besides.
    let cited: Vec<Found> = run.citations.iter().filter_map(|id| retrievals.get(*id)).collect();
    let tool_results: Vec<&str> = run
        .steps
        .iter()
        .filter(|s| s.executed && s.ok && s.name != SEARCH_KNOWLEDGE && s.name != HANDOFF_TO_HUMAN)
        .map(|s| s.output.as_str())
        .collect();
    let mut support: Vec<String> = cited.iter().map(Found::text).collect();
    support.extend(tool_results.iter().map(|s| s.to_string()));
    support.push(agent.profile.name.clone());
    support.extend(contact.iter().map(|(k, v)| format!("{k}: {v}")));
    let mut asked = ask.text.clone();
    for (_, t) in ask.history.iter().filter(|(a, _)| *a == Author::Visitor) {
        asked.push('\n');
        asked.push_str(t);
    }
    let unsupported = frontdesk_llm::grounding::unsupported_claims(&run.text, &support, &asked);
    let withheld = if cited.is_empty() && tool_results.is_empty() {
        (small_talk.is_none()).then(|| "the model answered without citing a retrieved passage".to_owned())
    } else {
        None
    };
    let withheld = withheld.or_else(|| {
        (!unsupported.is_empty()).then(|| {
            format!(
                "the model's answer states what {} does not say: {}",
                if cited.is_empty() && tool_results.is_empty() { "nothing retrieved" } else { "what it cites" },
                unsupported.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(", ")
            )
        })
    });
    if let Some(why) = withheld {
        discard();
        let draft: String = run.text.chars().take(300).collect();
        trace.notes.push(format!("withheld draft: {draft:?}"));
        if let Some(mut r) = small_talk {
            // Small talk needs no model: the built-in reply is sent instead.
            trace.decision = format!("{why}; small talk answered by the built-in responder");
            r.trace = trace;
            return Ok(r);
        }
        return Err(LlmFailure { error: why, withheld: true, trace });
    }

    let mut citations = Vec::new();
    for f in &cited {
        let c = match f {
            Found::Passage(r) => cite(cx, r).await,
            Found::ShortAnswer { id, question, .. } => Some(Citation {
                source_kind: "short_answer".into(),
                source_id: *id,
                title: question.clone(),
                url: None,
            }),
        };
        if let Some(c) = c {
            if !citations.iter().any(|x: &Citation| x.source_kind == c.source_kind && x.source_id == c.source_id) {
                citations.push(c);
            }
        }
    }
    let actions = std::mem::take(&mut *tools.actions.lock().unwrap_or_else(|e| e.into_inner()));
    let outcome = if small_talk.is_some() && citations.is_empty() && actions.is_empty() {
        trace.decision = "small talk: the model replied".into();
        Outcome::SmallTalk
    } else {
        trace.decision = if citations.is_empty() {
            "the model answered from its tools' results".into()
        } else {
            format!(
                "the model answered citing {} passage(s); every figure, link and name is in what it cites",
                run.citations.len()
            )
        };
        Outcome::Answered
    };
    if run.finish == Finish::Truncated {
        trace.notes.push("the answer was cut at the token limit".into());
    }
    Ok(Reply { text: run.text, citations, actions, confidence: 0.9, outcome, trace })
}

/// Whether `text` repeats the system prompt's rules (a leaked prompt):
/// any 80-character run of the prompt's rule text appearing verbatim.
pub fn leaks_prompt(text: &str, system_prompt: &str) -> bool {
    let rules = system_prompt.split("<passages>").next().unwrap_or("");
    let chars: Vec<char> = rules.chars().collect();
    if chars.len() < 80 {
        return false;
    }
    let mut i = 0;
    while i + 80 <= chars.len() {
        let window: String = chars[i..i + 80].iter().collect();
        if text.contains(window.trim()) && window.trim().len() > 60 {
            return true;
        }
        i += 40;
    }
    false
}
