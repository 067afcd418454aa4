//! The billing core behind metering (issue 14, first step): pure, no IO, the same answer for the same
//! events, so that a tenant's usage and invoices can always be recomputed from the log.
//!
//! - [`usage`]: a workload's billable GPU time from its lifecycle events: from `started`
//!   to the first of preempted, re-queued, completed, failed or cancelled; a paused
//!   workload keeps its GPUs and is billed for them; a queued or preempted one is not.
//!   Spans are exact to the microsecond and split at billing-period boundaries.
//! - Money is the domain's micro-dollars (`hcp_domain::units::Money`), with its one
//!   rounding rule to cents (`Money::to_cents`: half a cent away from zero).
//! - [`ratecard`]: per-GPU-hour prices by model, graduated tiers, committed-use discounts.
//! - [`period`]: billing periods (calendar months, days, hours, or runs of seconds).
//! - [`books`]: which recorded usage each invoice bills: its period's, and as
//!   adjustments what arrived after an earlier period was invoiced; exactly once.
//! - [`running`]: the same books kept up record by record, so a preview costs what is
//!   not invoiced yet rather than the tenant's whole history.
//! - [`invoice`]: a period's lines (quantity, unit price, amount rounded to cents), tax,
//!   and totals that are the sum of the rounded lines; estimates at the tiers reached.

#![forbid(unsafe_code)]

pub mod books;
pub mod invoice;
pub mod period;
pub mod ratecard;
pub mod running;
pub mod usage;
