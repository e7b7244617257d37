//! Ticket-based workflows (E5, E9, C5) under `/api/v1/workflows`: ordered
//! rules with conditions and actions (`frontdesk_core::workflow`), a test
//! against a sample ticket's facts that writes nothing, and the built-in
//! template "reassign tickets for agent handoff".

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use frontdesk_core::model::Channel;
use frontdesk_core::permissions::Permission as P;
use frontdesk_core::workflow::{self, Action, Rule, TicketFacts, Workflow};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::routes::{Access, Routes};
use crate::state::AppState;

pub fn routes(r: Routes) -> Routes {
    use Access::User as U;
    r.add(Method::GET, "/api/v1/workflows", U(P::ViewAgent), list)
        .add(Method::POST, "/api/v1/workflows", U(P::EditAgent), create)
        .add(Method::POST, "/api/v1/workflows/templates/agent-handoff", U(P::EditAgent), create_template)
        .add(Method::GET, "/api/v1/workflows/{id}", U(P::ViewAgent), get_one)
        .add(Method::PUT, "/api/v1/workflows/{id}", U(P::EditAgent), update)
        .add(Method::DELETE, "/api/v1/workflows/{id}", U(P::EditAgent), delete)
        .add(Method::POST, "/api/v1/workflows/{id}/test", U(P::ViewAgent), test)
}

/// A workflow as sent: `{"name": "…", "enabled": true, "rules": [{"conditions":
/// [{"type": "language_is", "languages": ["it"]}], "actions": [{"type": "assign", "team_ids": [3]}]}]}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowInput {
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

fn yes() -> bool {
    true
}

impl WorkflowInput {
    /// The validated workflow: the rules' shape (`frontdesk_core::workflow::validate`),
    /// then the people named must exist and have a paid seat (E8), the teams must exist.
    pub async fn parse(self, state: &AppState) -> ApiResult<Workflow> {
        let mut w = Workflow { id: 0, name: self.name, enabled: self.enabled, rules: self.rules };
        workflow::validate(&mut w)?;
        check_people(state, &w).await?;
        Ok(w)
    }
}

/// Every user an assignment names exists and has a paid seat; every team exists.
pub async fn check_people(state: &AppState, w: &Workflow) -> ApiResult<()> {
    let users = state.store.list_users().await?;
    let teams = state.store.list_teams().await?;
    for (i, rule) in w.rules.iter().enumerate() {
        for (j, action) in rule.actions.iter().enumerate() {
            let Action::Assign { user_ids, team_ids } = action else { continue };
            for (k, id) in user_ids.iter().enumerate() {
                let field = format!("rules[{i}].actions[{j}].user_ids[{k}]");
                match users.iter().find(|u| u.id == *id) {
                    None => return Err(ApiError::invalid_field(&field, "there is no such user")),
                    Some(u) if !u.paid_seat => {
                        return Err(ApiError::invalid_field(
                            &field,
                            format!("{} has no paid seat: only users with a paid seat receive conversations", u.email),
                        ))
                    }
                    Some(_) => {}
                }
            }
            for (k, id) in team_ids.iter().enumerate() {
                if !teams.iter().any(|t| t.id == *id) {
                    return Err(ApiError::invalid_field(
                        &format!("rules[{i}].actions[{j}].team_ids[{k}]"),
                        "there is no such team",
                    ));
                }
            }
        }
    }
    Ok(())
}

fn id_of(id: &str) -> ApiResult<i64> {
    id.parse::<i64>().map_err(|_| ApiError::not_found("workflow"))
}

async fn list(State(state): State<AppState>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.list_workflows().await?)))
}

async fn get_one(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!(state.store.get_workflow(id_of(&id)?).await?)))
}

async fn create(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(b): ApiJson<WorkflowInput>,
) -> ApiResult<Response> {
    let w = b.parse(&state).await?;
    let row = state.store.create_workflow(&authed.actor(), w).await?;
    Ok((StatusCode::CREATED, ApiJson(json!(row))).into_response())
}

async fn update(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<WorkflowInput>,
) -> ApiResult<ApiJson<Value>> {
    let id = id_of(&id)?;
    let w = b.parse(&state).await?;
    Ok(ApiJson(json!(state.store.update_workflow(&authed.actor(), id, w).await?)))
}

async fn delete(State(state): State<AppState>, authed: Authed, Path(id): Path<String>) -> ApiResult<StatusCode> {
    state.store.delete_workflow(&authed.actor(), id_of(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What the workflow would do with a ticket with these facts; writes nothing.
pub async fn test_workflow(state: &AppState, w: &Workflow, facts: &TicketFacts) -> ApiResult<Value> {
    let rule = workflow::matching_rule(w, facts);
    let actions = workflow::evaluate(w, facts);
    let (members, would_assign) = match workflow::assignment(&actions) {
        Some(a @ Action::Assign { .. }) => {
            let members = frontdesk_engine::handoff::members_of(state, a).await?;
            let picked = frontdesk_core::routing::pick(&state.store.routing_candidates(&members).await?);
            (members, picked.map_or(json!("nobody"), |id| json!({"user_id": id})))
        }
        Some(_) => (Vec::new(), json!("agent")),
        None => (Vec::new(), json!("nobody")),
    };
    Ok(json!({
        "enabled": w.enabled,
        "matched_rule": rule,
        "actions": actions,
        "candidates": members,
        "would_assign_to": would_assign,
        "unassigned": would_assign == json!("nobody"),
    }))
}

async fn test(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(facts): ApiJson<TicketFacts>,
) -> ApiResult<ApiJson<Value>> {
    let w = state.store.get_workflow(id_of(&id)?).await?.workflow;
    Ok(ApiJson(test_workflow(&state, &w, &facts).await?))
}

/// The template's input: the users to rotate among, per source channel.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    pub users_per_channel: BTreeMap<String, Vec<i64>>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

async fn create_template(
    State(state): State<AppState>,
    authed: Authed,
    ApiJson(b): ApiJson<TemplateInput>,
) -> ApiResult<Response> {
    let mut per_channel: Vec<(Channel, Vec<i64>)> = Vec::new();
    for (channel, users) in b.users_per_channel {
        let c = Channel::parse(channel.trim()).ok_or_else(|| {
            ApiError::invalid_field(
                &format!("users_per_channel.{channel}"),
                "must be live_chat, email, whatsapp, messenger or custom",
            )
        })?;
        per_channel.push((c, users));
    }
    let mut w = workflow::reassign_for_agent_handoff(&per_channel);
    if let Some(n) = b.name {
        w.name = n;
    }
    w.enabled = b.enabled;
    if w.rules.is_empty() {
        return Err(ApiError::invalid_field("users_per_channel", "must name at least one user for one channel"));
    }
    let input = WorkflowInput { name: w.name, enabled: w.enabled, rules: w.rules };
    let w = input.parse(&state).await?;
    let row = state.store.create_workflow(&authed.actor(), w).await?;
    Ok((StatusCode::CREATED, ApiJson(json!(row))).into_response())
}
