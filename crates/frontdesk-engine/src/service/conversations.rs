//! The inbox's inputs, as the admin API and the console take them: which
//! conversations to list, and whom to assign one to.

use frontdesk_core::model::View;
use frontdesk_store::Assignee;
use serde::Deserialize;

use crate::error::{Error, Result};

/// The inbox view; none (or empty) is every open conversation.
pub fn parse_view(v: Option<&str>) -> Result<View> {
    match v {
        None | Some("") => Ok(View::AllOpen),
        Some(v) => {
            View::parse(v).ok_or_else(|| Error::invalid_field("view", "must be one of unassigned, mine, open, closed"))
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    /// `agent`, `nobody`, `me` or `user` (with `user_id`).
    pub to: String,
    pub user_id: Option<i64>,
}

/// Whom an assignment names; `me` is the user `me`.
pub fn parse_assignee(input: &AssignInput, me: i64) -> Result<Assignee> {
    match input.to.as_str() {
        "agent" => Ok(Assignee::Agent),
        "nobody" => Ok(Assignee::Nobody),
        "me" => Ok(Assignee::Human(me)),
        "user" => input
            .user_id
            .map(Assignee::Human)
            .ok_or_else(|| Error::invalid_field("user_id", "is required when 'to' is 'user'")),
        _ => Err(Error::invalid_field("to", "must be one of agent, nobody, me, user")),
    }
}
