//! What an endpoint's answer means, and when to try again.
//!
//! A 2xx is delivered. A 410 means the endpoint is gone: it is disabled, nothing more
//! is sent to it. 429, 502 and 504 throttle: the next try waits at least what
//! `Retry-After` asks (seconds or an HTTP date), up to a day. Anything else, no answer or
//! no answer in time, fails and is tried again. Tries follow Svix's schedule, the delay
//! before each try after the first: 0 s, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (eight
//! tries over about 28 hours); each delay is spread by ±10% of jitter so that endpoints
//! that failed together are not retried together, and divided by a speed (a test runs
//! the schedule 3,600 times faster). After the last try, the delivery is dead-lettered:
//! kept, shown, and sent again only when an operator replays it.

use std::time::Duration;

/// The delay before each try (the first is at once).
pub const SCHEDULE: [Duration; 8] = [
    Duration::ZERO,
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];
/// The longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// What a try came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx.
    Delivered,
    /// A 410: the endpoint is gone.
    Gone,
    /// A 429, 502 or 504, perhaps with how long to wait.
    Throttled(Option<Duration>),
    /// Any other status, or none.
    Failed(Option<Duration>),
}

impl Outcome {
    /// The outcome of a status (none: no answer, or none in time) with its `Retry-After`
    /// header, at `now` (Unix seconds, for an HTTP date).
    pub fn of(status: Option<u16>, retry_after: Option<&str>, now: i64) -> Outcome {
        let wait = retry_after.and_then(|r| parse_retry_after(r, now));
        match status {
            Some(200..=299) => Outcome::Delivered,
            Some(410) => Outcome::Gone,
            Some(429 | 502 | 504) => Outcome::Throttled(wait),
            Some(503) => Outcome::Failed(wait),
            _ => Outcome::Failed(None),
        }
    }

    /// A word for it, as deliveries record it.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Gone => "gone",
            Outcome::Throttled(_) => "throttled",
            Outcome::Failed(_) => "failed",
        }
    }
}

/// What to do after a try.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Next {
    /// Delivered: nothing.
    Done,
    /// The endpoint is gone: disable it.
    Disable,
    /// Try again after this long.
    RetryIn(Duration),
    /// That was the last try: dead-letter it.
    DeadLetter,
}

/// After try number `tried` (1 for the first) came to `outcome`: `jitter` in [0, 1)
/// spreads the scheduled delay by ±10%, and `speed` divides it (1 in production); a
/// `Retry-After` longer than that is waited out as asked.
pub fn next(tried: usize, outcome: Outcome, jitter: f64, speed: f64) -> Next {
    let asked = match outcome {
        Outcome::Delivered => return Next::Done,
        Outcome::Gone => return Next::Disable,
        Outcome::Throttled(wait) | Outcome::Failed(wait) => wait,
    };
    let Some(scheduled) = SCHEDULE.get(tried) else { return Next::DeadLetter };
    let spread = scheduled.mul_f64(0.9 + 0.2 * jitter.clamp(0.0, 1.0)).div_f64(speed.max(1e-9));
    // What the endpoint asks is its own wall-clock need: never scaled.
    Next::RetryIn(asked.map_or(spread, |a| a.min(MAX_RETRY_AFTER).max(spread)))
}

/// `Retry-After`: delta-seconds, or an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`)
/// relative to `now`; `None` when it is neither.
pub fn parse_retry_after(text: &str, now: i64) -> Option<Duration> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = parse_http_date(text)?;
    Some(Duration::from_secs(u64::try_from(at - now).unwrap_or(0)))
}

/// An IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`, in Unix seconds.
fn parse_http_date(text: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else { return None };
    let month = MONTHS.iter().position(|m| m == month)? as i64 + 1;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<i64> = time.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else { return None };
    let midnight = hcp_domain::units::Timestamp::from_civil_date(year, month, day).unix_micros() / 1_000_000;
    Some(midnight + h * 3600 + m * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_mean_what_the_spec_says() {
        assert_eq!(Outcome::of(Some(204), None, 0), Outcome::Delivered);
        assert_eq!(Outcome::of(Some(410), None, 0), Outcome::Gone);
        assert_eq!(Outcome::of(Some(429), Some("120"), 0), Outcome::Throttled(Some(Duration::from_secs(120))));
        assert_eq!(Outcome::of(Some(500), Some("120"), 0), Outcome::Failed(None), "Retry-After is for throttling");
        assert_eq!(Outcome::of(None, None, 0), Outcome::Failed(None));
        assert_eq!(Outcome::of(Some(301), None, 0), Outcome::Failed(None), "redirects are not followed");
    }

    #[test]
    fn the_schedule_is_svixs_then_the_dead_letter() {
        let delays: Vec<Duration> = (1..=8)
            .map(|tried| match next(tried, Outcome::Failed(None), 0.5, 1.0) {
                Next::RetryIn(d) => d,
                other => panic!("try {tried}: {other:?}"),
            })
            .take(7)
            .collect();
        let expected = [5, 300, 1800, 7200, 18_000, 36_000, 36_000].map(Duration::from_secs);
        assert_eq!(delays, expected);
        assert_eq!(next(8, Outcome::Failed(None), 0.5, 1.0), Next::DeadLetter);
        assert_eq!(next(3, Outcome::Delivered, 0.5, 1.0), Next::Done);
        assert_eq!(next(1, Outcome::Gone, 0.5, 1.0), Next::Disable);
        // Jitter spreads by ±10%; a speed shortens it all.
        assert_eq!(next(2, Outcome::Failed(None), 0.0, 1.0), Next::RetryIn(Duration::from_secs(270)));
        assert_eq!(next(2, Outcome::Failed(None), 0.5, 60.0), Next::RetryIn(Duration::from_secs(5)));
        let asked = Outcome::Throttled(Some(Duration::from_secs(1)));
        assert_eq!(next(2, asked, 0.5, 3600.0), Next::RetryIn(Duration::from_secs(1)), "Retry-After is not scaled");
    }

    #[test]
    fn retry_after_is_honoured_when_longer_and_capped() {
        let asked = Outcome::Throttled(Some(Duration::from_secs(60)));
        assert_eq!(next(1, asked, 0.5, 1.0), Next::RetryIn(Duration::from_secs(60)), "longer than 5 s: its wait");
        assert_eq!(next(2, asked, 0.5, 1.0), Next::RetryIn(Duration::from_secs(300)), "shorter than 5 min: ours");
        let week = Outcome::Throttled(Some(Duration::from_secs(7 * 86_400)));
        assert_eq!(next(1, week, 0.5, 1.0), Next::RetryIn(MAX_RETRY_AFTER));
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        // Wed, 21 Oct 2015 07:28:00 GMT is 1445412480.
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1_445_412_400), Some(Duration::from_secs(80)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1_445_412_500), Some(Duration::ZERO));
        assert_eq!(parse_retry_after(" 30 ", 0), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("soon", 0), None);
        assert_eq!(parse_retry_after("-5", 0), None);
    }
}
