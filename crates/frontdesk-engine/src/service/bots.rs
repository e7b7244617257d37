//! Rule-based chatbots (C5): a bot as the admin API and the console take it.

use frontdesk_core::bot::{self, Bot, Step};
use frontdesk_core::model::Channel;
use serde::Deserialize;

use crate::error::Result;
use crate::Engine;

/// A bot as sent: `{"name": "Welcome", "channel": "live_chat", "enabled": true,
/// "start": "hello", "steps": [{"id": "hello", "type": "message", "text": "Hi!", "next": "email"},
/// {"id": "email", "type": "ask", "question": "Your email?", "property": "email", "next": "agent"},
/// {"id": "agent", "type": "to_agent"}]}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotInput {
    pub name: String,
    pub channel: Channel,
    #[serde(default = "yes")]
    pub enabled: bool,
    pub start: String,
    #[serde(default)]
    pub steps: Vec<Step>,
}

fn yes() -> bool {
    true
}

impl BotInput {
    /// The validated bot: its steps against the CRM fields and the teams.
    pub async fn parse(self, state: &Engine) -> Result<Bot> {
        let mut b = Bot {
            id: 0,
            name: self.name,
            channel: self.channel,
            enabled: self.enabled,
            start: self.start,
            steps: self.steps,
        };
        let fields = state.store.list_crm_fields().await?;
        let teams: Vec<i64> = state.store.list_teams().await?.into_iter().map(|t| t.id).collect();
        bot::validate(&mut b, &fields, &teams)?;
        Ok(b)
    }
}
