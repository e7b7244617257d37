//! Rule-based chatbots (C5), pure: a small flow of steps deployed on a
//! channel before the AI agent.
//!
//! A bot is a list of steps identified by short ids, starting at `start`:
//! send a message, ask a question and save the answer to a contact property
//! (validated against that CRM field; an invalid answer is re-asked with the
//! validation message), branch on an answer, then hand to the AI agent, to a
//! team, or end. [`advance`] runs the flow from a [`BotState`] until it needs
//! the visitor's answer or reaches a final step; the server stores what it
//! returns. [`validate`] rejects flows that could loop forever without
//! waiting for the visitor (a cycle without an `ask` step).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::crm::{validate_value, CrmField};
use crate::model::Channel;
use crate::validate::{bounded_text, ValidationError};

pub const MAX_STEPS: usize = 50;
pub const MAX_CASES: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bot {
    #[serde(default)]
    pub id: i64,
    pub name: String,
    pub channel: Channel,
    #[serde(default)]
    pub enabled: bool,
    /// The id of the first step.
    pub start: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// `[a-z][a-z0-9_]*`, unique in the bot.
    pub id: String,
    #[serde(flatten)]
    pub kind: StepKind,
}

/// One value of a branch and the step it leads to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub value: String,
    pub next: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StepKind {
    /// Sends `text`, then goes on to `next`.
    Message { text: String, next: String },
    /// Asks `question` and waits; the answer is validated against the CRM
    /// field `property` and saved to the contact.
    Ask { question: String, property: String, next: String },
    /// Goes to the first case whose value equals the answer saved to
    /// `property` in this session (case-insensitive), else to `default`.
    Branch { property: String, cases: Vec<Case>, default: String },
    /// The AI agent takes the conversation.
    ToAgent,
    /// The conversation goes to the members of a team.
    ToTeam { team_id: i64 },
    /// The bot ends (with an optional last message).
    End {
        #[serde(default)]
        text: String,
    },
}

/// Where a conversation stands in its bot.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BotState {
    /// The current step's id.
    pub current: String,
    /// True when the current step is an `ask` whose question was sent: the
    /// visitor's next message is its answer.
    pub waiting: bool,
    /// The answers saved in this session, by property.
    pub answers: BTreeMap<String, String>,
}

impl BotState {
    pub fn start(bot: &Bot) -> Self {
        Self { current: bot.start.clone(), waiting: false, answers: BTreeMap::new() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "team_id", rename_all = "snake_case")]
pub enum BotOutcome {
    /// The bot waits for the visitor's answer.
    Continue,
    ToAgent,
    ToTeam(i64),
    End,
}

/// What one run of the bot does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotTurn {
    /// Messages to send, in order.
    pub messages: Vec<String>,
    /// Contact properties to save: (key, normalised value).
    pub updates: Vec<(String, String)>,
    pub state: BotState,
    pub outcome: BotOutcome,
    /// Whether the visitor's text was taken as the answer to a question.
    pub consumed: bool,
}

fn step<'a>(bot: &'a Bot, id: &str) -> Option<&'a Step> {
    bot.steps.iter().find(|s| s.id == id)
}

/// Runs the bot from `state`. `visitor_text` is the answer to the question
/// asked last when `state.waiting`; otherwise it is ignored (not consumed).
/// A step id that no longer exists ends the bot by handing to the agent.
pub fn advance(bot: &Bot, state: BotState, visitor_text: Option<&str>, fields: &[CrmField]) -> BotTurn {
    let mut turn = BotTurn { messages: vec![], updates: vec![], state, outcome: BotOutcome::Continue, consumed: false };
    let mut text = visitor_text.map(str::trim).filter(|t| !t.is_empty());
    // A valid bot waits at an `ask` within `steps.len()` steps; the bound
    // keeps an unvalidated one from looping.
    for _ in 0..=bot.steps.len() {
        let Some(s) = step(bot, &turn.state.current) else {
            turn.outcome = BotOutcome::ToAgent;
            return turn;
        };
        match &s.kind {
            StepKind::Message { text: m, next } => {
                turn.messages.push(m.clone());
                turn.state.current = next.clone();
            }
            StepKind::Ask { question, property, next } => {
                if !turn.state.waiting {
                    turn.messages.push(question.clone());
                    turn.state.waiting = true;
                    return turn;
                }
                let Some(answer) = text.take() else {
                    return turn;
                };
                turn.consumed = true;
                let value = match fields.iter().find(|f| f.key == *property) {
                    Some(f) => validate_value(f, answer).map_err(|e| e.message),
                    None => bounded_text(property, answer, 1, 500).map_err(|e| e.message),
                };
                match value {
                    Ok(v) => {
                        turn.updates.push((property.clone(), v.clone()));
                        turn.state.answers.insert(property.clone(), v);
                        turn.state.waiting = false;
                        turn.state.current = next.clone();
                    }
                    Err(why) => {
                        turn.messages.push(format!("Sorry, that doesn't look right: {why}. {question}"));
                        return turn;
                    }
                }
            }
            StepKind::Branch { property, cases, default } => {
                let answer = turn.state.answers.get(property).map(|a| a.trim().to_lowercase());
                let next = cases
                    .iter()
                    .find(|c| answer.as_deref() == Some(c.value.trim().to_lowercase().as_str()))
                    .map(|c| &c.next)
                    .unwrap_or(default);
                turn.state.current = next.clone();
            }
            StepKind::ToAgent => {
                turn.outcome = BotOutcome::ToAgent;
                return turn;
            }
            StepKind::ToTeam { team_id } => {
                turn.outcome = BotOutcome::ToTeam(*team_id);
                return turn;
            }
            StepKind::End { text: m } => {
                if !m.trim().is_empty() {
                    turn.messages.push(m.clone());
                }
                turn.outcome = BotOutcome::End;
                return turn;
            }
        }
    }
    turn.outcome = BotOutcome::ToAgent;
    turn
}

fn is_id(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.len() <= 64
}

/// Checks a bot against the CRM fields and teams; the error names the field
/// (`steps[2].next`). Trims texts in place.
pub fn validate(bot: &mut Bot, fields: &[CrmField], team_ids: &[i64]) -> Result<(), ValidationError> {
    bot.name = bounded_text("name", &bot.name, 1, 120)?;
    if bot.steps.is_empty() {
        return Err(ValidationError::new("steps", "must have at least one step"));
    }
    if bot.steps.len() > MAX_STEPS {
        return Err(ValidationError::new("steps", format!("must have at most {MAX_STEPS} steps")));
    }
    let mut ids = BTreeSet::new();
    for (i, s) in bot.steps.iter_mut().enumerate() {
        s.id = s.id.trim().to_owned();
        if !is_id(&s.id) {
            return Err(ValidationError::new(
                &format!("steps[{i}].id"),
                "must be a lowercase identifier ([a-z][a-z0-9_]*)",
            ));
        }
        if !ids.insert(s.id.clone()) {
            return Err(ValidationError::new(&format!("steps[{i}].id"), "is used by another step"));
        }
    }
    bot.start = bot.start.trim().to_owned();
    if !ids.contains(&bot.start) {
        return Err(ValidationError::new("start", "must be the id of a step"));
    }
    let known = |field: String, id: &mut String| -> Result<(), ValidationError> {
        *id = id.trim().to_owned();
        if ids.contains(id.as_str()) {
            Ok(())
        } else {
            Err(ValidationError::new(&field, format!("no step has the id {id:?}")))
        }
    };
    let mut asked = BTreeSet::new();
    for (i, s) in bot.steps.iter_mut().enumerate() {
        let at = format!("steps[{i}]");
        match &mut s.kind {
            StepKind::Message { text, next } => {
                *text = bounded_text(&format!("{at}.text"), text, 1, 1000)?;
                known(format!("{at}.next"), next)?;
            }
            StepKind::Ask { question, property, next } => {
                *question = bounded_text(&format!("{at}.question"), question, 1, 1000)?;
                *property = property.trim().to_owned();
                match fields.iter().find(|f| f.key == *property) {
                    None => {
                        return Err(ValidationError::new(&format!("{at}.property"), "must be the key of a CRM field"))
                    }
                    Some(f) if !f.agent_write => {
                        return Err(ValidationError::new(
                            &format!("{at}.property"),
                            "this CRM field is not writable by the agent",
                        ))
                    }
                    Some(_) => {}
                }
                asked.insert(property.clone());
                known(format!("{at}.next"), next)?;
            }
            StepKind::Branch { property, cases, default } => {
                *property = property.trim().to_owned();
                if cases.is_empty() {
                    return Err(ValidationError::new(&format!("{at}.cases"), "must have at least one case"));
                }
                if cases.len() > MAX_CASES {
                    return Err(ValidationError::new(
                        &format!("{at}.cases"),
                        format!("must have at most {MAX_CASES} cases"),
                    ));
                }
                for (j, c) in cases.iter_mut().enumerate() {
                    c.value = bounded_text(&format!("{at}.cases[{j}].value"), &c.value, 1, 500)?;
                    known(format!("{at}.cases[{j}].next"), &mut c.next)?;
                }
                known(format!("{at}.default"), default)?;
            }
            StepKind::ToAgent => {}
            StepKind::ToTeam { team_id } => {
                if !team_ids.contains(team_id) {
                    return Err(ValidationError::new(&format!("{at}.team_id"), "no team has this id"));
                }
            }
            StepKind::End { text } => *text = bounded_text(&format!("{at}.text"), text, 0, 1000)?,
        }
    }
    for (i, s) in bot.steps.iter().enumerate() {
        if let StepKind::Branch { property, .. } = &s.kind {
            if !asked.contains(property) {
                return Err(ValidationError::new(
                    &format!("steps[{i}].property"),
                    "must be a property an ask step of this bot saves",
                ));
            }
        }
    }
    if let Some(i) = cycle_without_ask(bot) {
        return Err(ValidationError::new(
            &format!("steps[{i}].next"),
            "makes a loop without a question: the bot would never wait for the visitor",
        ));
    }
    Ok(())
}

/// The index of a step on a cycle that passes through no `ask` step.
fn cycle_without_ask(bot: &Bot) -> Option<usize> {
    let index: BTreeMap<&str, usize> = bot.steps.iter().enumerate().map(|(i, s)| (s.id.as_str(), i)).collect();
    let edges = |i: usize| -> Vec<usize> {
        let next: Vec<&String> = match &bot.steps[i].kind {
            StepKind::Message { next, .. } => vec![next],
            StepKind::Branch { cases, default, .. } => cases.iter().map(|c| &c.next).chain([default]).collect(),
            // An ask waits for the visitor: it breaks any loop.
            StepKind::Ask { .. } | StepKind::ToAgent | StepKind::ToTeam { .. } | StepKind::End { .. } => vec![],
        };
        next.into_iter().filter_map(|n| index.get(n.as_str()).copied()).collect()
    };
    // 0 = unvisited, 1 = on the stack, 2 = done.
    let mut mark = vec![0u8; bot.steps.len()];
    fn visit(i: usize, mark: &mut [u8], edges: &dyn Fn(usize) -> Vec<usize>) -> Option<usize> {
        mark[i] = 1;
        for j in edges(i) {
            if mark[j] == 1 {
                return Some(i);
            }
            if mark[j] == 0 {
                if let Some(c) = visit(j, mark, edges) {
                    return Some(c);
                }
            }
        }
        mark[i] = 2;
        None
    }
    (0..bot.steps.len()).find_map(|i| if mark[i] == 0 { visit(i, &mut mark, &edges) } else { None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::ValueKind;

    fn field(key: &str, kind: ValueKind, values: &[&str]) -> CrmField {
        CrmField {
            key: key.into(),
            label: key.into(),
            kind,
            values: values.iter().map(|v| v.to_string()).collect(),
            agent_read: true,
            agent_write: true,
        }
    }

    fn fields() -> Vec<CrmField> {
        vec![field("email", ValueKind::Email, &[]), field("plan", ValueKind::Enum, &["free", "pro"])]
    }

    fn s(id: &str, kind: StepKind) -> Step {
        Step { id: id.into(), kind }
    }

    fn bot() -> Bot {
        Bot {
            id: 0,
            name: "Welcome".into(),
            channel: Channel::LiveChat,
            enabled: true,
            start: "hello".into(),
            steps: vec![
                s("hello", StepKind::Message { text: "Hi!".into(), next: "email".into() }),
                s(
                    "email",
                    StepKind::Ask { question: "Your email?".into(), property: "email".into(), next: "plan".into() },
                ),
                s("plan", StepKind::Ask { question: "Your plan?".into(), property: "plan".into(), next: "br".into() }),
                s(
                    "br",
                    StepKind::Branch {
                        property: "plan".into(),
                        cases: vec![Case { value: "pro".into(), next: "agent".into() }],
                        default: "sales".into(),
                    },
                ),
                s("agent", StepKind::ToAgent),
                s("sales", StepKind::ToTeam { team_id: 7 }),
            ],
        }
    }

    #[test]
    fn bot_runs_asks_reasks_and_branches() {
        let b = bot();
        let f = fields();
        let t = advance(&b, BotState::start(&b), Some("hello there"), &f);
        assert_eq!(t.messages, vec!["Hi!", "Your email?"]);
        assert!(!t.consumed);
        assert_eq!(t.outcome, BotOutcome::Continue);
        let t = advance(&b, t.state, Some("not an email"), &f);
        assert!(t.consumed && t.updates.is_empty());
        assert!(t.messages[0].ends_with("Your email?"), "{:?}", t.messages);
        let t = advance(&b, t.state, Some("Ann@Example.com"), &f);
        assert_eq!(t.updates.len(), 1);
        assert_eq!(t.updates[0].0, "email");
        assert_eq!(t.messages, vec!["Your plan?"]);
        let pro = advance(&b, t.state.clone(), Some("Pro"), &f);
        assert_eq!(pro.outcome, BotOutcome::ToAgent);
        assert_eq!(pro.updates, vec![("plan".to_string(), "pro".to_string())]);
        let free = advance(&b, t.state.clone(), Some("free"), &f);
        assert_eq!(free.outcome, BotOutcome::ToTeam(7));
        let bad = advance(&b, t.state, Some("gold"), &f);
        assert_eq!(bad.outcome, BotOutcome::Continue);
        assert!(bad.state.waiting);
    }

    #[test]
    fn bot_end_and_missing_step() {
        let mut b = bot();
        b.steps[0].kind = StepKind::End { text: "Bye".into() };
        let t = advance(&b, BotState::start(&b), None, &fields());
        assert_eq!((t.messages, t.outcome), (vec!["Bye".to_string()], BotOutcome::End));
        let t = advance(&b, BotState { current: "gone".into(), ..Default::default() }, None, &fields());
        assert_eq!(t.outcome, BotOutcome::ToAgent);
    }

    #[test]
    fn bot_validation_names_fields() {
        let f = fields();
        let teams = [7];
        assert!(validate(&mut bot(), &f, &teams).is_ok());
        let mut b = bot();
        b.start = "nope".into();
        assert_eq!(validate(&mut b, &f, &teams).unwrap_err().field, "start");
        let mut b = bot();
        b.steps[0].kind = StepKind::Message { text: "Hi".into(), next: "x".into() };
        assert_eq!(validate(&mut b, &f, &teams).unwrap_err().field, "steps[0].next");
        let mut b = bot();
        b.steps[1].id = "hello".into();
        assert_eq!(validate(&mut b, &f, &teams).unwrap_err().field, "steps[1].id");
        let mut b = bot();
        b.steps[1].kind = StepKind::Ask { question: "Q".into(), property: "nope".into(), next: "plan".into() };
        assert_eq!(validate(&mut b, &f, &teams).unwrap_err().field, "steps[1].property");
        assert_eq!(validate(&mut bot(), &f, &[1]).unwrap_err().field, "steps[5].team_id");
        // A loop without a question.
        let mut b = bot();
        b.steps.push(s("a", StepKind::Message { text: "A".into(), next: "b".into() }));
        b.steps.push(s("b", StepKind::Message { text: "B".into(), next: "a".into() }));
        assert!(validate(&mut b, &f, &teams).unwrap_err().field.starts_with("steps["));
        // A loop through a question is fine (re-asking).
        let mut b = bot();
        b.steps[3].kind = StepKind::Branch { property: "plan".into(), cases: vec![], default: "plan".into() };
        assert_eq!(validate(&mut b, &f, &teams).unwrap_err().field, "steps[3].cases");
        b.steps[3].kind = StepKind::Branch {
            property: "plan".into(),
            cases: vec![Case { value: "pro".into(), next: "agent".into() }],
            default: "plan".into(),
        };
        assert!(validate(&mut b, &f, &teams).is_ok());
    }

    #[test]
    fn bot_json_shape() {
        let j = serde_json::json!({"name": "B", "channel": "live_chat", "start": "a", "steps": [
            {"id": "a", "type": "message", "text": "Hi", "next": "b"},
            {"id": "b", "type": "to_team", "team_id": 3},
            {"id": "c", "type": "end"}
        ]});
        let b: Bot = serde_json::from_value(j).unwrap();
        assert_eq!(b.steps[1].kind, StepKind::ToTeam { team_id: 3 });
        assert_eq!(b.steps[2].kind, StepKind::End { text: String::new() });
    }
}
