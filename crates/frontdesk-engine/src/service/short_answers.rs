//! Short answers: a question and its answer as the admin API, the console
//! and the knowledge-gap drafts send them.

use frontdesk_core::validate::bounded_text;
use frontdesk_store::NewShortAnswer;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::Result;

/// A short answer as sent: `{"question": "…", "answer": "…", "citations_enabled": true}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShortAnswerInput {
    pub question: String,
    pub answer: String,
    #[serde(default = "yes")]
    pub citations_enabled: bool,
}

fn yes() -> bool {
    true
}

impl ShortAnswerInput {
    pub fn parse(self) -> Result<NewShortAnswer> {
        Ok(NewShortAnswer {
            question: bounded_text("question", &self.question, 1, 500)?,
            answer: bounded_text("answer", &self.answer, 1, 5000)?,
            citations_enabled: self.citations_enabled,
        })
    }
}
