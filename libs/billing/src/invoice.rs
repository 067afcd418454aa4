//! A billing period's invoice: for each model, one line per tier its GPU time reaches
//! (quantity in GPU-hours, unit price, amount), then the committed-use discount and the
//! tax as lines of their own. Each line is rounded to cents by the one rule
//! ([`Money::to_cents`]); every total is the sum of rounded lines, so the invoice adds up.

use crate::ratecard::RateCard;
use crate::usage::MICROS_PER_HOUR;
use hcp_domain::units::Money;
use std::collections::BTreeMap;

/// One line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// What it is for (`h100-sxm-80gb GPU-hours, tier 1`).
    pub description: String,
    /// The quantity, GPU-microseconds (0 for the discount and tax lines).
    pub gpu_micros: i128,
    /// The unit price (per GPU-hour; for discount and tax lines, the base they apply to).
    pub unit: Money,
    /// The amount, rounded to cents.
    pub amount: Money,
}

/// An invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    /// Its lines, in order.
    pub lines: Vec<Line>,
    /// GPU time less the discount.
    pub subtotal: Money,
    /// The tax line's amount.
    pub tax: Money,
    /// The sum of every line.
    pub total: Money,
}

/// Why an invoice cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvoiceError {
    /// Usage of a model the card has no price for.
    #[error("usage of {0}: the rate card has no price for it")]
    NoPrice(String),
    /// An amount past what 64-bit micro-dollars hold.
    #[error("an amount is too large for an invoice")]
    Overflow,
}

/// The invoice for a period's GPU time by model (GPU-microseconds) under `card`.
pub fn invoice(card: &RateCard, usage: &BTreeMap<String, i128>) -> Result<Invoice, InvoiceError> {
    let mut lines = Vec::new();
    for (model, &used) in usage.iter().filter(|(_, u)| **u > 0) {
        let price = card.price(model).ok_or_else(|| InvoiceError::NoPrice(model.clone()))?;
        let mut below = 0i128;
        for (n, tier) in price.tiers.iter().enumerate() {
            let ceiling = tier.up_to_gpu_hours.map_or(i128::MAX, |h| i128::from(h) * MICROS_PER_HOUR);
            let here = used.min(ceiling) - below;
            if here <= 0 {
                break;
            }
            let amount = tier.per_gpu_hour.mul_wide(here, MICROS_PER_HOUR).ok_or(InvoiceError::Overflow)?.to_cents();
            lines.push(Line {
                description: format!("{model} GPU-hours, tier {}", n + 1),
                gpu_micros: here,
                unit: tier.per_gpu_hour,
                amount,
            });
            below += here;
        }
    }
    let gross: Money = lines.iter().map(|l| l.amount).sum();
    if card.commitment_discount_bps > 0 && gross != Money::ZERO {
        let off = gross.mul_wide(i128::from(card.commitment_discount_bps), 10_000).ok_or(InvoiceError::Overflow)?;
        let discount = -off.to_cents();
        lines.push(Line {
            description: format!("committed-use discount, {:.2}%", f64::from(card.commitment_discount_bps) / 100.0),
            gpu_micros: 0,
            unit: gross,
            amount: discount,
        });
    }
    let subtotal: Money = lines.iter().map(|l| l.amount).sum();
    let tax = subtotal.mul_wide(i128::from(card.tax_bps), 10_000).ok_or(InvoiceError::Overflow)?.to_cents();
    if card.tax_bps > 0 {
        lines.push(Line {
            description: format!("tax, {:.2}%", f64::from(card.tax_bps) / 100.0),
            gpu_micros: 0,
            unit: subtotal,
            amount: tax,
        });
    }
    let total = lines.iter().map(|l| l.amount).sum();
    Ok(Invoice { lines, subtotal, tax, total })
}
