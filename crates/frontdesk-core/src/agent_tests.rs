//! Agent tests (K3): a saved question and what the agent must do with it,
//! judged against a reply. Pure; the server runs the responder and stores
//! the results.

use serde::{Deserialize, Serialize};

use crate::model::HandoffTrigger;
use crate::responder::{Outcome, Reply};
use crate::text::fold;

/// One thing a reply must do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Expectation {
    /// Answers, citing this source (a content source id, or a short
    /// answer's id when `short_answer` is true).
    Cites {
        source_id: i64,
        #[serde(default)]
        short_answer: bool,
    },
    /// The reply's text contains this (case- and accent-insensitive).
    Contains { text: String },
    /// The reply's text does not contain this.
    NotContains { text: String },
    /// Hands the conversation to humans (with this trigger, if given).
    HandsOff {
        #[serde(default)]
        trigger: Option<HandoffTrigger>,
    },
    /// Answers (from content, a short answer or an action) without handing off.
    Answers,
    /// Performs this action successfully.
    PerformsAction { name: String },
    /// Declines (a topic to avoid, an attempt to change its rules).
    Declines,
}

impl Expectation {
    /// A short human description, for tables.
    pub fn describe(&self) -> String {
        match self {
            Expectation::Cites { source_id, short_answer: true } => format!("cites short answer #{source_id}"),
            Expectation::Cites { source_id, .. } => format!("cites source #{source_id}"),
            Expectation::Contains { text } => format!("contains {text:?}"),
            Expectation::NotContains { text } => format!("does not contain {text:?}"),
            Expectation::HandsOff { trigger: Some(t) } => format!("hands off ({t})"),
            Expectation::HandsOff { trigger: None } => "hands off".into(),
            Expectation::Answers => "answers".into(),
            Expectation::PerformsAction { name } => format!("performs action {name}"),
            Expectation::Declines => "declines".into(),
        }
    }

    /// Checks the expectation's own fields (which field, why).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        match self {
            Expectation::Contains { text } | Expectation::NotContains { text } if text.trim().is_empty() => {
                Err(("text", "must not be empty".into()))
            }
            Expectation::PerformsAction { name } if name.trim().is_empty() => Err(("name", "must not be empty".into())),
            Expectation::Cites { source_id, .. } if *source_id <= 0 => {
                Err(("source_id", "must be a positive id".into()))
            }
            _ => Ok(()),
        }
    }
}

/// The verdict on one expectation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub expectation: Expectation,
    pub passed: bool,
    /// What the reply did instead, when it failed.
    pub detail: String,
}

fn outcome_label(r: &Reply) -> String {
    match r.outcome {
        Outcome::Answered => "answered".into(),
        Outcome::SmallTalk => "small talk".into(),
        Outcome::Declined => "declined".into(),
        Outcome::Handoff(t) => format!("handed off ({t})"),
    }
}

/// Judges `reply` against every expectation.
pub fn judge(expect: &[Expectation], reply: &Reply) -> Vec<Check> {
    let text = fold(&reply.text);
    expect
        .iter()
        .map(|e| {
            let passed = match e {
                Expectation::Cites { source_id, short_answer } => {
                    reply.outcome == Outcome::Answered
                        && reply
                            .citations
                            .iter()
                            .any(|c| c.source_id == *source_id && (c.source_kind == "short_answer") == *short_answer)
                }
                Expectation::Contains { text: t } => text.contains(&fold(t)),
                Expectation::NotContains { text: t } => !text.contains(&fold(t)),
                Expectation::HandsOff { trigger } => match reply.outcome {
                    Outcome::Handoff(t) => trigger.is_none_or(|want| want == t),
                    _ => false,
                },
                Expectation::Answers => reply.outcome == Outcome::Answered,
                Expectation::PerformsAction { name } => reply.actions.iter().any(|a| &a.name == name && a.ok),
                Expectation::Declines => reply.outcome == Outcome::Declined,
            };
            let detail = if passed {
                String::new()
            } else {
                let cited: Vec<String> = reply
                    .citations
                    .iter()
                    .map(|c| {
                        if c.source_kind == "short_answer" {
                            format!("short answer #{}", c.source_id)
                        } else {
                            format!("source #{}", c.source_id)
                        }
                    })
                    .collect();
                let actions: Vec<String> = reply
                    .actions
                    .iter()
                    .map(|a| format!("{}{}", a.name, if a.ok { "" } else { " (failed)" }))
                    .collect();
                format!(
                    "{}; cited: {}; actions: {}",
                    outcome_label(reply),
                    if cited.is_empty() { "none".into() } else { cited.join(", ") },
                    if actions.is_empty() { "none".into() } else { actions.join(", ") }
                )
            };
            Check { expectation: e.clone(), passed, detail }
        })
        .collect()
}

/// Whether a handoff trigger is one the visitor or the content caused (for
/// the "hands off" expectation's default).
pub fn is_handoff(reply: &Reply) -> Option<HandoffTrigger> {
    match reply.outcome {
        Outcome::Handoff(t) => Some(t),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::responder::{ActionTaken, Citation, Trace};

    fn reply(outcome: Outcome, text: &str) -> Reply {
        Reply {
            text: text.into(),
            citations: vec![Citation { source_kind: "file".into(), source_id: 4, title: "Prices".into(), url: None }],
            actions: vec![ActionTaken { name: "order_status".into(), ok: true }],
            confidence: 0.9,
            outcome,
            trace: Trace::default(),
        }
    }

    #[test]
    fn judges_each_expectation() {
        let r = reply(Outcome::Answered, "The Starter plan costs €5 per month.");
        let checks = judge(
            &[
                Expectation::Cites { source_id: 4, short_answer: false },
                Expectation::Contains { text: "5 PER month".into() },
                Expectation::PerformsAction { name: "order_status".into() },
                Expectation::Answers,
            ],
            &r,
        );
        assert!(checks.iter().all(|c| c.passed), "{checks:?}");
        let failed = judge(
            &[
                Expectation::Cites { source_id: 4, short_answer: true },
                Expectation::HandsOff { trigger: None },
                Expectation::NotContains { text: "starter".into() },
            ],
            &r,
        );
        assert!(failed.iter().all(|c| !c.passed));
        assert!(failed[1].detail.contains("answered; cited: source #4"), "{}", failed[1].detail);
    }

    #[test]
    fn handoff_trigger_is_optional() {
        let r = reply(Outcome::Handoff(HandoffTrigger::CustomTrigger), "Passing you on.");
        assert!(judge(&[Expectation::HandsOff { trigger: None }], &r)[0].passed);
        assert!(judge(&[Expectation::HandsOff { trigger: Some(HandoffTrigger::CustomTrigger) }], &r)[0].passed);
        assert!(!judge(&[Expectation::HandsOff { trigger: Some(HandoffTrigger::VisitorAsked) }], &r)[0].passed);
        // Citing while handing off is not "answers citing".
        assert!(!judge(&[Expectation::Cites { source_id: 4, short_answer: false }], &r)[0].passed);
    }

    #[test]
    fn expectations_read_from_json() {
        let e: Vec<Expectation> = serde_json::from_str(
            r#"[{"kind":"cites","source_id":3},{"kind":"hands_off","trigger":"visitor_asked"},{"kind":"declines"}]"#,
        )
        .unwrap();
        assert_eq!(e[0], Expectation::Cites { source_id: 3, short_answer: false });
        assert_eq!(e[1], Expectation::HandsOff { trigger: Some(HandoffTrigger::VisitorAsked) });
        assert!(serde_json::from_str::<Expectation>(r#"{"kind":"sings"}"#).is_err());
        assert_eq!(Expectation::Contains { text: " ".into() }.validate().unwrap_err().0, "text");
    }
}
