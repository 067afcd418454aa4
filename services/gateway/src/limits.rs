//! Rate limits by GCRA (the generic cell rate algorithm, as the `governor` crate and most
//! API gateways use): a steady rate with a burst, one theoretical arrival time per key
//! (or per tenant), no timer. A request either goes (leaving so many in the burst) or
//! waits the given time (429 with `Retry-After`). And daily quotas, distinct from rate:
//! so many requests per UTC day, counted in memory (a restart forgives the day).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// The verdict on one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// It goes; this many more could go at once now; the burst is whole again after `reset`.
    Allowed {
        /// Requests left in the burst.
        remaining: u32,
        /// Until the burst is whole again.
        reset: Duration,
    },
    /// Over the limit: try again after this long.
    Limited {
        /// How long.
        retry_after: Duration,
    },
}

/// The limiter.
pub struct Limits {
    /// Time between requests at the steady rate, µs.
    interval: i64,
    /// How far ahead of now a key's arrival time may run, µs.
    tolerance: i64,
    /// The burst.
    pub burst: u32,
    tat: Mutex<HashMap<String, i64>>,
}

impl Limits {
    /// `per_second` steadily, `burst` at once.
    pub fn new(per_second: f64, burst: u32) -> Self {
        let interval = (1e6 / per_second.max(1e-6)) as i64;
        let burst = burst.max(1);
        Limits { interval, tolerance: interval * i64::from(burst - 1), burst, tat: Mutex::default() }
    }

    /// Counts a request of `key` at `now` (µs).
    pub fn check(&self, key: &str, now: i64) -> Verdict {
        let mut tats = self.tat.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let tat = tats.get(key).copied().unwrap_or(now).max(now);
        if tat - now > self.tolerance {
            let wait = tat - self.tolerance - now;
            return Verdict::Limited { retry_after: Duration::from_micros(wait.max(0) as u64) };
        }
        let next = tat + self.interval;
        tats.insert(key.to_owned(), next);
        let ahead = next - now;
        let remaining = ((self.tolerance + self.interval - ahead) / self.interval).max(0) as u32;
        Verdict::Allowed { remaining, reset: Duration::from_micros(ahead.max(0) as u64) }
    }
}

/// Requests per caller per UTC day.
pub struct Daily {
    /// The quota (0: none).
    pub limit: u64,
    used: Mutex<HashMap<String, (i64, u64)>>,
}

/// A day in µs.
const DAY: i64 = 86_400_000_000;

impl Daily {
    /// `limit` a day (0: no quota).
    pub fn new(limit: u64) -> Self {
        Daily { limit, used: Mutex::default() }
    }

    /// Counts a request of `who` at `now` (µs): how many are left today, or how long
    /// until the next day when none are.
    pub fn take(&self, who: &str, now: i64) -> Result<u64, Duration> {
        if self.limit == 0 {
            return Ok(u64::MAX);
        }
        let day = now.div_euclid(DAY);
        let mut used = self.used.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = used.entry(who.to_owned()).or_insert((day, 0));
        if entry.0 != day {
            *entry = (day, 0);
        }
        if entry.1 >= self.limit {
            return Err(Duration::from_micros(((day + 1) * DAY - now).max(0) as u64));
        }
        entry.1 += 1;
        Ok(self.limit - entry.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_steady_rate() {
        // 10 per second, bursts of 3.
        let limits = Limits::new(10.0, 3);
        let verdicts: Vec<Verdict> = (0..4).map(|_| limits.check("k", 0)).collect();
        assert_eq!(verdicts[0], Verdict::Allowed { remaining: 2, reset: Duration::from_millis(100) });
        assert_eq!(verdicts[2], Verdict::Allowed { remaining: 0, reset: Duration::from_millis(300) });
        assert_eq!(verdicts[3], Verdict::Limited { retry_after: Duration::from_millis(100) });
        // Another key has its own bucket; a tenth of a second later one more goes.
        assert!(matches!(limits.check("other", 0), Verdict::Allowed { remaining: 2, .. }));
        assert!(matches!(limits.check("k", 100_000), Verdict::Allowed { remaining: 0, .. }));
        assert!(matches!(limits.check("k", 100_000), Verdict::Limited { .. }));
    }

    #[test]
    fn a_daily_quota_runs_out_and_comes_back_the_next_day() {
        let daily = Daily::new(2);
        let noon = 20_000 * DAY + DAY / 2;
        assert_eq!(daily.take("k", noon), Ok(1));
        assert_eq!(daily.take("k", noon), Ok(0));
        assert_eq!(daily.take("k", noon), Err(Duration::from_micros((DAY / 2) as u64)));
        assert_eq!(daily.take("other", noon), Ok(1));
        assert_eq!(daily.take("k", noon + DAY / 2), Ok(1), "a new day");
        assert_eq!(Daily::new(0).take("k", noon), Ok(u64::MAX), "no quota");
    }
}
