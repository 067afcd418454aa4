//! Electrical energy in milliwatt-hours.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Add;

/// Energy, stored as integer milliwatt-hours so that a minute of a 700 W GPU
/// (11,666 mWh) is exact enough for billing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Energy(u64);

impl Energy {
    /// No energy.
    pub const ZERO: Energy = Energy(0);

    /// From milliwatt-hours.
    pub const fn from_milliwatt_hours(mwh: u64) -> Self {
        Energy(mwh)
    }

    /// From watt-hours.
    pub const fn from_watt_hours(wh: u64) -> Self {
        Energy(wh * 1_000)
    }

    /// In milliwatt-hours.
    pub const fn milliwatt_hours(self) -> u64 {
        self.0
    }

    /// In whole watt-hours, rounded down.
    pub const fn watt_hours(self) -> u64 {
        self.0 / 1_000
    }
}

impl Add for Energy {
    type Output = Energy;
    fn add(self, rhs: Energy) -> Energy {
        Energy(self.0 + rhs.0)
    }
}

impl fmt::Display for Energy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let wh = self.0 as f64 / 1_000.0;
        if wh >= 1e6 {
            write!(f, "{:.3} MWh", wh / 1e6)
        } else if wh >= 1e3 {
            write!(f, "{:.3} kWh", wh / 1e3)
        } else {
            write!(f, "{wh:.3} Wh")
        }
    }
}
