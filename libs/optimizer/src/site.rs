//! A site to backtest or plan: its miners, its power cap and how fast it may change.

use crate::schedule::Limits;
use hcp_domain::catalogue::asic_model;
use hcp_economics::MinerEconomics;
use serde::Deserialize;

/// Minutes per interval.
pub const INTERVAL_MINUTES: f64 = 15.0;
/// Levels a class is split into when a ramp limit may bind.
pub const LEVELS: u32 = 20;

/// A site as its config file (JSON) describes it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// The site's name.
    pub name: String,
    /// Grid interconnection limit, MW.
    pub power_cap_mw: f64,
    /// Its miners, by model.
    pub miners: Vec<MinerClass>,
    /// Minimum time between a device's state changes, minutes (15 = one interval: none).
    #[serde(default = "default_dwell")]
    pub min_dwell_minutes: u32,
    /// Most the site's load may change per minute, MW (none if absent).
    #[serde(default)]
    pub ramp_mw_per_minute: Option<f64>,
    /// Cost of one device switching (wear, lost shares while ramping), $.
    #[serde(default)]
    pub switch_cost_usd: f64,
    /// Average transaction fees per block, BTC, on top of the subsidy, assumed for the days
    /// the Bitcoin series has no fees for.
    #[serde(default)]
    pub fees_btc_per_block: f64,
}

fn default_dwell() -> u32 {
    15
}

/// Miners of one model.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinerClass {
    /// The model, as the catalogue names it.
    pub model: String,
    /// How many.
    pub count: u32,
}

/// Why a site config cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SiteError {
    /// A model the catalogue does not know.
    #[error("site {site}: unknown miner model {model:?}")]
    UnknownModel {
        /// The site.
        site: String,
        /// The model.
        model: String,
    },
    /// A number out of range.
    #[error("site {site}: {what}")]
    Invalid {
        /// The site.
        site: String,
        /// What is wrong.
        what: String,
    },
}

/// A class ready to plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Class {
    /// The model's name.
    pub model: String,
    /// How many.
    pub count: u32,
    /// Its economics.
    pub economics: MinerEconomics,
    /// Its path constraints.
    pub limits: Limits,
}

impl SiteConfig {
    /// One model, `count` of them, a cap 10% above their draw, no ramp limit.
    pub fn single(model: &str, count: u32) -> Self {
        let watts = asic_model(model).map_or(3_500, |m| m.watts);
        SiteConfig {
            name: format!("{count} x {model}"),
            power_cap_mw: watts as f64 * count as f64 * 1.1 / 1e6,
            miners: vec![MinerClass { model: model.to_owned(), count }],
            min_dwell_minutes: default_dwell(),
            ramp_mw_per_minute: None,
            switch_cost_usd: 0.0,
            fees_btc_per_block: 0.0,
        }
    }

    /// Resolves models and turns the site's limits into per-class limits. The cap goes
    /// to the most efficient models first (they are the last a rising price turns off).
    pub fn classes(&self) -> Result<Vec<Class>, SiteError> {
        let invalid = |what: String| SiteError::Invalid { site: self.name.clone(), what };
        if !(self.power_cap_mw.is_finite() && self.power_cap_mw >= 0.0) {
            return Err(invalid(format!("power_cap_mw {} must be a non-negative number", self.power_cap_mw)));
        }
        if self.miners.is_empty() {
            return Err(invalid("no miners".into()));
        }
        let mut resolved = Vec::new();
        for m in &self.miners {
            let model = asic_model(&m.model)
                .ok_or_else(|| SiteError::UnknownModel { site: self.name.clone(), model: m.model.clone() })?;
            if m.count == 0 {
                return Err(invalid(format!("{} has count 0", m.model)));
            }
            resolved.push((model, m.count));
        }
        resolved.sort_by(|a, b| a.0.efficiency().total_cmp(&b.0.efficiency()));
        let mut cap_left_mw = self.power_cap_mw;
        let total_mw: f64 = resolved.iter().map(|(m, n)| m.watts as f64 * *n as f64 / 1e6).sum();
        Ok(resolved
            .into_iter()
            .map(|(model, count)| {
                let economics = MinerEconomics::of(model);
                let class_mw = economics.kilowatts * count as f64 / 1000.0;
                let allowed = (cap_left_mw / class_mw).clamp(0.0, 1.0);
                cap_left_mw = (cap_left_mw - class_mw).max(0.0);
                // The site's ramp is shared in proportion to each class's draw.
                let ramp_share =
                    self.ramp_mw_per_minute.map(|r| r * class_mw / total_mw.max(1e-9) * INTERVAL_MINUTES / class_mw);
                // Margins are linear in the running share, so without a binding ramp or cap
                // the best path is all or nothing: one level is enough (and far faster).
                let partial = allowed < 1.0 || ramp_share.is_some_and(|r| r < 1.0);
                let levels = if partial { LEVELS.min(count) } else { 1 };
                let max_step = ramp_share.map_or(levels, |r| ((r * levels as f64).floor() as u32).clamp(1, levels));
                Class {
                    model: model.name.to_owned(),
                    count,
                    economics,
                    limits: Limits {
                        levels,
                        max_step,
                        min_dwell: ((self.min_dwell_minutes as f64 / INTERVAL_MINUTES).ceil() as u32).max(1),
                        max_level: (allowed * levels as f64 + 1e-9).floor() as u32,
                        switch_cost_per_level: self.switch_cost_usd * count as f64 / levels as f64,
                    },
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_goes_to_the_efficient_first() {
        let site = SiteConfig {
            power_cap_mw: 5.0,
            miners: vec![
                MinerClass { model: "Antminer S19j Pro".into(), count: 1000 },
                MinerClass { model: "Antminer S21".into(), count: 1000 },
            ],
            ..SiteConfig::single("Antminer S21", 1)
        };
        let classes = site.classes().expect("valid");
        assert_eq!(classes[0].model, "Antminer S21");
        assert_eq!(classes[0].limits.max_level, classes[0].limits.levels, "3.5 MW fits: all of it");
        assert_eq!(classes[1].limits.max_level, 9, "1.5 of 3.068 MW: 9 of 20 levels");
    }

    #[test]
    fn bad_configs_name_the_problem() {
        let mut site = SiteConfig::single("Antminer S9", 10);
        assert_eq!(
            site.classes().expect_err("unknown").to_string(),
            "site 10 x Antminer S9: unknown miner model \"Antminer S9\""
        );
        site = SiteConfig { power_cap_mw: f64::NAN, ..SiteConfig::single("Antminer S21", 1) };
        assert!(site.classes().is_err());
    }
}
