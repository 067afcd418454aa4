//! Allocation: which devices mine, serve AI or are curtailed, for the most margin.
//!
//! - [`knapsack`]: one interval under the site's power cap, solved exactly.
//! - [`schedule`]: many intervals for one device class, under dwell, ramp, cap and
//!   switching costs, solved exactly by dynamic programming.
//! - [`planner`]: the coming interval for every device at a site, with hysteresis,
//!   dwell, ramp and commitments, explained per model.
//! - [`market`] and [`forecast`]: prices as known at each moment, and a forecast of the
//!   real-time price from them.
//! - [`site`]: a site's config; [`strategy`]: the strategies; [`backtest`]: scoring them
//!   over history; [`chart`]: price against allocation as SVG.

#![forbid(unsafe_code)]

pub mod backtest;
pub mod chart;
pub mod forecast;
pub mod knapsack;
pub mod market;
pub mod planner;
pub mod schedule;
pub mod site;
pub mod strategy;

pub use knapsack::{Allocation, Group, allocate};
pub use strategy::Strategy;
