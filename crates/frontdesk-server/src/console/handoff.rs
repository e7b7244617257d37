//! The handoff settings page (E3–E7): process, who receives conversations,
//! the messages per language, what happens when nobody can take a chat.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use frontdesk_core::lang::Lang;
use frontdesk_core::permissions::Permission as P;
use frontdesk_core::routing::{HandoffMessage, HandoffProcess, WhenUnassigned};
use frontdesk_store::HandoffSettings;

use super::{can, ids_of, or_redo, page, see_other, status_of, ConsoleForm, FlashQuery, Layout, Section};
use crate::auth::Authed;
use crate::error::{ApiQuery, ApiResult};
use crate::state::AppState;
use frontdesk_engine::service::handoff::{HandoffInput, LangText};

struct Pick {
    id: i64,
    label: String,
    checked: bool,
}

struct MessageRow {
    /// e.g. `team_available_it`
    name: String,
    label: String,
    value: String,
    placeholder: String,
}

#[derive(Template)]
#[template(path = "handoff.html")]
struct HandoffPage {
    layout: Layout,
    process: &'static str,
    destination: String,
    keep_open: bool,
    users: Vec<Pick>,
    teams: Vec<Pick>,
    messages: Vec<MessageRow>,
    /// "Assign by conditions": the workflows to choose from.
    workflows: Vec<Pick>,
    can_edit: bool,
}

const KINDS: [(HandoffMessage, &str, &str); 3] = [
    (HandoffMessage::TeamAvailable, "team_available", "Team available"),
    (HandoffMessage::TeamUnavailable, "team_unavailable", "Team unavailable"),
    (HandoffMessage::Unassigned, "unassigned", "Left unassigned"),
];

async fn render(
    state: &AppState,
    authed: &Authed,
    s: &HandoffSettings,
    status: StatusCode,
    flash: Option<&str>,
    error: Option<String>,
) -> ApiResult<Response> {
    let users = state
        .store
        .list_users()
        .await?
        .into_iter()
        .filter(|u| u.paid_seat && !u.disabled)
        .map(|u| Pick { id: u.id, label: format!("{} ({})", u.name, u.email), checked: s.user_ids.contains(&u.id) })
        .collect();
    let teams = state
        .store
        .list_teams()
        .await?
        .into_iter()
        .map(|t| Pick { id: t.id, label: t.name, checked: s.team_ids.contains(&t.id) })
        .collect();
    let mut messages = Vec::new();
    for (which, key, label) in KINDS {
        for l in Lang::ALL {
            messages.push(MessageRow {
                name: format!("{key}_{}", l.code()),
                label: format!("{label} — {}", l.code()),
                value: s.messages.custom(which, l).unwrap_or_default(),
                placeholder: s.messages.text(which, l, s.process),
            });
        }
    }
    let workflows = state
        .store
        .list_workflows()
        .await?
        .into_iter()
        .map(|w| Pick { id: w.workflow.id, label: w.workflow.name, checked: s.workflow_id == Some(w.workflow.id) })
        .collect();
    let layout = Layout::new(authed, Section::Handoff, "Handoff", "/console/handoff").flash(flash).error(error);
    page(
        status,
        &HandoffPage {
            layout,
            process: match s.process {
                HandoffProcess::Live => "live",
                HandoffProcess::Async => "async",
                HandoffProcess::None => "none",
            },
            destination: if s.destination.is_empty() { "live_chat".into() } else { s.destination.clone() },
            keep_open: s.when_unassigned == WhenUnassigned::KeepOpen,
            users,
            teams,
            messages,
            workflows,
            can_edit: can(authed, P::EditAgent),
        },
    )
}

pub(crate) async fn handoff_page(
    State(state): State<AppState>,
    authed: Authed,
    ApiQuery(q): ApiQuery<FlashQuery>,
) -> ApiResult<Response> {
    let s = state.store.handoff_settings().await?;
    render(&state, &authed, &s, StatusCode::OK, q.flash.as_deref(), None).await
}

/// The form posts checkboxes (`user_ids`, `team_ids`) and one text per
/// message and language, so it is read as key/value pairs.
pub(crate) async fn save_handoff(
    State(state): State<AppState>,
    authed: Authed,
    ConsoleForm(pairs): ConsoleForm<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let current = state.store.handoff_settings().await?;
    let result = async {
        let texts = |key: &str| {
            Lang::ALL
                .iter()
                .filter_map(|l| {
                    get(&format!("{key}_{}", l.code())).map(|t| LangText { lang: l.code().into(), text: t })
                })
                .collect::<Vec<_>>()
        };
        let input = HandoffInput {
            process: get("process"),
            destination: get("destination"),
            user_ids: Some(ids_of(&pairs, "user_ids")?),
            team_ids: Some(ids_of(&pairs, "team_ids")?),
            team_available: Some(texts("team_available")),
            team_unavailable: Some(texts("team_unavailable")),
            unassigned: Some(texts("unassigned")),
            when_unassigned: get("when_unassigned"),
            // Empty: same routing for all; an id: assign by conditions (E5).
            workflow_id: match get("workflow_id").as_deref().map(str::trim) {
                None => None,
                Some("") => Some(None),
                Some(v) => Some(Some(v.parse::<i64>().map_err(|_| {
                    crate::error::ApiError::invalid_field("workflow_id", format!("'{v}' is not a workflow id"))
                })?)),
            },
        };
        let next = input.apply(&state, current.clone()).await?;
        state.store.set_handoff_settings(&authed.actor(), next).await?;
        Ok(see_other("/console/handoff?flash=saved"))
    }
    .await;
    or_redo(result, |e| render(&state, &authed, &current, status_of(&e), None, Some(e.message))).await
}
