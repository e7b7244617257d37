//! Handoff to humans (E3–E8) around a turn: the route the turn's
//! transaction applies (process, the people it names), and the message the
//! visitor sees (team available / unavailable / async follow-up, E6).

use frontdesk_core::lang::Lang;
use frontdesk_core::model::HandoffTrigger;
use frontdesk_core::routing::{route_members, HandoffMessage, HandoffProcess};
use frontdesk_core::workflow::{self, Action, TicketFacts};
use frontdesk_store::{HandoffRoute, HandoffSettings, TurnReply, WorkflowRoute};

use crate::error::Result;
use crate::Engine;

/// Sets the route of a handing-off turn and, where the settings call for
/// it, the message the visitor sees. With the default settings (live, no
/// users named) the conversation waits in Unassigned and the responder's own
/// handoff phrase stays.
pub async fn prepare(state: &Engine, turn: &mut TurnReply, lang: Lang, question: &str) -> Result<()> {
    if turn.handoff.is_none() {
        return Ok(());
    }
    let settings = state.store.handoff_settings().await?;
    if let (Some(workflow_id), true) = (settings.workflow_id, settings.process != HandoffProcess::None) {
        return prepare_workflow(state, turn, lang, question, &settings, workflow_id).await;
    }
    let teams: Vec<(i64, Vec<i64>)> = if settings.team_ids.is_empty() {
        Vec::new()
    } else {
        state.store.list_teams().await?.into_iter().map(|t| (t.id, t.member_ids)).collect()
    };
    let members: Vec<i64> = route_members(&settings.user_ids, &teams, &settings.team_ids).into_iter().collect();
    if settings.process != HandoffProcess::None {
        let candidates = state.store.routing_candidates(&members).await?;
        let someone = match settings.process {
            HandoffProcess::Async => candidates.iter().any(|c| c.paid_seat && !c.disabled),
            _ => candidates.iter().any(|c| c.eligible()),
        };
        let which = if someone { HandoffMessage::TeamAvailable } else { HandoffMessage::TeamUnavailable };
        let text = match settings.messages.custom(which, lang) {
            Some(own) => Some(own),
            None if settings.process == HandoffProcess::Async && someone => {
                Some(settings.messages.text(which, lang, settings.process))
            }
            None if !someone && !members.is_empty() => Some(settings.messages.text(which, lang, settings.process)),
            None => None,
        };
        if let Some(t) = text {
            turn.message.text = t;
        }
    }
    turn.route = Some(HandoffRoute {
        process: settings.process,
        members,
        when_unassigned: settings.when_unassigned,
        workflow: None,
    });
    Ok(())
}

/// What a workflow knows about the ticket a handoff creates (E5): the
/// conversation's channel, the visitor's language and text, the trigger, the
/// contact (columns and properties) and whether the channel is inside its
/// working hours now.
pub async fn ticket_facts(state: &Engine, turn: &TurnReply, lang: Lang, question: &str) -> Result<TicketFacts> {
    let conversation_id = turn.message.conversation_id;
    let conversation = state.store.get_conversation(conversation_id).await?;
    let mut contact = serde_json::Map::new();
    if let Some(c) = state.store.contact_for_conversation(conversation_id).await? {
        if let serde_json::Value::Object(props) = c.properties {
            contact.extend(props);
        }
        for (k, v) in [("email", c.email), ("name", c.name), ("phone", c.phone)] {
            if let Some(v) = v {
                contact.insert(k.to_owned(), serde_json::Value::String(v));
            }
        }
    }
    let agent = state.agent.snapshot().await?;
    Ok(TicketFacts {
        channel: Some(conversation.channel),
        language: lang.code().to_owned(),
        trigger: turn.handoff,
        text: question.to_owned(),
        contact,
        inside_business_hours: frontdesk_agent::snapshot::agent_on_duty(
            &agent,
            conversation.channel,
            jiff::Timestamp::now(),
        ),
        priority: Default::default(),
    })
}

/// The users an action assigns among (team members included).
pub async fn members_of(state: &Engine, action: &Action) -> Result<Vec<i64>> {
    let teams: Vec<(i64, Vec<i64>)> = match action {
        Action::Assign { team_ids, .. } if !team_ids.is_empty() => {
            state.store.list_teams().await?.into_iter().map(|t| (t.id, t.member_ids)).collect()
        }
        _ => Vec::new(),
    };
    Ok(workflow::assign_candidates(action, &teams))
}

/// Assign by conditions (E5): the handoff creates a ticket in the help desk
/// and the workflow's first matching rule acts on it in the turn's
/// transaction. No rule matching, or an assignment finding nobody, leaves
/// the conversation unassigned and the visitor sees the "unassigned"
/// message (E6); a rule's "send a message" replaces the reply otherwise.
async fn prepare_workflow(
    state: &Engine,
    turn: &mut TurnReply,
    lang: Lang,
    question: &str,
    settings: &HandoffSettings,
    workflow_id: i64,
) -> Result<()> {
    let actions = match state.store.get_workflow(workflow_id).await {
        Ok(w) => workflow::evaluate(&w.workflow, &ticket_facts(state, turn, lang, question).await?),
        Err(frontdesk_store::StoreError::NotFound(_)) => {
            tracing::warn!(workflow_id, "the handoff workflow no longer exists; the ticket stays unassigned");
            Vec::new()
        }
        Err(e) => return Err(e.into()),
    };
    let (members, someone) = match workflow::assignment(&actions) {
        Some(a @ Action::Assign { .. }) => {
            let members = members_of(state, a).await?;
            let candidates = state.store.routing_candidates(&members).await?;
            let someone = match settings.process {
                HandoffProcess::Async => candidates.iter().any(|c| c.paid_seat && !c.disabled),
                _ => candidates.iter().any(|c| c.eligible()),
            };
            (members, someone)
        }
        Some(_) => (Vec::new(), true),
        None => (Vec::new(), false),
    };
    let text = if !someone {
        Some(settings.messages.text(HandoffMessage::Unassigned, lang, settings.process))
    } else if let Some(m) = workflow::message(&actions) {
        Some(m.to_owned())
    } else {
        settings.messages.custom(HandoffMessage::TeamAvailable, lang)
    };
    if let Some(t) = text {
        turn.message.text = t;
    }
    turn.route = Some(HandoffRoute {
        process: settings.process,
        members: Vec::new(),
        when_unassigned: settings.when_unassigned,
        workflow: Some(WorkflowRoute { workflow_id, actions, members }),
    });
    Ok(())
}

/// The route of a turn: the handoff settings' route, except that a
/// qualified lead goes to the members of the sales team, asynchronously
/// (they follow up; nobody need be online), keeping the agent's message.
pub async fn prepare_route(state: &Engine, turn: &mut TurnReply, lang: Lang, question: &str) -> Result<()> {
    if turn.handoff != Some(HandoffTrigger::QualifiedLead) {
        return prepare(state, turn, lang, question).await;
    }
    let text = turn.message.text.clone();
    prepare(state, turn, lang, question).await?;
    turn.message.text = text;
    let settings = state.store.lead_settings().await?;
    let members: Vec<i64> = match settings.sales_team_id {
        Some(team) => {
            state.store.list_teams().await?.into_iter().find(|t| t.id == team).map_or(vec![], |t| t.member_ids)
        }
        None => vec![],
    };
    if let Some(route) = turn.route.as_mut() {
        route.process = HandoffProcess::Async;
        route.members = members;
    }
    Ok(())
}
