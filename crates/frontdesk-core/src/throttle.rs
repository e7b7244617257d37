//! Login throttling (I2): how many failed sign-ins a key (an account, a client
//! address) may have before it is locked out, and for how long. A pure
//! function of the stored counter and the time, so the rules are tested here
//! without a clock; the store applies them inside one transaction per failure
//! so every replica sees the same counter.

use serde::{Deserialize, Serialize};

const MINUTE_MS: i64 = 60_000;

/// The limits for one kind of key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures allowed within `window_ms`; the failure that reaches it locks the key.
    pub max_failures: i64,
    /// Failures older than this (counted from the first one in the window) are forgotten.
    pub window_ms: i64,
    /// The first lockout; each further lockout doubles it, up to `max_lockout_ms`.
    pub lockout_ms: i64,
    pub max_lockout_ms: i64,
    /// A key that has had no failure for this long starts again from a first lockout.
    pub forget_after_ms: i64,
}

/// Per account (the email as typed, whether or not such a user exists, so the
/// answer never tells whether an email is registered): 5 failures in 15
/// minutes. A person who mistypes their password rarely gets 5 wrong in a
/// row; a guesser is held to 5 guesses per lockout, and the lockout doubles
/// (15 min, 30 min, 1 h, … at most 4 h) so a slow, patient guesser gets ever
/// fewer tries. Capped at 4 h so an attacker who locks a known account out on
/// purpose cannot keep its owner out for days.
pub const ACCOUNT: Policy = Policy {
    max_failures: 5,
    window_ms: 15 * MINUTE_MS,
    lockout_ms: 15 * MINUTE_MS,
    max_lockout_ms: 4 * 60 * MINUTE_MS,
    forget_after_ms: 24 * 60 * MINUTE_MS,
};

/// Per client address: 20 failures in 15 minutes, whatever the emails. Higher
/// than the account limit because an office shares one address, low enough
/// that spraying one password over many accounts from one address stops
/// after 20 tries. The lockout does not grow: a shared address is never
/// locked for long.
pub const ADDRESS: Policy = Policy {
    max_failures: 20,
    window_ms: 15 * MINUTE_MS,
    lockout_ms: 15 * MINUTE_MS,
    max_lockout_ms: 15 * MINUTE_MS,
    forget_after_ms: 24 * 60 * MINUTE_MS,
};

/// A key's stored counter. All times are Unix milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counter {
    /// Failures in the current window.
    pub failures: i64,
    /// When the current window began (its first failure).
    pub window_start: i64,
    /// Locked until then (0: never locked).
    pub locked_until: i64,
    /// Lockouts so far; the next one lasts `lockout_ms * 2^lockouts`.
    pub lockouts: i64,
    /// The last failure.
    pub last_failure: i64,
}

/// Whole seconds until `counter` unlocks, rounded up; `None` when it is not locked at `now`.
pub fn retry_after_secs(counter: &Counter, now: i64) -> Option<i64> {
    (counter.locked_until > now).then(|| (counter.locked_until - now + 999) / 1000)
}

/// How long the lockout after `lockouts` earlier ones lasts.
pub fn lockout_ms(policy: &Policy, lockouts: i64) -> i64 {
    let doubled = policy.lockout_ms.saturating_mul(1_i64 << lockouts.clamp(0, 30));
    doubled.min(policy.max_lockout_ms)
}

/// The counter after one more failure at `now`, and whether that failure
/// locked the key. Failures while locked only move `last_failure` (the caller
/// refuses them before checking anything, so they are not guesses).
pub fn record_failure(policy: &Policy, counter: &Counter, now: i64) -> (Counter, bool) {
    let mut c = *counter;
    if c.last_failure > 0 && now - c.last_failure >= policy.forget_after_ms {
        c = Counter::default();
    }
    if c.locked_until > now {
        c.last_failure = now;
        return (c, false);
    }
    if c.failures == 0 || now - c.window_start >= policy.window_ms {
        c.failures = 0;
        c.window_start = now;
    }
    c.failures += 1;
    c.last_failure = now;
    if c.failures >= policy.max_failures {
        c.locked_until = now + lockout_ms(policy, c.lockouts);
        c.lockouts += 1;
        c.failures = 0;
        c.window_start = now;
        return (c, true);
    }
    (c, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000_000;

    fn fail(policy: &Policy, c: Counter, n: i64, at: i64) -> (Counter, bool) {
        let mut state = (c, false);
        for _ in 0..n {
            state = record_failure(policy, &state.0, at);
        }
        state
    }

    #[test]
    fn the_fifth_failure_locks_an_account_for_fifteen_minutes() {
        let (c, locked) = fail(&ACCOUNT, Counter::default(), 4, T0);
        assert!(!locked);
        assert_eq!(retry_after_secs(&c, T0), None);
        let (c, locked) = record_failure(&ACCOUNT, &c, T0 + 1000);
        assert!(locked);
        assert_eq!(retry_after_secs(&c, T0 + 1000), Some(15 * 60));
        // Still locked a second before the end, with the seconds rounded up.
        assert_eq!(retry_after_secs(&c, T0 + 1000 + 15 * MINUTE_MS - 1500), Some(2));
        assert_eq!(retry_after_secs(&c, T0 + 1000 + 15 * MINUTE_MS), None);
    }

    #[test]
    fn failures_outside_the_window_are_forgotten() {
        let (c, _) = fail(&ACCOUNT, Counter::default(), 4, T0);
        // The window has passed: the next four failures start a new window.
        let (c, locked) = fail(&ACCOUNT, c, 4, T0 + 15 * MINUTE_MS);
        assert!(!locked);
        assert_eq!(c.failures, 4);
        assert_eq!(retry_after_secs(&c, T0 + 15 * MINUTE_MS), None);
    }

    #[test]
    fn lockouts_double_up_to_the_cap_and_are_forgotten_after_a_quiet_day() {
        let mut c = Counter::default();
        let mut now = T0;
        let mut lengths = Vec::new();
        for _ in 0..6 {
            let (next, locked) = fail(&ACCOUNT, c, 5, now);
            assert!(locked);
            let secs = retry_after_secs(&next, now).unwrap();
            lengths.push(secs / 60);
            c = next;
            now += secs * 1000;
        }
        assert_eq!(lengths, [15, 30, 60, 120, 240, 240]);
        // A day without failures: the next lockout is a first one again.
        let (c, locked) = fail(&ACCOUNT, c, 5, now + 24 * 60 * MINUTE_MS);
        assert!(locked);
        assert_eq!(retry_after_secs(&c, now + 24 * 60 * MINUTE_MS), Some(15 * 60));
    }

    #[test]
    fn attempts_while_locked_do_not_extend_the_lockout() {
        let (c, _) = fail(&ACCOUNT, Counter::default(), 5, T0);
        let (after, locked) = fail(&ACCOUNT, c, 50, T0 + MINUTE_MS);
        assert!(!locked);
        assert_eq!(after.locked_until, c.locked_until);
        assert_eq!(after.lockouts, 1);
    }

    #[test]
    fn an_address_allows_twenty_and_never_grows() {
        let (c, locked) = fail(&ADDRESS, Counter::default(), 19, T0);
        assert!(!locked);
        let (c, locked) = record_failure(&ADDRESS, &c, T0);
        assert!(locked);
        assert_eq!(retry_after_secs(&c, T0), Some(15 * 60));
        let (c, locked) = fail(&ADDRESS, c, 20, T0 + 15 * MINUTE_MS);
        assert!(locked);
        assert_eq!(retry_after_secs(&c, T0 + 15 * MINUTE_MS), Some(15 * 60));
    }

    #[test]
    fn huge_lockout_counts_do_not_overflow() {
        assert_eq!(lockout_ms(&ACCOUNT, i64::MAX), ACCOUNT.max_lockout_ms);
        assert_eq!(lockout_ms(&ACCOUNT, -3), ACCOUNT.lockout_ms);
    }
}
