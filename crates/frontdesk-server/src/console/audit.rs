//! The audit log (I1): who changed what, filterable.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::{fmt_time, page, pretty, status_of, Layout, Opt, Section};
use crate::auth::Authed;
use crate::error::{ApiError, ApiQuery, ApiResult};
use crate::state::AppState;
use frontdesk_engine::service::audit::AuditQuery;

/// Suggestions for the filter fields (any value may be typed).
const ENTITY_TYPES: &[&str] = &["agent_profile", "api_key", "job", "short_answer", "team", "user"];
const ACTIONS: &[&str] = &["create", "update", "delete"];

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct AuditParams {
    entity_type: String,
    action: String,
    /// Empty for anyone.
    actor_user_id: String,
}

impl AuditParams {
    /// The admin API's query; its `filter` applies the rules (blank = any, limit).
    fn query(&self) -> ApiResult<AuditQuery> {
        let actor_user_id = match self.actor_user_id.trim() {
            "" => None,
            s => Some(s.parse::<i64>().map_err(|_| ApiError::invalid_field("actor_user_id", "is not a user id"))?),
        };
        Ok(AuditQuery {
            entity_type: Some(self.entity_type.trim().to_owned()),
            action: Some(self.action.trim().to_owned()),
            actor_user_id,
            limit: None,
        })
    }
}

pub(crate) struct AuditRow {
    time: String,
    who: String,
    action: String,
    entity_type: String,
    entity_id: String,
    before: Option<String>,
    after: Option<String>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    rows: Vec<AuditRow>,
    params: AuditParams,
    actors: Vec<Opt>,
    entity_types: &'static [&'static str],
    actions: &'static [&'static str],
    filtered: bool,
}

pub(crate) async fn audit_page(
    State(state): State<AppState>,
    authed: Authed,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> ApiResult<Response> {
    let users = state.store.list_users().await?;
    let names: HashMap<i64, String> = users.iter().map(|u| (u.id, u.name.clone())).collect();
    let (rows, status, error) = match params.query() {
        Ok(q) => {
            let rows = state
                .store
                .list_audit(q.filter())
                .await?
                .into_iter()
                .map(|a| AuditRow {
                    time: fmt_time(a.created_at),
                    who: match a.actor_user_id.and_then(|id| names.get(&id)) {
                        Some(name) => format!("{name} ({})", a.actor_label),
                        None => a.actor_label,
                    },
                    action: a.action,
                    entity_type: a.entity_type,
                    entity_id: a.entity_id,
                    before: a.before.as_ref().map(pretty),
                    after: a.after.as_ref().map(pretty),
                })
                .collect();
            (rows, StatusCode::OK, None)
        }
        Err(e) => (Vec::new(), status_of(&e), Some(e.message)),
    };
    let selected = params.actor_user_id.trim().to_owned();
    let mut actors = vec![Opt { value: String::new(), label: "Anyone".into(), selected: selected.is_empty() }];
    actors.extend(users.iter().map(|u| Opt {
        value: u.id.to_string(),
        label: format!("{} <{}>", u.name, u.email),
        selected: u.id.to_string() == selected,
    }));
    let filtered = !(params.entity_type.trim().is_empty() && params.action.trim().is_empty() && selected.is_empty());
    let layout = Layout::new(&authed, Section::Audit, "Audit log", "/console/audit").error(error);
    page(status, &AuditPage { layout, rows, params, actors, entity_types: ENTITY_TYPES, actions: ACTIONS, filtered })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_filters_mean_any_and_ids_must_be_numbers() {
        let f = AuditParams::default().query().unwrap().filter();
        assert_eq!((f.entity_type, f.action, f.actor_user_id), (None, None, None));
        let p = AuditParams { entity_type: " user ".into(), action: "create".into(), actor_user_id: "3".into() };
        let f = p.query().unwrap().filter();
        assert_eq!(
            (f.entity_type.as_deref(), f.action.as_deref(), f.actor_user_id),
            (Some("user"), Some("create"), Some(3))
        );
        let bad = AuditParams { actor_user_id: "me".into(), ..AuditParams::default() };
        assert!(bad.query().is_err());
    }
}
