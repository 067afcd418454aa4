//! Replay of a real series on an accelerated clock: an interval is published once it has
//! ended in simulated time, a Bitcoin day once that day has ended.

use crate::clock::{INTERVAL_MICROS, interval_start_micros, utc_date};
use crate::recorder::{Recorder, SiteMarket};
use hcp_economics::series::{BtcDay, PriceInterval};
use hcp_eventstore::{EventStore, StoreError};
use std::time::{Duration, Instant};

/// Day-ahead prices for a day are published this long before it starts (13:30 the day before).
const DA_LEAD_MICROS: i64 = (10 * 60 + 30) * 60 * 1_000_000;

/// What to replay and how fast.
#[derive(Debug, Clone)]
pub struct Replay {
    /// The site and its settlement point.
    pub market: SiteMarket,
    /// Its intervals, in order.
    pub intervals: Vec<PriceInterval>,
    /// Bitcoin days, in order.
    pub days: Vec<BtcDay>,
    /// Simulated seconds per real second (900 = an interval a second).
    pub speed: f64,
    /// Start this many intervals into the series (already "in the past" at start).
    pub skip: usize,
    /// The source name recorded on each event.
    pub source: String,
}

impl Replay {
    /// Publishes what simulated time has reached, then sleeps until the next interval
    /// ends; returns when the series is exhausted.
    pub async fn run<S: EventStore>(self, recorder: &Recorder<S>) -> Result<(), StoreError> {
        let Some(first) = self.intervals.get(self.skip) else { return Ok(()) };
        let sim_start = interval_start_micros(first);
        let started = Instant::now();
        let speed = if self.speed.is_finite() && self.speed > 0.0 { self.speed } else { 1.0 };
        // Everything before the skip point is history: publish it at once.
        let mut next = 0usize;
        let mut next_day = 0usize;
        let days_of_prices: Vec<&[PriceInterval]> = self.intervals.chunk_by(|a, b| a.date == b.date).collect();
        let mut next_da = 0usize;
        loop {
            let sim_now = sim_start + (started.elapsed().as_secs_f64() * speed * 1e6) as i64;
            while let Some(day) = days_of_prices.get(next_da) {
                if interval_start_micros(&day[0]) - DA_LEAD_MICROS > sim_now {
                    break;
                }
                recorder.day_ahead(&self.market, day).await?;
                next_da += 1;
            }
            while let Some(p) = self.intervals.get(next) {
                if interval_start_micros(p) + INTERVAL_MICROS > sim_now {
                    break;
                }
                recorder.price(&self.market, p, &self.source).await?;
                next += 1;
            }
            // The days that have ended, in one append (at the start: years of history).
            let today = utc_date(sim_now);
            let due = self.days[next_day..].partition_point(|d| d.date < today);
            recorder.bitcoin_days(&self.days[next_day..next_day + due]).await?;
            next_day += due;
            let Some(p) = self.intervals.get(next) else { return Ok(()) };
            let wait_sim = (interval_start_micros(p) + INTERVAL_MICROS - sim_now).max(0) as f64 / 1e6;
            tokio::time::sleep(
                Duration::from_secs_f64(wait_sim / speed).clamp(Duration::from_millis(1), Duration::from_secs(60)),
            )
            .await;
        }
    }
}
