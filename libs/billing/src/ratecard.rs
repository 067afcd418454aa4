//! Rate cards: what a tenant pays per GPU-hour of each model, in graduated tiers (the
//! first N hours of a period at one price, the next at another), a committed-use
//! discount, and the tax rate.

use hcp_domain::units::Money;

/// One tier of a model's price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    /// GPU-hours in the period this tier covers up to (none: every hour beyond).
    pub up_to_gpu_hours: Option<u64>,
    /// The price of a GPU-hour in it.
    pub per_gpu_hour: Money,
}

/// A model's price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    /// The GPU model's canonical id (`h100-sxm-80gb`), or `*` for every model not listed.
    pub model: String,
    /// Its tiers, in order; the last has no upper bound.
    pub tiers: Vec<Tier>,
}

/// A tenant's rate card.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RateCard {
    /// Prices by model.
    pub prices: Vec<Price>,
    /// A committed-use discount on GPU time, basis points (1,500 = 15%).
    pub commitment_discount_bps: u32,
    /// Tax, basis points of the subtotal after discounts (825 = 8.25%).
    pub tax_bps: u32,
}

/// Why a rate card is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateCardError {
    /// A model has no tiers, or its last tier is bounded, or its bounds do not rise.
    #[error("prices[{0}].tiers: must rise and end with an unbounded tier")]
    Tiers(String),
    /// A negative price.
    #[error("prices[{0}].tiers: a price may not be negative")]
    Negative(String),
    /// A discount over 100%.
    #[error("commitment_discount_bps: at most 10000")]
    Discount,
}

impl RateCard {
    /// Checks the card.
    pub fn validate(&self) -> Result<(), RateCardError> {
        if self.commitment_discount_bps > 10_000 {
            return Err(RateCardError::Discount);
        }
        for p in &self.prices {
            let bounds: Vec<Option<u64>> = p.tiers.iter().map(|t| t.up_to_gpu_hours).collect();
            let rising = bounds.windows(2).all(|w| {
                matches!((w[0], w[1]), (Some(a), Some(b)) if a < b) || matches!((w[0], w[1]), (Some(_), None))
            });
            if bounds.last() != Some(&None) || !rising {
                return Err(RateCardError::Tiers(p.model.clone()));
            }
            if p.tiers.iter().any(|t| t.per_gpu_hour.micros() < 0) {
                return Err(RateCardError::Negative(p.model.clone()));
            }
        }
        Ok(())
    }

    /// The price of `model`: its own, or the card's `*` price.
    pub fn price(&self, model: &str) -> Option<&Price> {
        self.prices.iter().find(|p| p.model == model).or_else(|| self.prices.iter().find(|p| p.model == "*"))
    }
}
