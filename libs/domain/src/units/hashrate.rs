//! Hashrate in hashes per second.

use super::Power;
use serde::{Deserialize, Serialize};
use std::fmt;

/// SHA-256 hashrate in hashes per second (a 200 TH/s miner is 2e14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Hashrate(u64);

impl Hashrate {
    /// From hashes per second.
    pub const fn from_hashes_per_second(hs: u64) -> Self {
        Hashrate(hs)
    }

    /// From terahashes per second.
    pub const fn from_terahashes(th: u64) -> Self {
        Hashrate(th * 1_000_000_000_000)
    }

    /// In hashes per second.
    pub const fn hashes_per_second(self) -> u64 {
        self.0
    }

    /// In terahashes per second (for display and economics, not for storage).
    pub fn terahashes(self) -> f64 {
        self.0 as f64 / 1e12
    }

    /// Efficiency in joules per terahash of a device drawing `power` at this hashrate,
    /// or `None` at zero hashrate.
    pub fn joules_per_terahash(self, power: Power) -> Option<f64> {
        (self.0 > 0).then(|| power.watts() as f64 / self.terahashes())
    }
}

impl fmt::Display for Hashrate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2} TH/s", self.terahashes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn efficiency_of_real_models() {
        // Antminer S21: 200 TH/s at 3,500 W is 17.5 J/TH.
        let s21 = Hashrate::from_terahashes(200);
        assert_eq!(s21.joules_per_terahash(Power::from_watts(3_500)), Some(17.5));
        assert_eq!(Hashrate::default().joules_per_terahash(Power::from_watts(1)), None);
    }
}
