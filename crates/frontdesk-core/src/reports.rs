//! The Performance reports (G1–G11) as pure functions of the event log.
//!
//! Three steps, each deterministic and tested here:
//! 1. [`facts`]: a conversation's events (in order) → its [`Facts`]: when it
//!    was created and on which channel, whether the agent handled it, the
//!    first transfer from the agent to humans and its cause, whether a human
//!    was ever involved, its resolution verdict (G6), its ticket, who closed
//!    it, and the feedback given.
//! 2. [`contributions`]: facts → additive counters keyed by local day (in the
//!    workspace's time zone), channel, metric and dimension. Conversation
//!    figures count on the day the conversation was created (a cohort, so a
//!    rate's numerator and denominator describe the same conversations);
//!    feedback counts on the day it was given. The store keeps these counters
//!    as a cache that is rebuilt from the events at will.
//! 3. [`build`]: the counters of a date range → a report table, bucketed by
//!    week (Monday) or day.
//!
//! **Resolution (G6).** A conversation is resolved by the agent when, looking
//! only at events before the verdict time: at least one agent reply cited a
//! content source or performed an action (successfully); the visitor did not
//! ask for a human; and the agent's last reply has no negative feedback (the
//! latest feedback on it wins). The verdict time is 72 hours after the agent's
//! last reply: a new agent reply before then restarts the wait; one at or
//! after it comes too late. The evaluation job records the verdict as a
//! `resolution` event, and from then on the verdict is that event: frozen.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
pub use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::model::{EventKind, HandoffTrigger};

/// The zone named `name`, or UTC when it is unknown (a stored zone was
/// validated when saved; this keeps a bad row from breaking the reports).
pub fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

/// How long after the agent's last reply the resolution is decided.
pub const RESOLUTION_WAIT_MS: i64 = 72 * 3600 * 1000;

/// One event of a conversation's log, as the reports read it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEvent {
    pub kind: EventKind,
    /// visitor, agent, human or system.
    pub actor_kind: String,
    pub actor_user_id: Option<i64>,
    pub data: Value,
    /// Unix milliseconds.
    pub at: i64,
}

/// A transfer of the conversation from the agent to humans (G10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    pub at: i64,
    /// agent, rule or manual.
    pub cause: String,
}

/// A feedback submission on an agent reply (G4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    pub at: i64,
    pub helpful: bool,
}

/// Where a conversation's resolution verdict stands (G6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Resolution {
    /// The agent never replied: nothing to evaluate.
    #[default]
    NoReply,
    /// Waiting until `due_at` (72 hours after the agent's last reply).
    Pending { last_reply_at: i64, due_at: i64 },
    /// Frozen by the evaluation job.
    Decided { resolved: bool, reason: String, last_reply_at: i64, due_at: i64 },
}

/// What the reports need to know about one conversation, derived from its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Facts {
    pub created_at: i64,
    pub channel: String,
    pub preview: bool,
    /// First assignment to the agent.
    pub handled_at: Option<i64>,
    /// First transfer from the agent to humans (a person, a team's queue or the unassigned queue).
    pub transfer: Option<Transfer>,
    /// A human wrote, was assigned, or the conversation was transferred to humans.
    pub human_involved: bool,
    pub resolution: Resolution,
    pub ticket_created_at: Option<i64>,
    /// When the ticket was last closed, if it is closed now.
    pub ticket_closed_at: Option<i64>,
    /// The person whose close is the conversation's latest, if a person closed it last.
    pub closed_by: Option<i64>,
    pub feedback: Vec<Feedback>,
}

impl Facts {
    /// When the evaluation job must decide the resolution, if it still has to.
    pub fn evaluate_at(&self) -> Option<i64> {
        match (&self.resolution, self.preview) {
            (Resolution::Pending { due_at, .. }, false) => Some(*due_at),
            _ => None,
        }
    }

    pub fn deflected(&self) -> bool {
        self.handled_at.is_some() && !self.human_involved
    }

    pub fn resolved(&self) -> bool {
        matches!(self.resolution, Resolution::Decided { resolved: true, .. })
    }
}

fn data_str<'a>(e: &'a LogEvent, key: &str) -> Option<&'a str> {
    e.data.get(key).and_then(Value::as_str)
}

/// An agent reply: a message by the agent that is not a rule-based bot's.
fn is_agent_reply(e: &LogEvent) -> bool {
    e.kind == EventKind::Message && data_str(e, "author") == Some("agent") && data_str(e, "outcome") != Some("bot")
}

/// The agent's last reply before the verdict time and that time, if the
/// agent replied: the first reply not followed by another within 72 hours.
pub fn due(events: &[LogEvent]) -> Option<(i64, i64)> {
    let replies: Vec<i64> = events.iter().filter(|e| is_agent_reply(e)).map(|e| e.at).collect();
    let first = *replies.first()?;
    let mut last = first;
    for &r in &replies[1..] {
        if r >= last + RESOLUTION_WAIT_MS {
            break;
        }
        last = last.max(r);
    }
    Some((last, last + RESOLUTION_WAIT_MS))
}

/// The verdict for events before `due_at`: resolved, and the reason.
pub fn verdict(events: &[LogEvent], due_at: i64) -> (bool, &'static str) {
    let before: Vec<&LogEvent> = events.iter().filter(|e| e.at < due_at).collect();
    let replies: Vec<&&LogEvent> = before.iter().filter(|e| is_agent_reply(e)).collect();
    let useful = replies.iter().any(|e| {
        e.data.get("cited").and_then(Value::as_bool).unwrap_or(false)
            || e.data
                .get("actions")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|x| x.get("ok").and_then(Value::as_bool).unwrap_or(false)))
    });
    if !useful {
        return (false, "no_cited_reply_or_action");
    }
    let asked = before
        .iter()
        .any(|e| e.kind == EventKind::Handoff && data_str(e, "trigger") == Some(HandoffTrigger::VisitorAsked.as_str()));
    if asked {
        return (false, "visitor_asked_for_human");
    }
    let last_id = replies.last().and_then(|e| e.data.get("message_id")).and_then(Value::as_i64);
    let negative = before
        .iter()
        .rev()
        .find(|e| e.kind == EventKind::Feedback && e.data.get("message_id").and_then(Value::as_i64) == last_id)
        .is_some_and(|e| e.data.get("helpful").and_then(Value::as_bool) == Some(false));
    if negative {
        return (false, "negative_feedback_on_last_reply");
    }
    (true, "resolved")
}

/// The `resolution` event's data for a verdict reached now, or `None` when
/// nothing is due at `now` (no agent reply, still waiting, already decided).
pub fn evaluation(events: &[LogEvent], now: i64) -> Option<Value> {
    if events.iter().any(|e| e.kind == EventKind::Resolution) {
        return None;
    }
    let (last_reply_at, due_at) = due(events)?;
    if now < due_at {
        return None;
    }
    let (resolved, reason) = verdict(events, due_at);
    Some(json!({"resolved": resolved, "reason": reason, "last_reply_at": last_reply_at, "due_at": due_at}))
}

/// A conversation's facts from its events, in log order.
pub fn facts(events: &[LogEvent]) -> Facts {
    let mut f = Facts { channel: "live_chat".to_owned(), ..Facts::default() };
    if let Some(first) = events.first() {
        f.created_at = first.at;
    }
    let mut assignee = "none".to_owned();
    let mut ticket_open = false;
    for e in events {
        match e.kind {
            EventKind::ConversationCreated => {
                f.created_at = e.at;
                if let Some(c) = data_str(e, "channel") {
                    f.channel = c.to_owned();
                }
                f.preview = e.data.get("preview").and_then(Value::as_bool).unwrap_or(false);
            }
            EventKind::Assigned => {
                let to = data_str(e, "to").unwrap_or("none").to_owned();
                if to == "agent" && f.handled_at.is_none() {
                    f.handled_at = Some(e.at);
                }
                if assignee == "agent" && to != "agent" {
                    f.human_involved = true;
                    if f.transfer.is_none() {
                        let cause = data_str(e, "cause").unwrap_or("agent").to_owned();
                        f.transfer = Some(Transfer { at: e.at, cause });
                    }
                }
                if to == "human" {
                    f.human_involved = true;
                }
                assignee = to;
            }
            EventKind::Message => {
                if data_str(e, "author") == Some("human") {
                    f.human_involved = true;
                }
            }
            EventKind::Feedback => {
                if let Some(helpful) = e.data.get("helpful").and_then(Value::as_bool) {
                    f.feedback.push(Feedback { at: e.at, helpful });
                }
            }
            EventKind::Closed => {
                f.closed_by = if e.actor_kind == "human" { e.actor_user_id } else { None };
            }
            EventKind::Ticket => match data_str(e, "action") {
                Some("created") => {
                    f.ticket_created_at.get_or_insert(e.at);
                    ticket_open = true;
                    f.ticket_closed_at = None;
                }
                Some("reopened") => {
                    ticket_open = true;
                    f.ticket_closed_at = None;
                }
                Some("closed") if ticket_open || f.ticket_created_at.is_some() => {
                    ticket_open = false;
                    f.ticket_closed_at = Some(e.at);
                }
                _ => {}
            },
            EventKind::Resolution => {
                if !matches!(f.resolution, Resolution::Decided { .. }) {
                    f.resolution = Resolution::Decided {
                        resolved: e.data.get("resolved").and_then(Value::as_bool).unwrap_or(false),
                        reason: data_str(e, "reason").unwrap_or("").to_owned(),
                        last_reply_at: e.data.get("last_reply_at").and_then(Value::as_i64).unwrap_or(e.at),
                        due_at: e.data.get("due_at").and_then(Value::as_i64).unwrap_or(e.at),
                    };
                }
            }
            EventKind::Reopened | EventKind::Handoff | EventKind::ContactUpdated => {}
        }
    }
    if !matches!(f.resolution, Resolution::Decided { .. }) {
        if let Some((last_reply_at, due_at)) = due(events) {
            f.resolution = Resolution::Pending { last_reply_at, due_at };
        }
    }
    f
}

/// Counter names, stored in the rollup; each is additive.
pub mod metric {
    /// Conversations created (preview excluded).
    pub const CONVERSATIONS: &str = "conversations";
    /// Assigned to the agent at some point.
    pub const HANDLED: &str = "handled";
    /// Verdict: resolved.
    pub const RESOLVED: &str = "resolved";
    /// Verdict: not resolved.
    pub const UNRESOLVED: &str = "unresolved";
    /// Verdict still to come (the 72-hour wait).
    pub const PENDING: &str = "pending";
    /// Sum over resolved conversations of creation → agent's last reply, ms.
    pub const RESOLUTION_MS: &str = "resolution_ms";
    /// Handled with no human involvement.
    pub const DEFLECTED: &str = "deflected";
    /// Transferred from the agent to humans; dimension: the cause.
    pub const HANDOFFS: &str = "handoffs";
    /// Handled and converted into a ticket.
    pub const TICKETS: &str = "tickets";
    /// Of those, closed now; and the sum of agent assignment → close, ms.
    pub const TICKETS_CLOSED: &str = "tickets_closed";
    pub const TICKET_CLOSE_MS: &str = "ticket_close_ms";
    /// Feedback submissions on the day given; dimension helpful / not_helpful.
    pub const FEEDBACK: &str = "feedback";
    /// Resolved conversations by who resolved them; dimension "agent" or a user id.
    pub const RESOLVED_BY: &str = "resolved_by";
}

/// One additive counter of the rollup.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Key {
    /// Local date, `YYYY-MM-DD`.
    pub day: String,
    pub channel: String,
    pub metric: &'static str,
    pub dim: String,
}

/// The local date of `ms` in `tz`, as `YYYY-MM-DD`.
pub fn local_day(ms: i64, tz: &TimeZone) -> String {
    local_date(ms, tz).to_string()
}

pub fn local_date(ms: i64, tz: &TimeZone) -> Date {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.to_zoned(tz.clone()).date()).unwrap_or(Date::ZERO)
}

/// What one conversation adds to the counters.
pub fn contributions(f: &Facts, tz: &TimeZone) -> Vec<(Key, i64)> {
    use metric::*;
    if f.preview {
        return Vec::new();
    }
    let day = local_day(f.created_at, tz);
    let key = |metric: &'static str, dim: &str| Key {
        day: day.clone(),
        channel: f.channel.clone(),
        metric,
        dim: dim.to_owned(),
    };
    let mut out = vec![(key(CONVERSATIONS, ""), 1)];
    if let Some(handled_at) = f.handled_at {
        out.push((key(HANDLED, ""), 1));
        if f.deflected() {
            out.push((key(DEFLECTED, ""), 1));
        }
        if let Some(t) = &f.transfer {
            out.push((key(HANDOFFS, &t.cause), 1));
        }
        if f.ticket_created_at.is_some() {
            out.push((key(TICKETS, ""), 1));
            if let Some(closed) = f.ticket_closed_at {
                out.push((key(TICKETS_CLOSED, ""), 1));
                out.push((key(TICKET_CLOSE_MS, ""), (closed - handled_at).max(0)));
            }
        }
        match &f.resolution {
            Resolution::NoReply => {}
            Resolution::Pending { .. } => out.push((key(PENDING, ""), 1)),
            Resolution::Decided { resolved: true, last_reply_at, .. } => {
                out.push((key(RESOLVED, ""), 1));
                out.push((key(RESOLUTION_MS, ""), (last_reply_at - f.created_at).max(0)));
            }
            Resolution::Decided { resolved: false, .. } => out.push((key(UNRESOLVED, ""), 1)),
        }
    }
    if f.handled_at.is_some() && f.resolved() {
        out.push((key(RESOLVED_BY, "agent"), 1));
    } else if let Some(uid) = f.closed_by {
        out.push((key(RESOLVED_BY, &uid.to_string()), 1));
    }
    for fb in &f.feedback {
        let dim = if fb.helpful { "helpful" } else { "not_helpful" };
        out.push((
            Key { day: local_day(fb.at, tz), channel: f.channel.clone(), metric: FEEDBACK, dim: dim.to_owned() },
            1,
        ));
    }
    out
}

/// The difference between two sets of contributions (new minus old), without zeros, sorted.
pub fn delta(old: &[(Key, i64)], new: &[(Key, i64)]) -> Vec<(Key, i64)> {
    let mut d: BTreeMap<Key, i64> = BTreeMap::new();
    for (k, v) in old {
        *d.entry(k.clone()).or_default() -= v;
    }
    for (k, v) in new {
        *d.entry(k.clone()).or_default() += v;
    }
    d.into_iter().filter(|(_, v)| *v != 0).collect()
}

// ---------- reports ----------

/// The reports, by their URL name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// G1
    Impact,
    /// G2
    Handled,
    /// G3
    HandledByChannel,
    /// G4
    Feedback,
    /// G5
    HandleRate,
    /// G6, G7
    Resolution,
    /// G8
    Deflection,
    /// G9
    Team,
    /// G10
    Handoffs,
    /// G11
    HandoffOutcome,
}

impl ReportKind {
    pub const ALL: [ReportKind; 10] = [
        ReportKind::Impact,
        ReportKind::Handled,
        ReportKind::HandledByChannel,
        ReportKind::Feedback,
        ReportKind::HandleRate,
        ReportKind::Resolution,
        ReportKind::Deflection,
        ReportKind::Team,
        ReportKind::Handoffs,
        ReportKind::HandoffOutcome,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ReportKind::Impact => "impact",
            ReportKind::Handled => "handled",
            ReportKind::HandledByChannel => "handled-by-channel",
            ReportKind::Feedback => "feedback",
            ReportKind::HandleRate => "handle-rate",
            ReportKind::Resolution => "resolution",
            ReportKind::Deflection => "deflection",
            ReportKind::Team => "team",
            ReportKind::Handoffs => "handoffs",
            ReportKind::HandoffOutcome => "handoff-outcome",
        }
    }

    pub fn parse(s: &str) -> Option<ReportKind> {
        ReportKind::ALL.into_iter().find(|k| k.name() == s)
    }

    pub fn title(self) -> &'static str {
        match self {
            ReportKind::Impact => "Impact this week",
            ReportKind::Handled => "Conversations handled over time",
            ReportKind::HandledByChannel => "Conversations handled by channel",
            ReportKind::Feedback => "Visitor feedback trend",
            ReportKind::HandleRate => "Handle rate over time",
            ReportKind::Resolution => "Resolutions",
            ReportKind::Deflection => "Deflections",
            ReportKind::Team => "The agent in your team",
            ReportKind::Handoffs => "Human handoffs",
            ReportKind::HandoffOutcome => "Handoff outcome",
        }
    }

    pub fn spec_id(self) -> &'static str {
        match self {
            ReportKind::Impact => "G1",
            ReportKind::Handled => "G2",
            ReportKind::HandledByChannel => "G3",
            ReportKind::Feedback => "G4",
            ReportKind::HandleRate => "G5",
            ReportKind::Resolution => "G6, G7",
            ReportKind::Deflection => "G8",
            ReportKind::Team => "G9",
            ReportKind::Handoffs => "G10",
            ReportKind::HandoffOutcome => "G11",
        }
    }

    /// The counters the report reads.
    pub fn metrics(self) -> &'static [&'static str] {
        use metric::*;
        match self {
            ReportKind::Impact => &[HANDLED, RESOLVED, RESOLUTION_MS, DEFLECTED, FEEDBACK, PENDING],
            ReportKind::Handled => &[HANDLED, RESOLVED, HANDOFFS],
            ReportKind::HandledByChannel => &[HANDLED],
            ReportKind::Feedback => &[FEEDBACK],
            ReportKind::HandleRate => &[CONVERSATIONS, HANDLED],
            ReportKind::Resolution => &[HANDLED, RESOLVED, UNRESOLVED, PENDING, RESOLUTION_MS],
            ReportKind::Deflection => &[HANDLED, DEFLECTED],
            ReportKind::Team => &[RESOLVED_BY],
            ReportKind::Handoffs => &[HANDLED, HANDOFFS],
            ReportKind::HandoffOutcome => &[HANDLED, TICKETS, TICKETS_CLOSED, TICKET_CLOSE_MS],
        }
    }
}

/// Buckets of a report's series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Week,
    Day,
}

/// The first day of the bucket holding `d`: itself, or that week's Monday.
pub fn bucket_start(d: Date, bucket: Bucket) -> Date {
    match bucket {
        Bucket::Day => d,
        Bucket::Week => {
            let back = d.weekday().to_monday_zero_offset();
            d.checked_sub(jiff::Span::new().days(i64::from(back))).unwrap_or(d)
        }
    }
}

/// The Monday of the week holding `d`.
pub fn week_start(d: Date) -> Date {
    bucket_start(d, Bucket::Week)
}

/// Summed counters of one bucket: (metric, dim) → value; `dim` "" for none.
#[derive(Debug, Clone, Default)]
struct Sums<'a>(BTreeMap<(&'a str, &'a str), i64>);

impl<'a> Sums<'a> {
    fn add(&mut self, metric: &'a str, dim: &'a str, v: i64) {
        *self.0.entry((metric, dim)).or_default() += v;
    }
    /// The metric summed over its dimensions.
    fn get(&self, metric: &str) -> i64 {
        self.0.iter().filter(|((m, _), _)| *m == metric).map(|(_, v)| v).sum()
    }
    fn dim(&self, metric: &str, dim: &str) -> i64 {
        self.0.get(&(metric, dim)).copied().unwrap_or(0)
    }
    fn dims<'b>(&'b self, metric: &'b str) -> impl Iterator<Item = &'a str> + 'b {
        self.0.keys().filter(move |(m, _)| *m == metric).map(|(_, d)| *d)
    }
}

/// A report's cells for one bucket's sums.
type Cells = Box<dyn Fn(&Sums<'_>) -> Vec<Value>>;

/// One counter row as the store returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountRow {
    pub day: String,
    pub channel: String,
    pub metric: String,
    pub dim: String,
    pub value: i64,
}

/// What a report is asked for.
#[derive(Debug, Clone)]
pub struct ReportQuery {
    pub kind: ReportKind,
    pub from: Date,
    pub to: Date,
    pub bucket: Bucket,
    pub channel: Option<String>,
}

/// A report: one row per bucket (or one row for G1), its columns, and totals over the range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub report: &'static str,
    pub spec: &'static str,
    pub title: &'static str,
    pub from: String,
    pub to: String,
    pub bucket: Bucket,
    pub channel: Option<String>,
    pub columns: Vec<String>,
    pub rows: Vec<ReportRow>,
    pub totals: Vec<Value>,
    /// Handled conversations whose resolution is not decided yet (the 72-hour lag).
    pub pending_evaluation: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportRow {
    /// The bucket's first day, `YYYY-MM-DD`.
    pub period: String,
    pub values: Vec<Value>,
}

/// `num / den`, or null when there is nothing to divide by.
fn rate(num: i64, den: i64) -> Value {
    if den == 0 {
        Value::Null
    } else {
        json!(num as f64 / den as f64)
    }
}

/// An average in seconds of a sum in milliseconds, or null.
fn avg_seconds(sum_ms: i64, n: i64) -> Value {
    if n == 0 {
        Value::Null
    } else {
        json!(sum_ms as f64 / n as f64 / 1000.0)
    }
}

const CHANNELS: [&str; 5] = ["live_chat", "email", "whatsapp", "messenger", "custom"];
const CAUSES: [&str; 3] = ["agent", "rule", "manual"];

/// Builds the report from the counter rows of its range (rows outside the
/// range or of another channel are ignored).
pub fn build(q: &ReportQuery, rows: &[CountRow]) -> Report {
    use metric::*;
    // G1 is the week holding `to` (today by default), up to `to`.
    let (from, to) = if q.kind == ReportKind::Impact { (week_start(q.to), q.to) } else { (q.from, q.to) };
    let bucket = if q.kind == ReportKind::Impact { Bucket::Week } else { q.bucket };
    let mut buckets: BTreeMap<Date, Sums> = BTreeMap::new();
    let mut d = bucket_start(from, bucket);
    while d <= to {
        buckets.insert(d, Sums::default());
        d = match bucket {
            Bucket::Day => d.tomorrow(),
            Bucket::Week => d.checked_add(jiff::Span::new().days(7)),
        }
        .unwrap_or(Date::MAX);
        if d == Date::MAX {
            break;
        }
    }
    let mut total = Sums::default();
    let mut channels_seen: BTreeSet<String> = BTreeSet::new();
    for r in rows {
        let Ok(day) = r.day.parse::<Date>() else { continue };
        if day < from || day > to || q.channel.as_deref().is_some_and(|c| c != r.channel) {
            continue;
        }
        let s = buckets.entry(bucket_start(day, bucket)).or_default();
        if q.kind == ReportKind::HandledByChannel {
            s.add(&r.metric, &r.channel, r.value);
            total.add(&r.metric, &r.channel, r.value);
            channels_seen.insert(r.channel.clone());
        } else {
            s.add(&r.metric, &r.dim, r.value);
            total.add(&r.metric, &r.dim, r.value);
        }
    }
    let (columns, cells): (Vec<String>, Cells) = match q.kind {
        ReportKind::Impact => (
            cols(&["resolved", "handled", "avg_time_to_resolution_s", "deflection_rate", "helpful_share", "feedback"]),
            Box::new(|s: &Sums| {
                vec![
                    json!(s.get(RESOLVED)),
                    json!(s.get(HANDLED)),
                    avg_seconds(s.get(RESOLUTION_MS), s.get(RESOLVED)),
                    rate(s.get(DEFLECTED), s.get(HANDLED)),
                    rate(s.dim(FEEDBACK, "helpful"), s.get(FEEDBACK)),
                    json!(s.get(FEEDBACK)),
                ]
            }),
        ),
        ReportKind::Handled => (
            cols(&["handled", "resolved", "handed_off"]),
            Box::new(|s: &Sums| vec![json!(s.get(HANDLED)), json!(s.get(RESOLVED)), json!(s.get(HANDOFFS))]),
        ),
        ReportKind::HandledByChannel => {
            let mut chans: Vec<String> = match &q.channel {
                Some(c) => vec![c.clone()],
                None => CHANNELS.iter().map(|c| c.to_string()).collect(),
            };
            for c in &channels_seen {
                if !chans.contains(c) {
                    chans.push(c.clone());
                }
            }
            let c2 = chans.clone();
            (chans, Box::new(move |s: &Sums| c2.iter().map(|c| json!(s.dim(HANDLED, c))).collect()))
        }
        ReportKind::Feedback => (
            cols(&["helpful", "not_helpful", "total"]),
            Box::new(|s: &Sums| {
                vec![json!(s.dim(FEEDBACK, "helpful")), json!(s.dim(FEEDBACK, "not_helpful")), json!(s.get(FEEDBACK))]
            }),
        ),
        ReportKind::HandleRate => (
            cols(&["conversations", "handled", "handle_rate"]),
            Box::new(|s: &Sums| {
                vec![json!(s.get(CONVERSATIONS)), json!(s.get(HANDLED)), rate(s.get(HANDLED), s.get(CONVERSATIONS))]
            }),
        ),
        ReportKind::Resolution => (
            cols(&["handled", "resolved", "unresolved", "pending", "resolution_rate", "avg_time_to_resolution_s"]),
            Box::new(|s: &Sums| {
                let decided = s.get(RESOLVED) + s.get(UNRESOLVED);
                vec![
                    json!(s.get(HANDLED)),
                    json!(s.get(RESOLVED)),
                    json!(s.get(UNRESOLVED)),
                    json!(s.get(PENDING)),
                    rate(s.get(RESOLVED), decided),
                    avg_seconds(s.get(RESOLUTION_MS), s.get(RESOLVED)),
                ]
            }),
        ),
        ReportKind::Deflection => (
            cols(&["handled", "deflected", "deflection_rate"]),
            Box::new(|s: &Sums| {
                vec![json!(s.get(HANDLED)), json!(s.get(DEFLECTED)), rate(s.get(DEFLECTED), s.get(HANDLED))]
            }),
        ),
        ReportKind::Team => {
            // The agent first, then people by how many they resolved.
            let mut people: Vec<(String, i64)> = total
                .dims(RESOLVED_BY)
                .filter(|d| *d != "agent")
                .map(|d| (d.to_owned(), total.dim(RESOLVED_BY, d)))
                .collect();
            people.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let mut dims = vec!["agent".to_owned()];
            dims.extend(people.into_iter().map(|(d, _)| d));
            let columns =
                dims.iter().map(|d| if d == "agent" { "agent".to_owned() } else { format!("user:{d}") }).collect();
            (columns, Box::new(move |s: &Sums| dims.iter().map(|d| json!(s.dim(RESOLVED_BY, d))).collect()))
        }
        ReportKind::Handoffs => (
            cols(&["handled", "handed_off", "handoff_rate", "by_agent", "by_rule", "manual"]),
            Box::new(|s: &Sums| {
                let mut v = vec![json!(s.get(HANDLED)), json!(s.get(HANDOFFS)), rate(s.get(HANDOFFS), s.get(HANDLED))];
                v.extend(CAUSES.iter().map(|c| json!(s.dim(HANDOFFS, c))));
                v
            }),
        ),
        ReportKind::HandoffOutcome => (
            cols(&["handled", "tickets", "conversion_rate", "tickets_closed", "avg_time_to_close_s"]),
            Box::new(|s: &Sums| {
                vec![
                    json!(s.get(HANDLED)),
                    json!(s.get(TICKETS)),
                    rate(s.get(TICKETS), s.get(HANDLED)),
                    json!(s.get(TICKETS_CLOSED)),
                    avg_seconds(s.get(TICKET_CLOSE_MS), s.get(TICKETS_CLOSED)),
                ]
            }),
        ),
    };
    let rows = buckets.iter().map(|(d, s)| ReportRow { period: d.to_string(), values: cells(s) }).collect();
    Report {
        report: q.kind.name(),
        spec: q.kind.spec_id(),
        title: q.kind.title(),
        from: from.to_string(),
        to: to.to_string(),
        bucket,
        channel: q.channel.clone(),
        columns,
        rows,
        totals: cells(&total),
        pending_evaluation: total.get(PENDING),
    }
}

fn cols(c: &[&str]) -> Vec<String> {
    c.iter().map(|s| s.to_string()).collect()
}

/// The report as CSV (K4): a header, one line per bucket, then the totals.
pub fn to_csv(r: &Report, column_labels: &[String]) -> String {
    let mut out = String::new();
    let header: Vec<String> = std::iter::once("period".to_owned()).chain(column_labels.iter().cloned()).collect();
    out.push_str(&header.iter().map(|h| csv_field(h)).collect::<Vec<_>>().join(","));
    out.push('\n');
    let line = |period: &str, values: &[Value]| {
        let mut cells = vec![csv_field(period)];
        cells.extend(values.iter().map(|v| match v {
            Value::Null => String::new(),
            Value::String(s) => csv_field(s),
            other => other.to_string(),
        }));
        cells.join(",") + "\n"
    };
    for row in &r.rows {
        out.push_str(&line(&row.period, &row.values));
    }
    out.push_str(&line("total", &r.totals));
    out
}

/// A CSV field, quoted when it holds a comma, a quote or a line break; a
/// leading `=`, `+`, `-` or `@` is prefixed with `'` so spreadsheets do not run it.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_owned() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Parses a `YYYY-MM-DD` date, or says why not.
pub fn parse_day(s: &str) -> Result<Date, String> {
    s.trim().parse::<Date>().map_err(|_| format!("{s:?} is not a date; use YYYY-MM-DD"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3600 * 1000;
    const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z, a Thursday

    fn ev(kind: EventKind, at: i64, data: Value) -> LogEvent {
        let actor = match kind {
            EventKind::Feedback => "visitor",
            _ => "system",
        };
        LogEvent { kind, actor_kind: actor.to_owned(), actor_user_id: None, data, at }
    }

    fn created(at: i64) -> Vec<LogEvent> {
        vec![
            ev(EventKind::ConversationCreated, at, json!({"channel": "live_chat", "preview": false})),
            ev(EventKind::Assigned, at, json!({"to": "agent", "cause": "initial"})),
        ]
    }

    fn reply(at: i64, id: i64, cited: bool) -> LogEvent {
        ev(EventKind::Message, at, json!({"author": "agent", "message_id": id, "cited": cited, "actions": []}))
    }

    #[test]
    fn a_cited_reply_with_nothing_else_is_resolved_after_72_hours() {
        let mut e = created(T0);
        e.push(reply(T0 + 1000, 1, true));
        assert_eq!(due(&e), Some((T0 + 1000, T0 + 1000 + RESOLUTION_WAIT_MS)));
        assert_eq!(evaluation(&e, T0 + 1000 + RESOLUTION_WAIT_MS - 1), None);
        let v = evaluation(&e, T0 + 1000 + RESOLUTION_WAIT_MS).unwrap();
        assert_eq!(v["resolved"], true);
    }

    #[test]
    fn a_reply_within_72_hours_restarts_the_wait_and_one_at_72_hours_does_not() {
        let mut e = created(T0);
        e.push(reply(T0, 1, true));
        e.push(reply(T0 + 72 * H - 60_000, 2, false));
        assert_eq!(due(&e).unwrap().0, T0 + 72 * H - 60_000);
        let mut e = created(T0);
        e.push(reply(T0, 1, true));
        e.push(reply(T0 + 72 * H, 2, false));
        assert_eq!(due(&e).unwrap().0, T0);
    }

    #[test]
    fn negative_feedback_counts_only_on_the_last_reply_and_before_the_verdict() {
        let mut e = created(T0);
        e.push(reply(T0, 1, true));
        e.push(reply(T0 + H, 2, false));
        e.push(ev(EventKind::Feedback, T0 + 2 * H, json!({"message_id": 1, "helpful": false})));
        assert_eq!(verdict(&e, T0 + 73 * H), (true, "resolved"));
        e.push(ev(EventKind::Feedback, T0 + 3 * H, json!({"message_id": 2, "helpful": false})));
        assert_eq!(verdict(&e, T0 + 73 * H), (false, "negative_feedback_on_last_reply"));
        // Feedback after the verdict time does not count.
        let mut e = created(T0);
        e.push(reply(T0, 1, true));
        e.push(ev(EventKind::Feedback, T0 + 72 * H, json!({"message_id": 1, "helpful": false})));
        assert_eq!(verdict(&e, T0 + 72 * H), (true, "resolved"));
    }

    #[test]
    fn asking_for_a_human_or_citing_nothing_is_not_resolved() {
        let mut e = created(T0);
        e.push(reply(T0, 1, false));
        assert_eq!(verdict(&e, T0 + 72 * H).1, "no_cited_reply_or_action");
        e.push(ev(
            EventKind::Message,
            T0 + 1,
            json!({"author": "agent", "message_id": 2, "cited": false, "actions": [{"name": "refund", "ok": true}]}),
        ));
        assert!(verdict(&e, T0 + 72 * H).0);
        e.push(ev(EventKind::Handoff, T0 + 2, json!({"trigger": "visitor_asked", "recorded_only": true})));
        assert_eq!(verdict(&e, T0 + 72 * H).1, "visitor_asked_for_human");
    }

    #[test]
    fn a_recorded_verdict_is_frozen() {
        let mut e = created(T0);
        e.push(reply(T0, 1, true));
        e.push(ev(
            EventKind::Resolution,
            T0 + 72 * H,
            json!({"resolved": true, "reason": "resolved", "last_reply_at": T0, "due_at": T0 + 72 * H}),
        ));
        e.push(ev(EventKind::Handoff, T0 + 80 * H, json!({"trigger": "visitor_asked"})));
        assert!(evaluation(&e, T0 + 200 * H).is_none());
        assert!(facts(&e).resolved());
    }

    #[test]
    fn transfers_deflection_and_tickets() {
        let mut e = created(T0);
        e.push(reply(T0, 1, true));
        let f = facts(&e);
        assert!(f.deflected());
        assert_eq!(f.evaluate_at(), Some(T0 + 72 * H));
        e.push(ev(EventKind::Ticket, T0 + H, json!({"action": "created", "ticket_id": 1})));
        e.push(ev(EventKind::Assigned, T0 + H, json!({"to": "none", "cause": "rule"})));
        e.push(ev(EventKind::Assigned, T0 + 2 * H, json!({"to": "human", "user_id": 7, "cause": "manual"})));
        e.push(ev(EventKind::Ticket, T0 + 5 * H, json!({"action": "closed", "ticket_id": 1})));
        let f = facts(&e);
        assert!(!f.deflected());
        assert_eq!(f.transfer, Some(Transfer { at: T0 + H, cause: "rule".into() }));
        assert_eq!(f.ticket_closed_at, Some(T0 + 5 * H));
        let c = contributions(&f, &TimeZone::UTC);
        assert!(c.contains(&(
            Key {
                day: "2026-01-01".into(),
                channel: "live_chat".into(),
                metric: metric::TICKET_CLOSE_MS,
                dim: String::new()
            },
            5 * H
        )));
    }

    #[test]
    fn previews_contribute_nothing_and_days_follow_the_time_zone() {
        let mut e = created(T0);
        e[0].data["preview"] = json!(true);
        assert!(contributions(&facts(&e), &TimeZone::UTC).is_empty());
        let e = created(T0 + H);
        let ny = TimeZone::get("America/New_York").unwrap();
        assert_eq!(contributions(&facts(&e), &ny)[0].0.day, "2025-12-31");
    }

    #[test]
    fn weeks_start_on_monday_and_reports_fill_empty_buckets() {
        let d: Date = "2026-01-01".parse().unwrap();
        assert_eq!(week_start(d).to_string(), "2025-12-29");
        let q = ReportQuery {
            kind: ReportKind::HandleRate,
            from: "2025-12-29".parse().unwrap(),
            to: "2026-01-11".parse().unwrap(),
            bucket: Bucket::Week,
            channel: None,
        };
        let rows = vec![
            CountRow {
                day: "2026-01-01".into(),
                channel: "email".into(),
                metric: "conversations".into(),
                dim: String::new(),
                value: 4,
            },
            CountRow {
                day: "2026-01-01".into(),
                channel: "email".into(),
                metric: "handled".into(),
                dim: String::new(),
                value: 3,
            },
        ];
        let r = build(&q, &rows);
        assert_eq!(r.rows.len(), 2);
        assert_eq!(r.rows[0].values, vec![json!(4), json!(3), json!(0.75)]);
        assert_eq!(r.rows[1].values, vec![json!(0), json!(0), Value::Null]);
        let csv = to_csv(&r, &r.columns);
        assert_eq!(csv.lines().next(), Some("period,conversations,handled,handle_rate"));
        assert_eq!(csv.lines().nth(2), Some("2026-01-05,0,0,"));
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn delta_cancels_unchanged_counters() {
        let k =
            |m: &'static str| Key { day: "2026-01-01".into(), channel: "email".into(), metric: m, dim: String::new() };
        let d = delta(&[(k("handled"), 1), (k("pending"), 1)], &[(k("handled"), 1), (k("resolved"), 1)]);
        assert_eq!(d, vec![(k("pending"), -1), (k("resolved"), 1)]);
    }
}
