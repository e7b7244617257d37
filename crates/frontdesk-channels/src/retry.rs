//! Retries of outbound deliveries (custom-channel webhooks, Meta sends, SMTP): exponential
//! backoff with deterministic jitter, and the `Retry-After` header.

/// Exponential backoff: `base_secs · 2^attempt`, capped at `max_secs`, for `max_attempts`
/// attempts in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base_secs: u64,
    pub max_secs: u64,
    pub max_attempts: u32,
}

impl Default for Backoff {
    /// 5 s, 10 s, 20 s … capped at 1 h, 10 attempts (about 3 h 40 min in all, minus jitter).
    fn default() -> Self {
        Self { base_secs: 5, max_secs: 3600, max_attempts: 10 }
    }
}

impl Backoff {
    /// The wait before the next attempt, given how many attempts were already made; `None`
    /// once `max_attempts` have been made (give up: dead-letter the delivery).
    ///
    /// The delay is reduced by up to 20 % using `jitter_seed` (e.g. the delivery's id), so that
    /// deliveries failing together do not retry together, while the same inputs always give
    /// the same delay. The result never exceeds `max_secs` and is at least 1 s when the
    /// undithered delay is.
    pub fn next_delay(&self, attempt: u32, jitter_seed: u64) -> Option<u64> {
        if attempt >= self.max_attempts {
            return None;
        }
        let exp = 1u64.checked_shl(attempt.min(63)).unwrap_or(u64::MAX);
        let delay = self.base_secs.saturating_mul(exp).min(self.max_secs);
        let fraction = splitmix64(jitter_seed ^ u64::from(attempt).wrapping_mul(0x9E37_79B9_7F4A_7C15)) % 1000;
        let cut = (u128::from(delay) * 200 * u128::from(fraction) / 1_000_000) as u64;
        let jittered = delay - cut;
        Some(if delay > 0 { jittered.max(1) } else { 0 })
    }
}

/// SplitMix64: a tiny, well-distributed deterministic mixer.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// `Retry-After` given in seconds (`"120"`). HTTP dates are not handled here because they need
/// the current time: see [`retry_after_at`].
pub fn retry_after(header_value: Option<&str>) -> Option<u64> {
    let v = header_value?.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<u64>().ok()
}

/// `Retry-After` in seconds or as an HTTP date (`"Wed, 21 Oct 2015 07:28:00 GMT"`), as seconds
/// from `now_unix` (0 when the date is past).
pub fn retry_after_at(header_value: Option<&str>, now_unix: i64) -> Option<u64> {
    if let Some(secs) = retry_after(header_value) {
        return Some(secs);
    }
    let v = header_value?.trim();
    let ts = jiff::fmt::rfc2822::DateTimeParser::new().parse_timestamp(v).ok()?;
    Some(u64::try_from(ts.as_second().saturating_sub(now_unix)).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schedule() {
        let b = Backoff::default();
        let undithered = [5u64, 10, 20, 40, 80, 160, 320, 640, 1280, 2560];
        for (attempt, full) in undithered.iter().enumerate() {
            for seed in [0u64, 1, 42, u64::MAX] {
                let d = b.next_delay(attempt as u32, seed).unwrap();
                assert!(d <= *full && d * 10 >= full * 8 - 10, "attempt {attempt} seed {seed}: {d}");
            }
        }
        assert_eq!(b.next_delay(10, 1), None);
        assert_eq!(b.next_delay(u32::MAX, 1), None);
    }

    #[test]
    fn deterministic_and_spread() {
        let b = Backoff { base_secs: 100, max_secs: 100_000, max_attempts: 5 };
        assert_eq!(b.next_delay(2, 7), b.next_delay(2, 7));
        let spread: std::collections::HashSet<u64> = (0..50).filter_map(|s| b.next_delay(2, s)).collect();
        assert!(spread.len() > 10);
    }

    #[test]
    fn caps_and_extremes() {
        let b = Backoff { base_secs: 5, max_secs: 3600, max_attempts: 100 };
        for attempt in [20, 63, 64, 99] {
            let d = b.next_delay(attempt, 3).unwrap();
            assert!((2880..=3600).contains(&d), "{d}");
        }
        let zero = Backoff { base_secs: 0, max_secs: 10, max_attempts: 3 };
        assert_eq!(zero.next_delay(0, 1), Some(0));
        let one = Backoff { base_secs: 1, max_secs: 1, max_attempts: 3 };
        assert_eq!(one.next_delay(2, 999), Some(1));
        let huge = Backoff { base_secs: u64::MAX, max_secs: u64::MAX, max_attempts: 3 };
        assert!(huge.next_delay(2, 1).is_some());
    }

    #[test]
    fn retry_after_values() {
        assert_eq!(retry_after(Some("120")), Some(120));
        assert_eq!(retry_after(Some(" 0 ")), Some(0));
        assert_eq!(retry_after(Some("-5")), None);
        assert_eq!(retry_after(Some("1.5")), None);
        assert_eq!(retry_after(Some("")), None);
        assert_eq!(retry_after(None), None);
        assert_eq!(retry_after(Some("99999999999999999999999")), None);
        assert_eq!(retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
        // 2015-10-21T07:28:00Z = 1445412480
        assert_eq!(retry_after_at(Some("Wed, 21 Oct 2015 07:28:00 GMT"), 1_445_412_480 - 90), Some(90));
        assert_eq!(retry_after_at(Some("Wed, 21 Oct 2015 07:28:00 GMT"), 1_445_412_480 + 90), Some(0));
        assert_eq!(retry_after_at(Some("30"), 0), Some(30));
        assert_eq!(retry_after_at(Some("soon"), 0), None);
    }
}
