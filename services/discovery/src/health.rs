//! Judging a poll, and flap damping: a miner's recorded health (and observed mode) changes
//! only after the new one has been seen enough polls in a row.
//!
//! - Offline after `offline_after` missed polls in a row.
//! - Any other change (back from offline, healthy to degraded and back) after
//!   `confirm_after` polls in a row that agree.

use hcp_domain::resource::{Health, Mode};
use hcp_minerapi::control::{PowerState, SLEEP_WATTS};
use hcp_minerapi::{StatsReport, SummaryReport};

/// Below this share of stock hashrate, a miner that is not asleep is degraded.
const MIN_HASHRATE_SHARE: f64 = 0.8;
/// Above this chip temperature, a miner is degraded.
const MAX_TEMP_C: f64 = 90.0;

/// What one poll concluded.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Healthy or degraded (a poll that got no answer is a miss, not a verdict).
    pub health: Health,
    /// Why, for the event and for operators.
    pub reason: String,
}

/// Judges a miner from its summary and boards against its stock hashrate.
pub fn judge(summary: &SummaryReport, boards: &StatsReport, nominal_ths: f64) -> Verdict {
    let total = boards.boards.len();
    let power = summary.power_w.or(boards.power_w);
    let hashrate = summary.hashrate_ths.unwrap_or(0.0);
    let asleep = power.is_some_and(|w| w < SLEEP_WATTS);
    // A sleeping board hashes nothing but its chips still answer.
    let alive =
        if asleep { boards.boards.iter().filter(|b| b.chips.unwrap_or(0) > 0).count() } else { boards.alive_boards() };
    let mut problems = Vec::new();
    if alive < total {
        problems.push(format!("{} of {total} hashboards down", total - alive));
    }
    if !asleep && nominal_ths > 0.0 && hashrate < nominal_ths * MIN_HASHRATE_SHARE {
        problems.push(format!("hashing {hashrate:.1} of {nominal_ths:.0} TH/s"));
    }
    if let Some(t) = boards.max_temp_c().filter(|t| *t > MAX_TEMP_C) {
        problems.push(format!("{t:.0} °C"));
    }
    if problems.is_empty() {
        let reason = if asleep { "answering, asleep".to_owned() } else { format!("hashing {hashrate:.1} TH/s") };
        Verdict { health: Health::Healthy, reason }
    } else {
        Verdict { health: Health::Degraded, reason: problems.join("; ") }
    }
}

/// What a miner is doing by its own report: asleep at sleep power (curtailed on purpose
/// or by hand, not broken), hashing (mining); none while it ramps or where it reports no
/// power and hashes nothing (asleep and broken look alike then). Power is the summary's,
/// else the boards' report's (LuxOS gives it in `stats`).
pub fn observed_mode(summary: &SummaryReport, boards: &StatsReport) -> Option<Mode> {
    let summary = SummaryReport { power_w: summary.power_w.or(boards.power_w), ..summary.clone() };
    match (summary.power_w, PowerState::of(&summary)) {
        (Some(_), PowerState::Asleep) => Some(Mode::Curtailed),
        (_, PowerState::Hashing) => Some(Mode::Mining),
        _ => None,
    }
}

/// One device's damping state for a value (its health, its mode).
#[derive(Debug, Clone, PartialEq)]
pub struct Damper<T = Health> {
    /// The value last recorded.
    pub recorded: T,
    candidate: Option<T>,
    streak: u32,
}

impl<T: Copy + PartialEq> Damper<T> {
    /// Starting from what is recorded.
    pub fn new(recorded: T) -> Self {
        Damper { recorded, candidate: None, streak: 0 }
    }

    /// `seen` this poll; whether it is now to be recorded (seen `needed` polls in a row).
    pub fn observe(&mut self, seen: T, needed: u32) -> bool {
        if seen == self.recorded {
            self.candidate = None;
            self.streak = 0;
            return false;
        }
        if self.candidate == Some(seen) {
            self.streak += 1;
        } else {
            self.candidate = Some(seen);
            self.streak = 1;
        }
        if self.streak >= needed.max(1) {
            self.recorded = seen;
            self.candidate = None;
            self.streak = 0;
            return true;
        }
        false
    }
}

impl Damper<Health> {
    /// A poll answered with this verdict; returns a change to record, if any.
    pub fn answered(&mut self, verdict: Verdict, confirm_after: u32) -> Option<Verdict> {
        self.observe(verdict.health, confirm_after).then_some(verdict)
    }

    /// A poll got no answer; returns the offline change to record, if due.
    pub fn missed(&mut self, why: &str, offline_after: u32) -> Option<Verdict> {
        self.observe(Health::Offline, offline_after)
            .then(|| Verdict { health: Health::Offline, reason: format!("no answer to {offline_after} polls: {why}") })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcp_minerapi::report::Board;

    fn healthy() -> Verdict {
        Verdict { health: Health::Healthy, reason: "ok".into() }
    }

    #[test]
    fn offline_only_after_n_misses_in_a_row() {
        let mut d = Damper::new(Health::Healthy);
        assert_eq!(d.missed("refused", 3), None);
        assert_eq!(d.missed("refused", 3), None);
        assert_eq!(d.answered(healthy(), 2), None, "one good poll resets the misses");
        assert_eq!(d.missed("refused", 3), None);
        assert_eq!(d.missed("refused", 3), None);
        assert_eq!(d.missed("refused", 3).map(|v| v.health), Some(Health::Offline));
        assert_eq!(d.missed("refused", 3), None, "recorded once");
    }

    #[test]
    fn back_only_after_m_good_polls() {
        let mut d = Damper::new(Health::Offline);
        assert_eq!(d.answered(healthy(), 2), None);
        assert_eq!(d.missed("timeout", 3), None);
        assert_eq!(d.answered(healthy(), 2), None);
        assert_eq!(d.answered(healthy(), 2).map(|v| v.health), Some(Health::Healthy));
    }

    #[test]
    fn judging_boards_hashrate_heat_and_sleep() {
        let board = |alive| Board { index: 0, chips: Some(108), hashrate_ths: Some(66.0), alive };
        let boards = StatsReport {
            boards: vec![board(true), board(true), board(true)],
            temps_c: vec![70.0],
            ..Default::default()
        };
        let summary = SummaryReport { hashrate_ths: Some(199.0), power_w: Some(3500.0), ..Default::default() };
        assert_eq!(judge(&summary, &boards, 200.0).health, Health::Healthy);
        let mut one_down = boards.clone();
        one_down.boards[2].alive = false;
        let low = SummaryReport { hashrate_ths: Some(133.0), ..summary.clone() };
        let v = judge(&low, &one_down, 200.0);
        assert_eq!(v.health, Health::Degraded);
        assert!(v.reason.contains("1 of 3 hashboards down") && v.reason.contains("133.0 of 200"), "{}", v.reason);
        let asleep = SummaryReport { hashrate_ths: Some(0.0), power_w: Some(18.0), ..summary.clone() };
        assert_eq!(judge(&asleep, &boards, 200.0).health, Health::Healthy);
        let hot = StatsReport { temps_c: vec![97.0], ..boards };
        assert_eq!(judge(&summary, &hot, 200.0).health, Health::Degraded);
    }

    #[test]
    fn observed_modes_are_damped_like_health() {
        let asleep = SummaryReport { hashrate_ths: Some(0.0), power_w: Some(18.0), ..Default::default() };
        let hashing = SummaryReport { hashrate_ths: Some(199.0), power_w: Some(3500.0), ..Default::default() };
        let ramping = SummaryReport { hashrate_ths: Some(0.0), power_w: Some(1200.0), ..Default::default() };
        let stock_idle = SummaryReport { hashrate_ths: Some(0.0), ..Default::default() };
        let none = StatsReport::default();
        assert_eq!(observed_mode(&asleep, &none), Some(Mode::Curtailed));
        assert_eq!(observed_mode(&hashing, &none), Some(Mode::Mining));
        assert_eq!(observed_mode(&ramping, &none), None);
        assert_eq!(observed_mode(&stock_idle, &none), None, "no power reported: asleep or broken, not known");
        let luxos = SummaryReport { hashrate_ths: Some(0.0), power_w: None, ..Default::default() };
        let stats = StatsReport { power_w: Some(18.0), ..Default::default() };
        assert_eq!(observed_mode(&luxos, &stats), Some(Mode::Curtailed), "LuxOS reports its power in stats");
        let mut d = Damper::new(Mode::Mining);
        assert!(!d.observe(Mode::Curtailed, 2));
        assert!(d.observe(Mode::Curtailed, 2));
        assert_eq!(d.recorded, Mode::Curtailed);
    }
}
