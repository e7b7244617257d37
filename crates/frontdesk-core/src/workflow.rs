//! Ticket-based workflows (E5, E9, C5), pure: ordered rules with conditions
//! on the handed-off ticket's facts and the actions to take.
//!
//! Evaluation: the rules are tried in order and **the first rule whose
//! conditions all hold wins**; its actions are returned in order. A rule
//! with no conditions always matches (a catch-all, put it last). A disabled
//! workflow, or one whose rules match nothing, returns no action: the ticket
//! is left unassigned and the visitor sees the "unassigned" message (E6).
//!
//! A condition listing several values holds when the fact is any of them.
//! Assignment ("assign to users/teams") is round robin among the people it
//! names: [`assign_candidates`] lists them, and the store chooses with
//! [`crate::routing::pick`] inside the turn's transaction.

use serde::{Deserialize, Serialize};

use crate::lang::Lang;
use crate::model::{Channel, HandoffTrigger};
use crate::text::fold;
use crate::validate::{bounded_text, ValidationError};

/// A ticket's priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::Low, Priority::Normal, Priority::High, Priority::Urgent];
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// A ticket's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    #[default]
    Open,
    Closed,
}

impl TicketStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Open => "open",
            TicketStatus::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(TicketStatus::Open),
            "closed" => Some(TicketStatus::Closed),
            _ => None,
        }
    }
}

/// What a rule checks. Lists mean "is any of".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// The source channel of the conversation.
    ChannelIs { channels: Vec<Channel> },
    /// The visitor's language (`en`, `it`, `es`, `fr`).
    LanguageIs { languages: Vec<String> },
    /// Why the agent handed off.
    TriggerIs { triggers: Vec<HandoffTrigger> },
    /// The visitor's text contains one of these words or phrases (case and
    /// accents ignored, whole words).
    TopicContains { words: Vec<String> },
    /// A contact property equals a value (case and accents ignored).
    ContactProperty { key: String, value: String },
    /// Inside (`true`) or outside (`false`) business hours.
    BusinessHours { inside: bool },
    /// The ticket's priority when the workflow runs.
    PriorityIs { priorities: Vec<Priority> },
}

/// What a rule does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Round robin among these users and the members of these teams.
    Assign {
        #[serde(default)]
        user_ids: Vec<i64>,
        #[serde(default)]
        team_ids: Vec<i64>,
    },
    /// Hand the conversation (back) to the customer agent (C5).
    AssignToAgent,
    SetPriority {
        priority: Priority,
    },
    SetStatus {
        status: TicketStatus,
    },
    /// An internal note on the ticket.
    AddNote {
        text: String,
    },
    /// The message the visitor sees.
    SendMessage {
        text: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rule {
    pub conditions: Vec<Condition>,
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Workflow {
    #[serde(default)]
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// What a workflow knows about the ticket it runs on.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TicketFacts {
    pub channel: Option<Channel>,
    /// Language code of the visitor's messages.
    pub language: String,
    pub trigger: Option<HandoffTrigger>,
    /// The visitor's text that led to the handoff.
    pub text: String,
    /// The contact as one JSON object (columns and properties).
    pub contact: serde_json::Map<String, serde_json::Value>,
    pub inside_business_hours: bool,
    pub priority: Priority,
}

fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn contains_phrase(haystack_folded: &str, phrase: &str) -> bool {
    let p = fold(phrase);
    !p.is_empty() && format!(" {haystack_folded} ").contains(&format!(" {p} "))
}

impl Condition {
    pub fn holds(&self, f: &TicketFacts) -> bool {
        match self {
            Condition::ChannelIs { channels } => f.channel.is_some_and(|c| channels.contains(&c)),
            Condition::LanguageIs { languages } => languages.iter().any(|l| l.eq_ignore_ascii_case(&f.language)),
            Condition::TriggerIs { triggers } => f.trigger.is_some_and(|t| triggers.contains(&t)),
            Condition::TopicContains { words } => {
                let text = fold(&f.text);
                words.iter().any(|w| contains_phrase(&text, w))
            }
            Condition::ContactProperty { key, value } => {
                f.contact.get(key.trim()).is_some_and(|v| fold(&value_text(v)) == fold(value))
            }
            Condition::BusinessHours { inside } => f.inside_business_hours == *inside,
            Condition::PriorityIs { priorities } => priorities.contains(&f.priority),
        }
    }
}

impl Rule {
    pub fn matches(&self, f: &TicketFacts) -> bool {
        self.conditions.iter().all(|c| c.holds(f))
    }
}

/// The index of the rule that applies to `facts`, if any (first match wins).
pub fn matching_rule(w: &Workflow, facts: &TicketFacts) -> Option<usize> {
    if !w.enabled {
        return None;
    }
    w.rules.iter().position(|r| r.matches(facts))
}

/// The actions `w` takes on a ticket with `facts`: those of the first
/// matching rule, in order; none when disabled or when no rule matches.
pub fn evaluate(w: &Workflow, facts: &TicketFacts) -> Vec<Action> {
    matching_rule(w, facts).map(|i| w.rules[i].actions.clone()).unwrap_or_default()
}

/// The assignment among `actions` (the first one), if any.
pub fn assignment(actions: &[Action]) -> Option<&Action> {
    actions.iter().find(|a| matches!(a, Action::Assign { .. } | Action::AssignToAgent))
}

/// The users an `Assign` action names (its users plus the members of its
/// teams), for [`crate::routing::pick`]; empty for any other action.
pub fn assign_candidates(action: &Action, teams: &[(i64, Vec<i64>)]) -> Vec<i64> {
    match action {
        Action::Assign { user_ids, team_ids } => {
            crate::routing::route_members(user_ids, teams, team_ids).into_iter().collect()
        }
        _ => Vec::new(),
    }
}

/// The message a `SendMessage` action sets, if any (the last one wins).
pub fn message(actions: &[Action]) -> Option<&str> {
    actions.iter().rev().find_map(|a| match a {
        Action::SendMessage { text } => Some(text.as_str()),
        _ => None,
    })
}

fn nonempty<T>(field: String, list: &[T], what: &str) -> Result<(), ValidationError> {
    if list.is_empty() {
        Err(ValidationError::new(&field, format!("must name at least one {what}: an empty list matches nothing")))
    } else {
        Ok(())
    }
}

/// Checks a workflow; the error names the field (`rules[1].actions[0].user_ids`).
/// Trims texts in place. Rejects a workflow whose rules can never match or do nothing.
pub fn validate(w: &mut Workflow) -> Result<(), ValidationError> {
    w.name = bounded_text("name", &w.name, 1, 120)?;
    if w.rules.is_empty() {
        return Err(ValidationError::new(
            "rules",
            "must have at least one rule: a workflow without rules matches nothing",
        ));
    }
    if w.rules.len() > 100 {
        return Err(ValidationError::new("rules", "must have at most 100 rules"));
    }
    for (i, rule) in w.rules.iter_mut().enumerate() {
        let mut hours: Option<bool> = None;
        for (j, c) in rule.conditions.iter_mut().enumerate() {
            let at = format!("rules[{i}].conditions[{j}]");
            match c {
                Condition::ChannelIs { channels } => nonempty(format!("{at}.channels"), channels, "channel")?,
                Condition::LanguageIs { languages } => {
                    nonempty(format!("{at}.languages"), languages, "language")?;
                    for (k, l) in languages.iter_mut().enumerate() {
                        *l = l.trim().to_lowercase();
                        if Lang::from_code(l).is_none() {
                            return Err(ValidationError::new(
                                &format!("{at}.languages[{k}]"),
                                format!("must be one of {}", Lang::codes()),
                            ));
                        }
                    }
                }
                Condition::TriggerIs { triggers } => nonempty(format!("{at}.triggers"), triggers, "trigger")?,
                Condition::TopicContains { words } => {
                    nonempty(format!("{at}.words"), words, "word")?;
                    for (k, word) in words.iter_mut().enumerate() {
                        *word = bounded_text(&format!("{at}.words[{k}]"), word, 1, 200)?;
                        if fold(word).is_empty() {
                            return Err(ValidationError::new(
                                &format!("{at}.words[{k}]"),
                                "must contain a letter or a digit",
                            ));
                        }
                    }
                }
                Condition::ContactProperty { key, value } => {
                    *key = bounded_text(&format!("{at}.key"), key, 1, 100)?;
                    *value = bounded_text(&format!("{at}.value"), value, 0, 500)?;
                }
                Condition::BusinessHours { inside } => {
                    if hours.is_some_and(|h| h != *inside) {
                        return Err(ValidationError::new(
                            &format!("{at}.inside"),
                            "contradicts another business hours condition of this rule: it can never match",
                        ));
                    }
                    hours = Some(*inside);
                }
                Condition::PriorityIs { priorities } => nonempty(format!("{at}.priorities"), priorities, "priority")?,
            }
        }
        if rule.actions.is_empty() {
            return Err(ValidationError::new(&format!("rules[{i}].actions"), "must have at least one action"));
        }
        let mut assigns = 0;
        for (j, a) in rule.actions.iter_mut().enumerate() {
            let at = format!("rules[{i}].actions[{j}]");
            match a {
                Action::Assign { user_ids, team_ids } => {
                    assigns += 1;
                    if user_ids.is_empty() && team_ids.is_empty() {
                        return Err(ValidationError::new(
                            &format!("{at}.user_ids"),
                            "must name at least one user or team",
                        ));
                    }
                    user_ids.dedup();
                    team_ids.dedup();
                }
                Action::AssignToAgent => assigns += 1,
                Action::SetPriority { .. } | Action::SetStatus { .. } => {}
                Action::AddNote { text } => *text = bounded_text(&format!("{at}.text"), text, 1, 2000)?,
                Action::SendMessage { text } => *text = bounded_text(&format!("{at}.text"), text, 1, 1000)?,
            }
            if assigns > 1 {
                return Err(ValidationError::new(&at, "a rule assigns at most once"));
            }
        }
    }
    Ok(())
}

/// The name of the built-in template (E9).
pub const AGENT_HANDOFF_TEMPLATE: &str = "Reassign tickets for agent handoff";

/// The built-in template "reassign tickets for agent handoff" (E9): one rule
/// per source channel rotating the ticket's owner among that channel's users.
/// Channels without users get no rule. An ordinary workflow: it can be edited.
pub fn reassign_for_agent_handoff(users_per_channel: &[(Channel, Vec<i64>)]) -> Workflow {
    let rules = users_per_channel
        .iter()
        .filter(|(_, users)| !users.is_empty())
        .map(|(channel, users)| Rule {
            conditions: vec![Condition::ChannelIs { channels: vec![*channel] }],
            actions: vec![Action::Assign { user_ids: users.clone(), team_ids: vec![] }],
        })
        .collect();
    Workflow { id: 0, name: AGENT_HANDOFF_TEMPLATE.to_owned(), enabled: true, rules }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::{pick, Candidate};

    fn facts(channel: Channel, lang: &str) -> TicketFacts {
        TicketFacts {
            channel: Some(channel),
            language: lang.into(),
            trigger: Some(HandoffTrigger::VisitorAsked),
            ..Default::default()
        }
    }

    fn wf(rules: Vec<Rule>) -> Workflow {
        Workflow { id: 1, name: "Route".into(), enabled: true, rules }
    }

    fn italian_to_team_else_user() -> Workflow {
        wf(vec![
            Rule {
                conditions: vec![Condition::LanguageIs { languages: vec!["it".into()] }],
                actions: vec![Action::Assign { user_ids: vec![], team_ids: vec![10] }],
            },
            Rule { conditions: vec![], actions: vec![Action::Assign { user_ids: vec![2], team_ids: vec![] }] },
        ])
    }

    #[test]
    fn workflow_first_matching_rule_wins() {
        let w = italian_to_team_else_user();
        assert_eq!(evaluate(&w, &facts(Channel::LiveChat, "it")), w.rules[0].actions);
        assert_eq!(evaluate(&w, &facts(Channel::LiveChat, "en")), w.rules[1].actions);
        assert_eq!(matching_rule(&w, &facts(Channel::Email, "fr")), Some(1));
        let off = Workflow { enabled: false, ..w };
        assert!(evaluate(&off, &facts(Channel::LiveChat, "it")).is_empty());
    }

    #[test]
    fn workflow_no_rule_matches_means_no_action() {
        let w = wf(vec![Rule {
            conditions: vec![Condition::ChannelIs { channels: vec![Channel::Email] }],
            actions: vec![Action::AssignToAgent],
        }]);
        assert!(evaluate(&w, &facts(Channel::LiveChat, "en")).is_empty());
        assert!(assignment(&evaluate(&w, &facts(Channel::LiveChat, "en"))).is_none());
    }

    #[test]
    fn workflow_conditions_hold_on_their_facts() {
        let mut f = facts(Channel::WhatsApp, "es");
        f.text = "Quiero un REEMBOLSO del pedido".into();
        f.contact.insert("plan".into(), serde_json::json!("Énterprise"));
        f.contact.insert("seats".into(), serde_json::json!(12));
        f.inside_business_hours = true;
        f.priority = Priority::High;
        let yes = [
            Condition::ChannelIs { channels: vec![Channel::Email, Channel::WhatsApp] },
            Condition::LanguageIs { languages: vec!["es".into()] },
            Condition::TriggerIs { triggers: vec![HandoffTrigger::VisitorAsked] },
            Condition::TopicContains { words: vec!["reembolso".into()] },
            Condition::TopicContains { words: vec!["Reémbolso del"].into_iter().map(String::from).collect() },
            Condition::ContactProperty { key: "plan".into(), value: "enterprise".into() },
            Condition::ContactProperty { key: "seats".into(), value: "12".into() },
            Condition::BusinessHours { inside: true },
            Condition::PriorityIs { priorities: vec![Priority::High, Priority::Urgent] },
        ];
        for c in &yes {
            assert!(c.holds(&f), "{c:?}");
        }
        let no = [
            Condition::ChannelIs { channels: vec![Channel::Email] },
            Condition::LanguageIs { languages: vec!["it".into()] },
            Condition::TriggerIs { triggers: vec![HandoffTrigger::CannotAnswer] },
            Condition::TopicContains { words: vec!["reemb".into()] },
            Condition::ContactProperty { key: "plan".into(), value: "free".into() },
            Condition::ContactProperty { key: "missing".into(), value: "".into() },
            Condition::BusinessHours { inside: false },
            Condition::PriorityIs { priorities: vec![Priority::Low] },
        ];
        for c in &no {
            assert!(!c.holds(&f), "{c:?}");
        }
    }

    #[test]
    fn workflow_assignment_is_round_robin_among_named_people() {
        let w = italian_to_team_else_user();
        let actions = evaluate(&w, &facts(Channel::LiveChat, "it"));
        let members = assign_candidates(assignment(&actions).unwrap(), &[(10, vec![3, 4]), (11, vec![5])]);
        assert_eq!(members, vec![3, 4]);
        let cand = |id, last| Candidate {
            user_id: id,
            available: true,
            paid_seat: true,
            disabled: false,
            open_load: 0,
            last_assigned_at: last,
        };
        assert_eq!(pick(&[cand(3, Some(5)), cand(4, None)]), Some(4));
    }

    #[test]
    fn workflow_validation_names_the_field() {
        let cases: Vec<(Workflow, &str)> = vec![
            (Workflow { name: " ".into(), ..italian_to_team_else_user() }, "name"),
            (wf(vec![]), "rules"),
            (wf(vec![Rule { conditions: vec![], actions: vec![] }]), "rules[0].actions"),
            (
                wf(vec![
                    Rule { conditions: vec![], actions: vec![Action::AssignToAgent] },
                    Rule { conditions: vec![], actions: vec![Action::Assign { user_ids: vec![], team_ids: vec![] }] },
                ]),
                "rules[1].actions[0].user_ids",
            ),
            (
                wf(vec![Rule {
                    conditions: vec![Condition::ChannelIs { channels: vec![] }],
                    actions: vec![Action::AssignToAgent],
                }]),
                "rules[0].conditions[0].channels",
            ),
            (
                wf(vec![Rule {
                    conditions: vec![Condition::LanguageIs { languages: vec!["xx".into()] }],
                    actions: vec![Action::AssignToAgent],
                }]),
                "rules[0].conditions[0].languages[0]",
            ),
            (
                wf(vec![Rule {
                    conditions: vec![
                        Condition::BusinessHours { inside: true },
                        Condition::BusinessHours { inside: false },
                    ],
                    actions: vec![Action::AssignToAgent],
                }]),
                "rules[0].conditions[1].inside",
            ),
            (
                wf(vec![Rule { conditions: vec![], actions: vec![Action::AddNote { text: "  ".into() }] }]),
                "rules[0].actions[0].text",
            ),
            (
                wf(vec![Rule {
                    conditions: vec![],
                    actions: vec![Action::AssignToAgent, Action::Assign { user_ids: vec![1], team_ids: vec![] }],
                }]),
                "rules[0].actions[1]",
            ),
        ];
        for (mut w, field) in cases {
            assert_eq!(validate(&mut w).map_err(|e| e.field), Err(field.to_owned()), "{w:?}");
        }
        let mut ok = italian_to_team_else_user();
        assert_eq!(validate(&mut ok), Ok(()));
    }

    #[test]
    fn workflow_json_round_trips() {
        let w = italian_to_team_else_user();
        let j = serde_json::to_value(&w).unwrap();
        assert_eq!(j["rules"][0]["conditions"][0]["type"], "language_is");
        assert_eq!(j["rules"][0]["actions"][0]["type"], "assign");
        assert_eq!(serde_json::from_value::<Workflow>(j).unwrap(), w);
        let bad = serde_json::json!({"name": "x", "rules": [{"conditions": [{"type": "moon_phase"}], "actions": []}]});
        assert!(serde_json::from_value::<Workflow>(bad).is_err());
    }

    #[test]
    fn workflow_template_rotates_owner_per_channel() {
        let mut w = reassign_for_agent_handoff(&[
            (Channel::LiveChat, vec![1, 2]),
            (Channel::Email, vec![3]),
            (Channel::WhatsApp, vec![]),
        ]);
        assert_eq!(w.name, AGENT_HANDOFF_TEMPLATE);
        assert_eq!(w.rules.len(), 2);
        assert_eq!(validate(&mut w), Ok(()));
        let chat = evaluate(&w, &facts(Channel::LiveChat, "en"));
        assert_eq!(assign_candidates(assignment(&chat).unwrap(), &[]), vec![1, 2]);
        let mail = evaluate(&w, &facts(Channel::Email, "en"));
        assert_eq!(assign_candidates(assignment(&mail).unwrap(), &[]), vec![3]);
        assert!(evaluate(&w, &facts(Channel::WhatsApp, "en")).is_empty());
    }

    #[test]
    fn workflow_message_and_priority_actions() {
        let actions = vec![
            Action::SetPriority { priority: Priority::Urgent },
            Action::SendMessage { text: "On it".into() },
            Action::AddNote { text: "VIP".into() },
        ];
        assert_eq!(message(&actions), Some("On it"));
        assert!(assignment(&actions).is_none());
        assert_eq!(Priority::parse("urgent"), Some(Priority::Urgent));
        assert_eq!(TicketStatus::parse("closed"), Some(TicketStatus::Closed));
    }
}
