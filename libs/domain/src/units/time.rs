//! Instants, carried into the domain by commands (the domain never reads a clock).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// An instant in microseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// From microseconds since the epoch.
    pub const fn from_unix_micros(us: i64) -> Self {
        Timestamp(us)
    }

    /// From seconds since the epoch.
    pub const fn from_unix_secs(s: i64) -> Self {
        Timestamp(s * 1_000_000)
    }

    /// Microseconds since the epoch.
    pub const fn unix_micros(self) -> i64 {
        self.0
    }

    /// The time from `earlier` to `self`, or zero if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_micros(u64::try_from(self.0 - earlier.0).unwrap_or(0))
    }

    /// This instant moved forward by `d`.
    pub fn plus(self, d: Duration) -> Timestamp {
        Timestamp(self.0.saturating_add(i64::try_from(d.as_micros()).unwrap_or(i64::MAX)))
    }
}

impl Timestamp {
    /// Midnight UTC of a civil date (`month` 1-12, `day` 1-31; out-of-range days roll over).
    pub fn from_civil_date(year: i64, month: i64, day: i64) -> Timestamp {
        Timestamp(days_from_civil(year, month, day) * 86_400_000_000)
    }

    /// The UTC civil date (year, month 1-12, day 1-31) this instant falls on.
    pub fn civil_date(self) -> (i64, i64, i64) {
        civil_from_days(self.0.div_euclid(86_400_000_000))
    }

    /// Reads RFC 3339 (`2026-11-28T01:30:00Z`, fractions of a second and `+02:00`
    /// offsets too), the form this type displays in.
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        let text = text.trim();
        let (date, rest) = text.split_once(['T', 't', ' '])?;
        let mut ymd = date.splitn(3, '-').map(str::parse::<i64>);
        let (y, m, d) = (ymd.next()?.ok()?, ymd.next()?.ok()?, ymd.next()?.ok()?);
        let (clock, offset) = if let Some(c) = rest.strip_suffix(['Z', 'z']) {
            (c, 0)
        } else {
            let at = rest.rfind(['+', '-'])?;
            let (h, mm) = rest[at + 1..].split_once(':')?;
            let minutes = h.parse::<i64>().ok()? * 60 + mm.parse::<i64>().ok()?;
            (&rest[..at], if rest.as_bytes()[at] == b'-' { -minutes } else { minutes })
        };
        let (whole, fraction) = clock.split_once('.').unwrap_or((clock, ""));
        let mut hms = whole.splitn(3, ':').map(str::parse::<i64>);
        let (hh, mi, ss) = (hms.next()?.ok()?, hms.next()?.ok()?, hms.next()?.ok()?);
        let valid = (1..=12).contains(&m) && (1..=31).contains(&d) && hh < 24 && mi < 60 && ss < 61;
        if !valid || fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let micros = format!("{fraction:0<6}")[..6].parse::<i64>().ok()?;
        let seconds = days_from_civil(y, m, d) * 86_400 + hh * 3600 + mi * 60 + ss - offset * 60;
        Some(Timestamp(seconds * 1_000_000 + micros))
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = y - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // RFC 3339 in UTC, computed without a calendar dependency (civil-from-days).
        let secs = self.0.div_euclid(1_000_000);
        let micros = self.0.rem_euclid(1_000_000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(f, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z", sod / 3600, (sod % 3600) / 60, sod % 60)
    }
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_displays_and_rfc3339_offsets() {
        for t in [0, 1_795_826_868_649_845, -86_400_000_001, 951_782_400_000_000] {
            let t = Timestamp(t);
            assert_eq!(Timestamp::parse_rfc3339(&t.to_string()), Some(t), "{t}");
        }
        let utc = Timestamp::parse_rfc3339("2026-11-28T01:30:00Z");
        assert_eq!(Timestamp::parse_rfc3339("2026-11-28T03:30:00+02:00"), utc);
        assert_eq!(Timestamp::parse_rfc3339("2026-11-27T20:30:00.0-05:00"), utc);
        for bad in ["", "yesterday", "2026-13-01T00:00:00Z", "2026-11-28T25:00:00Z", "2026-11-28T01:30:00"] {
            assert_eq!(Timestamp::parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn displays_rfc3339() {
        assert_eq!(Timestamp::EPOCH.to_string(), "1970-01-01T00:00:00.000000Z");
        // 2024-08-20T17:30:00Z
        assert_eq!(Timestamp::from_unix_secs(1_724_175_000).to_string(), "2024-08-20T17:30:00.000000Z");
        assert_eq!(Timestamp::from_unix_micros(-1).to_string(), "1969-12-31T23:59:59.999999Z");
    }

    #[test]
    fn durations_between_instants() {
        let t = Timestamp::from_unix_secs(100);
        assert_eq!(t.plus(Duration::from_secs(5)).since(t), Duration::from_secs(5));
        assert_eq!(t.since(t.plus(Duration::from_secs(5))), Duration::ZERO);
    }
}
