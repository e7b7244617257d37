//! The conversation engine: a visitor's message goes in; the agent answers,
//! or the conversation goes to humans. Handlers call this; it calls the
//! responder (pure) and the store, and wakes the live streams.

use frontdesk_core::lang::{detect, Lang};
use frontdesk_core::model::{AssignCause, AssigneeKind, Author, Channel, ConversationStatus, HandoffTrigger};
use frontdesk_core::responder::{Outcome, Reply};
use frontdesk_store::{
    AssignChange, Assignee, Conversation, Message, NewContact, NewConversation, NewMessage, StatusChange, Turn,
    TurnReply,
};
use serde_json::json;

use crate::error::Result;
use crate::tokens::{random_token, token_hash};
use crate::Engine;
use frontdesk_agent::respond::{respond, Ask};
use frontdesk_agent::AgentSnapshot;

/// A new live-chat conversation and the visitor's secret token (shown once).
pub struct StartedConversation {
    pub conversation: Conversation,
    pub visitor_token: String,
}

/// Starts a conversation: matched to a contact by email when one is given,
/// assigned to the agent when it is switched on, otherwise left for humans.
pub async fn start_conversation(
    state: &Engine,
    channel: Channel,
    name: Option<String>,
    email: Option<String>,
) -> Result<StartedConversation> {
    let contact_id = if name.is_some() || email.is_some() {
        Some(state.store.upsert_contact(NewContact { email, name, phone: None }).await?.id)
    } else {
        None
    };
    let profile = &state.agent.snapshot().await?.profile;
    let visitor_token = random_token("fdv_");
    let has_credits = crate::credits::agent_has_credits(state).await;
    let on_duty =
        frontdesk_agent::snapshot::agent_on_duty(&*state.agent.snapshot().await?, channel, jiff::Timestamp::now());
    let conversation = state
        .store
        .create_conversation(NewConversation {
            channel,
            contact_id,
            visitor_token_hash: token_hash(&visitor_token),
            assign_to_agent: profile.enabled && has_credits && on_duty,
            is_preview: false,
            channel_id: None,
            handle: None,
            subject: None,
        })
        .await?;
    state.metrics.conversations_created.inc();
    crate::bots::start(state, &conversation).await;
    Ok(StartedConversation { conversation, visitor_token })
}

async fn store_message(state: &Engine, new: NewMessage) -> Result<Message> {
    let author = new.author;
    let m = state.store.append_message(new).await?;
    state.metrics.messages.with_label_values(&[author.as_str()]).inc();
    state.hub.notify(m.conversation_id, m.seq);
    // In a conversation from a connected channel the message went to the outbox.
    state.wake_worker.notify_one();
    Ok(m)
}

/// Handles a visitor's message: if the agent owns the conversation it
/// answers or hands off; the message, the reply and the handoff are stored
/// in one transaction. A running rule-based bot (`bots.rs`) takes the
/// message first. Returns the visitor's message.
pub async fn visitor_message(state: &Engine, conversation: &Conversation, text: String) -> Result<Message> {
    channel_message(state, conversation, text, None, true).await
}

/// [`visitor_message`] for a message from a connected channel: `inbound`
/// is recorded in the turn's transaction (a duplicate fails with
/// `StoreError::Duplicate` and nothing is stored); `may_reply: false` keeps
/// the agent silent (loop protection) while the message is still stored.
pub async fn channel_message(
    state: &Engine,
    conversation: &Conversation,
    text: String,
    inbound: Option<frontdesk_store::InboundRecord>,
    may_reply: bool,
) -> Result<Message> {
    let started = std::time::Instant::now();
    let stored = turn(state, conversation, text, inbound, may_reply).await;
    if stored.is_ok() {
        state.metrics.turn_duration.observe(started.elapsed().as_secs_f64());
    }
    stored
}

async fn turn(
    state: &Engine,
    conversation: &Conversation,
    text: String,
    mut inbound: Option<frontdesk_store::InboundRecord>,
    may_reply: bool,
) -> Result<Message> {
    if may_reply {
        if let Some(handled) = crate::bots::visitor_message(state, conversation, &text, &mut inbound).await? {
            return Ok(handled);
        }
    }
    let reply = if may_reply && conversation.assignee_kind == AssigneeKind::Agent {
        Some(agent_reply(state, conversation, &text).await?)
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
    let (visitor, agent) = state.store.append_turn(Turn { visitor, reply: reply.clone(), inbound }).await?;
    state.metrics.messages.with_label_values(&[Author::Visitor.as_str()]).inc();
    let mut seq = visitor.seq;
    if let (Some(agent), Some(r)) = (agent, reply) {
        seq = agent.seq;
        state.metrics.messages.with_label_values(&[Author::Agent.as_str()]).inc();
        let outcome = r.message.event_data["outcome"].as_str().unwrap_or("answered");
        state.metrics.agent_replies.with_label_values(&[outcome]).inc();
        if r.unanswered_lang.is_some() {
            // A knowledge gap: group it into its topic soon (H1).
            crate::worker::group_gaps_soon(state).await;
        }
        if let Some(trigger) = r.handoff {
            state.metrics.handoffs.with_label_values(&[trigger.as_str()]).inc();
            tracing::info!(conversation_id = conversation.id, trigger = %trigger, message_id = agent.id, "handed off to humans");
        }
    }
    state.hub.notify(conversation.id, seq);
    if conversation.channel_id.is_some() {
        state.wake_worker.notify_one();
    }
    Ok(visitor)
}

/// The agent's reply to `text`, ready to store: the judgement in
/// `respond` reads, this only shapes what the turn writes.
async fn agent_reply(state: &Engine, conversation: &Conversation, text: &str) -> Result<TurnReply> {
    let agent = state.agent.snapshot().await?;
    // The visitor's answer to "what's your email?" (C2).
    let (answered, ask_state) = crate::ask_email::answer(state, &agent, conversation, text).await?;
    if let Some(mut turn) = answered {
        let lang = Lang::from_code(turn.message.trace.as_ref().and_then(|t| t["language"].as_str()).unwrap_or("en"))
            .unwrap_or(Lang::En);
        crate::handoff::prepare_route(state, &mut turn, lang, text).await?;
        return Ok(turn);
    }
    // Only the last messages: reading a long conversation whole on every turn would cost throughput.
    const HISTORY: i64 = 12;
    // The history is read only when something uses it: the LLM, actions (their parameters may
    // come in the next message), lead questions, or a short message whose language comes from
    // the conversation. Each read per message costs throughput.
    let needs_history = state.agent.llm.is_some()
        || !agent.tools.actions.is_empty()
        || agent.leads_enabled
        || text.split_whitespace().count() <= 3;
    let history = if needs_history {
        match state.store.messages_after(conversation.id, (conversation.last_seq - HISTORY).max(0), HISTORY).await {
            Ok(ms) => ms.into_iter().map(|m| (m.author, m.text)).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the conversation's history");
                vec![]
            }
        }
    } else {
        vec![]
    };
    let ask = Ask {
        text: text.to_owned(),
        history,
        contact_id: conversation.contact_id,
        conversation_id: Some(conversation.id),
    };
    let reply = respond(&state.agent, &agent, &ask).await;
    if let Some(us) = reply.trace.retrieval_us {
        state.metrics.retrieval_duration.observe(us as f64 / 1e6);
    }
    if let Some(llm) = &reply.trace.llm {
        state.metrics.llm_duration.observe(llm.model_us as f64 / 1e6);
    }
    let lang = Lang::from_code(&reply.trace.language).unwrap_or(Lang::En);
    let mut turn = turn_reply(&agent, conversation.id, text, reply);
    turn.email_ask = ask_state;
    if !agent.ask_email.is_empty() {
        crate::ask_email::after_answer(state, &agent, conversation, lang, &mut turn).await;
    }
    crate::handoff::prepare_route(state, &mut turn, lang, text).await?;
    Ok(turn)
}

/// What a turn stores for `reply`: the citations shown (B7), the outcome and
/// every source used in the event, the trace, the handoff and, when the
/// agent could not answer, the unanswered question's language.
pub fn turn_reply(agent: &AgentSnapshot, conversation_id: i64, text: &str, reply: Reply) -> TurnReply {
    let used = reply.citations.clone();
    // Sources whose citations are off (or that are private) are used but not shown (B7).
    let shown: Vec<_> = reply.citations.iter().filter(|c| agent.shows_citation(c)).cloned().collect();
    let handoff = match reply.outcome {
        Outcome::Handoff(t) => Some(t),
        _ => None,
    };
    let unanswered_lang = (handoff == Some(HandoffTrigger::CannotAnswer))
        .then(|| detect(text, Lang::from_code(&agent.profile.default_lang).unwrap_or(Lang::En)).code().to_owned());
    TurnReply {
        message: NewMessage {
            conversation_id,
            author: Author::Agent,
            user_id: None,
            text: reply.text.clone(),
            citations: shown,
            trace: serde_json::to_value(&reply.trace).ok(),
            event_data: json!({
                "outcome": reply.outcome.label(),
                "confidence": reply.confidence,
                "cited": !used.is_empty(),
                "sources": used.iter().map(|c| json!({"kind": c.source_kind, "id": c.source_id})).collect::<Vec<_>>(),
                "actions": reply.actions,
            }),
        },
        handoff,
        unanswered_lang,
        route: None,
        email_ask: None,
    }
}

/// A human's reply from the console; the visitor sees it live.
pub async fn human_message(state: &Engine, conversation_id: i64, user_id: i64, text: String) -> Result<Message> {
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
pub async fn reassign(state: &Engine, conversation_id: i64, to: Assignee, by_user: i64) -> Result<Conversation> {
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
    state: &Engine,
    conversation_id: i64,
    status: ConversationStatus,
    user_id: i64,
) -> Result<Conversation> {
    let reason = match status {
        ConversationStatus::Closed => "closed by a human",
        ConversationStatus::Open => "reopened by a human",
    };
    set_status(state, conversation_id, status, Some(user_id), reason).await
}

pub async fn set_status(
    state: &Engine,
    conversation_id: i64,
    status: ConversationStatus,
    by_user: Option<i64>,
    reason: &str,
) -> Result<Conversation> {
    Ok(state
        .store
        .set_status(StatusChange { conversation_id, status, actor_user_id: by_user, reason: reason.to_owned() })
        .await?)
}
