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

impl Date {
    /// The day after.
    pub fn next(self) -> Date {
        let y = self.year;
        let leap = y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400));
        let days = match self.month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        match (self.day < days, self.month < 12) {
            (true, _) => Date { day: self.day + 1, ..self },
            (false, true) => Date { month: self.month + 1, day: 1, ..self },
            (false, false) => Date { year: self.year + 1, month: 1, day: 1 },
        }
    }
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
    /// The transaction fees miners earned per block that day, BTC: the day's total fees
    /// over the blocks found that day (`None` where the series has no fees, or the day
    /// before is missing).
    pub fees_btc_per_block: Option<f64>,
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

/// Parses `date,btc_usd_close,difficulty,block_height[,fees_btc]` rows; `fees_btc`, the
/// day's total transaction fees, may be empty where unknown.
pub fn parse_btc_daily(name: &str, text: &str) -> Result<Vec<BtcDay>, SeriesError> {
    let mut out: Vec<BtcDay> = Vec::new();
    for (i, row) in text.lines().enumerate().skip(1).filter(|(_, r)| !r.trim().is_empty()) {
        let line = i + 1;
        let cols: Vec<&str> = row.split(',').collect();
        let (date, close, difficulty, height, fees) = match cols.as_slice() {
            [d, c, diff, h] => (d, c, diff, h, None),
            [d, c, diff, h, f] => (d, c, diff, h, Some(f.trim()).filter(|f| !f.is_empty())),
            _ => return Err(err(name, line, format!("expected 4 or 5 columns, found {}", cols.len()))),
        };
        let date = parse_date(date.trim()).ok_or_else(|| err(name, line, format!("bad date {date:?}")))?;
        let height: u64 = height.trim().parse().map_err(|_| err(name, line, format!("bad height {height:?}")))?;
        let fees = fees.map(|f| number(name, line, "fees", f)).transpose()?;
        if let Some(f) = fees
            && f < 0.0
        {
            return Err(err(name, line, format!("negative fees {f}")));
        }
        // The blocks of the day: the height's rise since the day before, if it is there.
        let blocks =
            out.last().filter(|prev| prev.date.next() == date && height > prev.height).map(|prev| height - prev.height);
        out.push(BtcDay {
            date,
            close_usd: number(name, line, "close", close)?,
            difficulty: number(name, line, "difficulty", difficulty)?,
            height,
            fees_btc_per_block: fees.zip(blocks).map(|(f, b)| f / b as f64),
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
    fn fees_per_block_are_the_days_fees_over_its_blocks() {
        let days = parse_btc_daily(
            "b",
            "h\n2024-02-28,1,1,100\n2024-02-29,1,1,244,14.4\n2024-03-01,1,1,388,\n2024-03-03,1,1,600,10\n",
        )
        .expect("parses");
        let fees: Vec<Option<f64>> = days.iter().map(|d| d.fees_btc_per_block).collect();
        // 144 blocks on the 29th; none known on the 1st; the 3rd follows a missing day.
        assert_eq!(fees, [None, Some(0.1), None, None]);
        assert_eq!(Date { year: 2023, month: 12, day: 31 }.next(), Date { year: 2024, month: 1, day: 1 });
        assert_eq!(Date { year: 2100, month: 2, day: 28 }.next(), Date { year: 2100, month: 3, day: 1 });
        let bad = parse_btc_daily("b", "h\n2024-02-28,1,1,100,-1\n").expect_err("negative");
        assert!(bad.to_string().contains("negative fees"), "{bad}");
    }

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
