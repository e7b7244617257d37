//! The conversation engine: a visitor's message goes in; the agent answers,
//! or the conversation goes to humans. Handlers call this; it calls the
//! responder (pure) and the store, and wakes the live streams.

use frontdesk_core::lang::{detect, Lang};
use frontdesk_core::model::{AssignCause, AssigneeKind, Author, Channel, ConversationStatus, HandoffTrigger};
use std::collections::HashMap;

use frontdesk_store::StoredChunk;

use frontdesk_core::responder::{Citation, Outcome, Question, Reply, Trace, TraceCandidate};
use frontdesk_store::{
    AssignChange, Assignee, Conversation, Message, NewContact, NewConversation, NewMessage, StatusChange, Turn,
    TurnReply,
};
use serde_json::json;

use crate::auth::{random_token, token_hash};
use crate::error::ApiResult;
use crate::state::{persona, AgentSnapshot, AppState};

/// A new live-chat conversation and the visitor's secret token (shown once).
pub struct StartedConversation {
    pub conversation: Conversation,
    pub visitor_token: String,
}

/// Starts a conversation: matched to a contact by email when one is given,
/// assigned to the agent when it is switched on, otherwise left for humans.
pub async fn start_conversation(
    state: &AppState,
    channel: Channel,
    name: Option<String>,
    email: Option<String>,
) -> ApiResult<StartedConversation> {
    let contact_id = if name.is_some() || email.is_some() {
        Some(state.store.upsert_contact(NewContact { email, name, phone: None }).await?.id)
    } else {
        None
    };
    let profile = &state.agent().await?.profile;
    let visitor_token = random_token("fdv_");
    let conversation = state
        .store
        .create_conversation(NewConversation {
            channel,
            contact_id,
            visitor_token_hash: token_hash(&visitor_token),
            assign_to_agent: profile.enabled,
            is_preview: false,
        })
        .await?;
    state.metrics.conversations_created.inc();
    Ok(StartedConversation { conversation, visitor_token })
}

async fn store_message(state: &AppState, new: NewMessage) -> ApiResult<Message> {
    let author = new.author;
    let m = state.store.append_message(new).await?;
    state.metrics.messages.with_label_values(&[author.as_str()]).inc();
    state.hub.notify(m.conversation_id, m.seq);
    Ok(m)
}

/// Handles a visitor's message: if the agent owns the conversation it
/// answers or hands off; the message, the reply and the handoff are stored
/// in one transaction. Returns the visitor's message.
pub async fn visitor_message(state: &AppState, conversation: &Conversation, text: String) -> ApiResult<Message> {
    let reply = if conversation.assignee_kind == AssigneeKind::Agent {
        Some(agent_reply(state, conversation.id, &text).await?)
    } else {
        None
    };
    let visitor = NewMessage {
        conversation_id: conversation.id,
        author: Author::Visitor,
        user_id: None,
        text,
        citations: vec![],
        trace: None,
        event_data: json!({}),
    };
    let (visitor, agent) = state.store.append_turn(Turn { visitor, reply: reply.clone() }).await?;
    state.metrics.messages.with_label_values(&[Author::Visitor.as_str()]).inc();
    let mut seq = visitor.seq;
    if let (Some(agent), Some(r)) = (agent, reply) {
        seq = agent.seq;
        state.metrics.messages.with_label_values(&[Author::Agent.as_str()]).inc();
        let outcome = r.message.event_data["outcome"].as_str().unwrap_or("answered");
        state.metrics.agent_replies.with_label_values(&[outcome]).inc();
        if let Some(trigger) = r.handoff {
            state.metrics.handoffs.with_label_values(&[trigger.as_str()]).inc();
            tracing::info!(conversation_id = conversation.id, trigger = %trigger, message_id = agent.id, "handed off to humans");
        }
    }
    state.hub.notify(conversation.id, seq);
    Ok(visitor)
}

/// The agent's reply to `text`, ready to store (the responder does no I/O).
async fn agent_reply(state: &AppState, conversation_id: i64, text: &str) -> ApiResult<TurnReply> {
    let agent = state.agent().await?;
    let question = Question { text: text.to_owned(), persona: persona(&agent.profile) };
    let mut reply = agent.responder.reply(&question);
    if reply.outcome == Outcome::Handoff(HandoffTrigger::CannotAnswer) {
        reply = answer_from_sources(state, &agent, text, reply).await;
    }
    let used = reply.citations.clone();
    // Sources whose citations are off (or that are private) are used but not shown (B7).
    let shown: Vec<_> = reply
        .citations
        .iter()
        .filter(|c| match c.source_kind.as_str() {
            "short_answer" => !agent.uncited.contains(&c.source_id),
            _ => !agent.uncited_sources.contains(&c.source_id),
        })
        .cloned()
        .collect();
    let outcome = match reply.outcome {
        Outcome::Answered => "answered",
        Outcome::SmallTalk => "small_talk",
        Outcome::Handoff(_) => "handoff",
    };
    let handoff = match reply.outcome {
        Outcome::Handoff(t) => Some(t),
        _ => None,
    };
    let unanswered_lang = (handoff == Some(HandoffTrigger::CannotAnswer))
        .then(|| detect(text, Lang::from_code(&agent.profile.default_lang).unwrap_or(Lang::En)).code().to_owned());
    Ok(TurnReply {
        message: NewMessage {
            conversation_id,
            author: Author::Agent,
            user_id: None,
            text: reply.text.clone(),
            citations: shown,
            trace: serde_json::to_value(&reply.trace).ok(),
            event_data: json!({
                "outcome": outcome,
                "confidence": reply.confidence,
                "cited": !used.is_empty(),
                "sources": used.iter().map(|c| json!({"kind": c.source_kind, "id": c.source_id})).collect::<Vec<_>>(),
                "actions": reply.actions,
            }),
        },
        handoff,
        unanswered_lang,
    })
}

/// The second step of the built-in responder: retrieve passages from the
/// content sources and quote the one that supports an answer. Keeps
/// `fallback` (the "cannot answer" handoff) when none does, with the
/// retrieved candidates added to its trace.
async fn answer_from_sources(state: &AppState, agent: &AgentSnapshot, text: &str, mut fallback: Reply) -> Reply {
    use frontdesk_knowledge::answer::{compose, AnswerPolicy, Passage};
    let lang = frontdesk_knowledge::lang::detect_query(text, &agent.profile.default_lang);
    let hits = match state.knowledge.search(text, lang, 8).await {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, "search failed; answering without sources");
            return fallback;
        }
    };
    if hits.is_empty() {
        return fallback;
    }
    let ids: Vec<i64> = hits.iter().map(|h| h.chunk_id).collect();
    let chunks: HashMap<i64, StoredChunk> = match state.store.chunks_by_ids(&ids).await {
        Ok(cs) => cs.into_iter().map(|c| (c.id, c)).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "could not load retrieved chunks");
            return fallback;
        }
    };
    let passages: Vec<Passage> = hits
        .iter()
        .filter_map(|h| {
            chunks.get(&h.chunk_id).map(|c| Passage {
                chunk_id: c.id,
                source_id: c.source_id,
                score: h.score,
                title: c.title.clone(),
                heading_path: c.heading_path.clone(),
                text: c.text.clone(),
                lang: c.lang.clone(),
            })
        })
        .collect();
    let candidates: Vec<TraceCandidate> = passages
        .iter()
        .map(|p| TraceCandidate {
            source_kind: "source".into(),
            source_id: p.source_id,
            title: p.title.clone(),
            score: p.score,
        })
        .collect();
    fallback.trace.candidates.extend(candidates.iter().cloned());
    fallback.trace.responder = "short_answers+retrieval".into();
    let Some(c) = compose(text, lang, &passages, &AnswerPolicy::default()) else {
        fallback.trace.decision = format!(
            "no short answer matched and no retrieved passage supports an answer (best of {} passages)",
            passages.len()
        );
        return fallback;
    };
    let source = match state.store.get_source(c.passage.source_id).await {
        Ok(s) => s,
        Err(_) => return fallback,
    };
    let reply_lang = detect(text, Lang::from_code(&agent.profile.default_lang).unwrap_or(Lang::En));
    let intro = frontdesk_core::persona::phrase(
        agent.profile.personality,
        reply_lang,
        frontdesk_core::persona::Phrase::AnswerIntro,
        &agent.profile.name,
    );
    Reply {
        text: format!("{intro}{}", c.text),
        citations: vec![{
            // A crawled page is cited as itself (its title and URL), not as the site.
            let page = chunks.get(&c.passage.chunk_id).and_then(|ch| ch.url.clone().map(|u| (ch.title.clone(), u)));
            let (title, url) = match page {
                Some((title, url)) => (title, Some(url)),
                None => (source.title.clone(), source.url.clone()),
            };
            Citation {
                source_kind: source.kind.clone(),
                source_id: source.id,
                title,
                url: url.filter(|_| source.citations_enabled && !source.private),
            }
        }],
        actions: vec![],
        confidence: c.coverage,
        outcome: Outcome::Answered,
        trace: Trace {
            responder: "short_answers+retrieval".into(),
            language: lang.to_owned(),
            candidates,
            threshold: AnswerPolicy::default().min_coverage,
            decision: format!(
                "passage {} of source #{} ({:?}) covers {:.0}% of the question's terms",
                c.passage.chunk_id,
                source.id,
                source.title,
                c.coverage * 100.0
            ),
        },
    }
}

/// A human's reply from the console; the visitor sees it live.
pub async fn human_message(state: &AppState, conversation_id: i64, user_id: i64, text: String) -> ApiResult<Message> {
    store_message(
        state,
        NewMessage {
            conversation_id,
            author: Author::Human,
            user_id: Some(user_id),
            text,
            citations: vec![],
            trace: None,
            event_data: json!({}),
        },
    )
    .await
}

/// Reassigns a conversation by hand.
pub async fn reassign(state: &AppState, conversation_id: i64, to: Assignee, by_user: i64) -> ApiResult<Conversation> {
    Ok(state
        .store
        .assign(AssignChange {
            conversation_id,
            to,
            cause: AssignCause::Manual,
            actor_user_id: Some(by_user),
            handoff: None,
        })
        .await?)
}

/// A person closes or reopens a conversation from the console or the API.
pub async fn set_status_by_human(
    state: &AppState,
    conversation_id: i64,
    status: ConversationStatus,
    user_id: i64,
) -> ApiResult<Conversation> {
    let reason = match status {
        ConversationStatus::Closed => "closed by a human",
        ConversationStatus::Open => "reopened by a human",
    };
    set_status(state, conversation_id, status, Some(user_id), reason).await
}

pub async fn set_status(
    state: &AppState,
    conversation_id: i64,
    status: ConversationStatus,
    by_user: Option<i64>,
    reason: &str,
) -> ApiResult<Conversation> {
    Ok(state
        .store
        .set_status(StatusChange { conversation_id, status, actor_user_id: by_user, reason: reason.to_owned() })
        .await?)
}
