//! The conversation engine: a visitor's message goes in; the agent answers,
//! or the conversation goes to humans. Handlers call this; it calls the
//! responder (pure) and the store, and wakes the live streams.

use frontdesk_core::lang::{detect, Lang};
use frontdesk_core::model::{AssignCause, AssigneeKind, Author, Channel, ConversationStatus};
use frontdesk_core::responder::{Outcome, Question};
use frontdesk_store::{
    AssignChange, Assignee, Conversation, Message, NewContact, NewConversation, NewMessage, StatusChange,
};
use serde_json::json;

use crate::auth::{random_token, token_hash};
use crate::error::ApiResult;
use crate::state::{persona, AppState};

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
    let profile = state.store.agent_profile().await?;
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

/// Handles a visitor's message: stores it, and if the agent owns the
/// conversation, answers or hands off. Returns the visitor's message.
pub async fn visitor_message(state: &AppState, conversation: &Conversation, text: String) -> ApiResult<Message> {
    let visitor = store_message(
        state,
        NewMessage {
            conversation_id: conversation.id,
            author: Author::Visitor,
            user_id: None,
            text: text.clone(),
            citations: vec![],
            trace: None,
            event_data: json!({}),
        },
    )
    .await?;
    // A closed conversation that the visitor reopens stays with its assignee;
    // the agent answers only conversations it owns.
    if conversation.assignee_kind == AssigneeKind::Agent {
        agent_turn(state, conversation.id, &visitor, &text).await?;
    }
    Ok(visitor)
}

async fn agent_turn(state: &AppState, conversation_id: i64, visitor: &Message, text: &str) -> ApiResult<()> {
    let profile = state.store.agent_profile().await?;
    let (responder, uncited) = state.responder().await?;
    let question = Question { text: text.to_owned(), persona: persona(&profile) };
    let reply = responder.reply(&question);
    let used = reply.citations.clone();
    // Sources whose citations are off are used but not shown (B7).
    let shown: Vec<_> = reply
        .citations
        .iter()
        .filter(|c| !(c.source_kind == "short_answer" && uncited.contains(&c.source_id)))
        .cloned()
        .collect();
    let outcome_label = match reply.outcome {
        Outcome::Answered => "answered",
        Outcome::SmallTalk => "small_talk",
        Outcome::Handoff(_) => "handoff",
    };
    state.metrics.agent_replies.with_label_values(&[outcome_label]).inc();
    let trace = serde_json::to_value(&reply.trace).ok();
    let agent_msg = store_message(
        state,
        NewMessage {
            conversation_id,
            author: Author::Agent,
            user_id: None,
            text: reply.text.clone(),
            citations: shown,
            trace,
            event_data: json!({
                "outcome": reply.outcome,
                "confidence": reply.confidence,
                "cited": !used.is_empty(),
                "sources": used.iter().map(|c| json!({"kind": c.source_kind, "id": c.source_id})).collect::<Vec<_>>(),
                "actions": reply.actions,
                "in_reply_to": visitor.id,
            }),
        },
    )
    .await?;
    if let Outcome::Handoff(trigger) = reply.outcome {
        if trigger == frontdesk_core::model::HandoffTrigger::CannotAnswer {
            let lang = detect(text, Lang::from_code(&profile.default_lang).unwrap_or(Lang::En));
            state.store.record_unanswered(conversation_id, visitor.id, text, lang.code()).await?;
        }
        state
            .store
            .assign(AssignChange {
                conversation_id,
                to: Assignee::Nobody,
                cause: AssignCause::Agent,
                actor_user_id: None,
                handoff: Some(trigger),
            })
            .await?;
        state.metrics.handoffs.with_label_values(&[trigger.as_str()]).inc();
        tracing::info!(conversation_id, trigger = %trigger, message_id = agent_msg.id, "handed off to humans");
    }
    Ok(())
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
