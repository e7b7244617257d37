//! Lead qualification (F3) in the console: the settings (on/off, the score
//! to qualify, the sales team, the criteria as JSON) and the leads the agent
//! recorded. Saving goes through the JSON API's checks (`api/leads.rs`).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use frontdesk_core::leads::{Criterion, LeadSettings};
use frontdesk_core::permissions::Permission as P;

use super::{can, checked, fmt_time, or_redo, page, see_other, status_of};
use super::{ConsoleForm, FlashQuery, Layout, Opt, Section};
use crate::auth::Authed;
use crate::error::{ApiError, ApiQuery, ApiResult};
use crate::state::AppState;
use frontdesk_engine::service::leads::set_settings;

/// A lead as the list shows it.
struct LeadRow {
    conversation_id: i64,
    status: &'static str,
    score: i64,
    summary: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "leads.html")]
struct LeadsPage {
    layout: Layout,
    enabled: bool,
    qualify_score: String,
    teams: Vec<Opt>,
    criteria: String,
    leads: Vec<LeadRow>,
    can_view_settings: bool,
    can_edit: bool,
    can_view_leads: bool,
}

/// The submitted settings form.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(crate) struct LeadsForm {
    enabled: Option<String>,
    qualify_score: String,
    sales_team_id: String,
    criteria: String,
}

impl LeadsForm {
    fn settings(&self) -> ApiResult<LeadSettings> {
        let qualify_score = self
            .qualify_score
            .trim()
            .parse::<u8>()
            .map_err(|_| ApiError::invalid_field("qualify_score", "must be a whole number from 0 to 100"))?;
        let sales_team_id = match self.sales_team_id.trim() {
            "" => None,
            t => Some(t.parse::<i64>().map_err(|_| ApiError::invalid_field("sales_team_id", "choose a team"))?),
        };
        let criteria: Vec<Criterion> = if self.criteria.trim().is_empty() {
            Vec::new()
        } else {
            serde_json::from_str(&self.criteria).map_err(|e| ApiError::invalid_field("criteria", e.to_string()))?
        };
        Ok(LeadSettings { enabled: checked(self.enabled.as_deref()), criteria, qualify_score, sales_team_id })
    }
}

async fn render(
    state: &AppState,
    authed: &Authed,
    form: Option<(&LeadsForm, String)>,
    status: StatusCode,
    flash: Option<&str>,
) -> ApiResult<Response> {
    let can_view_settings = can(authed, P::ViewAgent);
    let can_view_leads = can(authed, P::ViewConversations);
    let s = state.store.lead_settings().await?;
    let (enabled, qualify_score, team, criteria, error) = match form {
        Some((f, e)) => (
            checked(f.enabled.as_deref()),
            f.qualify_score.clone(),
            f.sales_team_id.clone(),
            f.criteria.clone(),
            Some(e),
        ),
        None => (
            s.enabled,
            s.qualify_score.to_string(),
            s.sales_team_id.map(|t| t.to_string()).unwrap_or_default(),
            serde_json::to_string_pretty(&s.criteria).unwrap_or_default(),
            None,
        ),
    };
    let mut teams = vec![Opt { value: String::new(), label: "— none —".into(), selected: team.is_empty() }];
    if can_view_settings {
        teams.extend(state.store.list_teams().await?.into_iter().map(|t| {
            let value = t.id.to_string();
            Opt { selected: value == team, value, label: t.name }
        }));
    }
    let leads = if can_view_leads {
        state
            .store
            .list_leads(None, 200)
            .await?
            .into_iter()
            .map(|l| LeadRow {
                conversation_id: l.conversation_id,
                status: l.status.as_str(),
                score: l.score,
                summary: l.summary,
                updated: fmt_time(l.updated_at),
            })
            .collect()
    } else {
        Vec::new()
    };
    let layout = Layout::new(authed, Section::Leads, "Lead criteria", "/console/leads").flash(flash).error(error);
    page(
        status,
        &LeadsPage {
            layout,
            enabled,
            qualify_score,
            teams,
            criteria,
            leads,
            can_view_settings,
            can_edit: can(authed, P::EditAgent),
            can_view_leads,
        },
    )
}

pub(crate) async fn leads_page(
    State(state): State<AppState>,
    authed: Authed,
    ApiQuery(q): ApiQuery<FlashQuery>,
) -> ApiResult<Response> {
    render(&state, &authed, None, StatusCode::OK, q.flash.as_deref()).await
}

pub(crate) async fn save_leads(
    State(state): State<AppState>,
    authed: Authed,
    ConsoleForm(f): ConsoleForm<LeadsForm>,
) -> ApiResult<Response> {
    let saved = match f.settings() {
        Ok(s) => set_settings(&state, &authed.actor(), s).await.map(|_| ()).map_err(ApiError::from),
        Err(e) => Err(e),
    };
    or_redo(saved.map(|_| see_other("/console/leads?flash=saved")), |e| {
        render(&state, &authed, Some((&f, e.message.clone())), status_of(&e), None)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_becomes_settings() {
        let f = LeadsForm {
            enabled: Some("on".into()),
            qualify_score: "60".into(),
            sales_team_id: "3".into(),
            criteria: r#"[{"property": "team_size", "question": {"en": "How many?"}, "accepted": ["51+"]}]"#.into(),
        };
        let s = f.settings().unwrap();
        assert!(s.enabled);
        assert_eq!((s.qualify_score, s.sales_team_id, s.criteria[0].weight), (60, Some(3), 1));
        let bad = LeadsForm { criteria: "[{".into(), ..f };
        assert_eq!(bad.settings().unwrap_err().field.as_deref(), Some("criteria"));
    }
}
