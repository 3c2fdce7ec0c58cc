//! When a failed delivery is tried again, and when failing stops: exponential backoff with
//! jitter, for a window (24 hours by default) counted from the first failure of the run, then
//! the subscription pauses. A rule of the engine, so every surface retries alike.

use chrono::{DateTime, Duration, Utc};

/// The backoff and the retry window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The delay after the first failure.
    pub initial: Duration,
    /// The longest delay between attempts.
    pub max: Duration,
    /// How long a run of failures may last before the subscription pauses.
    pub window: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial: Duration::seconds(1),
            max: Duration::hours(1),
            window: Duration::hours(24),
        }
    }
}

impl RetryPolicy {
    /// After the `failures`-th failure in a row (1 for the first), at `now`, of a run that
    /// began at `since`: `Some(time of the next attempt)`, or `None` when the window is over
    /// and the subscription pauses. `jitter` in [0, 1) takes up to half the delay off, so that
    /// subscriptions failing together do not retry in step.
    pub fn next_attempt(
        &self,
        failures: i64,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
        jitter: f64,
    ) -> Option<DateTime<Utc>> {
        if now - since >= self.window {
            return None;
        }
        let doublings = u32::try_from(failures.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let full = self
            .initial
            .checked_mul(1 << doublings)
            .map_or(self.max, |d| d.min(self.max));
        let millis = full.num_milliseconds() as f64 * (1.0 - jitter.clamp(0.0, 1.0) / 2.0);
        Some(now + Duration::milliseconds(millis as i64))
    }
}

/// A jitter in [0, 1) from the operating system's randomness (0 if it has none).
pub(crate) fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    match getrandom::fill(&mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0),
        Err(_) => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_then_stops_at_the_window() {
        let p = RetryPolicy::default();
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        assert_eq!(
            p.next_attempt(1, t0, t0, 0.0),
            Some(t0 + Duration::seconds(1))
        );
        assert_eq!(
            p.next_attempt(4, t0, t0, 0.0),
            Some(t0 + Duration::seconds(8))
        );
        assert_eq!(
            p.next_attempt(40, t0, t0, 0.0),
            Some(t0 + Duration::hours(1))
        );
        assert_eq!(
            p.next_attempt(4, t0, t0, 0.999_999),
            Some(t0 + Duration::milliseconds(4000))
        );
        assert_eq!(p.next_attempt(9, t0, t0 + Duration::hours(24), 0.0), None);
    }
}
