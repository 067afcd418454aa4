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
        self.mul_wide(i128::from(num), i128::from(den))
    }

    /// Multiplies by a ratio of 128-bit integers (GPU-microseconds over an hour's),
    /// rounding half away from zero; `None` on overflow or a zero denominator.
    pub fn mul_wide(self, num: i128, den: i128) -> Option<Money> {
        if den == 0 {
            return None;
        }
        let q = round_div(i128::from(self.0).checked_mul(num)?, den);
        i64::try_from(q).ok().map(Money)
    }

    /// Rounded to a whole cent, half a cent away from zero: the one rule an invoice's
    /// lines are rounded by.
    pub fn to_cents(self) -> Money {
        Money(i64::try_from(round_div(i128::from(self.0), 10_000) * 10_000).unwrap_or(self.0))
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

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        Money(iter.map(|m| m.0).sum())
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
    fn cents_round_half_away_from_zero() {
        assert_eq!(Money::from_micros(12_345_000).to_cents(), Money::from_cents(1235));
        assert_eq!(Money::from_micros(12_344_999).to_cents(), Money::from_cents(1234));
        assert_eq!(Money::from_micros(-12_345_000).to_cents(), Money::from_cents(-1235), "a credit rounds alike");
        assert_eq!(Money::from_micros(4_999).to_cents(), Money::ZERO);
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
