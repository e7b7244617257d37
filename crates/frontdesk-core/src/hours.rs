//! Working hours per channel (C4): all hours, only during some hours, or
//! only outside them — in an IANA time zone, per day of the week, several
//! ranges a day.
//!
//! Ranges are wall-clock times in the schedule's zone, so daylight saving is
//! handled by reading the clock there: on a spring-forward day the skipped
//! hour simply never occurs (a range 01:00–04:00 lasts two real hours); on a
//! fall-back day the repeated hour occurs twice and is inside a range both
//! times. A range ends before its end minute (`09:00-17:30` is open at 17:29
//! and closed at 17:30); `24:00` ends a range at midnight. Ranges do not cross
//! midnight: `Mon 22:00-24:00` and `Tue 00:00-02:00` say that.
//!
//! The time-zone database is the system's (`/usr/share/zoneinfo`) when there
//! is one, otherwise the copy embedded in the binary (jiff `tzdb-bundle-always`).

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::validate::ValidationError;

/// The most ranges a schedule may have (a dozen a day).
pub const MAX_RANGES: usize = 84;

/// When the agent takes new conversations on a channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// At any time.
    #[default]
    AllHours,
    /// Only inside the ranges.
    During,
    /// Only outside the ranges.
    Outside,
}

impl Mode {
    pub const ALL: &'static [Mode] = &[Mode::AllHours, Mode::During, Mode::Outside];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::AllHours => "all_hours",
            Mode::During => "during",
            Mode::Outside => "outside",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Mode::ALL.iter().copied().find(|m| m.as_str() == s.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            Mode::AllHours => "All hours",
            Mode::During => "Only during specific hours",
            Mode::Outside => "Only outside specific hours",
        }
    }
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    pub const ALL: [Day; 7] = [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri, Day::Sat, Day::Sun];

    pub fn as_str(self) -> &'static str {
        match self {
            Day::Mon => "mon",
            Day::Tue => "tue",
            Day::Wed => "wed",
            Day::Thu => "thu",
            Day::Fri => "fri",
            Day::Sat => "sat",
            Day::Sun => "sun",
        }
    }

    /// `Mon`, `mon`, `monday`, `Monday` (English).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase();
        Day::ALL.into_iter().find(|d| {
            let short = d.as_str();
            s == short || (s.len() > 3 && s.starts_with(short) && Day::full(*d).starts_with(&s))
        })
    }

    fn full(d: Day) -> &'static str {
        match d {
            Day::Mon => "monday",
            Day::Tue => "tuesday",
            Day::Wed => "wednesday",
            Day::Thu => "thursday",
            Day::Fri => "friday",
            Day::Sat => "saturday",
            Day::Sun => "sunday",
        }
    }

    /// `Mon`, as shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Day::Mon => "Mon",
            Day::Tue => "Tue",
            Day::Wed => "Wed",
            Day::Thu => "Thu",
            Day::Fri => "Fri",
            Day::Sat => "Sat",
            Day::Sun => "Sun",
        }
    }

    pub fn of(w: Weekday) -> Day {
        match w {
            Weekday::Monday => Day::Mon,
            Weekday::Tuesday => Day::Tue,
            Weekday::Wednesday => Day::Wed,
            Weekday::Thursday => Day::Thu,
            Weekday::Friday => Day::Fri,
            Weekday::Saturday => Day::Sat,
            Weekday::Sunday => Day::Sun,
        }
    }
}

/// One range of a day, as wall-clock `HH:MM` in the schedule's zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DayRange {
    pub day: Day,
    pub start: String,
    pub end: String,
}

impl DayRange {
    pub fn new(day: Day, start: &str, end: &str) -> Self {
        Self { day, start: start.to_owned(), end: end.to_owned() }
    }

    /// Start and end in minutes since midnight (end may be 1440), if well formed.
    fn minutes(&self) -> Option<(u16, u16)> {
        Some((parse_time(&self.start, false)?, parse_time(&self.end, true)?))
    }
}

impl std::fmt::Display for DayRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}-{}", self.day.label(), self.start, self.end)
    }
}

/// A channel's working hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    pub mode: Mode,
    /// An IANA time zone name, e.g. `Europe/Rome`.
    pub time_zone: String,
    #[serde(default)]
    pub ranges: Vec<DayRange>,
}

impl Default for Schedule {
    /// All hours (the agent takes every new conversation).
    fn default() -> Self {
        Self { mode: Mode::AllHours, time_zone: "UTC".to_owned(), ranges: Vec::new() }
    }
}

/// `HH:MM` (or `H:MM`) to minutes since midnight; `24:00` only when `end`.
fn parse_time(s: &str, end: bool) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) if end => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

fn fmt_minutes(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// The time zone named `name` (IANA), or a field error on `time_zone`.
pub fn time_zone(name: &str) -> Result<TimeZone, ValidationError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ValidationError::new("time_zone", "must name a time zone, e.g. Europe/Rome"));
    }
    TimeZone::get(name).map_err(|_| {
        ValidationError::new(
            "time_zone",
            format!("{name:?} is not a known IANA time zone (e.g. Europe/Rome, America/New_York, UTC)"),
        )
    })
}

impl Schedule {
    /// Checks the schedule and returns it normalised: the zone's canonical
    /// name, times as `HH:MM`, ranges sorted by day and start. Errors name
    /// the field (`time_zone`, `ranges`, `ranges[2].end`).
    pub fn validate(self) -> Result<Schedule, ValidationError> {
        let tz = time_zone(&self.time_zone)?;
        let time_zone = tz.iana_name().unwrap_or(self.time_zone.trim()).to_owned();
        if self.mode != Mode::AllHours && self.ranges.is_empty() {
            return Err(ValidationError::new(
                "ranges",
                format!("must list at least one day and time range for \"{}\"", self.mode.label().to_lowercase()),
            ));
        }
        if self.ranges.len() > MAX_RANGES {
            return Err(ValidationError::new("ranges", format!("must list at most {MAX_RANGES} ranges")));
        }
        let mut parsed: Vec<(usize, Day, u16, u16)> = Vec::with_capacity(self.ranges.len());
        for (i, r) in self.ranges.iter().enumerate() {
            let start = parse_time(&r.start, false).ok_or_else(|| {
                ValidationError::new(
                    &format!("ranges[{i}].start"),
                    format!("{:?} is not a time from 00:00 to 23:59", r.start),
                )
            })?;
            let end = parse_time(&r.end, true).ok_or_else(|| {
                ValidationError::new(
                    &format!("ranges[{i}].end"),
                    format!("{:?} is not a time from 00:01 to 24:00", r.end),
                )
            })?;
            if start >= end {
                return Err(ValidationError::new(
                    &format!("ranges[{i}].end"),
                    format!(
                        "must be after the start ({} is not after {}); a range cannot cross midnight: \
                         split it into ...-24:00 and 00:00-... on the next day",
                        fmt_minutes(end),
                        fmt_minutes(start)
                    ),
                ));
            }
            for &(j, day, s, e) in &parsed {
                if day == r.day && start < e && s < end {
                    return Err(ValidationError::new(
                        &format!("ranges[{i}]"),
                        format!(
                            "{} {}-{} overlaps ranges[{j}] ({} {}-{})",
                            r.day.label(),
                            fmt_minutes(start),
                            fmt_minutes(end),
                            day.label(),
                            fmt_minutes(s),
                            fmt_minutes(e)
                        ),
                    ));
                }
            }
            parsed.push((i, r.day, start, end));
        }
        parsed.sort_by_key(|&(_, d, s, _)| (d, s));
        let ranges = parsed
            .into_iter()
            .map(|(_, day, s, e)| DayRange { day, start: fmt_minutes(s), end: fmt_minutes(e) })
            .collect();
        Ok(Schedule { mode: self.mode, time_zone, ranges })
    }

    /// The zone, falling back to UTC for a name the database no longer has
    /// (a stored schedule was valid when saved).
    fn zone(&self) -> TimeZone {
        TimeZone::get(&self.time_zone).unwrap_or(TimeZone::UTC)
    }

    /// Whether the wall clock in `tz` at `at` is inside one of the ranges.
    fn inside(&self, tz: &TimeZone, at: Timestamp) -> bool {
        let local = at.to_zoned(tz.clone());
        let day = Day::of(local.weekday());
        let minute = local.hour() as u16 * 60 + local.minute() as u16;
        self.ranges
            .iter()
            .filter(|r| r.day == day)
            .filter_map(DayRange::minutes)
            .any(|(s, e)| s <= minute && minute < e)
    }

    fn open_in(&self, tz: &TimeZone, at: Timestamp) -> bool {
        match self.mode {
            Mode::AllHours => true,
            Mode::During => self.inside(tz, at),
            Mode::Outside => !self.inside(tz, at),
        }
    }

    /// The next instant after `now` (within 8 days) at which [`is_open`]
    /// changes, if any: a range boundary or a daylight-saving transition.
    pub fn next_change(&self, now: Timestamp) -> Option<Timestamp> {
        if self.mode == Mode::AllHours {
            return None;
        }
        let tz = self.zone();
        let open = self.open_in(&tz, now);
        let horizon = now.checked_add(jiff::SignedDuration::from_hours(8 * 24)).ok()?;
        let mut candidates: Vec<Timestamp> =
            tz.following(now).map(|t| t.timestamp()).take_while(|t| *t <= horizon).collect();
        let today: Date = now.to_zoned(tz.clone()).date();
        for offset in -1..=8i64 {
            let Ok(date) = today.checked_add(offset.days()) else { continue };
            let day = Day::of(date.weekday());
            for (s, e) in self.ranges.iter().filter(|r| r.day == day).filter_map(DayRange::minutes) {
                for m in [s, e] {
                    let dt = if m == 1440 {
                        match date.tomorrow() {
                            Ok(d) => d.to_datetime(jiff::civil::Time::midnight()),
                            Err(_) => continue,
                        }
                    } else {
                        date.at((m / 60) as i8, (m % 60) as i8, 0, 0)
                    };
                    let amb = tz.to_ambiguous_timestamp(dt);
                    candidates.extend(amb.earlier().ok());
                    candidates.extend(amb.later().ok());
                }
            }
        }
        candidates.sort();
        candidates.dedup();
        candidates.into_iter().filter(|t| *t > now && *t <= horizon).find(|t| self.open_in(&tz, *t) != open)
    }
}

/// Whether the agent takes new conversations at `at` under `schedule`.
pub fn is_open(schedule: &Schedule, at: Timestamp) -> bool {
    match schedule.mode {
        Mode::AllHours => true,
        _ => schedule.open_in(&schedule.zone(), at),
    }
}

// ---------- the console's text form: one line per day ----------

/// Ranges as lines: `Mon 09:00-12:30, 14:00-18:00`, one line per day.
pub fn format_lines(ranges: &[DayRange]) -> String {
    let mut out = Vec::new();
    for day in Day::ALL {
        let of_day: Vec<String> =
            ranges.iter().filter(|r| r.day == day).map(|r| format!("{}-{}", r.start, r.end)).collect();
        if !of_day.is_empty() {
            out.push(format!("{} {}", day.label(), of_day.join(", ")));
        }
    }
    out.join("\n")
}

/// Parses lines such as `Mon 09:00-12:30`, `Tue 09:00-12:00, 14:00-18:00`
/// or `Mon-Fri 09:00-17:00`. Blank lines and `#` comments are skipped.
/// Errors say which line (field `ranges`); times are checked by
/// [`Schedule::validate`].
pub fn parse_lines(text: &str) -> Result<Vec<DayRange>, ValidationError> {
    let mut ranges = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |why: String| ValidationError::new("ranges", format!("line {} ({line:?}): {why}", n + 1));
        let (days, times) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| err("write a day and its times, e.g. \"Mon 09:00-17:00\"".to_owned()))?;
        let days = parse_days(days.trim_end_matches(':')).map_err(err)?;
        let mut any = false;
        for piece in times.split([',', ';']).map(str::trim).filter(|p| !p.is_empty()) {
            let (start, end) = piece
                .split_once(['-', '–'])
                .ok_or_else(|| err(format!("{piece:?} is not a time range like 09:00-17:00")))?;
            let (start, end) = (start.trim(), end.trim());
            if parse_time(start, false).is_none() {
                return Err(err(format!("{start:?} is not a time from 00:00 to 23:59")));
            }
            if parse_time(end, true).is_none() {
                return Err(err(format!("{end:?} is not a time from 00:01 to 24:00")));
            }
            for &day in &days {
                ranges.push(DayRange::new(day, start, end));
            }
            any = true;
        }
        if !any {
            return Err(err("no time range after the day".to_owned()));
        }
    }
    Ok(ranges)
}

/// `Mon`, `Mon-Fri` (a span, wrapping past Sunday) or `Sat,Sun`.
fn parse_days(s: &str) -> Result<Vec<Day>, String> {
    let unknown = |d: &str| format!("{d:?} is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)");
    if let Some((a, b)) = s.split_once(['-', '–']) {
        let a = Day::parse(a).ok_or_else(|| unknown(a))?;
        let b = Day::parse(b).ok_or_else(|| unknown(b))?;
        let (a, b) = (a as usize, b as usize);
        return Ok((0..7).map(|k| Day::ALL[(a + k) % 7]).take((b + 7 - a) % 7 + 1).collect());
    }
    s.split(',').map(|d| Day::parse(d).ok_or_else(|| unknown(d))).collect()
}

/// Common zones for the console's suggestions (any IANA name is accepted).
pub const COMMON_ZONES: &[&str] = &[
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/Zurich",
    "Europe/Vienna",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "Europe/Moscow",
    "Africa/Cairo",
    "Africa/Johannesburg",
    "Africa/Lagos",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Australia/Sydney",
    "Australia/Perth",
    "Pacific/Auckland",
    "America/St_Johns",
    "America/Halifax",
    "America/New_York",
    "America/Toronto",
    "America/Chicago",
    "America/Mexico_City",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Bogota",
    "America/Lima",
    "America/Santiago",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn during(tz: &str, ranges: &[(Day, &str, &str)]) -> Schedule {
        Schedule {
            mode: Mode::During,
            time_zone: tz.to_owned(),
            ranges: ranges.iter().map(|&(d, s, e)| DayRange::new(d, s, e)).collect(),
        }
        .validate()
        .unwrap()
    }

    fn err(s: Schedule) -> ValidationError {
        s.validate().unwrap_err()
    }

    #[test]
    fn the_time_zone_database_is_available() {
        for z in COMMON_ZONES {
            assert!(TimeZone::get(z).is_ok(), "{z}");
        }
        // The embedded copy works without the system's files.
        let bundled = jiff::tz::TimeZoneDatabase::bundled();
        assert!(!bundled.is_definitively_empty());
        assert!(bundled.get("Europe/Rome").is_ok());
    }

    #[test]
    fn all_hours_is_always_open() {
        let s = Schedule::default().validate().unwrap();
        assert!(is_open(&s, ts("2026-03-29T01:30:00Z")));
        assert_eq!(s.next_change(ts("2026-03-29T01:30:00Z")), None);
    }

    #[test]
    fn days_and_times_are_read_in_the_zone_not_in_utc() {
        let s = during("Asia/Tokyo", &[(Day::Mon, "09:00", "17:00")]);
        // Sunday 2026-01-04 23:30 UTC is Monday 08:30 in Tokyo (UTC+9, no DST).
        assert!(!is_open(&s, ts("2026-01-04T23:30:00Z")));
        assert!(is_open(&s, ts("2026-01-05T00:00:00Z")), "Mon 09:00 Tokyo");
        assert!(is_open(&s, ts("2026-01-05T07:59:59Z")), "Mon 16:59:59 Tokyo");
        assert!(!is_open(&s, ts("2026-01-05T08:00:00Z")), "the end minute is closed");
        // America/New_York: Friday 22:00 local is Saturday in UTC.
        let ny = during("America/New_York", &[(Day::Fri, "20:00", "24:00")]);
        assert!(is_open(&ny, ts("2026-01-10T03:00:00Z")), "Fri 22:00 EST = Sat 03:00 UTC");
        assert!(!is_open(&ny, ts("2026-01-10T05:00:00Z")), "Sat 00:00 EST");
    }

    #[test]
    fn rome_spring_forward_keeps_wall_clock_times() {
        // 2026-03-29 (Sunday): 02:00 CET jumps to 03:00 CEST (01:00 UTC).
        let s = during("Europe/Rome", &[(Day::Sun, "09:00", "17:00"), (Day::Sat, "09:00", "17:00")]);
        // Saturday 09:00 is 08:00 UTC (CET), Sunday 09:00 is 07:00 UTC (CEST).
        assert!(!is_open(&s, ts("2026-03-28T07:59:00Z")));
        assert!(is_open(&s, ts("2026-03-28T08:00:00Z")));
        assert!(!is_open(&s, ts("2026-03-29T06:59:00Z")));
        assert!(is_open(&s, ts("2026-03-29T07:00:00Z")));
        assert!(is_open(&s, ts("2026-03-29T14:59:00Z")));
        assert!(!is_open(&s, ts("2026-03-29T15:00:00Z")), "17:00 CEST");

        // A range across the change lasts two real hours, not three.
        let across = during("Europe/Rome", &[(Day::Sun, "01:00", "04:00")]);
        assert!(!is_open(&across, ts("2026-03-28T23:59:00Z")), "00:59 CET");
        assert!(is_open(&across, ts("2026-03-29T00:00:00Z")), "01:00 CET");
        assert!(is_open(&across, ts("2026-03-29T00:59:00Z")), "01:59 CET");
        assert!(is_open(&across, ts("2026-03-29T01:00:00Z")), "03:00 CEST");
        assert!(!is_open(&across, ts("2026-03-29T02:00:00Z")), "04:00 CEST");
        assert_eq!(across.next_change(ts("2026-03-28T23:00:00Z")), Some(ts("2026-03-29T00:00:00Z")));
        assert_eq!(across.next_change(ts("2026-03-29T00:30:00Z")), Some(ts("2026-03-29T02:00:00Z")));

        // A range inside the skipped hour never happens that day.
        let skipped = during("Europe/Rome", &[(Day::Sun, "02:00", "02:30")]);
        for minute in 0..180 {
            let at = ts("2026-03-28T23:00:00Z").checked_add(minute.minutes()).unwrap();
            assert!(!is_open(&skipped, at), "{at}");
        }
        // …but does the Sunday before.
        assert!(is_open(&skipped, ts("2026-03-22T01:15:00Z")), "02:15 CET");

        // A range ending inside the skipped hour closes at the jump.
        let ends_in_gap = during("Europe/Rome", &[(Day::Sun, "01:00", "02:30")]);
        assert!(is_open(&ends_in_gap, ts("2026-03-29T00:59:59Z")));
        assert!(!is_open(&ends_in_gap, ts("2026-03-29T01:00:00Z")), "03:00 CEST is after 02:30");
        assert_eq!(ends_in_gap.next_change(ts("2026-03-29T00:30:00Z")), Some(ts("2026-03-29T01:00:00Z")));
    }

    #[test]
    fn rome_fall_back_repeats_the_hour() {
        // 2026-10-25 (Sunday): 03:00 CEST goes back to 02:00 CET (01:00 UTC).
        let s = during("Europe/Rome", &[(Day::Sun, "02:00", "02:30")]);
        assert!(is_open(&s, ts("2026-10-25T00:15:00Z")), "02:15 CEST");
        assert!(!is_open(&s, ts("2026-10-25T00:45:00Z")), "02:45 CEST");
        assert!(is_open(&s, ts("2026-10-25T01:15:00Z")), "02:15 CET, the second time");
        assert!(!is_open(&s, ts("2026-10-25T01:30:00Z")), "02:30 CET");
        assert_eq!(s.next_change(ts("2026-10-25T00:45:00Z")), Some(ts("2026-10-25T01:00:00Z")));

        // An office day keeps its local hours across the change.
        let office = during("Europe/Rome", &[(Day::Fri, "09:00", "17:00"), (Day::Mon, "09:00", "17:00")]);
        assert!(is_open(&office, ts("2026-10-23T07:00:00Z")), "Fri 09:00 CEST");
        assert!(!is_open(&office, ts("2026-10-26T07:00:00Z")), "Mon 08:00 CET");
        assert!(is_open(&office, ts("2026-10-26T08:00:00Z")), "Mon 09:00 CET");
        assert_eq!(office.next_change(ts("2026-10-23T16:00:00Z")), Some(ts("2026-10-26T08:00:00Z")));
    }

    #[test]
    fn new_york_changes_on_its_own_dates() {
        // US DST 2026: starts 2026-03-08, ends 2026-11-01 (Europe: 03-29, 10-25).
        let s = during("America/New_York", &[(Day::Mon, "09:00", "17:00")]);
        assert!(is_open(&s, ts("2026-03-02T14:00:00Z")), "Mon 09:00 EST");
        assert!(is_open(&s, ts("2026-03-09T13:00:00Z")), "Mon 09:00 EDT");
        assert!(!is_open(&s, ts("2026-03-09T12:59:00Z")), "Mon 08:59 EDT");
        assert!(!is_open(&s, ts("2026-11-02T13:30:00Z")), "Mon 08:30 EST");
        assert!(is_open(&s, ts("2026-11-02T14:00:00Z")), "Mon 09:00 EST");
        // Outside mode is the complement.
        let mut out = s.clone();
        out.mode = Mode::Outside;
        for at in ["2026-03-02T14:00:00Z", "2026-03-09T12:59:00Z", "2026-11-02T13:30:00Z"] {
            assert_ne!(is_open(&s, ts(at)), is_open(&out, ts(at)), "{at}");
        }
        assert_eq!(out.next_change(ts("2026-03-09T12:00:00Z")), Some(ts("2026-03-09T13:00:00Z")));
    }

    #[test]
    fn a_whole_week_outside_never_opens() {
        let mut s = during("UTC", &Day::ALL.map(|d| (d, "00:00", "24:00")));
        s.mode = Mode::Outside;
        assert!(!is_open(&s, ts("2026-05-05T12:00:00Z")));
        assert_eq!(s.next_change(ts("2026-05-05T12:00:00Z")), None);
        // Back-to-back ranges (end = next start) do not overlap.
        during("UTC", &[(Day::Mon, "09:00", "12:00"), (Day::Mon, "12:00", "13:00")]);
    }

    #[test]
    fn bad_schedules_name_the_field() {
        let base = |tz: &str, ranges: Vec<DayRange>| Schedule { mode: Mode::During, time_zone: tz.to_owned(), ranges };
        let e = err(base("Mars/Olympus", vec![DayRange::new(Day::Mon, "09:00", "10:00")]));
        assert_eq!(e.field, "time_zone");
        assert!(e.message.contains("Mars/Olympus"), "{}", e.message);
        assert_eq!(err(base("", vec![])).field, "time_zone");
        // The zone is checked in every mode.
        assert_eq!(
            err(Schedule { mode: Mode::AllHours, time_zone: "Nowhere/City".into(), ranges: vec![] }).field,
            "time_zone"
        );

        let e = err(base("UTC", vec![]));
        assert_eq!(e.field, "ranges");
        let e = err(Schedule { mode: Mode::Outside, time_zone: "UTC".into(), ranges: vec![] });
        assert_eq!(e.field, "ranges");

        let r = vec![
            DayRange::new(Day::Mon, "09:00", "10:00"),
            DayRange::new(Day::Tue, "09:00", "10:00"),
            DayRange::new(Day::Wed, "18:00", "09:00"),
        ];
        let e = err(base("UTC", r));
        assert_eq!(e.field, "ranges[2].end");
        assert!(e.message.contains("after the start"), "{}", e.message);
        assert_eq!(err(base("UTC", vec![DayRange::new(Day::Wed, "09:00", "09:00")])).field, "ranges[0].end");
        assert_eq!(err(base("UTC", vec![DayRange::new(Day::Wed, "25:00", "26:00")])).field, "ranges[0].start");
        assert_eq!(err(base("UTC", vec![DayRange::new(Day::Wed, "24:00", "24:00")])).field, "ranges[0].start");
        assert_eq!(err(base("UTC", vec![DayRange::new(Day::Wed, "09:00", "9")])).field, "ranges[0].end");
        assert_eq!(err(base("UTC", vec![DayRange::new(Day::Wed, "09:00", "17:60")])).field, "ranges[0].end");

        let r = vec![
            DayRange::new(Day::Mon, "09:00", "12:00"),
            DayRange::new(Day::Tue, "11:00", "13:00"),
            DayRange::new(Day::Mon, "11:30", "14:00"),
        ];
        let e = err(base("UTC", r));
        assert_eq!(e.field, "ranges[2]");
        assert!(e.message.contains("Mon 11:30-14:00 overlaps ranges[0] (Mon 09:00-12:00)"), "{}", e.message);
        let nested = vec![DayRange::new(Day::Fri, "08:00", "20:00"), DayRange::new(Day::Fri, "10:00", "11:00")];
        assert_eq!(err(base("UTC", nested)).field, "ranges[1]");

        let many = (0..=MAX_RANGES)
            .map(|i| DayRange::new(Day::Mon, &fmt_minutes(i as u16), &fmt_minutes(i as u16 + 1)))
            .collect();
        assert_eq!(err(base("UTC", many)).field, "ranges");
    }

    #[test]
    fn validation_normalises() {
        let s = Schedule {
            mode: Mode::During,
            time_zone: " europe/rome ".into(),
            ranges: vec![DayRange::new(Day::Tue, "9:00", "12:00"), DayRange::new(Day::Mon, "14:00", "24:00")],
        }
        .validate()
        .unwrap();
        assert_eq!(s.time_zone, "Europe/Rome");
        assert_eq!(
            s.ranges,
            vec![DayRange::new(Day::Mon, "14:00", "24:00"), DayRange::new(Day::Tue, "09:00", "12:00")]
        );
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["mode"], "during");
        assert_eq!(json["ranges"][0]["day"], "mon");
        assert_eq!(serde_json::from_value::<Schedule>(json).unwrap(), s);
    }

    #[test]
    fn lines_parse_and_format() {
        let r = parse_lines("Mon 09:00-12:30, 14:00-18:00\n\n# lunch\nsat 10:00-12:00\nTue-Thu 08:00-09:00").unwrap();
        assert_eq!(r.len(), 6);
        assert_eq!(r[0], DayRange::new(Day::Mon, "09:00", "12:30"));
        assert_eq!(r[2], DayRange::new(Day::Sat, "10:00", "12:00"));
        assert_eq!(r[3..].iter().map(|r| r.day).collect::<Vec<_>>(), vec![Day::Tue, Day::Wed, Day::Thu]);
        assert_eq!(
            format_lines(&r),
            "Mon 09:00-12:30, 14:00-18:00\nTue 08:00-09:00\nWed 08:00-09:00\nThu 08:00-09:00\nSat 10:00-12:00"
        );
        let week = parse_lines("Sat-Mon 10:00-11:00\nSat,Sun 12:00-13:00\nMonday 14:00-15:00").unwrap();
        assert_eq!(
            week.iter().map(|r| r.day).collect::<Vec<_>>(),
            [Day::Sat, Day::Sun, Day::Mon, Day::Sat, Day::Sun, Day::Mon]
        );

        for (text, needle) in [
            ("Mon", "line 1"),
            ("Mon 09:00-12:00\nFunday 09:00-10:00", "line 2"),
            ("Mon 9-5", "\"9\" is not a time"),
            ("Mon 09:00", "not a time range"),
            ("Mon 09:00-25:00", "\"25:00\" is not a time"),
            ("Mon ,", "no time range"),
        ] {
            let e = parse_lines(text).unwrap_err();
            assert_eq!(e.field, "ranges");
            assert!(e.message.contains(needle), "{text}: {}", e.message);
        }
    }
}
