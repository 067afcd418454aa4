//! A miner's economics over an interval.

use hcp_domain::catalogue::AsicModel;

/// What a model earns and costs, given a hashprice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MinerEconomics {
    /// Hashrate, TH/s.
    pub terahashes: f64,
    /// Wall power, kW.
    pub kilowatts: f64,
}

impl MinerEconomics {
    /// At a model's stock settings.
    pub fn of(model: &AsicModel) -> Self {
        MinerEconomics { terahashes: model.terahashes as f64, kilowatts: model.watts as f64 / 1000.0 }
    }

    /// Revenue over `hours` at `hashprice` ($/PH/day).
    pub fn revenue_usd(&self, hashprice: f64, hours: f64) -> f64 {
        hashprice * self.terahashes / 1000.0 * hours / 24.0
    }

    /// Power bill over `hours` at `usd_per_mwh` (negative prices pay the miner).
    pub fn power_cost_usd(&self, usd_per_mwh: f64, hours: f64) -> f64 {
        self.kilowatts / 1000.0 * hours * usd_per_mwh
    }

    /// Revenue less power over `hours`.
    pub fn margin_usd(&self, hashprice: f64, usd_per_mwh: f64, hours: f64) -> f64 {
        self.revenue_usd(hashprice, hours) - self.power_cost_usd(usd_per_mwh, hours)
    }

    /// The power price at which mining breaks even: revenue per MWh consumed.
    pub fn breakeven_usd_per_mwh(&self, hashprice: f64) -> f64 {
        if self.kilowatts <= 0.0 {
            return f64::INFINITY;
        }
        self.revenue_usd(hashprice, 1.0) / (self.kilowatts / 1000.0)
    }

    /// Energy over `hours`, MWh.
    pub fn energy_mwh(&self, hours: f64) -> f64 {
        self.kilowatts / 1000.0 * hours
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcp_domain::catalogue::asic_model;

    #[test]
    fn s21_at_the_test_vector_hashprice() {
        let s21 = MinerEconomics::of(asic_model("Antminer S21").expect("S21"));
        let hp = 62.864;
        // 0.2 PH/s × $62.864 = $12.5728 a day.
        assert!((s21.revenue_usd(hp, 24.0) - 12.5728).abs() < 1e-9);
        // 3.5 kW × 24 h = 0.084 MWh a day: breakeven $149.68/MWh.
        assert!((s21.breakeven_usd_per_mwh(hp) - 149.676_190).abs() < 1e-3);
        assert!(s21.margin_usd(hp, s21.breakeven_usd_per_mwh(hp), 0.25).abs() < 1e-12);
        assert!(s21.margin_usd(hp, -20.0, 0.25) > s21.revenue_usd(hp, 0.25), "negative prices pay");
    }

    #[test]
    fn less_efficient_models_break_even_lower() {
        let hp = 50.0;
        let s21 = MinerEconomics::of(asic_model("Antminer S21").expect("S21")).breakeven_usd_per_mwh(hp);
        let s19 = MinerEconomics::of(asic_model("Antminer S19j Pro").expect("S19j Pro")).breakeven_usd_per_mwh(hp);
        assert!(s19 < s21, "{s19} vs {s21}");
    }
}
