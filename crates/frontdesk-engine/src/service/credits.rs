//! Credits (D1): the settings, grants and usage ranges as the admin API and
//! the console take them.

use frontdesk_core::credits as core_credits;
use frontdesk_core::credits::CreditSettings;
use frontdesk_core::validate::bounded_text;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{Error, Result};
use crate::Engine;

/// The banner the console shows when the agent is out of credits.
pub const OUT_OF_CREDITS: &str = "The agent is out of credits: new conversations go to your team";

/// The credit settings. Off (`enabled: false`) means unlimited.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditSettingsInput {
    pub enabled: bool,
    /// Credits per stored agent reply (≥ 1).
    pub cost_per_reply: i64,
    /// The balance at the start of each period.
    pub monthly_allowance: i64,
    /// 1 to 28: the day of the month (UTC) the period starts.
    pub reset_day: i64,
    /// The pack added automatically when the balance cannot pay a reply.
    #[serde(default)]
    pub auto_top_up: Option<i64>,
    /// At most this many automatic top-ups per period.
    #[serde(default)]
    pub max_top_ups_per_period: Option<i64>,
}

impl CreditSettingsInput {
    pub fn parse(self) -> Result<CreditSettings> {
        let s = CreditSettings {
            enabled: self.enabled,
            cost_per_reply: self.cost_per_reply,
            monthly_allowance: self.monthly_allowance,
            reset_day: self.reset_day,
            auto_top_up: self.auto_top_up,
            max_top_ups_per_period: self.max_top_ups_per_period,
        };
        s.validate()?;
        Ok(s)
    }
}

/// Credits added by hand (bought, or a goodwill gesture).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantInput {
    pub amount: i64,
    #[serde(default)]
    pub note: Option<String>,
}

impl GrantInput {
    pub fn parse(self) -> Result<(i64, Option<String>)> {
        if !(1..=core_credits::MAX_CREDITS).contains(&self.amount) {
            return Err(Error::invalid_field(
                "amount",
                format!("must be between 1 and {} (got {})", core_credits::MAX_CREDITS, self.amount),
            ));
        }
        let note = match self.note.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(n) => Some(bounded_text("note", n, 1, 500)?),
        };
        Ok((self.amount, note))
    }
}

/// `from` and `to` are UTC dates (`YYYY-MM-DD`), both included; by default
/// the current period up to today.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UsageQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

const DAY_MS: i64 = 86_400_000;

/// A `YYYY-MM-DD` date as its day number since 1970-01-01.
pub fn parse_day(field: &str, s: &str) -> Result<i64> {
    let bad = || Error::invalid_field(field, format!("'{s}' is not a date like 2024-05-31"));
    let parts: Vec<&str> = s.trim().split('-').collect();
    let [y, m, d] = parts.as_slice() else { return Err(bad()) };
    let (y, m, d) = (
        y.parse::<i64>().map_err(|_| bad())?,
        m.parse::<u32>().map_err(|_| bad())?,
        d.parse::<u32>().map_err(|_| bad())?,
    );
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let days = core_credits::days_from_civil(y, m, d);
    // 2024-02-30 would silently become March 1st.
    if core_credits::civil_from_days(days) != (y, m, d) {
        return Err(bad());
    }
    Ok(days)
}

/// The `[from, to)` range in Unix ms of a usage query.
pub async fn usage_range(state: &Engine, q: &UsageQuery) -> Result<(i64, i64)> {
    let now = frontdesk_store::now_ms();
    let from = match q.from.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => parse_day("from", s)? * DAY_MS,
        None => state.store.credit_status(now).await?.period.start_ms,
    };
    let to = match q.to.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => (parse_day("to", s)? + 1) * DAY_MS,
        None => (now.div_euclid(DAY_MS) + 1) * DAY_MS,
    };
    if to <= from {
        return Err(Error::invalid_field("to", "must not be before from"));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_parsed_strictly() {
        assert_eq!(parse_day("from", "1970-01-02").unwrap(), 1);
        assert_eq!(parse_day("from", "2024-02-29").unwrap(), core_credits::days_from_civil(2024, 2, 29));
        for bad in ["2023-02-29", "2024-13-01", "yesterday", "2024-05", "2024-05-01-01", ""] {
            assert_eq!(parse_day("from", bad).unwrap_err().field(), Some("from"), "{bad}");
        }
    }

    #[test]
    fn grants_need_a_positive_amount() {
        assert_eq!(GrantInput { amount: 0, note: None }.parse().unwrap_err().field(), Some("amount"));
        assert_eq!(GrantInput { amount: 5, note: Some("  ".into()) }.parse().unwrap(), (5, None));
    }
}
