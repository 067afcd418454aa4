//! Pricing: market prices become events, and are served.
//!
//! - [`source`]: where prices come from: replay of the real ERCOT and Bitcoin series on an
//!   accelerated clock, a stochastic simulator calibrated to them, and HTTP pollers.
//! - [`recorder`]: `price.observed` and `bitcoin.day_observed` events, never twice.
//! - `book`, `clock` (from hcp-market): the book the events build, ERCOT's clock.
//! - [`grpc`]: current quote per site, history over a range, hashprice now.

#![forbid(unsafe_code)]

pub use hcp_market::{book, clock};
pub mod grpc;
pub mod recorder;
pub mod source;
mod start;

pub use book::Book;
pub use recorder::{Recorder, SiteMarket};
pub use start::{MarketData, market_data, start};
