//! Rule-based chatbots (C5) in front of the agent: the engine calls
//! [`start`] when a conversation is created and [`visitor_message`] before
//! the agent replies. The flow itself is pure (`core::bot`).
//!
//! - A bot runs only on conversations the agent owns when they start (agent
//!   switched on, on duty, with credits), on the channel it is deployed on
//!   (the enabled bot with the lowest id). A human taking the conversation
//!   ends the session.
//! - The session starts with the conversation, and the bot's opening (its
//!   messages up to the first question) is sent right away, so the widget
//!   shows it before the visitor writes. From then on each visitor message
//!   answers the question asked last: it is validated against the CRM field,
//!   saved to the contact (`update_contact_properties` as the agent: one
//!   `contact_updated` event), or re-asked with the validation message.
//! - The bot's messages are stored as `Author::Agent` (they show in the
//!   widget like the agent's; the event data says `"bot_id"`, outcome
//!   `"bot"`); they are not agent replies and cost no credits.
//! - Hand to the agent: the session finishes and the agent answers the
//!   visitor's following messages (the answer that led there is not sent to
//!   the agent). Hand to a team: the conversation is assigned (cause `rule`)
//!   to one of the team's members chosen by the usual routing
//!   (`core::routing::pick`; else anyone with a paid seat who is not
//!   disabled), or left unassigned when there is nobody. End: the session
//!   finishes and the conversation is closed; a later visitor message
//!   reopens it and the agent answers.
//!
//! A failing bot never blocks the chat: errors are logged and the agent
//! takes over.

use frontdesk_core::bot::{advance, BotOutcome, BotState};
use frontdesk_core::model::{AssignCause, AssigneeKind, Author, ConversationStatus};
use frontdesk_store::{
    AssignChange, Assignee, BotRow, BotSession, ContactActor, ContactTarget, ContactUpdate, Conversation, Message,
    NewMessage,
};
use serde_json::json;

use crate::error::Result;
use crate::Engine;

/// Starts the channel's bot on a new conversation the agent owns and sends
/// its opening.
pub async fn start(state: &Engine, conversation: &Conversation) {
    if conversation.assignee_kind != AssigneeKind::Agent {
        return;
    }
    if let Err(e) = start_bot(state, conversation).await {
        tracing::warn!(conversation_id = conversation.id, error = ?e, "the bot could not start");
    }
}

async fn start_bot(state: &Engine, conversation: &Conversation) -> Result<()> {
    let Some(bot) = state.store.bot_for_channel(conversation.channel).await? else {
        return Ok(());
    };
    let turn = advance(&bot.bot, BotState::start(&bot.bot), None, &[]);
    finish_turn(state, conversation, &bot, turn).await
}

/// Runs the conversation's bot on the visitor's message. `Some(message)`
/// when the bot handled it (the visitor's message is stored); `None` when
/// there is no running bot and the agent replies as usual.
pub async fn visitor_message(
    state: &Engine,
    conversation: &Conversation,
    text: &str,
    inbound: &mut Option<frontdesk_store::InboundRecord>,
) -> Result<Option<Message>> {
    if !state.agent.snapshot().await?.bots_enabled {
        return Ok(None);
    }
    let Some(mut session) = state.store.bot_session(conversation.id).await? else {
        return Ok(None);
    };
    if session.finished {
        return Ok(None);
    }
    let bot = match state.store.get_bot(session.bot_id).await {
        Ok(b) if conversation.assignee_kind == AssigneeKind::Agent && session.state.waiting => b,
        _ => {
            session.finished = true;
            state.store.save_bot_session(&session).await?;
            return Ok(None);
        }
    };
    let fields = state.store.list_crm_fields().await?;
    let turn = advance(&bot.bot, session.state.clone(), Some(text), &fields);
    let visitor = NewMessage {
        conversation_id: conversation.id,
        author: Author::Visitor,
        user_id: None,
        text: text.to_owned(),
        citations: vec![],
        trace: None,
        event_data: json!({}),
    };
    // With its channel record, so a retried delivery of it is not processed again.
    let (visitor, _) =
        state.store.append_turn(frontdesk_store::Turn { visitor, reply: None, inbound: inbound.take() }).await?;
    state.metrics.messages.with_label_values(&[Author::Visitor.as_str()]).inc();
    state.hub.notify(conversation.id, visitor.seq);
    if !turn.updates.is_empty() {
        let update = ContactUpdate {
            target: ContactTarget::Conversation(conversation.id),
            changes: turn.updates.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect(),
            actor: ContactActor::Agent,
            conversation_id: Some(conversation.id),
        };
        if let Err(e) = state.store.update_contact_properties(update).await {
            tracing::warn!(conversation_id = conversation.id, error = %e, "the bot could not save the answer");
        }
    }
    finish_turn(state, conversation, &bot, turn).await?;
    Ok(Some(visitor))
}

/// Sends the turn's messages, saves the session and acts on the outcome.
async fn finish_turn(
    state: &Engine,
    conversation: &Conversation,
    bot: &BotRow,
    turn: frontdesk_core::bot::BotTurn,
) -> Result<()> {
    for text in &turn.messages {
        let m = state
            .store
            .append_message(NewMessage {
                conversation_id: conversation.id,
                author: Author::Agent,
                user_id: None,
                text: text.clone(),
                citations: vec![],
                trace: None,
                event_data: json!({"outcome": "bot", "bot_id": bot.bot.id}),
            })
            .await?;
        state.metrics.messages.with_label_values(&[Author::Agent.as_str()]).inc();
        state.hub.notify(conversation.id, m.seq);
        state.wake_worker.notify_one();
    }
    let finished = turn.outcome != BotOutcome::Continue;
    state
        .store
        .save_bot_session(&BotSession {
            conversation_id: conversation.id,
            bot_id: bot.bot.id,
            state: turn.state,
            finished,
        })
        .await?;
    match turn.outcome {
        BotOutcome::Continue | BotOutcome::ToAgent => {}
        BotOutcome::ToTeam(team_id) => to_team(state, conversation.id, team_id).await?,
        BotOutcome::End => {
            crate::conversation::set_status(state, conversation.id, ConversationStatus::Closed, None, "the bot ended")
                .await?;
        }
    }
    Ok(())
}

/// Assigns the conversation to a member of the team by the usual routing.
async fn to_team(state: &Engine, conversation_id: i64, team_id: i64) -> Result<()> {
    let members =
        state.store.list_teams().await?.into_iter().find(|t| t.id == team_id).map(|t| t.member_ids).unwrap_or_default();
    let candidates = state.store.routing_candidates(&members).await?;
    let chosen = frontdesk_core::routing::pick(&candidates).or_else(|| {
        candidates
            .iter()
            .filter(|c| c.paid_seat && !c.disabled)
            .min_by_key(|c| (c.open_load, c.user_id))
            .map(|c| c.user_id)
    });
    let to = chosen.map(Assignee::Human).unwrap_or(Assignee::Nobody);
    state
        .store
        .assign(AssignChange { conversation_id, to, cause: AssignCause::Rule, actor_user_id: None, handoff: None })
        .await?;
    tracing::info!(conversation_id, team_id, assignee = ?chosen, "the bot handed the conversation to a team");
    Ok(())
}
