//! Money: micro-dollars (`i64`) inside; cents only where a line is rounded for an invoice.
//! The one rule: a line rounds to the nearest cent, a half cent away from zero.

use std::fmt;

/// An amount in micro-dollars (1 USD = 1,000,000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Micros(pub i64);

/// Micro-dollars in a cent.
pub const MICROS_PER_CENT: i64 = 10_000;

impl Micros {
    /// From whole dollars and cents (`dollars(2, 50)` is $2.50).
    pub const fn dollars(dollars: i64, cents: i64) -> Micros {
        Micros(dollars * 1_000_000 + cents * MICROS_PER_CENT)
    }

    /// Rounded to a whole cent, a half cent away from zero.
    pub fn to_cents(self) -> Micros {
        let half = MICROS_PER_CENT / 2;
        let cents = if self.0 >= 0 { (self.0 + half) / MICROS_PER_CENT } else { (self.0 - half) / MICROS_PER_CENT };
        Micros(cents * MICROS_PER_CENT)
    }

    /// `self × numerator ÷ denominator`, exact in 128 bits, rounded half away from zero to a micro-dollar.
    pub fn scaled(self, numerator: i128, denominator: i128) -> Micros {
        let product = i128::from(self.0) * numerator;
        let half = denominator / 2;
        let q = if product >= 0 { (product + half) / denominator } else { (product - half) / denominator };
        Micros(i64::try_from(q).unwrap_or(if q > 0 { i64::MAX } else { i64::MIN }))
    }
}

impl std::ops::Add for Micros {
    type Output = Micros;
    fn add(self, other: Micros) -> Micros {
        Micros(self.0 + other.0)
    }
}

impl std::ops::Sub for Micros {
    type Output = Micros;
    fn sub(self, other: Micros) -> Micros {
        Micros(self.0 - other.0)
    }
}

impl std::iter::Sum for Micros {
    fn sum<I: Iterator<Item = Micros>>(iter: I) -> Micros {
        Micros(iter.map(|m| m.0).sum())
    }
}

impl fmt::Display for Micros {
    /// `$12.345678` (every micro-dollar shown; invoices show rounded lines).
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
    fn lines_round_half_a_cent_away_from_zero() {
        assert_eq!(Micros(12_345_000).to_cents(), Micros(12_350_000), "$12.345 -> $12.35");
        assert_eq!(Micros(12_344_999).to_cents(), Micros(12_340_000));
        assert_eq!(Micros(-12_345_000).to_cents(), Micros(-12_350_000), "a credit rounds the same way");
        assert_eq!(Micros(4_999).to_cents(), Micros(0));
        assert_eq!(Micros::dollars(2, 50).scaled(1, 3), Micros(833_333));
        assert_eq!(Micros::dollars(2, 50).scaled(2, 3), Micros(1_666_667));
        assert_eq!(Micros(-1_000_001).to_string(), "-$1.000001");
    }
}
