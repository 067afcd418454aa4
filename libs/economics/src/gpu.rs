//! A GPU's economics: contract revenue per hour less its power.

/// A GPU's margin over `hours`: `contract_usd_per_hour` less `kilowatts` of power at
/// `usd_per_mwh`.
pub fn gpu_margin_usd(contract_usd_per_hour: f64, kilowatts: f64, usd_per_mwh: f64, hours: f64) -> f64 {
    contract_usd_per_hour * hours - kilowatts / 1000.0 * hours * usd_per_mwh
}

/// Margin per MWh a GPU earns at a contract price: what makes it worth its power.
pub fn gpu_value_usd_per_mwh(contract_usd_per_hour: f64, kilowatts: f64) -> f64 {
    if kilowatts <= 0.0 { f64::INFINITY } else { contract_usd_per_hour / (kilowatts / 1000.0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_h100_at_two_dollars_an_hour() {
        // 0.7 kW at $50/MWh costs $0.035 an hour.
        assert!((gpu_margin_usd(2.0, 0.7, 50.0, 1.0) - 1.965).abs() < 1e-12);
        // $2/h over 0.7 kW is $2,857/MWh: a GPU out-earns any miner per MWh.
        assert!((gpu_value_usd_per_mwh(2.0, 0.7) - 2857.142857).abs() < 1e-3);
    }
}
