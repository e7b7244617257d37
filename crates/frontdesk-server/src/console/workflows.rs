//! Workflows (E5, E9) from the console: the list with enable/disable, a
//! workflow edited as JSON (validated by the API's rules, errors named by
//! field), a dry run against a sample ticket, the built-in template.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use frontdesk_core::permissions::Permission as P;
use frontdesk_core::workflow::TicketFacts;
use serde::Deserialize;

use super::{can, is_form_error, or_redo, page, see_other, status_of, ConsoleForm, FlashQuery, Layout, Section};
use crate::auth::Authed;
use crate::error::{ApiError, ApiQuery, ApiResult};
use crate::state::AppState;
use frontdesk_engine::service::workflows::{test_workflow, WorkflowInput};

struct Row {
    id: i64,
    name: String,
    enabled: bool,
    rules: usize,
}

#[derive(Template)]
#[template(path = "workflows.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    json: String,
    can_edit: bool,
}

#[derive(Template)]
#[template(path = "workflow.html")]
struct EditPage {
    layout: Layout,
    id: i64,
    name: String,
    json: String,
    facts: String,
    result: Option<String>,
    can_edit: bool,
}

const EXAMPLE: &str = r#"{
  "name": "Italian to the Italian team",
  "enabled": true,
  "rules": [
    {"conditions": [{"type": "language_is", "languages": ["it"]}],
     "actions": [{"type": "assign", "user_ids": [], "team_ids": [1]}, {"type": "set_priority", "priority": "high"}]}
  ]
}"#;

const SAMPLE_FACTS: &str = r#"{"channel": "live_chat", "language": "it", "trigger": "visitor_asked", "text": "Vorrei un rimborso", "contact": {}, "inside_business_hours": true, "priority": "normal"}"#;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct JsonForm {
    json: String,
    facts: String,
}

fn parse_input(json: &str) -> Result<WorkflowInput, ApiError> {
    serde_json::from_str(json).map_err(|e| ApiError::invalid_field("workflow", format!("is not a valid workflow: {e}")))
}

async fn render_list(
    state: &AppState,
    authed: &Authed,
    status: StatusCode,
    flash: Option<&str>,
    error: Option<String>,
    json: String,
) -> ApiResult<Response> {
    let rows = state
        .store
        .list_workflows()
        .await?
        .into_iter()
        .map(|w| Row {
            id: w.workflow.id,
            name: w.workflow.name,
            enabled: w.workflow.enabled,
            rules: w.workflow.rules.len(),
        })
        .collect();
    let layout = Layout::new(authed, Section::Workflows, "Workflows", "/console/workflows").flash(flash).error(error);
    page(status, &ListPage { layout, rows, json, can_edit: can(authed, P::EditAgent) })
}

pub(crate) async fn list_page(
    State(state): State<AppState>,
    authed: Authed,
    ApiQuery(q): ApiQuery<FlashQuery>,
) -> ApiResult<Response> {
    render_list(&state, &authed, StatusCode::OK, q.flash.as_deref(), None, EXAMPLE.to_owned()).await
}

pub(crate) async fn create(
    State(state): State<AppState>,
    authed: Authed,
    ConsoleForm(f): ConsoleForm<JsonForm>,
) -> ApiResult<Response> {
    let result = async {
        let w = parse_input(&f.json)?.parse(&state).await?;
        Ok::<_, ApiError>(state.store.create_workflow(&authed.actor(), w).await?)
    }
    .await;
    or_redo(result.map(|w| see_other(&format!("/console/workflows/{}?flash=created", w.workflow.id))), |e| {
        render_list(&state, &authed, status_of(&e), None, Some(e.message), f.json)
    })
    .await
}

pub(crate) async fn create_template(State(state): State<AppState>, authed: Authed) -> ApiResult<Response> {
    // One rule per channel, rotating among every user with a paid seat (edit it after).
    let users: Vec<i64> =
        state.store.list_users().await?.into_iter().filter(|u| u.paid_seat && !u.disabled).map(|u| u.id).collect();
    let w = frontdesk_core::workflow::reassign_for_agent_handoff(&[(frontdesk_core::model::Channel::LiveChat, users)]);
    let row = state.store.create_workflow(&authed.actor(), w).await?;
    Ok(see_other(&format!("/console/workflows/{}?flash=created", row.workflow.id)))
}

/// What the edit page shows besides the stored workflow.
struct EditView {
    /// The definition being edited (default: the stored one).
    json: Option<String>,
    facts: String,
    result: Option<String>,
    /// A flash key (`saved`, `created`).
    flash: Option<String>,
    error: Option<String>,
}

impl EditView {
    fn new(facts: String) -> Self {
        EditView { json: None, facts, result: None, flash: None, error: None }
    }
}

async fn render_edit(
    state: &AppState,
    authed: &Authed,
    id: i64,
    status: StatusCode,
    v: EditView,
) -> ApiResult<Response> {
    let row = state.store.get_workflow(id).await?;
    let json = v.json.unwrap_or_else(|| {
        serde_json::to_string_pretty(
            &serde_json::json!({"name": row.workflow.name, "enabled": row.workflow.enabled, "rules": row.workflow.rules}),
        )
        .unwrap_or_default()
    });
    let layout = Layout::new(authed, Section::Workflows, "Workflow", format!("/console/workflows/{id}"))
        .flash(v.flash.as_deref())
        .error(v.error);
    page(
        status,
        &EditPage {
            layout,
            id,
            name: row.workflow.name,
            json,
            facts: v.facts,
            result: v.result,
            can_edit: can(authed, P::EditAgent),
        },
    )
}

pub(crate) async fn edit_page(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<FlashQuery>,
) -> ApiResult<Response> {
    render_edit(
        &state,
        &authed,
        id,
        StatusCode::OK,
        EditView { flash: q.flash, ..EditView::new(SAMPLE_FACTS.to_owned()) },
    )
    .await
}

pub(crate) async fn update(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ConsoleForm(f): ConsoleForm<JsonForm>,
) -> ApiResult<Response> {
    let result = async {
        let w = parse_input(&f.json)?.parse(&state).await?;
        Ok::<_, ApiError>(state.store.update_workflow(&authed.actor(), id, w).await?)
    }
    .await;
    or_redo(result.map(|_| see_other(&format!("/console/workflows/{id}?flash=saved"))), |e| async move {
        let status = status_of(&e);
        let v = EditView { json: Some(f.json), error: Some(e.message), ..EditView::new(SAMPLE_FACTS.to_owned()) };
        render_edit(&state, &authed, id, status, v).await
    })
    .await
}

/// Dry run: what the saved workflow would do with the sample ticket.
pub(crate) async fn test(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ConsoleForm(f): ConsoleForm<JsonForm>,
) -> ApiResult<Response> {
    let row = state.store.get_workflow(id).await?;
    let outcome = match serde_json::from_str::<TicketFacts>(&f.facts) {
        Ok(facts) => test_workflow(&state, &row.workflow, &facts)
            .await
            .map_err(ApiError::from)
            .map(|v| serde_json::to_string_pretty(&v).unwrap_or_default()),
        Err(e) => Err(ApiError::invalid_field("facts", format!("is not a sample ticket: {e}"))),
    };
    match outcome {
        Ok(result) => {
            render_edit(
                &state,
                &authed,
                id,
                StatusCode::OK,
                EditView { result: Some(result), ..EditView::new(f.facts) },
            )
            .await
        }
        Err(e) if is_form_error(&e) => {
            render_edit(
                &state,
                &authed,
                id,
                status_of(&e),
                EditView { error: Some(e.message), ..EditView::new(f.facts) },
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub(crate) async fn toggle(State(state): State<AppState>, authed: Authed, Path(id): Path<i64>) -> ApiResult<Response> {
    let mut w = state.store.get_workflow(id).await?.workflow;
    w.enabled = !w.enabled;
    state.store.update_workflow(&authed.actor(), id, w).await?;
    Ok(see_other("/console/workflows?flash=saved"))
}

pub(crate) async fn delete(State(state): State<AppState>, authed: Authed, Path(id): Path<i64>) -> ApiResult<Response> {
    let deleted = state.store.delete_workflow(&authed.actor(), id).await.map_err(ApiError::from);
    or_redo(deleted.map(|_| see_other("/console/workflows?flash=deleted")), |e| {
        render_list(&state, &authed, status_of(&e), None, Some(e.message), EXAMPLE.to_owned())
    })
    .await
}
