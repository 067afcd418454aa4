//! The market as a strategy sees it at each interval: prices and hashprice, with what
//! was knowable then kept apart from what was only known later.
//!
//! - Real-time prices are known once their interval has ended.
//! - Day-ahead prices for a day are published at 13:30 the day before.
//! - A day's hashprice (closing price, difficulty) is known the next day; decisions use
//!   the previous day's, accounting uses the day's own.

use hcp_economics::series::{BtcDay, Date, PriceInterval};
use hcp_economics::{hashprice_usd_per_ph_day, subsidy_btc};
use std::collections::HashMap;

/// Intervals per day.
pub const PER_DAY: usize = 96;
/// Hours per interval.
pub const HOURS: f64 = 0.25;
/// Minute of the day at which the next day's day-ahead prices are published.
pub const DA_PUBLISHED_MINUTE: u16 = 13 * 60 + 30;

/// Why a timeline could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MarketError {
    /// No Bitcoin data for a day that has prices (nor for the day before it).
    #[error("no Bitcoin price and difficulty for {0} or the day before")]
    NoBitcoinDay(Date),
}

/// Prices and hashprice per interval.
#[derive(Debug, Clone)]
pub struct Timeline {
    /// The intervals.
    pub intervals: Vec<PriceInterval>,
    /// The hashprice of each interval's own day ($/PH/day): what mining really earned.
    pub hashprice: Vec<f64>,
    /// The hashprice known when deciding: the previous day's.
    pub hashprice_known: Vec<f64>,
    /// For each interval, the last interval whose day-ahead price is published by then.
    pub da_known_until: Vec<usize>,
}

impl Timeline {
    /// Joins the price intervals with the daily Bitcoin series; each day's hashprice counts
    /// its fees per block where the series has them, and `fees_btc_per_block` (assumed)
    /// where it does not.
    pub fn build(intervals: Vec<PriceInterval>, days: &[BtcDay], fees_btc_per_block: f64) -> Result<Self, MarketError> {
        let by_date: HashMap<Date, &BtcDay> = days.iter().map(|d| (d.date, d)).collect();
        let mut sorted: Vec<&BtcDay> = days.iter().collect();
        sorted.sort_by_key(|d| d.date);
        let hp = |d: &BtcDay| {
            let fees = d.fees_btc_per_block.unwrap_or(fees_btc_per_block);
            hashprice_usd_per_ph_day(d.difficulty, d.close_usd, subsidy_btc(d.height), fees)
        };
        let previous = |date: Date| sorted.iter().rev().find(|d| d.date < date).copied();
        let mut hashprice = Vec::with_capacity(intervals.len());
        let mut hashprice_known = Vec::with_capacity(intervals.len());
        let mut cache: HashMap<Date, (f64, f64)> = HashMap::new();
        for p in &intervals {
            let (own, known) = match cache.get(&p.date) {
                Some(v) => *v,
                None => {
                    let prev = previous(p.date);
                    let own = by_date.get(&p.date).copied().or(prev).ok_or(MarketError::NoBitcoinDay(p.date))?;
                    let v = (hp(own), hp(prev.unwrap_or(own)));
                    cache.insert(p.date, v);
                    v
                }
            };
            hashprice.push(own);
            hashprice_known.push(known);
        }
        let da_known_until = da_horizon(&intervals);
        Ok(Timeline { intervals, hashprice, hashprice_known, da_known_until })
    }

    /// How many intervals.
    pub fn len(&self) -> usize {
        self.intervals.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.intervals.is_empty()
    }
}

/// For each interval, the index of the last interval whose day-ahead price is public.
fn da_horizon(intervals: &[PriceInterval]) -> Vec<usize> {
    // End index of each day.
    let mut day_end = vec![0usize; intervals.len()];
    let mut i = intervals.len();
    while i > 0 {
        let end = i - 1;
        let date = intervals[end].date;
        let mut j = end;
        while j > 0 && intervals[j - 1].date == date {
            j -= 1;
        }
        day_end[j..=end].iter_mut().for_each(|x| *x = end);
        i = j;
    }
    (0..intervals.len())
        .map(|t| {
            let end = day_end[t];
            if intervals[t].minute >= DA_PUBLISHED_MINUTE && end + 1 < intervals.len() { day_end[end + 1] } else { end }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u8, close: f64) -> BtcDay {
        BtcDay {
            date: Date { year: 2024, month: 6, day: d },
            close_usd: close,
            difficulty: 1e14,
            height: 850_000,
            fees_btc_per_block: None,
        }
    }

    fn quarter(d: u8, minute: u16) -> PriceInterval {
        PriceInterval { date: Date { year: 2024, month: 6, day: d }, minute, day_ahead: 30.0, real_time: 25.0 }
    }

    #[test]
    fn decisions_use_yesterdays_hashprice_and_published_day_ahead_only() {
        let intervals: Vec<PriceInterval> = (1..=2).flat_map(|d| (0..96).map(move |q| quarter(d, q * 15))).collect();
        let t = Timeline::build(intervals, &[day(1, 100_000.0), day(2, 50_000.0)], 0.0).expect("timeline");
        assert!((t.hashprice[96] - 31.432).abs() < 0.001, "day 2's own");
        assert!((t.hashprice_known[96] - 62.864).abs() < 0.001, "day 1's, known on day 2");
        assert_eq!(t.da_known_until[0], 95, "before 13:30 only today's day-ahead");
        assert_eq!(t.da_known_until[54], 191, "from 13:30 tomorrow's too");
    }
}
