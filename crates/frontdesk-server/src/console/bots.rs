//! Rule-based chatbots (C5) from the console: the list with enable/disable
//! and delete, a bot edited as JSON (validated by the API's rules: steps,
//! CRM properties and teams, errors named by field), and a flow outline so a
//! team can read the steps without reading JSON.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use frontdesk_core::bot::{Bot, StepKind};
use frontdesk_core::permissions::Permission as P;
use serde::Deserialize;

use super::{can, or_redo, page, see_other, status_of, ConsoleForm, FlashQuery, Layout, Section};
use crate::auth::Authed;
use crate::error::{ApiError, ApiQuery, ApiResult};
use crate::state::AppState;
use frontdesk_engine::service::bots::BotInput;

struct Row {
    id: i64,
    name: String,
    channel: &'static str,
    enabled: bool,
    steps: usize,
}

#[derive(Template)]
#[template(path = "bots.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    json: String,
    can_edit: bool,
}

#[derive(Template)]
#[template(path = "bot.html")]
struct EditPage {
    layout: Layout,
    id: i64,
    name: String,
    json: String,
    outline: Vec<String>,
    can_edit: bool,
}

const EXAMPLE: &str = r#"{
  "name": "Welcome",
  "channel": "live_chat",
  "enabled": true,
  "start": "hello",
  "steps": [
    {"id": "hello", "type": "message", "text": "Hi! Two quick questions first.", "next": "email"},
    {"id": "email", "type": "ask", "question": "What is your email?", "property": "email", "next": "agent"},
    {"id": "agent", "type": "to_agent"}
  ]
}"#;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct JsonForm {
    json: String,
}

fn parse_input(json: &str) -> Result<BotInput, ApiError> {
    serde_json::from_str(json).map_err(|e| ApiError::invalid_field("bot", format!("is not a valid bot: {e}")))
}

/// One line per step, in the order they are defined.
fn outline(bot: &Bot) -> Vec<String> {
    bot.steps
        .iter()
        .map(|s| {
            let start = if s.id == bot.start { " (start)" } else { "" };
            let what = match &s.kind {
                StepKind::Message { text, next } => format!("send “{text}”, then {next}"),
                StepKind::Ask { question, property, next } => {
                    format!("ask “{question}”, save to {property}, then {next}")
                }
                StepKind::Branch { property, cases, default } => {
                    let cases: Vec<String> = cases.iter().map(|c| format!("“{}” → {}", c.value, c.next)).collect();
                    format!("branch on {property}: {}; otherwise {default}", cases.join(", "))
                }
                StepKind::ToAgent => "hand to the AI agent".to_owned(),
                StepKind::ToTeam { team_id } => format!("hand to team #{team_id}"),
                StepKind::End { text } if text.is_empty() => "end".to_owned(),
                StepKind::End { text } => format!("end with “{text}”"),
            };
            format!("{}{start}: {what}", s.id)
        })
        .collect()
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
        .list_bots()
        .await?
        .into_iter()
        .map(|b| Row {
            id: b.bot.id,
            name: b.bot.name,
            channel: b.bot.channel.as_str(),
            enabled: b.bot.enabled,
            steps: b.bot.steps.len(),
        })
        .collect();
    let layout = Layout::new(authed, Section::Bots, "Bots", "/console/bots").flash(flash).error(error);
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
        let b = parse_input(&f.json)?.parse(&state).await?;
        Ok::<_, ApiError>(state.store.create_bot(&authed.actor(), b).await?)
    }
    .await;
    or_redo(result.map(|b| see_other(&format!("/console/bots/{}?flash=created", b.bot.id))), |e| {
        render_list(&state, &authed, status_of(&e), None, Some(e.message), f.json)
    })
    .await
}

async fn render_edit(
    state: &AppState,
    authed: &Authed,
    id: i64,
    status: StatusCode,
    json: Option<String>,
    flash: Option<&str>,
    error: Option<String>,
) -> ApiResult<Response> {
    let row = state.store.get_bot(id).await?;
    let b = &row.bot;
    let json = json.unwrap_or_else(|| {
        serde_json::to_string_pretty(&serde_json::json!({
            "name": b.name, "channel": b.channel, "enabled": b.enabled, "start": b.start, "steps": b.steps,
        }))
        .unwrap_or_default()
    });
    let layout = Layout::new(authed, Section::Bots, "Bot", format!("/console/bots/{id}")).flash(flash).error(error);
    page(
        status,
        &EditPage { layout, id, name: b.name.clone(), json, outline: outline(b), can_edit: can(authed, P::EditAgent) },
    )
}

pub(crate) async fn edit_page(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<FlashQuery>,
) -> ApiResult<Response> {
    render_edit(&state, &authed, id, StatusCode::OK, None, q.flash.as_deref(), None).await
}

pub(crate) async fn update(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ConsoleForm(f): ConsoleForm<JsonForm>,
) -> ApiResult<Response> {
    let result = async {
        let b = parse_input(&f.json)?.parse(&state).await?;
        Ok::<_, ApiError>(state.store.update_bot(&authed.actor(), id, b).await?)
    }
    .await;
    or_redo(result.map(|_| see_other(&format!("/console/bots/{id}?flash=saved"))), |e| {
        render_edit(&state, &authed, id, status_of(&e), Some(f.json), None, Some(e.message))
    })
    .await
}

pub(crate) async fn toggle(State(state): State<AppState>, authed: Authed, Path(id): Path<i64>) -> ApiResult<Response> {
    let mut b = state.store.get_bot(id).await?.bot;
    b.enabled = !b.enabled;
    // Enabling a second bot on a channel is refused: say so on the list.
    let saved = state.store.update_bot(&authed.actor(), id, b).await.map_err(ApiError::from);
    or_redo(saved.map(|_| see_other("/console/bots?flash=saved")), |e| {
        render_list(&state, &authed, status_of(&e), None, Some(e.message), EXAMPLE.to_owned())
    })
    .await
}

pub(crate) async fn delete(State(state): State<AppState>, authed: Authed, Path(id): Path<i64>) -> ApiResult<Response> {
    state.store.delete_bot(&authed.actor(), id).await?;
    Ok(see_other("/console/bots?flash=deleted"))
}
