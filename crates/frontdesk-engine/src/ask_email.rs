//! Asking the visitor for their email (C2) inside the agent's turn: at the
//! start of a conversation, or before handing off, per channel (live chat,
//! WhatsApp, Messenger). Never asked of a known contact (one with an email).
//! The rules and phrases are pure (`frontdesk_core::ask_email`); this module
//! reads the conversation's state, saves the address to the contact, and
//! shapes the turn (the new state is stored with the reply, in its
//! transaction).

use frontdesk_core::ask_email::{self, Answer, AskState};
use frontdesk_core::lang::{detect, Lang};
use frontdesk_core::model::{AskEmail, HandoffTrigger};
use frontdesk_core::persona::Phrase;
use frontdesk_core::responder::{Outcome, Reply, Trace};
use frontdesk_store::{Conversation, TurnReply};

use crate::error::Result;
use crate::Engine;
use frontdesk_agent::snapshot::{persona, AgentSnapshot};

/// The channel's setting for this conversation.
fn mode(agent: &AgentSnapshot, conversation: &Conversation) -> AskEmail {
    agent.ask_email.get(&conversation.channel).copied().unwrap_or(AskEmail::Never)
}

async fn contact_has_email(state: &Engine, conversation: &Conversation) -> bool {
    match conversation.contact_id {
        Some(id) => state.store.get_contact(id).await.map(|c| c.email.is_some()).unwrap_or(false),
        None => false,
    }
}

/// Saves the address to the conversation's contact (created if anonymous);
/// when another contact already has it, the conversation joins that contact
/// (contacts matched across channels by email, J4).
async fn save_email(state: &Engine, conversation: &Conversation, email: &str) -> Result<()> {
    use frontdesk_store::{ContactActor, ContactTarget, ContactUpdate};
    let update = ContactUpdate {
        target: ContactTarget::Conversation(conversation.id),
        changes: vec![("email".into(), Some(email.to_owned()))],
        actor: ContactActor::Agent,
        conversation_id: Some(conversation.id),
    };
    match state.store.update_contact_properties(update).await {
        Ok(_) => Ok(()),
        Err(frontdesk_store::StoreError::Conflict(_)) => {
            let existing = state
                .store
                .upsert_contact(frontdesk_store::NewContact { email: Some(email.to_owned()), name: None, phone: None })
                .await?;
            state.store.set_conversation_contact(conversation.id, existing.id).await?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

fn small_talk(text: String, lang: Lang, note: &str) -> Reply {
    let trace = Trace {
        responder: "built_in".into(),
        language: lang.code().into(),
        notes: vec![note.into()],
        ..Trace::default()
    };
    Reply { text, citations: vec![], actions: vec![], confidence: 1.0, outcome: Outcome::SmallTalk, trace }
}

fn handoff(agent: &AgentSnapshot, lang: Lang, trigger: HandoffTrigger, prefix: Option<String>) -> Reply {
    let voice = persona(&agent.profile);
    let said = voice.say(lang, Phrase::HandoffRequested);
    let text = match prefix {
        Some(p) => format!("{p} {said}"),
        None => said,
    };
    let trace = Trace {
        responder: "built_in".into(),
        language: lang.code().into(),
        notes: vec!["handing off now that the email question is settled".into()],
        ..Trace::default()
    };
    Reply { text, citations: vec![], actions: vec![], confidence: 1.0, outcome: Outcome::Handoff(trigger), trace }
}

/// The visitor's message while the agent waits for an address: the turn to
/// store instead of a normal answer, or `None` to answer as usual (with the
/// state to store, if it changed, in the second value).
pub async fn answer(
    state: &Engine,
    agent: &AgentSnapshot,
    conversation: &Conversation,
    text: &str,
) -> Result<(Option<TurnReply>, Option<String>)> {
    let AskState::Asked { again, pending } = AskState::parse(&conversation.email_ask) else {
        return Ok((None, None));
    };
    let lang = detect(text, Lang::from_code(&agent.profile.default_lang).unwrap_or(Lang::En));
    let (reply, next) = match ask_email::read_answer(text) {
        Answer::Email(e) => {
            save_email(state, conversation, &e).await?;
            let thanks = ask_email::thanks(lang, &e);
            let reply = match pending {
                Some(t) => handoff(agent, lang, t, Some(thanks)),
                None => small_talk(thanks, lang, "the visitor gave their email"),
            };
            (reply, AskState::Done)
        }
        Answer::Invalid if !again => (
            small_talk(ask_email::ask_again(lang).into(), lang, "the email address was not valid: asked again"),
            AskState::Asked { again: true, pending },
        ),
        // Invalid twice, or no address at all: go on without it.
        _ => match pending {
            Some(t) => (handoff(agent, lang, t, None), AskState::Done),
            None => {
                let next = if again { Some(AskState::Done.as_string()) } else { None };
                return Ok((None, next));
            }
        },
    };
    let mut turn = crate::conversation::turn_reply(agent, conversation.id, text, reply);
    turn.email_ask = Some(next.as_string());
    Ok((Some(turn), None))
}

/// After the agent's answer: asks for the address when the channel's
/// setting says so and the contact has none.
pub async fn after_answer(
    state: &Engine,
    agent: &AgentSnapshot,
    conversation: &Conversation,
    lang: Lang,
    turn: &mut TurnReply,
) {
    if AskState::parse(&conversation.email_ask) != AskState::None {
        return;
    }
    let mode = mode(agent, conversation);
    let ask = matches!((mode, turn.handoff), (AskEmail::Start, _) | (AskEmail::BeforeHandoff, Some(_)));
    if !ask || contact_has_email(state, conversation).await {
        return;
    }
    match (mode, turn.handoff.take()) {
        (AskEmail::BeforeHandoff, Some(trigger)) => {
            // The handoff waits for the answer; the question replaces the handoff message.
            turn.message.text = ask_email::ask_before_handoff(lang).into();
            turn.message.event_data["outcome"] = serde_json::json!("small_talk");
            turn.message.event_data["pending_handoff"] = serde_json::json!(trigger.as_str());
            turn.unanswered_lang = None;
            turn.email_ask = Some(AskState::Asked { again: false, pending: Some(trigger) }.as_string());
        }
        (_, handoff) => {
            turn.handoff = handoff;
            turn.message.text = format!("{}\n\n{}", turn.message.text.trim_end(), ask_email::ask_at_start(lang));
            turn.email_ask = Some(AskState::Asked { again: false, pending: None }.as_string());
        }
    }
}
