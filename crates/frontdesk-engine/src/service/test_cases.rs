//! The agent's saved test cases (K3): the input rules the admin API, the
//! console and the CLI (`frontdesk agent-tests add`) share.

use frontdesk_core::agent_tests::Expectation;
use frontdesk_core::validate::{bounded_text, MessageText};
use frontdesk_store::NewAgentTest;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::{Error, Result};

/// A saved test: a question and what the agent must do with it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentTestInput {
    pub name: String,
    pub question: String,
    /// Each of `{"kind": "cites", "source_id": 3}`, `{"kind": "cites", "source_id": 2, "short_answer": true}`,
    /// `{"kind": "contains", "text": "…"}`, `{"kind": "not_contains", "text": "…"}`,
    /// `{"kind": "hands_off", "trigger": "visitor_asked"?}`, `{"kind": "answers"}`,
    /// `{"kind": "performs_action", "name": "…"}`, `{"kind": "declines"}`.
    #[schema(value_type = Vec<Object>)]
    pub expect: Vec<Value>,
}

impl AgentTestInput {
    pub fn parse(self) -> Result<NewAgentTest> {
        let name = bounded_text("name", &self.name, 1, 120)?;
        let question = MessageText::parse(&self.question)
            .map_err(|e| Error::invalid_field("question", e.message))?
            .as_str()
            .to_owned();
        if self.expect.is_empty() || self.expect.len() > 10 {
            return Err(Error::invalid_field("expect", "must list between 1 and 10 expectations"));
        }
        let mut expect = Vec::with_capacity(self.expect.len());
        for (i, v) in self.expect.into_iter().enumerate() {
            let e: Expectation = serde_json::from_value(v).map_err(|e| {
                Error::invalid_field(
                    &format!("expect[{i}]"),
                    format!(
                        "{e}; kinds are cites, contains, not_contains, hands_off, answers, performs_action, declines"
                    ),
                )
            })?;
            e.validate().map_err(|(f, why)| Error::invalid_field(&format!("expect[{i}].{f}"), why))?;
            expect.push(e);
        }
        Ok(NewAgentTest { name, question, expect })
    }
}
