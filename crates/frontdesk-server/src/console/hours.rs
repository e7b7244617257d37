//! Working hours per channel (C4) in the console: one form per channel —
//! the mode, the time zone (with suggestions) and the ranges as lines such as
//! `Mon 09:00-12:30, 14:00-18:00` or `Mon-Fri 09:00-17:00`. Saving goes
//! through the JSON API's checks (`api/hours.rs`), with its permissions.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use frontdesk_core::hours::{self, Mode, Schedule, COMMON_ZONES};
use frontdesk_core::model::Channel;
use frontdesk_core::permissions::Permission as P;

use super::{can, fmt_time, or_redo, page, see_other, status_of};
use super::{ConsoleForm, FlashQuery, Layout, Section};
use crate::auth::Authed;
use crate::error::{ApiError, ApiQuery, ApiResult};
use crate::state::AppState;
use frontdesk_engine::service::hours::{all_hours, channel_of, set_hours, HoursInput, RangeInput};

/// A radio button of the mode.
struct ModeOpt {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

/// One channel's form.
struct ChannelForm {
    channel: &'static str,
    label: &'static str,
    modes: Vec<ModeOpt>,
    time_zone: String,
    lines: String,
    /// "Open now" / "Closed now", and when that changes.
    status: String,
    open: bool,
    updated: String,
    /// The error of the last save of this channel, shown beside its form.
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "hours.html")]
struct HoursPage {
    layout: Layout,
    channels: Vec<ChannelForm>,
    zones: &'static [&'static str],
    can_edit: bool,
}

fn channel_label(c: Channel) -> &'static str {
    match c {
        Channel::LiveChat => "Live chat",
        Channel::Email => "Email",
        Channel::WhatsApp => "WhatsApp",
        Channel::Messenger => "Facebook Messenger",
        Channel::Custom => "Custom channels (API)",
    }
}

fn modes(selected: Mode) -> Vec<ModeOpt> {
    Mode::ALL.iter().map(|&m| ModeOpt { value: m.as_str(), label: m.label(), checked: m == selected }).collect()
}

fn status_text(s: &Schedule, now: jiff::Timestamp) -> (bool, String) {
    let open = hours::is_open(s, now);
    let mut text = if open { "Takes new conversations now" } else { "Outside its hours now" }.to_owned();
    if let Some(t) = s.next_change(now) {
        let local = t.to_zoned(jiff::tz::TimeZone::get(&s.time_zone).unwrap_or(jiff::tz::TimeZone::UTC));
        text.push_str(&format!(" — until {} ({})", local.strftime("%a %H:%M"), s.time_zone));
    }
    (open, text)
}

fn form_of(channel: Channel, s: &Schedule, updated_at: Option<i64>) -> ChannelForm {
    let (open, status) = status_text(s, jiff::Timestamp::now());
    ChannelForm {
        channel: channel.as_str(),
        label: channel_label(channel),
        modes: modes(s.mode),
        time_zone: s.time_zone.clone(),
        lines: hours::format_lines(&s.ranges),
        status,
        open,
        updated: updated_at.map(fmt_time).unwrap_or_else(|| "never changed".to_owned()),
        error: None,
    }
}

/// The submitted form of one channel.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct HoursForm {
    #[serde(default)]
    mode: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    ranges: String,
}

impl HoursForm {
    fn input(&self) -> ApiResult<HoursInput> {
        let ranges = hours::parse_lines(&self.ranges)?
            .into_iter()
            .map(|r| RangeInput { day: r.day.as_str().to_owned(), start: r.start, end: r.end })
            .collect();
        Ok(HoursInput { mode: self.mode.clone(), time_zone: Some(self.time_zone.clone()), ranges })
    }
}

async fn render(
    state: &AppState,
    authed: &Authed,
    failed: Option<(Channel, &HoursForm, String)>,
    status: StatusCode,
    flash: Option<&str>,
) -> ApiResult<Response> {
    let mut channels: Vec<ChannelForm> = all_hours(state).await?.iter().map(|(c, s, u)| form_of(*c, s, *u)).collect();
    let mut error = None;
    if let Some((channel, f, message)) = failed {
        if let Some(cf) = channels.iter_mut().find(|cf| cf.channel == channel.as_str()) {
            cf.modes = modes(Mode::parse(&f.mode).unwrap_or_default());
            cf.time_zone = f.time_zone.clone();
            cf.lines = f.ranges.clone();
            cf.error = Some(message.clone());
        }
        error = Some(format!("{}: {message}", channel_label(channel)));
    }
    let layout = Layout::new(authed, Section::Hours, "Working hours", "/console/hours").flash(flash).error(error);
    page(status, &HoursPage { layout, channels, zones: COMMON_ZONES, can_edit: can(authed, P::EditAgent) })
}

pub(crate) async fn hours_page(
    State(state): State<AppState>,
    authed: Authed,
    ApiQuery(q): ApiQuery<FlashQuery>,
) -> ApiResult<Response> {
    render(&state, &authed, None, StatusCode::OK, q.flash.as_deref()).await
}

pub(crate) async fn save_hours(
    State(state): State<AppState>,
    authed: Authed,
    Path(channel): Path<String>,
    ConsoleForm(f): ConsoleForm<HoursForm>,
) -> ApiResult<Response> {
    let channel = channel_of(&channel)?;
    let saved = match f.input() {
        Ok(input) => set_hours(&state, &authed.actor(), channel, input).await.map(|_| ()).map_err(ApiError::from),
        Err(e) => Err(e),
    };
    or_redo(saved.map(|_| see_other(&format!("/console/hours?flash=saved#{}", channel.as_str()))), |e| {
        render(&state, &authed, Some((channel, &f, e.message.clone())), status_of(&e), None)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_becomes_the_api_input() {
        let f = HoursForm {
            mode: "during".into(),
            time_zone: "Europe/Rome".into(),
            ranges: "Mon-Tue 09:00-12:30\nFri 14:00-24:00".into(),
        };
        let s = f.input().unwrap().parse().unwrap();
        assert_eq!(s.ranges.len(), 3);
        assert_eq!(hours::format_lines(&s.ranges), "Mon 09:00-12:30\nTue 09:00-12:30\nFri 14:00-24:00");
        let bad = HoursForm { ranges: "Mon 09:00-12:30\nMonday nine to five".into(), ..f };
        let e = bad.input().unwrap_err();
        assert_eq!(e.field.as_deref(), Some("ranges"));
        assert!(e.message.contains("line 2"), "{}", e.message);
    }

    #[test]
    fn the_status_says_until_when() {
        let s = Schedule {
            mode: Mode::During,
            time_zone: "Europe/Rome".into(),
            ranges: vec![hours::DayRange::new(hours::Day::Mon, "09:00", "17:00")],
        };
        // Monday 2026-01-05 10:00 in Rome.
        let (open, text) = status_text(&s, "2026-01-05T09:00:00Z".parse().unwrap());
        assert!(open);
        assert_eq!(text, "Takes new conversations now — until Mon 17:00 (Europe/Rome)");
        let (open, _) = status_text(&Schedule::default(), "2026-01-05T09:00:00Z".parse().unwrap());
        assert!(open);
    }
}
