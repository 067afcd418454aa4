//! The shipped market series, parsed from CSV text (no IO here: callers read the file).

use std::fmt;

/// Why a series could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{source_name}, line {line}: {reason}")]
pub struct SeriesError {
    /// Which series.
    pub source_name: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// A local calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year.
    pub year: u16,
    /// Month, 1-12.
    pub month: u8,
    /// Day, 1-31.
    pub day: u8,
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// One 15-minute ERCOT interval at a settlement point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriceInterval {
    /// The day (market-local).
    pub date: Date,
    /// Minutes after local midnight the interval starts.
    pub minute: u16,
    /// Day-ahead price, $/MWh (hourly, repeated per quarter hour).
    pub day_ahead: f64,
    /// Real-time settlement point price, $/MWh.
    pub real_time: f64,
}

/// One day of Bitcoin network data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BtcDay {
    /// The day.
    pub date: Date,
    /// Closing price, USD.
    pub close_usd: f64,
    /// Network difficulty that day.
    pub difficulty: f64,
    /// Chain height at the end of the day.
    pub height: u64,
}

fn err(name: &str, line: usize, reason: impl Into<String>) -> SeriesError {
    SeriesError { source_name: name.to_owned(), line, reason: reason.into() }
}

fn parse_date(s: &str) -> Option<Date> {
    let mut it = s.split('-');
    let (y, m, d) = (it.next()?.parse().ok()?, it.next()?.parse().ok()?, it.next()?.parse().ok()?);
    (it.next().is_none() && (1..=12).contains(&m) && (1..=31).contains(&d)).then_some(Date {
        year: y,
        month: m,
        day: d,
    })
}

fn number(name: &str, line: usize, field: &str, s: &str) -> Result<f64, SeriesError> {
    let v: f64 = s.trim().parse().map_err(|_| err(name, line, format!("{field} {s:?} is not a number")))?;
    if v.is_finite() { Ok(v) } else { Err(err(name, line, format!("{field} {s:?} is not finite"))) }
}

/// Parses `interval_start,<dam>,<rtm>` rows (`2024-06-01 00:15:00,24.57,18.33`), in order,
/// 15 minutes apart.
pub fn parse_ercot(name: &str, text: &str) -> Result<Vec<PriceInterval>, SeriesError> {
    let mut out: Vec<PriceInterval> = Vec::new();
    for (i, row) in text.lines().enumerate().skip(1).filter(|(_, r)| !r.trim().is_empty()) {
        let line = i + 1;
        let cols: Vec<&str> = row.split(',').collect();
        let [start, dam, rtm] = cols.as_slice() else {
            return Err(err(name, line, format!("expected 3 columns, found {}", cols.len())));
        };
        let (day, time) = start.trim().split_once(' ').ok_or_else(|| err(name, line, "interval_start has no time"))?;
        let date = parse_date(day).ok_or_else(|| err(name, line, format!("bad date {day:?}")))?;
        let mut hm = time.split(':');
        let (h, m): (u16, u16) = match (hm.next().and_then(|h| h.parse().ok()), hm.next().and_then(|m| m.parse().ok()))
        {
            (Some(h), Some(m)) if h < 24 && m < 60 && m % 15 == 0 => (h, m),
            _ => return Err(err(name, line, format!("bad quarter-hour time {time:?}"))),
        };
        let interval = PriceInterval {
            date,
            minute: h * 60 + m,
            day_ahead: number(name, line, "day-ahead price", dam)?,
            real_time: number(name, line, "real-time price", rtm)?,
        };
        if let Some(prev) = out.last()
            && (prev.date, prev.minute) >= (interval.date, interval.minute)
        {
            return Err(err(name, line, "intervals out of order"));
        }
        out.push(interval);
    }
    if out.is_empty() {
        return Err(err(name, 1, "no rows"));
    }
    Ok(out)
}

/// Parses `date,btc_usd_close,difficulty,block_height` rows.
pub fn parse_btc_daily(name: &str, text: &str) -> Result<Vec<BtcDay>, SeriesError> {
    let mut out = Vec::new();
    for (i, row) in text.lines().enumerate().skip(1).filter(|(_, r)| !r.trim().is_empty()) {
        let line = i + 1;
        let cols: Vec<&str> = row.split(',').collect();
        let [date, close, difficulty, height] = cols.as_slice() else {
            return Err(err(name, line, format!("expected 4 columns, found {}", cols.len())));
        };
        out.push(BtcDay {
            date: parse_date(date.trim()).ok_or_else(|| err(name, line, format!("bad date {date:?}")))?,
            close_usd: number(name, line, "close", close)?,
            difficulty: number(name, line, "difficulty", difficulty)?,
            height: height.trim().parse().map_err(|_| err(name, line, format!("bad height {height:?}")))?,
        });
    }
    if out.is_empty() {
        return Err(err(name, 1, "no rows"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_and_names_bad_lines() {
        let ok = parse_ercot(
            "p",
            "interval_start,dam,rtm\n2024-06-01 00:00:00,24.57,17.69\n2024-06-01 00:15:00,24.57,-3.5\n",
        )
        .expect("parses");
        assert_eq!((ok[1].minute, ok[1].real_time), (15, -3.5));
        let bad = parse_ercot("p", "h\n2024-06-01 00:00:00,24.57,abc\n").expect_err("bad");
        assert_eq!(bad.to_string(), "p, line 2: real-time price \"abc\" is not a number");
        assert!(parse_ercot("p", "h\n2024-06-01 00:10:00,1,1\n").is_err(), "not a quarter hour");
        assert!(parse_ercot("p", "h\n2024-06-01 00:15:00,1,1\n2024-06-01 00:00:00,1,1\n").is_err(), "order");
        assert!(parse_btc_daily("b", "h\n2024-13-01,1,1,1\n").is_err());
    }
}
