//! Billing periods: calendar months, days or hours in UTC, or fixed runs of seconds
//! aligned to the epoch (for demos and tests on a scaled clock). A period is
//! `[start, end)`; every instant is in exactly one.

use crate::usage::Span;
use hcp_domain::units::Timestamp;
use std::fmt;

/// How long a billing period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    /// Calendar months, UTC.
    Month,
    /// UTC days.
    Day,
    /// Hours.
    Hour,
    /// Runs of this many seconds since the epoch.
    Seconds(u32),
}

/// One period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    /// Its first instant.
    pub start: Timestamp,
    /// The first instant after it.
    pub end: Timestamp,
}

/// Why a cadence is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?}: a billing period is \"month\", \"day\", \"hour\" or a number of seconds such as \"60s\"")]
pub struct CadenceError(pub String);

const HOUR: i64 = 3_600_000_000;
const DAY: i64 = 24 * HOUR;

impl Cadence {
    /// Reads `month`, `day`, `hour` or `<n>s`.
    pub fn parse(text: &str) -> Result<Cadence, CadenceError> {
        match text {
            "month" => Ok(Cadence::Month),
            "day" => Ok(Cadence::Day),
            "hour" => Ok(Cadence::Hour),
            other => other
                .strip_suffix('s')
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| *n > 0)
                .map(Cadence::Seconds)
                .ok_or_else(|| CadenceError(other.to_owned())),
        }
    }

    /// The period `at` falls in.
    pub fn period_of(self, at: Timestamp) -> Period {
        let fixed = |len: i64| {
            let start = at.unix_micros().div_euclid(len) * len;
            Period { start: Timestamp::from_unix_micros(start), end: Timestamp::from_unix_micros(start + len) }
        };
        match self {
            Cadence::Hour => fixed(HOUR),
            Cadence::Day => fixed(DAY),
            Cadence::Seconds(s) => fixed(i64::from(s) * 1_000_000),
            Cadence::Month => {
                let (y, m, _) = at.civil_date();
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                Period { start: Timestamp::from_civil_date(y, m, 1), end: Timestamp::from_civil_date(ny, nm, 1) }
            }
        }
    }

    /// A short name for `period` (`2026-11`, `2026-11-27`, `2026-11-27T13`, or its start
    /// to the second), as invoice ids use.
    pub fn label(self, period: Period) -> String {
        let text = period.start.to_string();
        let keep = match self {
            Cadence::Month => 7,
            Cadence::Day => 10,
            Cadence::Hour => 13,
            Cadence::Seconds(_) => 19,
        };
        text[..keep].to_owned()
    }

    /// The pieces of `span` in each period it touches, in order.
    pub fn pieces(self, span: Span) -> Vec<(Period, Span)> {
        let mut out = Vec::new();
        let mut from = span.from;
        while from < span.to {
            let period = self.period_of(from);
            let to = period.end.min(span.to);
            out.push((period, Span { from, to, gpus: span.gpus }));
            from = to;
        }
        out
    }

    /// The usage records a closed `span` is kept as: its piece in each period it touches
    /// (so a span across periods is billed in each, and its earlier pieces can be recorded
    /// while it still runs); none when it is empty (it bills nothing).
    pub fn records(self, span: Span) -> Vec<Span> {
        self.pieces(span).into_iter().map(|(_, piece)| piece).collect()
    }
}

impl fmt::Display for Cadence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cadence::Month => f.write_str("month"),
            Cadence::Day => f.write_str("day"),
            Cadence::Hour => f.write_str("hour"),
            Cadence::Seconds(s) => write!(f, "{s}s"),
        }
    }
}

impl Period {
    /// The part of `span` inside this period, if any.
    pub fn clip(&self, span: Span) -> Option<Span> {
        let from = span.from.max(self.start);
        let to = span.to.min(self.end);
        (from < to).then_some(Span { from, to, gpus: span.gpus })
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to {}", self.start, self.end)
    }
}
