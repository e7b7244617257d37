//! The Performance tab: the reports (G1–G11) as figure cards, charts and
//! tables with their CSV downloads (K4), the reporting time zone, and the
//! knowledge gaps (H1–H4): open topics, a topic's questions, "create and
//! resolve" with a preview, and dismissal. Figures come from
//! `frontdesk_engine::reports`, the gaps from the store, through the same checks as
//! the JSON API (`api/reports.rs`).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use frontdesk_core::permissions::Permission as P;
use frontdesk_core::reports::{self as core_reports, Bucket, ReportKind};
use serde::Deserialize;
use serde_json::Value;

use super::charts::{Category, Chart, Kind, Series, Unit};
use super::{
    can, ids_of, is_form_error, is_htmx, options, or_redo, page, see_other, status_of, ConsoleForm, Layout, Opt,
    Section,
};
use crate::auth::Authed;
use crate::error::{ApiError, ApiQuery, ApiResult};
use crate::state::AppState;
use frontdesk_engine::reports::{Built, ReportParams};
use frontdesk_engine::service::short_answers::ShortAnswerInput;

// ---------- formatting ----------

/// What a report column measures, by its name.
fn unit_of(column: &str) -> Unit {
    if column.ends_with("_rate") || column == "helpful_share" {
        Unit::Share
    } else if column.ends_with("_s") {
        Unit::Seconds
    } else {
        Unit::Count
    }
}

/// A column's heading: people's names for G9, words for the rest.
fn column_label(column: &str, label: &str) -> String {
    if label != column {
        return label.to_owned();
    }
    match column {
        "resolved" => "Resolved",
        "handled" => "Handled",
        "avg_time_to_resolution_s" => "Average time to resolution",
        "deflection_rate" => "Deflection rate",
        "helpful_share" => "Helpful share",
        "feedback" => "Feedback",
        "handed_off" => "Handed off",
        "helpful" => "Helpful",
        "not_helpful" => "Not helpful",
        "total" => "Total",
        "conversations" => "All conversations",
        "handle_rate" => "Handle rate",
        "unresolved" => "Not resolved",
        "pending" => "Awaiting verdict",
        "resolution_rate" => "Resolution rate",
        "deflected" => "Deflected",
        "handoff_rate" => "Handoff rate",
        "by_agent" => "By the agent",
        "by_rule" => "By a rule",
        "manual" => "By hand",
        "tickets" => "Tickets",
        "conversion_rate" => "Conversion rate",
        "tickets_closed" => "Tickets closed",
        "avg_time_to_close_s" => "Average time to close",
        "live_chat" => "Live chat",
        "email" => "Email",
        "whatsapp" => "WhatsApp",
        "messenger" => "Messenger",
        "custom" => "Custom",
        "agent" => "Customer agent",
        other => return other.replace('_', " "),
    }
    .to_owned()
}

/// Colours that carry meaning: good green, bad red, waiting grey.
fn colour_of(column: &str) -> Option<&'static str> {
    match column {
        "helpful" => Some("#059669"),
        "not_helpful" | "unresolved" => Some("#dc2626"),
        "pending" => Some("#94a3b8"),
        _ => None,
    }
}

/// A table cell: `—` for nothing, rates as percentages, seconds as durations.
fn cell(unit: Unit, v: &Value) -> String {
    match v {
        Value::Null => "—".to_owned(),
        Value::Number(n) => n.as_f64().map(|f| unit.format(f)).unwrap_or_else(|| n.to_string()),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn number_of(v: &Value) -> Option<f64> {
    v.as_f64().filter(|f| f.is_finite())
}

fn date_of(s: &str) -> Option<jiff::civil::Date> {
    s.parse::<jiff::civil::Date>().ok()
}

/// `2 Mar 2026`.
fn long_date(s: &str) -> String {
    date_of(s).map(|d| d.strftime("%-d %b %Y").to_string()).unwrap_or_else(|| s.to_owned())
}

/// A bucket's labels: short under the axis, long in tooltips and tables.
fn category(period: &str, bucket: Bucket) -> Category {
    match date_of(period) {
        Some(d) => match bucket {
            Bucket::Week => Category {
                short: d.strftime("%-d %b").to_string(),
                long: format!("week of {}", d.strftime("%-d %b %Y")),
            },
            Bucket::Day => {
                Category { short: d.strftime("%-d %b").to_string(), long: d.strftime("%a %-d %b %Y").to_string() }
            }
        },
        None => Category { short: period.to_owned(), long: period.to_owned() },
    }
}

/// Unix milliseconds in the report zone, `YYYY-MM-DD HH:MM`.
fn local_time(ms: i64, tz: &core_reports::TimeZone) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

// ---------- charts of each report ----------

/// The columns a chart draws.
enum Cols {
    These(&'static [&'static str]),
    /// Every column that has a value (G3's channels, G9's people).
    All,
}

struct ChartSpec {
    kind: Kind,
    cols: Cols,
    title: &'static str,
    y_label: &'static str,
}

fn chart_specs(kind: ReportKind) -> Vec<ChartSpec> {
    use Kind::*;
    let spec = |kind, cols, title, y_label| ChartSpec { kind, cols, title, y_label };
    match kind {
        ReportKind::Impact => vec![],
        ReportKind::Handled => vec![spec(
            Lines,
            Cols::These(&["handled", "resolved", "handed_off"]),
            "Handled, resolved and handed off",
            "Conversations",
        )],
        ReportKind::HandledByChannel => vec![spec(StackedBars, Cols::All, "Handled by channel", "Conversations")],
        ReportKind::Feedback => {
            vec![spec(StackedBars, Cols::These(&["helpful", "not_helpful"]), "Feedback by type", "Submissions")]
        }
        ReportKind::HandleRate => {
            vec![spec(Lines, Cols::These(&["handle_rate"]), "Handle rate", "Share of all conversations")]
        }
        ReportKind::Resolution => vec![
            spec(Lines, Cols::These(&["resolution_rate"]), "Resolution rate", "Share of decided conversations"),
            spec(
                StackedBars,
                Cols::These(&["resolved", "unresolved", "pending"]),
                "Resolved conversations",
                "Conversations",
            ),
        ],
        ReportKind::Deflection => vec![
            spec(Lines, Cols::These(&["deflection_rate"]), "Deflection rate", "Share of handled conversations"),
            spec(GroupedBars, Cols::These(&["handled", "deflected"]), "Deflections", "Conversations"),
        ],
        ReportKind::Team => {
            vec![spec(GroupedBars, Cols::All, "Resolved by the agent and by each person", "Resolved conversations")]
        }
        ReportKind::Handoffs => vec![
            spec(StackedBars, Cols::These(&["by_agent", "by_rule", "manual"]), "Handoffs by cause", "Transfers"),
            spec(Lines, Cols::These(&["handoff_rate"]), "Handoff rate", "Share of handled conversations"),
        ],
        ReportKind::HandoffOutcome => vec![
            spec(Lines, Cols::These(&["conversion_rate"]), "Conversion to tickets", "Share of handled conversations"),
            spec(GroupedBars, Cols::These(&["avg_time_to_close_s"]), "Average time to close a ticket", "Time"),
        ],
    }
}

/// What the report is about, under its title.
fn report_note(kind: ReportKind) -> &'static str {
    match kind {
        ReportKind::Impact => "",
        ReportKind::Handled => "Handled: assigned to the agent; of those, resolved by it and handed to people.",
        ReportKind::HandledByChannel => "Conversations the agent handled, by the channel they came from.",
        ReportKind::Feedback => "Feedback visitors gave on the agent's replies, on the day they gave it.",
        ReportKind::HandleRate => "The share of all conversations the agent handled.",
        ReportKind::Resolution => {
            "Resolved: an agent reply cited a source or performed an action, the visitor did not ask for a person, and the agent's last reply got no negative feedback. Decided 72 hours after the agent's last reply, then frozen."
        }
        ReportKind::Deflection => "Deflected: handled by the agent alone, with no person involved at all.",
        ReportKind::Team => "Resolved conversations: by the agent, and by each person who closed the rest.",
        ReportKind::Handoffs => {
            "Every transfer from the agent to people: started by the agent, by an automation rule, or reassigned by hand."
        }
        ReportKind::HandoffOutcome => {
            "Handled conversations turned into tickets, and the average time from the agent's assignment to the ticket's close."
        }
    }
}

/// The charts of a report, as inline SVG.
fn charts_of(kind: ReportKind, built: &Built) -> Vec<String> {
    let r = &built.report;
    let categories: Vec<Category> = r.rows.iter().map(|row| category(&row.period, r.bucket)).collect();
    let x_label = match r.bucket {
        Bucket::Week => "Week",
        Bucket::Day => "Day",
    };
    let series_of = |i: usize| Series {
        label: column_label(&r.columns[i], built.labels.get(i).map(String::as_str).unwrap_or(&r.columns[i])),
        values: r.rows.iter().map(|row| row.values.get(i).and_then(number_of)).collect(),
        colour: colour_of(&r.columns[i]),
    };
    chart_specs(kind)
        .into_iter()
        .enumerate()
        .map(|(j, spec)| {
            let (series, unit) = match spec.cols {
                Cols::These(names) => {
                    let idx: Vec<usize> = names.iter().filter_map(|n| r.columns.iter().position(|c| c == n)).collect();
                    let unit = names.first().map(|n| unit_of(n)).unwrap_or(Unit::Count);
                    (idx.into_iter().map(series_of).collect::<Vec<_>>(), unit)
                }
                Cols::All => {
                    let all: Vec<Series> = (0..r.columns.len()).map(series_of).collect();
                    let some: Vec<Series> =
                        all.iter().filter(|s| s.values.iter().any(|v| v.is_some_and(|v| v > 0.0))).cloned().collect();
                    (if some.is_empty() { all } else { some }, Unit::Count)
                }
            };
            Chart {
                id: format!("chart-{}-{j}", kind.name()),
                title: spec.title.to_owned(),
                x_label: x_label.to_owned(),
                y_label: spec.y_label.to_owned(),
                categories: categories.clone(),
                series,
                kind: spec.kind,
                unit,
            }
            .render()
        })
        .collect()
}

// ---------- the reports page ----------

/// The filters as the query string carries them.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct ReportsQuery {
    from: Option<String>,
    to: Option<String>,
    channel: Option<String>,
    bucket: Option<String>,
    flash: Option<String>,
}

impl ReportsQuery {
    fn params(&self) -> ReportParams {
        ReportParams {
            from: self.from.clone(),
            to: self.to.clone(),
            channel: self.channel.clone(),
            bucket: self.bucket.clone(),
            format: None,
        }
    }
}

/// A filter's message, by field.
#[derive(Debug, Default)]
struct FieldErrors {
    from: Option<String>,
    to: Option<String>,
    channel: Option<String>,
    bucket: Option<String>,
    /// An error that names no filter.
    other: Option<String>,
}

impl FieldErrors {
    fn of(e: &ApiError) -> Self {
        let field = e.field.clone().unwrap_or_default();
        let message = e.message.strip_prefix(&format!("{field}: ")).unwrap_or(&e.message).to_owned();
        let mut f = FieldErrors::default();
        match field.as_str() {
            "from" => f.from = Some(message),
            "to" => f.to = Some(message),
            "channel" => f.channel = Some(message),
            "bucket" => f.bucket = Some(message),
            _ => f.other = Some(e.message.clone()),
        }
        f
    }
}

#[derive(Default)]
struct Filters {
    from: String,
    to: String,
    channels: Vec<Opt>,
    buckets: Vec<Opt>,
    errors: FieldErrors,
}

const CHANNEL_CHOICES: [(&str, &str); 6] = [
    ("", "All channels"),
    ("live_chat", "Live chat"),
    ("email", "Email"),
    ("whatsapp", "WhatsApp"),
    ("messenger", "Messenger"),
    ("custom", "Custom"),
];

/// A G1 figure card; `anchor` is the report that details it.
struct Figure {
    key: &'static str,
    label: &'static str,
    value: String,
    hint: String,
    anchor: &'static str,
}

struct RowView {
    period: String,
    label: String,
    cells: Vec<String>,
}

struct ReportView {
    name: &'static str,
    spec: &'static str,
    title: &'static str,
    note: &'static str,
    charts: Vec<String>,
    period_header: &'static str,
    columns: Vec<String>,
    rows: Vec<RowView>,
    totals: Vec<String>,
    csv: String,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    layout: Layout,
    filters: Filters,
    /// False when the filters are invalid: nothing else is shown.
    loaded: bool,
    range: String,
    time_zone: String,
    lag: Option<String>,
    impact_title: String,
    impact_range: String,
    impact_csv: String,
    figures: Vec<Figure>,
    reports: Vec<ReportView>,
    can_edit: bool,
    tz_value: String,
    tz_error: Option<String>,
    zones: &'static [&'static str],
}

/// The API's URL of a report with the page's (validated) filters.
fn csv_url(name: &str, filters: &str) -> String {
    format!("/api/v1/reports/{name}?{filters}&format=csv")
}

fn report_view(kind: ReportKind, built: &Built, filters: &str) -> ReportView {
    let r = &built.report;
    let units: Vec<Unit> = r.columns.iter().map(|c| unit_of(c)).collect();
    let cells = |values: &[Value]| -> Vec<String> {
        values.iter().enumerate().map(|(i, v)| cell(units.get(i).copied().unwrap_or(Unit::Count), v)).collect()
    };
    ReportView {
        name: kind.name(),
        spec: kind.spec_id(),
        title: kind.title(),
        note: report_note(kind),
        charts: charts_of(kind, built),
        period_header: match r.bucket {
            Bucket::Week => "Week of",
            Bucket::Day => "Day",
        },
        columns: r
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| column_label(c, built.labels.get(i).map(String::as_str).unwrap_or(c)))
            .collect(),
        rows: r
            .rows
            .iter()
            .map(|row| RowView {
                period: row.period.clone(),
                label: match r.bucket {
                    Bucket::Week => long_date(&row.period),
                    Bucket::Day => category(&row.period, Bucket::Day).long,
                },
                cells: cells(&row.values),
            })
            .collect(),
        totals: cells(&r.totals),
        csv: csv_url(kind.name(), filters),
    }
}

/// G1's figures from its one-week report.
fn figures(built: &Built) -> Vec<Figure> {
    let r = &built.report;
    let get = |name: &str| -> Value {
        r.columns.iter().position(|c| c == name).and_then(|i| r.totals.get(i)).cloned().unwrap_or(Value::Null)
    };
    let count = |name: &str| cell(Unit::Count, &get(name));
    vec![
        Figure {
            key: "resolved",
            label: "Resolved",
            value: count("resolved"),
            hint: format!("by the agent, of {} handled", count("handled")),
            anchor: "resolution",
        },
        Figure {
            key: "handled",
            label: "Handled",
            value: count("handled"),
            hint: "conversations the agent took".to_owned(),
            anchor: "handled",
        },
        Figure {
            key: "avg_time_to_resolution",
            label: "Average time to resolution",
            value: cell(Unit::Seconds, &get("avg_time_to_resolution_s")),
            hint: "from the start to the agent's last reply".to_owned(),
            anchor: "resolution",
        },
        Figure {
            key: "deflection_rate",
            label: "Deflection rate",
            value: cell(Unit::Share, &get("deflection_rate")),
            hint: "handled with no person involved".to_owned(),
            anchor: "deflection",
        },
        Figure {
            key: "helpful_share",
            label: "Helpful feedback",
            value: cell(Unit::Share, &get("helpful_share")),
            hint: format!("of {} feedback given", count("feedback")),
            anchor: "feedback",
        },
    ]
}

async fn render_reports(
    state: &AppState,
    authed: &Authed,
    q: &ReportsQuery,
    status: StatusCode,
    tz_form: Option<(String, String)>,
) -> ApiResult<Response> {
    let settings = state.store.report_settings().await?;
    let params = q.params();
    let raw = |v: &Option<String>| v.clone().unwrap_or_default();
    let channel = raw(&q.channel);
    let bucket = q.bucket.clone().filter(|b| !b.trim().is_empty()).unwrap_or_else(|| "week".to_owned());
    let mut filters = Filters {
        from: raw(&q.from),
        to: raw(&q.to),
        channels: options(CHANNEL_CHOICES, channel.trim()),
        buckets: options([("week", "By week"), ("day", "By day")], bucket.trim()),
        errors: FieldErrors::default(),
    };
    let (tz_value, tz_error) = match tz_form {
        Some((v, e)) => (v, Some(e)),
        None => (settings.time_zone.clone(), None),
    };
    let mut view = ReportsPage {
        layout: Layout::new(authed, Section::Reports, "Reports", "/console/reports").flash(q.flash.as_deref()),
        filters: Filters::default(),
        loaded: false,
        range: String::new(),
        time_zone: settings.time_zone.clone(),
        lag: None,
        impact_title: String::new(),
        impact_range: String::new(),
        impact_csv: String::new(),
        figures: Vec::new(),
        reports: Vec::new(),
        can_edit: can(authed, P::EditAgent),
        tz_value,
        tz_error,
        zones: frontdesk_core::hours::COMMON_ZONES,
    };
    // The filters are checked once, by the first report; every report takes the same.
    let first =
        match frontdesk_engine::reports::build(state, ReportKind::Handled, &params).await.map_err(ApiError::from) {
            Ok(b) => b,
            Err(e) if is_form_error(&e) => {
                filters.errors = FieldErrors::of(&e);
                view.layout.error = filters.errors.other.take();
                view.filters = filters;
                let status = if status.is_success() { status_of(&e) } else { status };
                return page(status, &view);
            }
            Err(e) => return Err(e),
        };
    let fr = &first.report;
    filters.from = fr.from.clone();
    filters.to = fr.to.clone();
    let bucket_name = match fr.bucket {
        Bucket::Week => "week",
        Bucket::Day => "day",
    };
    filters.buckets = options([("week", "By week"), ("day", "By day")], bucket_name);
    filters.channels = options(CHANNEL_CHOICES, fr.channel.as_deref().unwrap_or(""));
    // Validated values only: dates, a known channel, week or day.
    let mut qs = format!("from={}&to={}&bucket={bucket_name}", fr.from, fr.to);
    if let Some(c) = &fr.channel {
        qs.push_str(&format!("&channel={c}"));
    }
    let channel_text = match &fr.channel {
        Some(c) => column_label(c, c),
        None => "all channels".to_owned(),
    };
    view.range = format!(
        "From {} to {}, {}, {}.",
        long_date(&fr.from),
        long_date(&fr.to),
        if fr.bucket == Bucket::Week { "by week" } else { "by day" },
        channel_text
    );

    let mut pending = 0;
    for kind in ReportKind::ALL {
        let built = if kind == ReportKind::Handled {
            None
        } else {
            Some(frontdesk_engine::reports::build(state, kind, &params).await?)
        };
        let built = built.as_ref().unwrap_or(&first);
        if matches!(kind, ReportKind::Impact | ReportKind::Resolution) {
            pending = pending.max(built.report.pending_evaluation);
        }
        if kind == ReportKind::Impact {
            let r = &built.report;
            let tz = core_reports::zone(&settings.time_zone);
            let this_week = core_reports::week_start(core_reports::local_date(frontdesk_store::now_ms(), &tz));
            view.impact_title = if date_of(&r.from) == Some(this_week) {
                "Impact this week".to_owned()
            } else {
                format!("Impact in the week of {}", long_date(&r.from))
            };
            view.impact_range = format!("{} to {}, {}.", long_date(&r.from), long_date(&r.to), channel_text);
            view.impact_csv = csv_url(kind.name(), &qs);
            view.figures = figures(built);
        } else {
            view.reports.push(report_view(kind, built, &qs));
        }
    }
    view.lag = frontdesk_engine::reports::lag_note(pending);
    view.loaded = true;
    view.filters = filters;
    page(status, &view)
}

pub(crate) async fn reports_page(
    State(state): State<AppState>,
    authed: Authed,
    ApiQuery(q): ApiQuery<ReportsQuery>,
) -> ApiResult<Response> {
    render_reports(&state, &authed, &q, StatusCode::OK, None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TimeZoneForm {
    time_zone: String,
}

/// Sets the zone days and weeks are counted in (audited).
pub(crate) async fn save_settings(
    State(state): State<AppState>,
    authed: Authed,
    ConsoleForm(f): ConsoleForm<TimeZoneForm>,
) -> ApiResult<Response> {
    let saved = frontdesk_engine::service::reports::set_time_zone(&state, &authed.actor(), &f.time_zone)
        .await
        .map_err(ApiError::from);
    or_redo(saved.map(|_| see_other("/console/reports?flash=saved")), |e| async move {
        let message = e.message.strip_prefix("time_zone: ").unwrap_or(&e.message).to_owned();
        render_reports(&state, &authed, &ReportsQuery::default(), status_of(&e), Some((f.time_zone, message))).await
    })
    .await
}

// ---------- knowledge gaps ----------

struct TopicRow {
    id: i64,
    label: String,
    conversations: i64,
    questions: i64,
    latest: String,
}

#[derive(Template)]
#[template(path = "gaps.html")]
struct GapsPage {
    layout: Layout,
    topics: Vec<TopicRow>,
    time_zone: String,
    /// The short answer a topic was just resolved with.
    resolved: Option<i64>,
    notice: Option<&'static str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct GapsQuery {
    flash: Option<String>,
    resolved: Option<i64>,
    dismissed: Option<String>,
}

pub(crate) async fn gaps_page(
    State(state): State<AppState>,
    authed: Authed,
    ApiQuery(q): ApiQuery<GapsQuery>,
) -> ApiResult<Response> {
    let topics = frontdesk_engine::service::reports::open_topics(&state).await?;
    let time_zone = state.store.report_settings().await?.time_zone;
    let tz = core_reports::zone(&time_zone);
    let notice = match q.dismissed.as_deref() {
        Some("topic") => Some("The topic was dismissed: it left the knowledge gaps."),
        Some("questions") => Some("The questions were dismissed."),
        _ => None,
    };
    let layout = Layout::new(&authed, Section::Gaps, "Knowledge gaps", "/console/gaps").flash(q.flash.as_deref());
    page(
        StatusCode::OK,
        &GapsPage {
            layout,
            topics: topics
                .into_iter()
                .map(|t| TopicRow {
                    id: t.id,
                    label: t.label,
                    conversations: t.conversations,
                    questions: t.questions,
                    latest: t.latest_at.map(|ms| local_time(ms, &tz)).unwrap_or_else(|| "—".to_owned()),
                })
                .collect(),
            time_zone,
            resolved: q.resolved,
            notice,
        },
    )
}

struct QuestionRow {
    id: i64,
    question: String,
    date: String,
    lang: String,
    conversation_id: i64,
    ticket_id: Option<i64>,
}

/// The short answer being drafted, and the message to preview it with.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct DraftForm {
    question: String,
    answer: String,
    message: String,
}

#[derive(Debug, Default)]
struct DraftErrors {
    question: Option<String>,
    answer: Option<String>,
    message: Option<String>,
}

impl DraftErrors {
    /// Sorts `e` to its field; an error of no field is returned for the top of the page.
    fn of(e: &ApiError) -> (Self, Option<String>) {
        let field = e.field.clone().unwrap_or_default();
        let message = e.message.strip_prefix(&format!("{field}: ")).unwrap_or(&e.message).to_owned();
        let mut d = DraftErrors::default();
        match field.as_str() {
            "question" => d.question = Some(message),
            "answer" => d.answer = Some(message),
            "message" | "text" => d.message = Some(message),
            _ => return (d, Some(e.message.clone())),
        }
        (d, None)
    }
}

/// How the agent would reply with the draft (H3).
struct PreviewView {
    message: String,
    text: String,
    outcome: String,
    uses_draft: bool,
    citations: Vec<String>,
    error: Option<String>,
}

impl PreviewView {
    fn of(v: &Value) -> Self {
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        let outcome = match v.get("outcome").and_then(Value::as_str).unwrap_or_default() {
            "answered" => "it answers".to_owned(),
            "small_talk" => "small talk".to_owned(),
            "declined" => "it declines".to_owned(),
            "handoff" => match v.get("handoff_trigger").and_then(Value::as_str) {
                Some(t) => format!("it hands off to your team: {}", t.replace('_', " ")),
                None => "it hands off to your team".to_owned(),
            },
            other => other.replace('_', " "),
        };
        PreviewView {
            message: s("message"),
            text: s("text"),
            outcome,
            uses_draft: v.get("uses_draft").and_then(Value::as_bool).unwrap_or(false),
            citations: v
                .get("citations")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|c| c.get("title").and_then(Value::as_str)).map(str::to_owned).collect())
                .unwrap_or_default(),
            error: None,
        }
    }

    fn error(message: String) -> Self {
        PreviewView {
            message: String::new(),
            text: String::new(),
            outcome: String::new(),
            uses_draft: false,
            citations: Vec::new(),
            error: Some(message),
        }
    }
}

#[derive(Template)]
#[template(path = "_gap_preview.html")]
struct PreviewFragment {
    p: PreviewView,
}

#[derive(Template)]
#[template(path = "gap.html")]
struct GapPage {
    layout: Layout,
    id: i64,
    label: String,
    status: String,
    open: bool,
    short_answer_id: Option<i64>,
    closed: String,
    conversations: i64,
    questions: Vec<QuestionRow>,
    time_zone: String,
    /// Dismiss, create and resolve: open topics, for people who may edit the agent.
    actions: bool,
    draft: DraftForm,
    errors: DraftErrors,
    preview: Option<PreviewView>,
    notice: Option<String>,
    dismiss_error: Option<String>,
}

/// What a topic page shows besides the topic.
#[derive(Default)]
struct GapExtras {
    draft: Option<DraftForm>,
    errors: DraftErrors,
    error: Option<String>,
    preview: Option<PreviewView>,
    notice: Option<String>,
    dismiss_error: Option<String>,
}

async fn render_gap(
    state: &AppState,
    authed: &Authed,
    id: i64,
    status: StatusCode,
    x: GapExtras,
) -> ApiResult<Response> {
    let topic = state.store.gap_topic(id).await?;
    let questions = state.store.gap_questions(id).await?;
    let time_zone = state.store.report_settings().await?.time_zone;
    let tz = core_reports::zone(&time_zone);
    let open = topic.status == frontdesk_store::topic_status::OPEN;
    let draft = x.draft.unwrap_or_else(|| DraftForm {
        question: topic.label.clone(),
        answer: String::new(),
        message: topic.label.clone(),
    });
    let here = format!("/console/gaps/{id}");
    let layout = Layout::new(authed, Section::Gaps, format!("Knowledge gap: {}", topic.label), here).error(x.error);
    page(
        status,
        &GapPage {
            layout,
            id,
            label: topic.label,
            status: topic.status,
            open,
            short_answer_id: topic.short_answer_id,
            closed: topic.closed_at.map(|ms| local_time(ms, &tz)).unwrap_or_default(),
            conversations: topic.conversations,
            questions: questions
                .into_iter()
                .map(|q| QuestionRow {
                    id: q.id,
                    question: q.question,
                    date: local_time(q.created_at, &tz),
                    lang: q.lang,
                    conversation_id: q.conversation_id,
                    ticket_id: q.ticket_id,
                })
                .collect(),
            time_zone,
            actions: open && can(authed, P::EditAgent),
            draft,
            errors: x.errors,
            preview: x.preview,
            notice: x.notice,
            dismiss_error: x.dismiss_error,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct GapQuery {
    dismissed: Option<u64>,
}

pub(crate) async fn gap_page(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<GapQuery>,
) -> ApiResult<Response> {
    let notice = q.dismissed.map(|n| format!("{n} question{} dismissed.", if n == 1 { "" } else { "s" }));
    render_gap(&state, &authed, id, StatusCode::OK, GapExtras { notice, ..GapExtras::default() }).await
}

fn draft_input(f: &DraftForm) -> ShortAnswerInput {
    ShortAnswerInput { question: f.question.clone(), answer: f.answer.clone(), citations_enabled: true }
}

/// How the agent would reply once the draft exists; stores nothing. htmx
/// gets the fragment (errors included, so it is swapped in); a plain form
/// post gets the page with the preview.
pub(crate) async fn preview(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ConsoleForm(f): ConsoleForm<DraftForm>,
) -> ApiResult<Response> {
    let topic = state.store.gap_topic(id).await?;
    let outcome = async {
        let draft = draft_input(&f).parse()?;
        let message = match f.message.trim() {
            "" => topic.label.clone(),
            m => frontdesk_core::validate::MessageText::parse(m)
                .map_err(|e| ApiError::invalid_field("message", e.message))?
                .as_str()
                .to_owned(),
        };
        Ok::<_, ApiError>(frontdesk_agent::gaps::preview(&state.agent, &draft.question, &draft.answer, &message).await?)
    }
    .await;
    let htmx = is_htmx(&headers);
    match outcome {
        Ok(v) if htmx => page(StatusCode::OK, &PreviewFragment { p: PreviewView::of(&v) }),
        Ok(v) => {
            let x = GapExtras { draft: Some(f), preview: Some(PreviewView::of(&v)), ..GapExtras::default() };
            render_gap(&state, &authed, id, StatusCode::OK, x).await
        }
        Err(e) if is_form_error(&e) && htmx => {
            let message = match &e.field {
                Some(field) => e.message.replacen(&format!("{field}: "), &format!("{}: ", field_label(field)), 1),
                None => e.message.clone(),
            };
            page(StatusCode::OK, &PreviewFragment { p: PreviewView::error(message) })
        }
        Err(e) if is_form_error(&e) => {
            let (errors, error) = DraftErrors::of(&e);
            let x = GapExtras { draft: Some(f), errors, error, ..GapExtras::default() };
            render_gap(&state, &authed, id, status_of(&e), x).await
        }
        Err(e) => Err(e),
    }
}

fn field_label(field: &str) -> &str {
    match field {
        "question" => "Question",
        "answer" => "Answer",
        "message" | "text" => "Visitor's message",
        other => other,
    }
}

/// "Create and resolve" (H3): the short answer is created, the topic
/// resolved, and the list says which short answer it became.
pub(crate) async fn resolve(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ConsoleForm(f): ConsoleForm<DraftForm>,
) -> ApiResult<Response> {
    let result = async {
        let new = draft_input(&f).parse()?;
        let (short_answer, _) = state.store.resolve_gap_topic(&authed.actor(), id, new).await?;
        Ok::<_, ApiError>(short_answer.id)
    }
    .await;
    or_redo(result.map(|sa| see_other(&format!("/console/gaps?resolved={sa}"))), |e| async move {
        let (errors, error) = DraftErrors::of(&e);
        let x = GapExtras { draft: Some(f), errors, error, ..GapExtras::default() };
        render_gap(&state, &authed, id, status_of(&e), x).await
    })
    .await
}

/// Dismisses the checked questions (H4); they leave the topic.
pub(crate) async fn dismiss(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
    ConsoleForm(pairs): ConsoleForm<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let result = async {
        let ids = ids_of(&pairs, "question_ids")?;
        if ids.is_empty() {
            return Err(ApiError::invalid_field("question_ids", "select the questions to dismiss"));
        }
        if ids.len() > 1000 {
            return Err(ApiError::invalid_field("question_ids", "at most 1000 at once"));
        }
        state.store.dismiss_gap_questions(&authed.actor(), id, &ids).await.map_err(|e| match e {
            frontdesk_store::StoreError::Invalid(m) => ApiError::invalid_field("question_ids", m),
            e => e.into(),
        })
    }
    .await;
    match result {
        Ok(n) => {
            if state.store.gap_questions(id).await?.is_empty() {
                Ok(see_other("/console/gaps?dismissed=questions"))
            } else {
                Ok(see_other(&format!("/console/gaps/{id}?dismissed={n}")))
            }
        }
        Err(e) if is_form_error(&e) => {
            let message = e.message.strip_prefix("question_ids: ").unwrap_or(&e.message).to_owned();
            let x = GapExtras { dismiss_error: Some(message), ..GapExtras::default() };
            render_gap(&state, &authed, id, status_of(&e), x).await
        }
        Err(e) => Err(e),
    }
}

/// Dismisses the whole topic (H4).
pub(crate) async fn dismiss_topic(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    or_redo(
        state
            .store
            .dismiss_gap_topic(&authed.actor(), id)
            .await
            .map_err(ApiError::from)
            .map(|_| see_other("/console/gaps?dismissed=topic")),
        |e| async move {
            let x = GapExtras { error: Some(e.message.clone()), ..GapExtras::default() };
            render_gap(&state, &authed, id, status_of(&e), x).await
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn columns_get_units_and_words() {
        assert_eq!(unit_of("handle_rate"), Unit::Share);
        assert_eq!(unit_of("helpful_share"), Unit::Share);
        assert_eq!(unit_of("avg_time_to_close_s"), Unit::Seconds);
        assert_eq!(unit_of("handled"), Unit::Count);
        assert_eq!(column_label("not_helpful", "not_helpful"), "Not helpful");
        assert_eq!(column_label("user:3", "Lee"), "Lee");
        assert_eq!(column_label("odd_one", "odd_one"), "odd one");
    }

    #[test]
    fn cells_show_rates_durations_and_nothing() {
        assert_eq!(cell(Unit::Share, &json!(7.0 / 12.0)), "58.3%");
        assert_eq!(cell(Unit::Seconds, &json!(86.0)), "1 min 26 s");
        assert_eq!(cell(Unit::Seconds, &Value::Null), "—");
        assert_eq!(cell(Unit::Count, &json!(13)), "13");
    }

    #[test]
    fn periods_are_labelled_for_people() {
        let w = category("2026-03-02", Bucket::Week);
        assert_eq!((w.short.as_str(), w.long.as_str()), ("2 Mar", "week of 2 Mar 2026"));
        assert_eq!(category("2026-03-09", Bucket::Day).long, "Mon 9 Mar 2026");
        assert_eq!(long_date("2026-12-25"), "25 Dec 2026");
        assert_eq!(long_date("nope"), "nope");
        let rome = core_reports::zone("Europe/Rome");
        assert_eq!(local_time(1_772_532_000_000, &rome), "2026-03-03 11:00");
    }

    #[test]
    fn every_report_but_g1_has_a_chart() {
        for kind in ReportKind::ALL {
            assert_eq!(chart_specs(kind).is_empty(), kind == ReportKind::Impact, "{kind:?}");
        }
    }

    #[test]
    fn errors_go_to_their_field() {
        let f = FieldErrors::of(&ApiError::invalid_field("from", "must not be after to"));
        assert_eq!(f.from.as_deref(), Some("must not be after to"));
        assert!(f.other.is_none());
        let (d, top) = DraftErrors::of(&ApiError::invalid_field("answer", "must not be empty"));
        assert_eq!((d.answer.as_deref(), top), (Some("must not be empty"), None));
    }

    #[test]
    fn previews_say_whether_the_draft_is_used() {
        let p = PreviewView::of(&json!({
            "text": "Yes, to Norway.", "outcome": "answered", "uses_draft": true, "message": "ship to Norway?",
            "citations": [{"title": "Do you ship to Norway?"}]
        }));
        assert!(p.uses_draft);
        assert_eq!(p.outcome, "it answers");
        assert_eq!(p.citations, vec!["Do you ship to Norway?"]);
        let h = PreviewView::of(&json!({"outcome": "handoff", "handoff_trigger": "cannot_answer"}));
        assert_eq!(h.outcome, "it hands off to your team: cannot answer");
    }
}
