//! The handoff settings (E3–E7) as the admin API and the console read and
//! save them: process, who receives conversations, the messages per language,
//! what happens when nobody can take a chat.

use frontdesk_core::routing::{HandoffProcess, WhenUnassigned};
use frontdesk_store::{Actor, HandoffSettings};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{Error, Result};
use crate::Engine;

/// One message in one language.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LangText {
    pub lang: String,
    pub text: String,
}

/// The handoff settings; absent fields keep their value.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoffInput {
    /// live, async or none
    pub process: Option<String>,
    /// live_chat or help_desk
    pub destination: Option<String>,
    pub user_ids: Option<Vec<i64>>,
    pub team_ids: Option<Vec<i64>>,
    pub team_available: Option<Vec<LangText>>,
    pub team_unavailable: Option<Vec<LangText>>,
    pub unassigned: Option<Vec<LangText>>,
    /// keep_open or close (after a live handoff that found nobody)
    pub when_unassigned: Option<String>,
    /// Assign by conditions (E5): a workflow's id, or null to route to the
    /// users and teams above. Setting one moves handoffs to the help desk.
    #[serde(default, deserialize_with = "some_value")]
    #[schema(value_type = Option<i64>)]
    pub workflow_id: Option<Option<i64>>,
}

/// Tells an explicit `null` (`Some(None)`) from an absent field (`None`).
fn some_value<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

fn messages(field: &str, list: Vec<LangText>) -> Result<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, m) in list.into_iter().enumerate() {
        let lang = m.lang.trim().to_lowercase();
        if frontdesk_core::lang::Lang::from_code(&lang).is_none() {
            return Err(Error::invalid_field(
                &format!("{field}[{i}].lang"),
                format!("must be one of {}", frontdesk_core::lang::Lang::codes()),
            ));
        }
        if out.iter().any(|(l, _)| *l == lang) {
            return Err(Error::invalid_field(&format!("{field}[{i}].lang"), "is given twice"));
        }
        let text = frontdesk_core::validate::bounded_text(&format!("{field}[{i}].text"), &m.text, 0, 500)?;
        out.push((lang, text));
    }
    Ok(out)
}

impl HandoffInput {
    /// Applies the changes to `s`; the people named must exist and have a
    /// paid seat (E8), the teams must exist.
    pub async fn apply(self, state: &Engine, mut s: HandoffSettings) -> Result<HandoffSettings> {
        if let Some(p) = self.process {
            s.process = match p.trim() {
                "live" => HandoffProcess::Live,
                "async" => HandoffProcess::Async,
                "none" => HandoffProcess::None,
                _ => return Err(Error::invalid_field("process", "must be live, async or none")),
            };
        }
        if let Some(d) = self.destination {
            let d = d.trim();
            if !["live_chat", "help_desk"].contains(&d) {
                return Err(Error::invalid_field("destination", "must be live_chat or help_desk"));
            }
            s.destination = d.to_owned();
        }
        if s.destination.is_empty() {
            s.destination = "live_chat".into();
        }
        if let Some(ids) = self.user_ids {
            let users = state.store.list_users().await?;
            for (i, id) in ids.iter().enumerate() {
                match users.iter().find(|u| u.id == *id) {
                    None => return Err(Error::invalid_field(&format!("user_ids[{i}]"), "there is no such user")),
                    Some(u) if !u.paid_seat => {
                        return Err(Error::invalid_field(
                            &format!("user_ids[{i}]"),
                            format!("{} has no paid seat: only users with a paid seat receive conversations", u.email),
                        ))
                    }
                    Some(_) => {}
                }
            }
            let mut ids = ids;
            ids.dedup();
            s.user_ids = ids;
        }
        if let Some(ids) = self.team_ids {
            let teams = state.store.list_teams().await?;
            for (i, id) in ids.iter().enumerate() {
                if !teams.iter().any(|t| t.id == *id) {
                    return Err(Error::invalid_field(&format!("team_ids[{i}]"), "there is no such team"));
                }
            }
            s.team_ids = ids;
        }
        if let Some(w) = self.workflow_id {
            if let Some(id) = w {
                match state.store.get_workflow(id).await {
                    Ok(_) => {}
                    Err(frontdesk_store::StoreError::NotFound(_)) => {
                        return Err(Error::invalid_field("workflow_id", "there is no such workflow"))
                    }
                    Err(e) => return Err(e.into()),
                }
                // Tickets live in the help desk: the conversation moves there (E5).
                s.destination = "help_desk".into();
            }
            s.workflow_id = w;
        }
        let m = &mut s.messages;
        if let Some(l) = self.team_available {
            m.team_available = messages("team_available", l)?;
        }
        if let Some(l) = self.team_unavailable {
            m.team_unavailable = messages("team_unavailable", l)?;
        }
        if let Some(l) = self.unassigned {
            m.unassigned = messages("unassigned", l)?;
        }
        if let Some(w) = self.when_unassigned {
            s.when_unassigned = match w.trim() {
                "keep_open" => WhenUnassigned::KeepOpen,
                "close" => WhenUnassigned::Close,
                _ => return Err(Error::invalid_field("when_unassigned", "must be keep_open or close")),
            };
        }
        Ok(s)
    }
}

/// The current settings (an unset destination reads as `live_chat`).
pub async fn settings(state: &Engine) -> Result<HandoffSettings> {
    let mut s = state.store.handoff_settings().await?;
    if s.destination.is_empty() {
        s.destination = "live_chat".into();
    }
    Ok(s)
}

/// Applies the changes to the stored settings and saves them (audited).
pub async fn set_settings(state: &Engine, actor: &Actor, input: HandoffInput) -> Result<HandoffSettings> {
    let current = state.store.handoff_settings().await?;
    let next = input.apply(state, current).await?;
    Ok(state.store.set_handoff_settings(actor, next).await?)
}
