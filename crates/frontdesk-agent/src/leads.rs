//! Lead qualification (F3) around a reply. `respond` calls [`start`] after
//! the visitor's details are stored and [`finish`] on the drafted reply;
//! the engine routes a qualified lead (`handoff::prepare_route`).
//!
//! - [`start`]: when qualification is on and the conversation has a
//!   contact, a bare answer to the question the agent asked last ("11-50"
//!   after "how many people are on your team?") is validated against that
//!   criterion's CRM field and stored as the agent (one `contact_updated`
//!   event); the reply to it is then "Thanks, noted." instead of a draft.
//! - [`finish`]: on an answer (never on a handoff or a decline) the next
//!   unanswered question is appended, at most once per turn and not twice in
//!   a row; once every criterion is answered the lead is scored: qualified →
//!   handed off to the sales team with the summary; unqualified → recorded,
//!   no handoff. The lead row is recorded in every case.

use frontdesk_core::lang::Lang;
use frontdesk_core::leads::{self, LeadSettings};
use frontdesk_core::model::{Author, HandoffTrigger};
use frontdesk_core::responder::{Outcome, Reply, Trace};
use frontdesk_store::{contact_values, ContactActor, ContactTarget, ContactUpdate, LeadRecord, LeadStatus, StoreError};
use serde_json::Value;

use crate::respond::Ask;
use crate::snapshot::AgentSnapshot;
use crate::Context;

/// What the lead step knows during one turn.
#[derive(Debug, Clone)]
pub struct LeadTurn {
    settings: LeadSettings,
    conversation_id: i64,
    contact_id: i64,
    /// The contact's values (columns and properties) after this message.
    values: Value,
    /// The criterion this message answered, when it was a bare answer.
    pub answered: Option<String>,
    /// The text of the agent's previous message.
    last_agent: String,
}

/// Loads the settings and the contact; stores a bare answer to the
/// question asked last. `None` when qualification is off, there is no
/// conversation or no contact, or the lead is already decided.
pub async fn start(cx: &Context, agent: &AgentSnapshot, ask: &Ask, trace: &mut Trace) -> Option<LeadTurn> {
    let conversation_id = ask.conversation_id?;
    if !agent.leads_enabled {
        return None;
    }
    let settings = match cx.store.lead_settings().await {
        Ok(s) if s.enabled && !s.criteria.is_empty() => s,
        Ok(_) => return None,
        Err(e) => {
            trace.notes.push(format!("lead qualification: could not read the settings: {e}"));
            return None;
        }
    };
    if let Ok(Some(lead)) = cx.store.get_lead(conversation_id).await {
        if lead.status != LeadStatus::InProgress {
            return None;
        }
    }
    let mut contact = cx.store.contact_for_conversation(conversation_id).await.ok()??;
    let last_agent =
        ask.history.iter().rev().find(|(a, _)| *a == Author::Agent).map(|(_, t)| t.clone()).unwrap_or_default();
    let mut answered = None;
    let asked =
        settings.asked_in(&last_agent).filter(|c| leads::answer_of(&contact_values(&contact), &c.property).is_none());
    if let Some(c) = asked {
        let field = agent.tools.crm_fields.iter().find(|f| f.key == c.property && f.agent_write);
        let human = frontdesk_core::handoff::asks_for_human(&ask.text)
            || frontdesk_core::guard::custom_trigger(&ask.text, &agent.profile.handoff_phrases).is_some();
        match field.and_then(|f| (!human).then(|| leads::bare_answer(f, &ask.text)).flatten()) {
            Some(value) => {
                let update = ContactUpdate {
                    target: ContactTarget::Conversation(conversation_id),
                    changes: vec![(c.property.clone(), Some(value.clone()))],
                    actor: ContactActor::Agent,
                    conversation_id: Some(conversation_id),
                };
                match cx.store.update_contact_properties(update).await {
                    Ok((updated, _)) => {
                        trace.notes.push(format!(
                            "lead qualification: the message answers the question asked for {:?}: stored {value:?}",
                            c.property
                        ));
                        contact = updated;
                        answered = Some(c.property.clone());
                    }
                    Err(StoreError::Conflict(m)) => {
                        trace.notes.push(format!("lead qualification: the answer was not stored: {m}"))
                    }
                    Err(e) => trace.notes.push(format!("lead qualification: could not store the answer: {e}")),
                }
            }
            None => trace.notes.push(format!(
                "lead qualification: the message is not an answer to the question asked for {:?}",
                c.property
            )),
        }
    }
    Some(LeadTurn {
        conversation_id,
        contact_id: contact.id,
        values: contact_values(&contact),
        settings,
        answered,
        last_agent,
    })
}

/// The reply to a bare answer, before the next question or the decision.
pub fn noted(lang: Lang, trace: &mut Trace) -> Reply {
    let mut trace = std::mem::take(trace);
    trace.decision = "the message answers the lead qualification question asked last".into();
    Reply {
        text: leads::noted(lang).to_owned(),
        citations: vec![],
        actions: vec![],
        confidence: 1.0,
        outcome: Outcome::SmallTalk,
        trace,
    }
}

/// Asks the next question, or scores the answered lead (see the module).
pub async fn finish(cx: &Context, turn: LeadTurn, lang: Lang, draft: &mut Reply) {
    let acknowledged = turn.answered.is_some();
    let takes_question = match draft.outcome {
        Outcome::Answered => true,
        Outcome::SmallTalk => acknowledged,
        _ => false,
    };
    if !takes_question {
        draft.trace.notes.push("lead qualification: nothing asked on a handoff or a decline".into());
        return;
    }
    let s = leads::score(&turn.settings, &turn.values);
    let summary = leads::summary(&turn.settings, &turn.values);
    let status = if !s.answered_all {
        LeadStatus::InProgress
    } else if s.qualified {
        LeadStatus::Qualified
    } else {
        LeadStatus::Unqualified
    };
    match status {
        LeadStatus::InProgress => {
            let Some(next) = leads::next_question(&turn.settings, &turn.values, lang) else { return };
            if !acknowledged && turn.settings.asked_in(&turn.last_agent) == Some(next.criterion) {
                draft.trace.notes.push(format!(
                    "lead qualification: {:?} was asked in the previous reply; not asked again in a row",
                    next.criterion.property
                ));
                return;
            }
            draft.text = format!("{} {}", without_closing_question(&draft.text), leads::by_the_way(lang, &next.text));
            draft.trace.notes.push(format!(
                "lead qualification: asked criterion {} of {} ({:?})",
                next.index + 1,
                turn.settings.criteria.len(),
                next.criterion.property
            ));
        }
        LeadStatus::Qualified => {
            let team = turn.settings.sales_team_id.map_or("none set".to_owned(), |t| format!("#{t}"));
            draft.text = if acknowledged {
                leads::to_sales(lang).to_owned()
            } else {
                format!("{} {}", draft.text.trim_end(), leads::to_sales(lang))
            };
            draft.outcome = Outcome::Handoff(HandoffTrigger::QualifiedLead);
            draft.trace.decision = format!(
                "{}; the lead is qualified (score {}/100, from {}): handed off to the sales team ({team})",
                draft.trace.decision, s.score, turn.settings.qualify_score
            );
            draft.trace.notes.push(format!("lead summary for the sales team: {summary}"));
        }
        LeadStatus::Unqualified => {
            if acknowledged {
                draft.text = leads::thanks(lang).to_owned();
            }
            draft.trace.notes.push(format!(
                "lead qualification: not qualified (score {}/100, qualifies from {}): recorded, no handoff",
                s.score, turn.settings.qualify_score
            ));
        }
    }
    let record = LeadRecord {
        conversation_id: turn.conversation_id,
        contact_id: Some(turn.contact_id),
        score: i64::from(s.score),
        qualified: s.qualified,
        status,
        summary,
    };
    if let Err(e) = cx.store.record_lead(record).await {
        tracing::warn!(error = %e, conversation_id = turn.conversation_id, "could not record the lead");
        draft.trace.notes.push(format!("lead qualification: could not record the lead: {e}"));
    }
}

/// The answer without the voice's closing question ("Anything else I can
/// help with?"): one question at the end is enough.
fn without_closing_question(text: &str) -> &str {
    let text = text.trim_end();
    match text.rsplit_once("\n\n") {
        Some((body, last)) if last.trim_end().ends_with('?') && last.chars().count() <= 80 => body.trim_end(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_closing_question_gives_way() {
        let t = "Happy to help! The Pro plan costs 12 euros.\n\nAnything else I can help with?";
        assert_eq!(super::without_closing_question(t), "Happy to help! The Pro plan costs 12 euros.");
        assert_eq!(super::without_closing_question("It costs 12 euros."), "It costs 12 euros.");
    }
}
