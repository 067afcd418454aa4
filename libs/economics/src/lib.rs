//! The money side of a megawatt, as pure functions.
//!
//! - [`bitcoin`]: block subsidy from height, hashprice from difficulty, price, subsidy and fees.
//! - [`miner`]: a miner's revenue, power cost and margin over an interval; breakeven power price.
//! - [`gpu`]: a GPU's margin from its contract price and its power.
//! - [`series`]: the shipped market series (ERCOT 15-minute prices, daily BTC price and
//!   difficulty), parsed from their CSV text with errors that name the line.
//!
//! Dollars here are `f64`: these are forecasts and comparisons, not ledgers (billing uses
//! `hcp_domain::units::Money`).

#![forbid(unsafe_code)]

pub mod bitcoin;
pub mod gpu;
pub mod miner;
pub mod series;

pub use bitcoin::{hashprice_usd_per_ph_day, subsidy_btc};
pub use miner::MinerEconomics;
