//! The agent's preview (D3): a test message answered with the saved
//! configuration plus unsaved profile changes. Nothing is stored and no
//! credits are used.

use frontdesk_agent::respond::{respond, Ask};
use frontdesk_agent::snapshot::{topic_vectors, AgentSnapshot};
use frontdesk_core::model::Author;
use frontdesk_core::validate::MessageText;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::profile::ProfileInput;
use crate::error::{Error, Result};
use crate::Engine;

/// A message of the preview's conversation so far.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewTurn {
    /// visitor or agent
    pub author: String,
    pub text: String,
}

/// A test message, answered with the current configuration plus any
/// unsaved changes in `profile`. Nothing is stored and no credits are used.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewInput {
    pub message: String,
    #[serde(default)]
    pub history: Vec<PreviewTurn>,
    /// Unsaved profile changes to try (same fields as `PUT /api/v1/agent`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub profile: Option<ProfileInput>,
}

/// The agent's configuration for a preview: the saved one with the unsaved
/// profile changes applied (validated by the same rules as saving).
pub async fn preview_agent(state: &Engine, profile: Option<ProfileInput>) -> Result<AgentSnapshot> {
    let mut agent = (*state.agent.snapshot().await?).clone();
    if let Some(p) = profile {
        let before = agent.profile.topics_to_avoid.clone();
        agent.profile = p.apply(agent.profile)?;
        if agent.profile.topics_to_avoid != before {
            agent.topic_vectors = topic_vectors(&state.agent.knowledge, &agent.profile.topics_to_avoid);
        }
    }
    Ok(agent)
}

/// The agent's answer to a test message, with the unsaved profile changes
/// applied; writes nothing.
pub async fn preview(state: &Engine, b: PreviewInput) -> Result<Value> {
    let text = MessageText::parse(&b.message).map_err(|e| Error::invalid_field("message", e.message))?;
    let mut history = Vec::with_capacity(b.history.len());
    for (i, t) in b.history.into_iter().enumerate() {
        let author = match t.author.as_str() {
            "visitor" => Author::Visitor,
            "agent" => Author::Agent,
            _ => return Err(Error::invalid_field(&format!("history[{i}].author"), "must be visitor or agent")),
        };
        history.push((author, t.text));
    }
    let agent = preview_agent(state, b.profile).await?;
    let ask = Ask { text: text.as_str().to_owned(), history, contact_id: None, conversation_id: None };
    let reply = respond(&state.agent, &agent, &ask).await;
    Ok(frontdesk_agent::respond::reply_json(&agent, &reply))
}
