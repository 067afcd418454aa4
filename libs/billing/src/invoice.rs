//! An invoice from its [`Draft`]: for each model, one line per tier its period's GPU time
//! reaches (quantity, unit price per GPU-hour, amount); for late usage of an earlier
//! period, adjustment lines priced at the tiers that period had reached; then the
//! committed-use discount and the tax as lines of their own. Each line is rounded to
//! cents by the one rule ([`Money::to_cents`]: half a cent away from zero); every total
//! is the sum of rounded lines, so the invoice adds up.

use crate::books::Draft;
use crate::period::Period;
use crate::ratecard::{Price, RateCard};
use crate::usage::MICROS_PER_HOUR;
use hcp_domain::units::Money;

/// What a line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// GPU time of the invoice's period.
    Usage,
    /// GPU time of an earlier period, recorded after that period was invoiced.
    Adjustment,
    /// The committed-use discount.
    Discount,
    /// Tax.
    Tax,
}

impl LineKind {
    /// Its name in the API (`usage`, `adjustment`, `discount`, `tax`).
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Usage => "usage",
            LineKind::Adjustment => "adjustment",
            LineKind::Discount => "discount",
            LineKind::Tax => "tax",
        }
    }
}

/// One line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// What it is for.
    pub kind: LineKind,
    /// In words (`h100-sxm-80gb GPU-hours, tier 1`).
    pub description: String,
    /// The GPU model (empty for the discount and tax lines).
    pub model: String,
    /// The period the GPU time is in (the invoice's own for discount and tax).
    pub period: Period,
    /// The quantity, GPU-microseconds (0 for the discount and tax lines).
    pub gpu_micros: i128,
    /// The unit price (per GPU-hour; for discount and tax lines, the base they apply to).
    pub unit: Money,
    /// The amount, rounded to cents.
    pub amount: Money,
}

/// An invoice's lines and totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    /// Its lines, in order.
    pub lines: Vec<Line>,
    /// GPU time and adjustments less the discount.
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
    #[error("usage of {0}: the rate card has no price for it (nor a `*` price)")]
    NoPrice(String),
    /// An amount past what 64-bit micro-dollars hold.
    #[error("an amount is too large for an invoice")]
    Overflow,
}

/// The invoice of `period` for `draft` under `card`.
pub fn invoice(card: &RateCard, period: Period, draft: &Draft) -> Result<Invoice, InvoiceError> {
    let mut lines = Vec::new();
    for (model, &used) in draft.usage.iter().filter(|(_, u)| **u != 0) {
        let price = card.price(model).ok_or_else(|| InvoiceError::NoPrice(model.clone()))?;
        tier_lines(&mut lines, price, model, period, LineKind::Usage, 0, used)?;
    }
    for ((late_period, model), late) in draft.late.iter().filter(|(_, l)| l.added != 0) {
        let price = card.price(model).ok_or_else(|| InvoiceError::NoPrice(model.clone()))?;
        let (from, to) = (late.before, late.before + late.added);
        tier_lines(&mut lines, price, model, *late_period, LineKind::Adjustment, from, to)?;
    }
    let gross: Money = lines.iter().map(|l| l.amount).sum();
    if card.commitment_discount_bps > 0 && gross != Money::ZERO {
        let off = gross.mul_wide(i128::from(card.commitment_discount_bps), 10_000).ok_or(InvoiceError::Overflow)?;
        lines.push(Line {
            kind: LineKind::Discount,
            description: format!("committed-use discount, {}", percent(card.commitment_discount_bps)),
            model: String::new(),
            period,
            gpu_micros: 0,
            unit: gross,
            amount: -off.to_cents(),
        });
    }
    let subtotal: Money = lines.iter().map(|l| l.amount).sum();
    let tax = subtotal.mul_wide(i128::from(card.tax_bps), 10_000).ok_or(InvoiceError::Overflow)?.to_cents();
    if card.tax_bps > 0 {
        lines.push(Line {
            kind: LineKind::Tax,
            description: format!("tax, {}", percent(card.tax_bps)),
            model: String::new(),
            period,
            gpu_micros: 0,
            unit: subtotal,
            amount: tax,
        });
    }
    let total = lines.iter().map(|l| l.amount).sum();
    Ok(Invoice { lines, subtotal, tax, total })
}

/// What `added` GPU-microseconds of `model` cost after `used` this period (the tiers
/// reached count), less the committed-use discount, before tax; and the tax on it.
pub fn estimate(card: &RateCard, model: &str, used: i128, added: i128) -> Result<(Money, Money), InvoiceError> {
    let price = card.price(model).ok_or_else(|| InvoiceError::NoPrice(model.to_owned()))?;
    let dummy = Period { start: Default::default(), end: Default::default() };
    let mut lines = Vec::new();
    tier_lines(&mut lines, price, model, dummy, LineKind::Usage, used, used + added)?;
    let gross: Money = lines.iter().map(|l| l.amount).sum();
    let off = gross.mul_wide(i128::from(card.commitment_discount_bps), 10_000).ok_or(InvoiceError::Overflow)?;
    let subtotal = gross - off.to_cents();
    let tax = subtotal.mul_wide(i128::from(card.tax_bps), 10_000).ok_or(InvoiceError::Overflow)?.to_cents();
    Ok((subtotal, tax))
}

/// The lines for GPU time from `from` to `to` GPU-microseconds into the period: one per
/// tier that stretch reaches. Where `to` is below `from` (an amendment took GPU time
/// back), the stretch from `to` to `from` is taken back from the tiers it had reached:
/// the same lines with negative quantities and amounts.
fn tier_lines(
    lines: &mut Vec<Line>,
    price: &Price,
    model: &str,
    period: Period,
    kind: LineKind,
    from: i128,
    to: i128,
) -> Result<(), InvoiceError> {
    let (credit, from, to) = if to < from { (true, to, from) } else { (false, from, to) };
    let mut floor = 0i128;
    for (n, tier) in price.tiers.iter().enumerate() {
        let ceiling = tier.up_to_gpu_hours.map_or(i128::MAX, |h| i128::from(h) * MICROS_PER_HOUR);
        let here = to.min(ceiling) - from.max(floor);
        floor = ceiling;
        if here <= 0 {
            continue;
        }
        let amount = tier.per_gpu_hour.mul_wide(here, MICROS_PER_HOUR).ok_or(InvoiceError::Overflow)?.to_cents();
        let description = match (kind, credit) {
            (LineKind::Adjustment, false) => format!("{model} GPU-hours, tier {}, added late for {period}", n + 1),
            (_, true) => format!("{model} GPU-hours, tier {}, taken back for {period}", n + 1),
            _ => format!("{model} GPU-hours, tier {}", n + 1),
        };
        let (gpu_micros, amount) = if credit { (-here, -amount) } else { (here, amount) };
        lines.push(Line {
            kind,
            description,
            model: model.to_owned(),
            period,
            gpu_micros,
            unit: tier.per_gpu_hour,
            amount,
        });
        if to <= ceiling {
            break;
        }
    }
    Ok(())
}

fn percent(bps: u32) -> String {
    format!("{}.{:02}%", bps / 100, bps % 100)
}
