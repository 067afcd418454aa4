//! How a miner's power, hashrate, temperature and fans move, advanced lazily: the state
//! is brought up to date only when someone looks, so 10,000 idle miners cost nothing.
//!
//! - Power ramps toward its target: down at full power per 5 s, up at full power per
//!   10 s (LuxOS curtail and wakeup), in simulated seconds (`time_factor` of them per
//!   real second).
//! - Chip temperature follows load with a 30 s lag; fans follow temperature.
//! - Each hashboard fails at random at `board_failures_per_hour`.

use crate::rng::Rng;
use hcp_domain::catalogue::AsicModel;
use std::time::Instant;

/// Ambient air temperature at the intake, °C.
const AMBIENT_C: f64 = 25.0;
/// What a sleeping miner's control board draws, W.
const SLEEP_WATTS: f64 = 18.0;
/// Seconds (simulated) to shed full power.
pub const RAMP_DOWN_S: f64 = 5.0;
/// Seconds (simulated) to regain full power.
pub const RAMP_UP_S: f64 = 10.0;
const THERMAL_LAG_S: f64 = 30.0;

/// A miner's physical state.
#[derive(Debug, Clone)]
pub struct Physics {
    /// The model.
    pub model: &'static AsicModel,
    /// Simulated seconds per real second.
    pub time_factor: f64,
    /// Hashboard failures per board per simulated hour.
    pub board_failures_per_hour: f64,
    /// Current load as a fraction of the profile's full power.
    pub load: f64,
    /// Where the load is heading: 0 when sleeping, 1 otherwise.
    pub target: f64,
    /// The power profile's factor on stock hashrate and power (LuxOS profiles).
    pub profile_factor: f64,
    /// Chip temperature.
    pub temp_c: f64,
    /// Which hashboards work.
    pub boards_alive: Vec<bool>,
    /// When the mining process (re)started, for `Elapsed`.
    pub started: Instant,
    last: Instant,
    rng: Rng,
}

/// A reading of the miner at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// Seconds since the mining process started.
    pub elapsed_s: u64,
    /// Hashrate per board, GH/s.
    pub board_ghs: Vec<f64>,
    /// Wall power, W.
    pub watts: f64,
    /// Chip temperature per board, °C.
    pub board_temp_c: Vec<f64>,
    /// Fan speeds, RPM.
    pub fans_rpm: Vec<u32>,
    /// Whether it is asleep (curtailed) or heading there.
    pub sleeping: bool,
}

impl Physics {
    /// A miner at full load and working temperature, started `now`.
    pub fn new(model: &'static AsicModel, time_factor: f64, seed: u64, now: Instant) -> Self {
        Physics {
            model,
            time_factor,
            board_failures_per_hour: 0.0,
            load: 1.0,
            target: 1.0,
            profile_factor: 1.0,
            temp_c: AMBIENT_C + 40.0,
            boards_alive: vec![true; model.boards as usize],
            started: now,
            last: now,
            rng: Rng::new(seed),
        }
    }

    /// Brings the state up to `now`.
    pub fn advance(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.last).as_secs_f64() * self.time_factor;
        self.last = now;
        if dt <= 0.0 {
            return;
        }
        let step = if self.target < self.load { -dt / RAMP_DOWN_S } else { dt / RAMP_UP_S };
        self.load = if step < 0.0 { (self.load + step).max(self.target) } else { (self.load + step).min(self.target) };
        let goal = AMBIENT_C + 40.0 * self.load * self.profile_factor;
        self.temp_c += (goal - self.temp_c) * (1.0 - (-dt / THERMAL_LAG_S).exp());
        if self.board_failures_per_hour > 0.0 {
            let p = 1.0 - (-self.board_failures_per_hour * dt / 3600.0).exp();
            for alive in self.boards_alive.iter_mut() {
                if *alive && self.rng.unit() < p {
                    *alive = false;
                }
            }
        }
    }

    /// Restarts the mining process (a reboot): boards re-initialise, `Elapsed` resets.
    pub fn reboot(&mut self, now: Instant) {
        self.advance(now);
        self.started = now;
        self.boards_alive.iter_mut().for_each(|b| *b = true);
    }

    /// What the miner reports now.
    pub fn read(&mut self, now: Instant) -> Reading {
        self.advance(now);
        let boards = self.boards_alive.len().max(1) as f64;
        let per_board = self.model.terahashes as f64 * 1000.0 / boards * self.load * self.profile_factor;
        let board_ghs: Vec<f64> = self
            .boards_alive
            .iter()
            .map(|&alive| if alive { (per_board * (1.0 + self.rng.jitter(0.01))).max(0.0) } else { 0.0 })
            .collect();
        let alive_share = self.boards_alive.iter().filter(|&&a| a).count() as f64 / boards;
        let hashing_watts = self.model.watts as f64 * self.load * self.profile_factor * (0.1 + 0.9 * alive_share);
        let board_temp_c = self
            .boards_alive
            .iter()
            .map(|&alive| if alive { self.temp_c + self.rng.jitter(1.5) } else { AMBIENT_C + 5.0 })
            .collect();
        let heat = ((self.temp_c - 30.0) / 45.0).clamp(0.0, 1.0);
        let fans_rpm = (0..self.model.fans).map(|_| (1500.0 + 4500.0 * heat + self.rng.jitter(60.0)) as u32).collect();
        Reading {
            elapsed_s: (now.saturating_duration_since(self.started).as_secs_f64() * self.time_factor) as u64,
            board_ghs,
            watts: SLEEP_WATTS + hashing_watts * (1.0 + self.rng.jitter(0.005)),
            board_temp_c,
            fans_rpm,
            sleeping: self.target == 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcp_domain::catalogue::asic_model;
    use std::time::Duration;

    fn s21(now: Instant) -> Physics {
        Physics::new(asic_model("Antminer S21").expect("catalogue"), 1.0, 7, now)
    }

    #[test]
    fn curtailing_sheds_power_in_five_seconds_and_waking_takes_ten() {
        let t0 = Instant::now();
        let mut m = s21(t0);
        assert!((m.read(t0).watts - 3518.0).abs() < 30.0);
        m.target = 0.0;
        assert!(m.read(t0 + Duration::from_millis(2500)).watts > 1500.0, "half-way down");
        assert!(m.read(t0 + Duration::from_secs(5)).watts < 20.0, "asleep after 5 s");
        m.target = 1.0;
        let half = m.read(t0 + Duration::from_secs(10)).watts;
        assert!((1600.0..1950.0).contains(&half), "half-way up after 5 of 10 s: {half}");
        assert!(m.read(t0 + Duration::from_secs(15)).watts > 3400.0, "full after 10 s");
    }

    #[test]
    fn a_dead_board_costs_its_share_of_hashrate() {
        let t0 = Instant::now();
        let mut m = s21(t0);
        m.boards_alive[1] = false;
        let r = m.read(t0);
        let total: f64 = r.board_ghs.iter().sum();
        assert!((total - 133_333.0).abs() < 2_000.0, "{total}");
        assert_eq!(r.board_ghs[1], 0.0);
    }

    #[test]
    fn time_factor_speeds_everything_up() {
        let t0 = Instant::now();
        let mut m = s21(t0);
        m.time_factor = 100.0;
        m.target = 0.0;
        assert!(m.read(t0 + Duration::from_millis(50)).watts < 20.0);
    }

    #[test]
    fn boards_fail_at_the_configured_rate() {
        let t0 = Instant::now();
        let mut m = s21(t0);
        m.board_failures_per_hour = 1.0;
        m.advance(t0 + Duration::from_secs(36_000));
        assert!(m.boards_alive.iter().all(|a| !a), "ten hours at 1/h kills all three");
    }
}
