//! Working hours per channel (C4), as the admin API and the console read and
//! save them.

use frontdesk_core::hours::{Day, DayRange, Mode, Schedule};
use frontdesk_core::model::Channel;
use frontdesk_store::{Actor, WorkingHours};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::Engine;

/// A channel's schedule as sent: `{"mode": "during", "time_zone": "Europe/Rome",
/// "ranges": [{"day": "mon", "start": "09:00", "end": "17:30"}]}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursInput {
    /// `all_hours`, `during` or `outside`.
    pub mode: String,
    /// An IANA time zone; UTC when left out.
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub ranges: Vec<RangeInput>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeInput {
    pub day: String,
    pub start: String,
    pub end: String,
}

impl HoursInput {
    /// The validated, normalised schedule; errors name the field
    /// (`mode`, `time_zone`, `ranges`, `ranges[2].day`, `ranges[2].end`).
    pub fn parse(self) -> Result<Schedule> {
        let mode = Mode::parse(&self.mode)
            .ok_or_else(|| Error::invalid_field("mode", "must be all_hours, during or outside"))?;
        let mut ranges = Vec::with_capacity(self.ranges.len());
        for (i, r) in self.ranges.into_iter().enumerate() {
            let day = Day::parse(&r.day).ok_or_else(|| {
                Error::invalid_field(&format!("ranges[{i}].day"), "must be mon, tue, wed, thu, fri, sat or sun")
            })?;
            ranges.push(DayRange { day, start: r.start, end: r.end });
        }
        let time_zone = self.time_zone.unwrap_or_else(|| "UTC".to_owned());
        Ok(Schedule { mode, time_zone, ranges }.validate()?)
    }
}

/// The channel named in the path (`live_chat`, `email`, `whatsapp`, `messenger`, `custom`).
pub fn channel_of(s: &str) -> Result<Channel> {
    Channel::parse(s).ok_or_else(|| Error::not_found("channel"))
}

/// Every channel's schedule (a channel never set works at all hours).
pub async fn all_hours(state: &Engine) -> Result<Vec<(Channel, Schedule, Option<i64>)>> {
    let stored = state.store.list_working_hours().await?;
    Ok(Channel::ALL
        .iter()
        .map(|&c| match stored.iter().find(|h| h.channel == c.as_str()) {
            Some(h) => (c, h.schedule.clone(), Some(h.updated_at)),
            None => (c, Schedule::default(), None),
        })
        .collect())
}

/// Validates and saves a channel's schedule (audited; the agent snapshot and
/// the widget's header follow at once).
pub async fn set_hours(state: &Engine, actor: &Actor, channel: Channel, input: HoursInput) -> Result<WorkingHours> {
    let schedule = input.parse()?;
    let saved = state.store.set_working_hours(actor, channel.as_str(), &schedule).await?;
    state.hub.notify_config();
    Ok(saved)
}
