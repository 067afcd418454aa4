//! Electrical power in watts.

use super::Energy;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, Sub};
use std::time::Duration;

/// Power drawn by a device or allowed at a site, in whole watts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Power(u64);

impl Power {
    /// No power.
    pub const ZERO: Power = Power(0);

    /// From watts.
    pub const fn from_watts(w: u64) -> Self {
        Power(w)
    }

    /// From kilowatts.
    pub const fn from_kilowatts(kw: u64) -> Self {
        Power(kw * 1_000)
    }

    /// From megawatts.
    pub const fn from_megawatts(mw: u64) -> Self {
        Power(mw * 1_000_000)
    }

    /// In watts.
    pub const fn watts(self) -> u64 {
        self.0
    }

    /// Energy used drawing this power for `d` (milliwatt-hour resolution, rounded down).
    pub fn over(self, d: Duration) -> Energy {
        // W * ms = mW*s*... : W * ms / 3600 = mWh
        let mwh = u128::from(self.0) * d.as_millis() / 3_600;
        Energy::from_milliwatt_hours(u64::try_from(mwh).unwrap_or(u64::MAX))
    }

    /// Subtracts, or `None` if it would go below zero.
    pub fn checked_sub(self, other: Power) -> Option<Power> {
        self.0.checked_sub(other.0).map(Power)
    }
}

impl Add for Power {
    type Output = Power;
    fn add(self, rhs: Power) -> Power {
        Power(self.0 + rhs.0)
    }
}

impl Sub for Power {
    type Output = Power;
    fn sub(self, rhs: Power) -> Power {
        Power(self.0 - rhs.0)
    }
}

impl std::iter::Sum for Power {
    fn sum<I: Iterator<Item = Power>>(iter: I) -> Power {
        Power(iter.map(|p| p.0).sum())
    }
}

impl fmt::Display for Power {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            w if w >= 1_000_000 => write!(f, "{:.3} MW", w as f64 / 1e6),
            w if w >= 1_000 => write!(f, "{:.3} kW", w as f64 / 1e3),
            w => write!(f, "{w} W"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_over_time_is_energy() {
        // 700 W for one hour is 700 Wh.
        assert_eq!(Power::from_watts(700).over(Duration::from_secs(3600)).watt_hours(), 700);
        // 3.5 kW for 15 minutes is 875 Wh.
        assert_eq!(Power::from_watts(3_500).over(Duration::from_secs(900)).watt_hours(), 875);
        assert_eq!(Power::from_megawatts(2).to_string(), "2.000 MW");
    }
}
