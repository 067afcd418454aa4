//! Money as integer micro-dollars.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, Neg, Sub};

/// An amount of US dollars, stored as integer micro-dollars (1e-6 USD). Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Money(i64);

impl Money {
    /// Zero dollars.
    pub const ZERO: Money = Money(0);

    /// From micro-dollars.
    pub const fn from_micros(micros: i64) -> Self {
        Money(micros)
    }

    /// From whole cents.
    pub const fn from_cents(cents: i64) -> Self {
        Money(cents * 10_000)
    }

    /// In micro-dollars.
    pub const fn micros(self) -> i64 {
        self.0
    }

    /// Adds, or `None` on overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// Multiplies by a ratio `num / den`, rounding half away from zero.
    pub fn mul_ratio(self, num: i64, den: i64) -> Option<Money> {
        if den == 0 {
            return None;
        }
        let p = i128::from(self.0) * i128::from(num);
        let d = i128::from(den);
        let q = round_div(p, d);
        i64::try_from(q).ok().map(Money)
    }
}

/// Integer division rounding half away from zero.
pub(crate) fn round_div(n: i128, d: i128) -> i128 {
    let (q, r) = (n / d, n % d);
    if 2 * r.abs() >= d.abs() { q + if (n < 0) == (d < 0) { 1 } else { -1 } } else { q }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}${}.{:06}", abs / 1_000_000, abs % 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_exact_dollars() {
        assert_eq!(Money::from_micros(62_864_000).to_string(), "$62.864000");
        assert_eq!(Money::from_micros(-5).to_string(), "-$0.000005");
        assert_eq!(Money::from_cents(150).to_string(), "$1.500000");
    }

    #[test]
    fn ratio_rounds_half_away_from_zero() {
        assert_eq!(Money::from_micros(5).mul_ratio(1, 2), Some(Money::from_micros(3)));
        assert_eq!(Money::from_micros(-5).mul_ratio(1, 2), Some(Money::from_micros(-3)));
        assert_eq!(Money::from_micros(4).mul_ratio(1, 3), Some(Money::from_micros(1)));
        assert_eq!(Money::from_micros(1).mul_ratio(1, 0), None);
        assert_eq!(Money::from_micros(i64::MAX).mul_ratio(2, 1), None);
    }
}
