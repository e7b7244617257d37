//! Credits (D1), pure: the settings and their validation, billing periods,
//! and the decisions the store applies inside its transactions.
//!
//! The rules:
//! - Credits are off by default: the agent is unlimited and nothing is recorded.
//! - Each reply the agent stores costs `cost_per_reply`; the preview and the
//!   agent tests never store a reply, so they cost nothing (D3).
//! - A billing period runs from the reset day (1..=28, so every month has it)
//!   at 00:00 UTC to the same day of the next month. At the first operation of
//!   a period the balance is **reset** to the monthly allowance: unused
//!   credits, grants and top-ups of the previous period expire (like monthly
//!   credit packs). Changing the allowance takes effect at the next reset.
//! - When the balance cannot pay a reply and automatic top-up is configured
//!   (and the period's top-up cap is not reached), packs are added first.
//! - The balance never goes negative. A reply the agent already decided (in a
//!   conversation it holds) is stored even when the balance cannot pay it in
//!   full: it is charged what is left (possibly 0) and the shortfall is noted.
//! - The agent takes new conversations only while it can pay a reply (or a
//!   top-up is available). Conversations it already holds keep being answered
//!   until they are resolved or handed off, as when it is switched off (D2).

use serde::{Deserialize, Serialize};

use crate::validate::ValidationError;

/// The most credits any single number here may be.
pub const MAX_CREDITS: i64 = 1_000_000_000;
/// The most automatic top-ups a period may be capped at.
pub const MAX_TOP_UPS: i64 = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditSettings {
    /// Off: the agent is unlimited and no ledger rows are written.
    pub enabled: bool,
    /// Credits one stored agent reply costs (at least 1).
    pub cost_per_reply: i64,
    /// Credits the balance is reset to at the start of each period.
    pub monthly_allowance: i64,
    /// The day of the month (1..=28, UTC) a period starts.
    pub reset_day: i64,
    /// The pack added when the balance cannot pay a reply; none: no top-up.
    pub auto_top_up: Option<i64>,
    /// At most this many automatic top-ups per period; none: no cap.
    pub max_top_ups_per_period: Option<i64>,
}

impl Default for CreditSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            cost_per_reply: 1,
            monthly_allowance: 1000,
            reset_day: 1,
            auto_top_up: None,
            max_top_ups_per_period: None,
        }
    }
}

impl CreditSettings {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let range = |field: &str, v: i64, min: i64, max: i64| {
            if v < min || v > max {
                Err(ValidationError::new(field, format!("must be between {min} and {max} (got {v})")))
            } else {
                Ok(())
            }
        };
        range("cost_per_reply", self.cost_per_reply, 1, MAX_CREDITS)?;
        range("monthly_allowance", self.monthly_allowance, 0, MAX_CREDITS)?;
        if !(1..=28).contains(&self.reset_day) {
            return Err(ValidationError::new(
                "reset_day",
                format!("must be between 1 and 28, a day every month has (got {})", self.reset_day),
            ));
        }
        if let Some(pack) = self.auto_top_up {
            range("auto_top_up", pack, 1, MAX_CREDITS)?;
        }
        if let Some(max) = self.max_top_ups_per_period {
            if self.auto_top_up.is_none() {
                return Err(ValidationError::new("max_top_ups_per_period", "needs an automatic top-up pack"));
            }
            range("max_top_ups_per_period", max, 1, MAX_TOP_UPS)?;
        }
        Ok(())
    }

    /// Whether another automatic top-up may happen after `used` this period.
    pub fn top_up_available(&self, used: i64) -> bool {
        self.auto_top_up.is_some() && self.max_top_ups_per_period.is_none_or(|max| used < max)
    }
}

/// What a ledger row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    /// The balance reset to the monthly allowance at the start of a period.
    Allowance,
    /// An agent reply (negative).
    Reply,
    /// An automatic top-up pack.
    TopUp,
    /// Credits added by an administrator.
    Grant,
    /// A correction.
    Adjustment,
}

impl LedgerKind {
    pub const ALL: &'static [LedgerKind] =
        &[LedgerKind::Allowance, LedgerKind::Reply, LedgerKind::TopUp, LedgerKind::Grant, LedgerKind::Adjustment];

    pub fn as_str(self) -> &'static str {
        match self {
            LedgerKind::Allowance => "allowance",
            LedgerKind::Reply => "reply",
            LedgerKind::TopUp => "top_up",
            LedgerKind::Grant => "grant",
            LedgerKind::Adjustment => "adjustment",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for LedgerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------- periods ----------

const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a day number since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

/// The UTC day of an instant (Unix ms) as `YYYY-MM-DD`.
pub fn day_of(ms: i64) -> String {
    day_string(ms.div_euclid(DAY_MS))
}

/// A day number since 1970-01-01 as `YYYY-MM-DD`.
pub fn day_string(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// A billing period: `[start_ms, end_ms)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    pub start_ms: i64,
    pub end_ms: i64,
    /// The start's date, `YYYY-MM-DD`: names the period (one allowance each).
    pub key: String,
}

/// The period containing `at_ms` when periods start on `reset_day` (1..=28,
/// clamped) at 00:00 UTC.
pub fn period_containing(at_ms: i64, reset_day: i64) -> Period {
    let rd = reset_day.clamp(1, 28) as u32;
    let (y, m, d) = civil_from_days(at_ms.div_euclid(DAY_MS));
    let (sy, sm) = if d >= rd {
        (y, m)
    } else if m == 1 {
        (y - 1, 12)
    } else {
        (y, m - 1)
    };
    let (ey, em) = if sm == 12 { (sy + 1, 1) } else { (sy, sm + 1) };
    let start = days_from_civil(sy, sm, rd);
    Period { start_ms: start * DAY_MS, end_ms: days_from_civil(ey, em, rd) * DAY_MS, key: day_string(start) }
}

// ---------- decisions ----------

/// The ledger row that resets the balance at the start of a period: the
/// signed amount taking `balance` to the allowance.
pub fn allowance_amount(settings: &CreditSettings, balance: i64) -> i64 {
    settings.monthly_allowance - balance
}

/// The balance as it is now: when the current period has no allowance row
/// yet, the reset it is due for.
pub fn effective_balance(settings: &CreditSettings, last_balance: i64, period_started: bool) -> i64 {
    if period_started {
        last_balance
    } else {
        settings.monthly_allowance
    }
}

/// How one reply is paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyCharge {
    /// Automatic top-up packs added first (each of the pack size).
    pub top_ups: Vec<i64>,
    /// Credits taken (≤ the cost; less only when the balance could not pay).
    pub charged: i64,
    /// The part of the cost left unpaid (0 normally).
    pub shortfall: i64,
    pub balance_after: i64,
}

/// Pays a reply from `balance`, topping up first when needed and allowed
/// (`top_ups_used` this period). Never leaves the balance negative.
pub fn charge_reply(settings: &CreditSettings, balance: i64, top_ups_used: i64) -> ReplyCharge {
    let cost = settings.cost_per_reply.max(0);
    let mut balance = balance.max(0);
    let mut top_ups = Vec::new();
    if let Some(pack) = settings.auto_top_up.filter(|p| *p > 0) {
        while balance < cost && settings.top_up_available(top_ups_used + top_ups.len() as i64) {
            balance += pack;
            top_ups.push(pack);
        }
    }
    let charged = cost.min(balance);
    ReplyCharge { top_ups, charged, shortfall: cost - charged, balance_after: balance - charged }
}

/// Whether the agent may take new conversations: credits are off, the
/// balance pays a reply, or a top-up would.
pub fn may_take_new_conversations(settings: &CreditSettings, balance: i64, top_ups_used: i64) -> bool {
    !settings.enabled || balance >= settings.cost_per_reply || settings.top_up_available(top_ups_used)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(y: i64, m: u32, d: u32, hour: i64) -> i64 {
        days_from_civil(y, m, d) * DAY_MS + hour * 3_600_000
    }

    fn on(cost: i64, top_up: Option<i64>, max: Option<i64>) -> CreditSettings {
        CreditSettings {
            enabled: true,
            cost_per_reply: cost,
            monthly_allowance: 10,
            reset_day: 1,
            auto_top_up: top_up,
            max_top_ups_per_period: max,
        }
    }

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(day_of(1_700_000_000_000), "2023-11-14");
        for z in [-800_000, -1, 0, 59, 60, 11_016, 19_000, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(day_string(days_from_civil(2024, 2, 29)), "2024-02-29");
    }

    #[test]
    fn periods_start_on_the_reset_day_in_utc() {
        let p = period_containing(ms(2024, 5, 20, 13), 15);
        assert_eq!(p.key, "2024-05-15");
        assert_eq!(p.start_ms, ms(2024, 5, 15, 0));
        assert_eq!(p.end_ms, ms(2024, 6, 15, 0));
        // Before the reset day: the period began last month.
        let p = period_containing(ms(2024, 5, 3, 23), 15);
        assert_eq!((p.key.as_str(), p.end_ms), ("2024-04-15", ms(2024, 5, 15, 0)));
        // Across the year.
        let p = period_containing(ms(2024, 1, 2, 0), 10);
        assert_eq!(p.key, "2023-12-10");
        assert_eq!(p.end_ms, ms(2024, 1, 10, 0));
        let p = period_containing(ms(2023, 12, 31, 0), 28);
        assert_eq!((p.key.as_str(), p.end_ms), ("2023-12-28", ms(2024, 1, 28, 0)));
        // The reset instant itself opens the new period.
        assert_eq!(period_containing(ms(2024, 3, 1, 0), 1).key, "2024-03-01");
        assert_eq!(period_containing(ms(2024, 3, 1, 0) - 1, 1).key, "2024-02-01");
        // February (leap or not) always has day 28.
        assert_eq!(period_containing(ms(2023, 2, 28, 5), 28).key, "2023-02-28");
        assert_eq!(period_containing(ms(2024, 2, 29, 5), 28).end_ms, ms(2024, 3, 28, 0));
    }

    #[test]
    fn periods_tile_time_without_gaps() {
        for rd in [1, 15, 28] {
            let mut p = period_containing(ms(2023, 1, 1, 0), rd);
            for _ in 0..30 {
                let next = period_containing(p.end_ms, rd);
                assert_eq!(next.start_ms, p.end_ms);
                assert!(next.end_ms - next.start_ms >= 28 * DAY_MS && next.end_ms - next.start_ms <= 31 * DAY_MS);
                assert_eq!(period_containing(p.end_ms - 1, rd), p);
                p = next;
            }
        }
    }

    #[test]
    fn settings_are_validated_field_by_field() {
        assert!(CreditSettings::default().validate().is_ok());
        let field = |s: CreditSettings| s.validate().unwrap_err().field;
        assert_eq!(field(CreditSettings { reset_day: 31, ..Default::default() }), "reset_day");
        assert_eq!(field(CreditSettings { reset_day: 29, ..Default::default() }), "reset_day");
        assert_eq!(field(CreditSettings { reset_day: 0, ..Default::default() }), "reset_day");
        assert_eq!(field(CreditSettings { cost_per_reply: 0, ..Default::default() }), "cost_per_reply");
        assert_eq!(field(CreditSettings { monthly_allowance: -1, ..Default::default() }), "monthly_allowance");
        assert_eq!(field(CreditSettings { auto_top_up: Some(0), ..Default::default() }), "auto_top_up");
        assert_eq!(
            field(CreditSettings { max_top_ups_per_period: Some(2), ..Default::default() }),
            "max_top_ups_per_period"
        );
        assert_eq!(
            field(CreditSettings { auto_top_up: Some(5), max_top_ups_per_period: Some(0), ..Default::default() }),
            "max_top_ups_per_period"
        );
        assert!(CreditSettings {
            reset_day: 28,
            auto_top_up: Some(5),
            max_top_ups_per_period: Some(3),
            ..Default::default()
        }
        .validate()
        .is_ok());
    }

    #[test]
    fn a_reply_is_paid_from_the_balance() {
        let c = charge_reply(&on(2, None, None), 5, 0);
        assert_eq!(c, ReplyCharge { top_ups: vec![], charged: 2, shortfall: 0, balance_after: 3 });
    }

    #[test]
    fn the_last_reply_takes_what_is_left_and_never_goes_negative() {
        let c = charge_reply(&on(3, None, None), 1, 0);
        assert_eq!(c, ReplyCharge { top_ups: vec![], charged: 1, shortfall: 2, balance_after: 0 });
        let c = charge_reply(&on(3, None, None), 0, 0);
        assert_eq!((c.charged, c.shortfall, c.balance_after), (0, 3, 0));
    }

    #[test]
    fn top_ups_are_added_when_the_balance_cannot_pay() {
        let c = charge_reply(&on(3, Some(2), None), 1, 0);
        assert_eq!(c, ReplyCharge { top_ups: vec![2], charged: 3, shortfall: 0, balance_after: 0 });
        // Enough balance: no top-up.
        assert!(charge_reply(&on(3, Some(2), None), 3, 0).top_ups.is_empty());
        // A small pack may need several.
        assert_eq!(charge_reply(&on(5, Some(2), None), 0, 0).top_ups, vec![2, 2, 2]);
        // The cap stops them.
        let c = charge_reply(&on(5, Some(2), Some(3)), 0, 2);
        assert_eq!((c.top_ups.len(), c.charged, c.shortfall, c.balance_after), (1, 2, 3, 0));
        assert!(charge_reply(&on(1, Some(2), Some(3)), 0, 3).top_ups.is_empty());
    }

    #[test]
    fn the_agent_takes_new_conversations_only_while_it_can_pay() {
        assert!(may_take_new_conversations(&CreditSettings::default(), 0, 0), "off means unlimited");
        assert!(may_take_new_conversations(&on(2, None, None), 2, 0));
        assert!(!may_take_new_conversations(&on(2, None, None), 1, 0));
        assert!(may_take_new_conversations(&on(2, Some(10), None), 0, 50));
        assert!(may_take_new_conversations(&on(2, Some(10), Some(2)), 0, 1));
        assert!(!may_take_new_conversations(&on(2, Some(10), Some(2)), 0, 2));
    }

    #[test]
    fn a_new_period_resets_the_balance_to_the_allowance() {
        let s = on(1, None, None);
        assert_eq!(allowance_amount(&s, 0), 10);
        assert_eq!(allowance_amount(&s, 25), -15);
        assert_eq!(effective_balance(&s, 3, true), 3);
        assert_eq!(effective_balance(&s, 3, false), 10);
    }

    #[test]
    fn ledger_kinds_round_trip() {
        for k in LedgerKind::ALL {
            assert_eq!(LedgerKind::parse(k.as_str()), Some(*k));
            assert_eq!(serde_json::to_value(k).unwrap(), serde_json::json!(k.as_str()));
        }
        assert_eq!(LedgerKind::parse("bonus"), None);
    }
}
