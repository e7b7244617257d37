//! Reports (G1–G11) around the pure definitions of `frontdesk_core::reports`:
//! keeping the rollup up to date, the 72-hour resolution evaluation job,
//! and answering a report query (validated parameters → counters → table).

use frontdesk_core::reports::{self as core_reports, Bucket, Report, ReportKind, ReportQuery};
use frontdesk_store::{now_ms, RollupStats};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::Engine;

/// Conversations refreshed per transaction.
const REFRESH_BATCH: i64 = 500;
/// The longest range a report covers.
const MAX_DAYS: i64 = 3 * 366;
/// The default range: this week and the eleven before.
const DEFAULT_WEEKS: i64 = 12;

/// Brings the rollup up to date with every event logged so far (the part
/// another replica is refreshing at this moment is left to it).
pub async fn refresh(state: &Engine) -> anyhow::Result<RollupStats> {
    let mut total = RollupStats::default();
    loop {
        let s = state.store.refresh_reports(REFRESH_BATCH).await?;
        total.conversations += s.conversations;
        total.events += s.events;
        total.remaining = s.remaining;
        if s.remaining == 0 || s.conversations == 0 {
            return Ok(total);
        }
    }
}

/// Decides every resolution due at `now` (72 hours after the agent's last
/// reply), records each verdict as an event, and refreshes the rollup.
/// Returns how many verdicts were recorded.
pub async fn evaluate_due(state: &Engine, now: i64) -> anyhow::Result<usize> {
    refresh(state).await?;
    let mut decided = 0;
    loop {
        let due = state.store.due_resolutions(now, REFRESH_BATCH).await?;
        let mut n = 0;
        for id in &due {
            if state.store.evaluate_resolution(*id, now).await?.is_some() {
                n += 1;
            }
        }
        decided += n;
        refresh(state).await?;
        // Stop when nothing was due, or nothing more could be decided (the
        // rest changed meanwhile; the next run takes them).
        if due.len() < REFRESH_BATCH as usize || n == 0 {
            break;
        }
    }
    if decided > 0 {
        tracing::info!(count = decided, "resolution verdicts recorded");
    }
    Ok(decided)
}

/// A report's query string.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// First local day, `YYYY-MM-DD` (default: the Monday eleven weeks ago).
    pub from: Option<String>,
    /// Last local day, `YYYY-MM-DD` (default: today).
    pub to: Option<String>,
    /// live_chat, email, whatsapp, messenger or custom (default: all).
    pub channel: Option<String>,
    /// week (default) or day.
    pub bucket: Option<String>,
    /// json (default) or csv.
    pub format: Option<String>,
}

impl ReportParams {
    /// The validated query for `kind`, with today's date in `tz`.
    pub fn parse(&self, kind: ReportKind, tz: &core_reports::TimeZone, now: i64) -> Result<ReportQuery> {
        let today = core_reports::local_date(now, tz);
        let day = |field: &str, v: &Option<String>| -> Result<Option<jiff::civil::Date>> {
            match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(s) => core_reports::parse_day(s).map(Some).map_err(|m| Error::invalid_field(field, m)),
            }
        };
        let to = day("to", &self.to)?.unwrap_or(today);
        let from = match day("from", &self.from)? {
            Some(d) => d,
            None => core_reports::week_start(to)
                .checked_sub(jiff::Span::new().weeks(DEFAULT_WEEKS - 1))
                .map_err(|_| Error::invalid_field("to", "is too early"))?,
        };
        if from > to {
            return Err(Error::invalid_field("from", "must not be after to"));
        }
        let span = to.since(from).map(|s| s.get_days() as i64).unwrap_or(i64::MAX);
        if span > MAX_DAYS {
            return Err(Error::invalid_field("from", format!("the range may cover at most {MAX_DAYS} days")));
        }
        let channel = match self.channel.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(c) => Some(
                frontdesk_core::model::Channel::parse(c)
                    .ok_or_else(|| {
                        Error::invalid_field("channel", "must be live_chat, email, whatsapp, messenger or custom")
                    })?
                    .as_str()
                    .to_owned(),
            ),
        };
        let bucket = match self.bucket.as_deref().map(str::trim) {
            None | Some("") | Some("week") => Bucket::Week,
            Some("day") => Bucket::Day,
            Some(_) => return Err(Error::invalid_field("bucket", "must be week or day")),
        };
        Ok(ReportQuery { kind, from, to, bucket, channel })
    }

    pub fn csv(&self) -> Result<bool> {
        match self.format.as_deref().map(str::trim) {
            None | Some("") | Some("json") => Ok(false),
            Some("csv") => Ok(true),
            Some(_) => Err(Error::invalid_field("format", "must be json or csv")),
        }
    }
}

/// A report with the labels of its columns (people's names for G9).
pub struct Built {
    pub report: Report,
    pub labels: Vec<String>,
    pub time_zone: String,
}

impl Built {
    pub fn json(&self) -> Value {
        let mut v = serde_json::to_value(&self.report).unwrap_or(Value::Null);
        v["labels"] = json!(self.labels);
        v["time_zone"] = json!(self.time_zone);
        v["note"] = json!(lag_note(self.report.pending_evaluation));
        v
    }

    pub fn csv(&self) -> String {
        core_reports::to_csv(&self.report, &self.labels)
    }
}

/// What the console and the API say while verdicts are pending.
pub fn lag_note(pending: i64) -> Option<String> {
    (pending > 0).then(|| {
        format!(
            "{pending} handled conversation{} still await{} the resolution verdict, decided 72 hours after the agent's last reply: recent weeks are incomplete.",
            if pending == 1 { "" } else { "s" },
            if pending == 1 { "s" } else { "" }
        )
    })
}

/// Refreshes the rollup and builds the report.
pub async fn build(state: &Engine, kind: ReportKind, params: &ReportParams) -> Result<Built> {
    let settings = state.store.report_settings().await?;
    let tz = core_reports::zone(&settings.time_zone);
    let q = params.parse(kind, &tz, now_ms())?;
    // The rollup as it stands if it cannot be brought up to date now (the
    // writer is busy): a report a little behind beats no report; the
    // periodic job catches up.
    if let Err(e) = refresh(state).await {
        tracing::warn!(error = %e, "reports served without refreshing the rollup first");
    }
    let from = if kind == ReportKind::Impact { core_reports::week_start(q.to) } else { q.from };
    let to = q.to;
    let per_channel = kind == ReportKind::HandledByChannel;
    let rows = state
        .store
        .report_counts(kind.metrics(), &from.to_string(), &to.to_string(), q.channel.as_deref(), per_channel)
        .await?;
    let report = core_reports::build(&q, &rows);
    let labels = if kind == ReportKind::Team {
        let users = state.store.list_users().await?;
        report
            .columns
            .iter()
            .map(|c| match c.strip_prefix("user:").and_then(|id| id.parse::<i64>().ok()) {
                Some(id) => users
                    .iter()
                    .find(|u| u.id == id)
                    .map(|u| if u.name.is_empty() { u.email.clone() } else { u.name.clone() })
                    .unwrap_or_else(|| format!("user {id}")),
                None => "Customer agent".to_owned(),
            })
            .collect()
    } else {
        report.columns.clone()
    };
    Ok(Built { report, labels, time_zone: settings.time_zone })
}
