//! Forecasting the real-time price from what is known.
//!
//! For the next interval, the last real-time price itself: on the shipped ERCOT months no
//! blend with the day-ahead price, lag, trend or learned bucket mean did better as a
//! decision input (BENCHMARKS.md). Further ahead, the forecast moves from the last price
//! toward the day-ahead price plus the mean real-time/day-ahead spread, at the rate the
//! spread's persistence (an AR(1) fitted online, with exponential forgetting, only on
//! spreads already seen) says:
//!
//! price(t+h) = φ^h · rt(t-1) + (1 - φ^h) · (da(t+h) + mean spread).

use crate::market::{PER_DAY, Timeline};

/// Half-life of the fit, in intervals (a week).
const HALF_LIFE: f64 = 7.0 * PER_DAY as f64;

/// The online spread model.
#[derive(Debug, Clone)]
pub struct SpreadModel {
    decay: f64,
    w: f64,
    sx: f64,
    sy: f64,
    sxx: f64,
    sxy: f64,
    mean: (f64, f64),
}

impl Default for SpreadModel {
    fn default() -> Self {
        SpreadModel {
            decay: 0.5f64.powf(1.0 / HALF_LIFE),
            w: 0.0,
            sx: 0.0,
            sy: 0.0,
            sxx: 0.0,
            sxy: 0.0,
            mean: (0.0, 0.0),
        }
    }
}

impl SpreadModel {
    /// Learns from one step: `prev` spread followed by `next`.
    pub fn observe(&mut self, prev: f64, next: f64) {
        let k = self.decay;
        self.w = self.w * k + 1.0;
        self.sx = self.sx * k + prev;
        self.sy = self.sy * k + next;
        self.sxx = self.sxx * k + prev * prev;
        self.sxy = self.sxy * k + prev * next;
        // Mean spread alone, for forecasts without a recent real-time price.
        self.mean = (self.mean.0 * k + next, self.mean.1 * k + 1.0);
    }

    /// (φ, c); with too little seen to fit, pure persistence (1, 0).
    pub fn coefficients(&self) -> (f64, f64) {
        if self.w < 2.0 {
            return (1.0, 0.0);
        }
        let (mx, my) = (self.sx / self.w, self.sy / self.w);
        let var = self.sxx / self.w - mx * mx;
        let cov = self.sxy / self.w - mx * my;
        let phi = if var > 1e-9 { (cov / var).clamp(0.0, 0.99) } else { 0.0 };
        (phi, my - phi * mx)
    }

    /// The expected spread `h` intervals after the one whose spread was `last`.
    pub fn expected(&self, last: f64, h: usize) -> f64 {
        let (phi, c) = self.coefficients();
        let p = phi.powi(h as i32 + 1);
        let drift = if phi < 1.0 { c * (1.0 - p) / (1.0 - phi) } else { c * (h as f64 + 1.0) };
        p * last + drift
    }

    /// The real-time price `h` intervals after the last one seen (`last_real_time`), given
    /// that interval's day-ahead price as known now (see the module docs).
    pub fn price(&self, last_real_time: f64, day_ahead: f64, h: usize) -> f64 {
        let w = self.coefficients().0.powi(h as i32);
        w * last_real_time + (1.0 - w) * (day_ahead + self.mean())
    }

    /// The long-run mean spread.
    pub fn mean(&self) -> f64 {
        if self.mean.1 > 0.0 { self.mean.0 / self.mean.1 } else { 0.0 }
    }
}

/// The day-ahead price of interval `i` as known at decision time `t`: itself if
/// published, else the same quarter hour of the last published day.
pub fn day_ahead_known(tl: &Timeline, t: usize, i: usize) -> f64 {
    let until = tl.da_known_until[t];
    let mut j = i;
    while j > until {
        j = j.saturating_sub(PER_DAY);
    }
    tl.intervals[j.min(tl.len() - 1)].day_ahead
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_persistence_and_decays_toward_the_mean() {
        let mut m = SpreadModel::default();
        let mut s = 0.0f64;
        let mut x = 7u64;
        for _ in 0..5_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let noise = ((x >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 10.0;
            let next = 0.8 * s + 2.0 + noise;
            m.observe(s, next);
            s = next;
        }
        let (phi, c) = m.coefficients();
        assert!((phi - 0.8).abs() < 0.05 && (c - 2.0).abs() < 0.5, "{phi} {c}");
        assert!((m.expected(100.0, 0) - (0.8 * 100.0 + 2.0)).abs() < 5.0);
        assert!((m.expected(100.0, 200) - 10.0).abs() < 1.0, "decays to c/(1-φ)");
    }
}
