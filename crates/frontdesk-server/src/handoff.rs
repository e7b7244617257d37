//! Handoff to humans (E3–E8) around a turn: the route the turn's
//! transaction applies (process, the people it names), and the message the
//! visitor sees (team available / unavailable / async follow-up, E6).

use frontdesk_core::lang::Lang;
use frontdesk_core::routing::{route_members, HandoffMessage, HandoffProcess};
use frontdesk_store::{HandoffRoute, TurnReply};

use crate::error::ApiResult;
use crate::state::AppState;

/// Sets the route of a handing-off turn and, where the settings call for
/// it, the message the visitor sees. With the default settings (live, no
/// users named) the conversation waits in Unassigned and the responder's own
/// handoff phrase stays.
pub async fn prepare(state: &AppState, turn: &mut TurnReply, lang: Lang) -> ApiResult<()> {
    if turn.handoff.is_none() {
        return Ok(());
    }
    let settings = state.store.handoff_settings().await?;
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
    turn.route = Some(HandoffRoute { process: settings.process, members, when_unassigned: settings.when_unassigned });
    Ok(())
}
