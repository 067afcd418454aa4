//! Electricity prices in micro-dollars per megawatt-hour.

use super::money::round_div;
use super::{Energy, Money};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An electricity price in micro-dollars per MWh. Negative prices are real (ERCOT
/// pays consumers to take power at times), so it is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct EnergyPrice(i64);

impl EnergyPrice {
    /// From micro-dollars per MWh.
    pub const fn from_micros_per_mwh(micros: i64) -> Self {
        EnergyPrice(micros)
    }

    /// From cents per MWh (market data usually has two decimals).
    pub const fn from_cents_per_mwh(cents: i64) -> Self {
        EnergyPrice(cents * 10_000)
    }

    /// In micro-dollars per MWh.
    pub const fn micros_per_mwh(self) -> i64 {
        self.0
    }

    /// What `energy` costs at this price, rounded half away from zero to the micro-dollar.
    pub fn cost_of(self, energy: Energy) -> Money {
        // micro$/MWh * mWh / 1e9 mWh-per-MWh
        let n = i128::from(self.0) * i128::from(energy.milliwatt_hours());
        let micros = round_div(n, 1_000_000_000);
        Money::from_micros(i64::try_from(micros).unwrap_or(if n < 0 { i64::MIN } else { i64::MAX }))
    }
}

impl fmt::Display for EnergyPrice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/MWh", Money::from_micros(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Power;
    use std::time::Duration;

    #[test]
    fn cost_of_energy() {
        // 3.5 kW for 15 min = 875 Wh at $40/MWh = $0.035
        let e = Power::from_watts(3_500).over(Duration::from_secs(900));
        assert_eq!(EnergyPrice::from_cents_per_mwh(4_000).cost_of(e), Money::from_micros(35_000));
        // A negative price earns money.
        assert_eq!(
            EnergyPrice::from_cents_per_mwh(-7_000).cost_of(Energy::from_watt_hours(1_000)),
            Money::from_cents(-7)
        );
    }
}
