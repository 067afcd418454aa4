//! A stochastic price simulator calibrated to a real series: each interval's price is
//! the real series' mean day-ahead profile for its quarter hour, plus a mean-reverting
//! AR(1) deviation with the real series' persistence and noise, plus spikes at the real
//! series' rate and sizes (drawn from the real spikes), so negative prices and scarcity
//! spikes both occur.

use hcp_economics::series::{Date, PriceInterval};

/// A spike: the real-time price this far above the profile and AR path, $/MWh.
const SPIKE_SIGMAS: f64 = 4.0;

/// What the simulator learned from a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// Mean day-ahead price per quarter hour of the day.
    pub profile: Vec<f64>,
    /// AR(1) persistence of the real-time deviation from the profile.
    pub phi: f64,
    /// Standard deviation of the AR(1) innovations (spikes excluded).
    pub sigma: f64,
    /// Share of intervals that spike.
    pub spike_rate: f64,
    /// Observed spike sizes above the expected path.
    pub spikes: Vec<f64>,
}

impl Calibration {
    /// Fits a series (needs at least two days).
    pub fn fit(series: &[PriceInterval]) -> Option<Self> {
        if series.len() < 192 {
            return None;
        }
        let mut sums = vec![(0.0, 0usize); 96];
        for p in series {
            let q = (p.minute / 15) as usize % 96;
            sums[q].0 += p.day_ahead;
            sums[q].1 += 1;
        }
        let profile: Vec<f64> = sums.iter().map(|(s, n)| if *n > 0 { s / *n as f64 } else { 0.0 }).collect();
        let dev: Vec<f64> = series.iter().map(|p| p.real_time - profile[(p.minute / 15) as usize % 96]).collect();
        // Robust scale first (median absolute deviation), to tell spikes from noise.
        let mut abs: Vec<f64> = dev.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
        abs.sort_by(f64::total_cmp);
        let mad = abs[abs.len() / 2].max(1e-6) * 1.4826;
        let (mut sxx, mut sxy, mut n) = (0.0, 0.0, 0usize);
        let mut spikes = Vec::new();
        for w in dev.windows(2) {
            if w[1] - w[0] > SPIKE_SIGMAS * mad {
                spikes.push(w[1] - w[0]);
                continue;
            }
            sxx += w[0] * w[0];
            sxy += w[0] * w[1];
            n += 1;
        }
        let phi = if sxx > 0.0 { (sxy / sxx).clamp(0.0, 0.99) } else { 0.0 };
        let resid: f64 =
            dev.windows(2).filter(|w| w[1] - w[0] <= SPIKE_SIGMAS * mad).map(|w| (w[1] - phi * w[0]).powi(2)).sum();
        let sigma = (resid / n.max(1) as f64).sqrt();
        Some(Calibration { profile, phi, sigma, spike_rate: spikes.len() as f64 / dev.len() as f64, spikes })
    }
}

/// A generator of simulated intervals after a starting one.
#[derive(Debug, Clone)]
pub struct Simulator {
    cal: Calibration,
    state: u64,
    deviation: f64,
    at: (Date, u16),
}

impl Simulator {
    /// Starts after `last` (the last real interval), seeded.
    pub fn new(cal: Calibration, last: &PriceInterval, seed: u64) -> Self {
        Simulator { cal, state: seed ^ 0x2545_F491_4F6C_DD1D, deviation: 0.0, at: (last.date, last.minute) }
    }

    fn unit(&mut self) -> f64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        (self.state >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit().max(1e-12), self.unit());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

impl Iterator for Simulator {
    type Item = PriceInterval;

    fn next(&mut self) -> Option<PriceInterval> {
        let (mut date, mut minute) = self.at;
        minute += 15;
        if minute >= 1440 {
            minute = 0;
            let z = crate::clock::days_from_civil(date) + 1;
            date = crate::clock::civil_from_days(z);
        }
        self.at = (date, minute);
        let q = (minute / 15) as usize % 96;
        self.deviation = self.cal.phi * self.deviation + self.cal.sigma * self.normal();
        let mut real_time = self.cal.profile[q] + self.deviation;
        if !self.cal.spikes.is_empty() && self.unit() < self.cal.spike_rate {
            let k = (self.unit() * self.cal.spikes.len() as f64) as usize % self.cal.spikes.len();
            real_time += self.cal.spikes[k];
        }
        Some(PriceInterval { date, minute, day_ahead: self.cal.profile[q], real_time })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcp_economics::series::parse_ercot;

    const ERCOT: &str = include_str!("../../../../data/ercot/hb_south_15min_2024-06_2024-12.csv");

    #[test]
    fn simulated_prices_look_like_the_real_ones() {
        let real = parse_ercot("ercot", ERCOT).expect("ercot");
        let cal = Calibration::fit(&real).expect("fits");
        let sim: Vec<PriceInterval> =
            Simulator::new(cal.clone(), real.last().expect("last"), 7).take(real.len()).collect();
        let mean = |v: &[PriceInterval]| v.iter().map(|p| p.real_time).sum::<f64>() / v.len() as f64;
        let (rm, sm) = (mean(&real), mean(&sim));
        assert!((sm - rm).abs() < rm * 0.25, "means {rm:.1} vs {sm:.1}");
        assert!(sim.iter().any(|p| p.real_time < 0.0), "negative prices occur");
        assert!(sim.iter().any(|p| p.real_time > 500.0), "spikes occur");
        assert!(cal.phi > 0.5, "real-time deviations persist: {}", cal.phi);
        assert_eq!((sim[0].date.to_string(), sim[0].minute), ("2025-01-01".into(), 0), "continues the series");
    }
}
