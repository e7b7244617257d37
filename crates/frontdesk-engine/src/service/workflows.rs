//! Ticket-based workflows (E5, E9, C5): a workflow as the admin API and the
//! console take it, the dry run against a sample ticket, the built-in template.

use std::collections::BTreeMap;

use frontdesk_core::model::Channel;
use frontdesk_core::workflow::{self, Action, Rule, TicketFacts, Workflow};
use frontdesk_store::{Actor, WorkflowRow};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::Engine;

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
    pub async fn parse(self, state: &Engine) -> Result<Workflow> {
        let mut w = Workflow { id: 0, name: self.name, enabled: self.enabled, rules: self.rules };
        workflow::validate(&mut w)?;
        check_people(state, &w).await?;
        Ok(w)
    }
}

/// Every user an assignment names exists and has a paid seat; every team exists.
pub async fn check_people(state: &Engine, w: &Workflow) -> Result<()> {
    let users = state.store.list_users().await?;
    let teams = state.store.list_teams().await?;
    for (i, rule) in w.rules.iter().enumerate() {
        for (j, action) in rule.actions.iter().enumerate() {
            let Action::Assign { user_ids, team_ids } = action else { continue };
            for (k, id) in user_ids.iter().enumerate() {
                let field = format!("rules[{i}].actions[{j}].user_ids[{k}]");
                match users.iter().find(|u| u.id == *id) {
                    None => return Err(Error::invalid_field(&field, "there is no such user")),
                    Some(u) if !u.paid_seat => {
                        return Err(Error::invalid_field(
                            &field,
                            format!("{} has no paid seat: only users with a paid seat receive conversations", u.email),
                        ))
                    }
                    Some(_) => {}
                }
            }
            for (k, id) in team_ids.iter().enumerate() {
                if !teams.iter().any(|t| t.id == *id) {
                    return Err(Error::invalid_field(
                        &format!("rules[{i}].actions[{j}].team_ids[{k}]"),
                        "there is no such team",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Validates and saves a new workflow (audited).
pub async fn create_workflow(state: &Engine, actor: &Actor, input: WorkflowInput) -> Result<WorkflowRow> {
    let w = input.parse(state).await?;
    Ok(state.store.create_workflow(actor, w).await?)
}

/// Validates and saves a workflow's new version (audited).
pub async fn update_workflow(state: &Engine, actor: &Actor, id: i64, input: WorkflowInput) -> Result<WorkflowRow> {
    let w = input.parse(state).await?;
    Ok(state.store.update_workflow(actor, id, w).await?)
}

/// What the workflow would do with a ticket with these facts; writes nothing.
pub async fn test_workflow(state: &Engine, w: &Workflow, facts: &TicketFacts) -> Result<Value> {
    let rule = workflow::matching_rule(w, facts);
    let actions = workflow::evaluate(w, facts);
    let (members, would_assign) = match workflow::assignment(&actions) {
        Some(a @ Action::Assign { .. }) => {
            let members = crate::handoff::members_of(state, a).await?;
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

/// Creates the built-in "reassign tickets for agent handoff" workflow from
/// the users per channel (validated like any workflow; audited).
pub async fn create_template(state: &Engine, actor: &Actor, input: TemplateInput) -> Result<WorkflowRow> {
    let mut per_channel: Vec<(Channel, Vec<i64>)> = Vec::new();
    for (channel, users) in input.users_per_channel {
        let c = Channel::parse(channel.trim()).ok_or_else(|| {
            Error::invalid_field(
                &format!("users_per_channel.{channel}"),
                "must be live_chat, email, whatsapp, messenger or custom",
            )
        })?;
        per_channel.push((c, users));
    }
    let mut w = workflow::reassign_for_agent_handoff(&per_channel);
    if let Some(n) = input.name {
        w.name = n;
    }
    w.enabled = input.enabled;
    if w.rules.is_empty() {
        return Err(Error::invalid_field("users_per_channel", "must name at least one user for one channel"));
    }
    let input = WorkflowInput { name: w.name, enabled: w.enabled, rules: w.rules };
    create_workflow(state, actor, input).await
}
