//! Running strategies over history and scoring them: margin, energy, switches, uptime,
//! and each one's share of the hindsight optimum and of the flexibility value.

use crate::market::{HOURS, Timeline};
use crate::site::Class;
use crate::strategy::{Strategy, levels};

/// One strategy's result over the whole timeline, for the whole site.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Which strategy.
    pub strategy: Strategy,
    /// Revenue less power and switching, $.
    pub margin_usd: f64,
    /// Energy drawn, MWh.
    pub energy_mwh: f64,
    /// Device state changes.
    pub switches: u64,
    /// Share of device-intervals spent mining.
    pub uptime: f64,
    /// Share of the site's mining power running, per interval.
    pub running: Vec<f64>,
}

/// Runs one strategy for every class of a site.
pub fn run(tl: &Timeline, classes: &[Class], strategy: Strategy) -> Outcome {
    let mut o =
        Outcome { strategy, margin_usd: 0.0, energy_mwh: 0.0, switches: 0, uptime: 0.0, running: vec![0.0; tl.len()] };
    let total_kw: f64 = classes.iter().map(|c| c.economics.kilowatts * c.count as f64).sum();
    let mut device_intervals = 0.0;
    let mut on_intervals = 0.0;
    for class in classes {
        let path = levels(tl, class, strategy);
        let per_level = class.count as f64 / class.limits.levels as f64;
        let mut prev = (class.limits.max_level as f64 * per_level).round();
        for (t, &level) in path.iter().enumerate() {
            let on = (level as f64 * per_level).round();
            let econ = &class.economics;
            o.margin_usd += on * econ.margin_usd(tl.hashprice[t], tl.intervals[t].real_time, HOURS);
            o.margin_usd -= class.limits.switch_cost_per_level / per_level * (on - prev).abs();
            o.energy_mwh += on * econ.energy_mwh(HOURS);
            o.switches += (on - prev).abs() as u64;
            o.running[t] += on * econ.kilowatts / total_kw.max(1e-9);
            on_intervals += on;
            prev = on;
        }
        device_intervals += class.count as f64 * tl.len() as f64;
    }
    o.uptime = if device_intervals > 0.0 { on_intervals / device_intervals } else { 0.0 };
    o
}

/// A strategy's scores against the baselines.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// The outcome.
    pub outcome: Outcome,
    /// Margin over the hindsight optimum's.
    pub share_of_hindsight: f64,
    /// (strategy − always-on) / (hindsight − always-on).
    pub share_of_flexibility: f64,
}

/// Runs every strategy (each once) and scores each against always-on and hindsight.
pub fn compare(tl: &Timeline, classes: &[Class], strategies: &[Strategy]) -> Vec<Scored> {
    let mut runs: Vec<Outcome> = Vec::new();
    let outcome_of = |s: Strategy, runs: &mut Vec<Outcome>| -> Outcome {
        match runs.iter().find(|o| o.strategy == s) {
            Some(o) => o.clone(),
            None => {
                let o = run(tl, classes, s);
                runs.push(o.clone());
                o
            }
        }
    };
    let base = outcome_of(Strategy::AlwaysOn, &mut runs).margin_usd;
    let best = outcome_of(Strategy::Hindsight, &mut runs).margin_usd;
    strategies
        .iter()
        .map(|&s| {
            let outcome = outcome_of(s, &mut runs);
            let share_of_hindsight = if best.abs() > 1e-9 { outcome.margin_usd / best } else { 0.0 };
            let flex = best - base;
            let share_of_flexibility = if flex.abs() > 1e-9 { (outcome.margin_usd - base) / flex } else { 1.0 };
            Scored { outcome, share_of_hindsight, share_of_flexibility }
        })
        .collect()
}
