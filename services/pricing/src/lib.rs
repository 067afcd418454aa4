//! Pricing: market prices become events, and are served.
//!
//! - [`source`]: where prices come from: replay of the real ERCOT and Bitcoin series on an
//!   accelerated clock, a stochastic simulator calibrated to them, and HTTP pollers.
//! - [`recorder`]: `price.observed` and `bitcoin.day_observed` events, never twice.
//! - [`book`]: quotes and hashprice, rebuilt from the events.
//! - [`grpc`]: current quote per site, history over a range, hashprice now.
//! - [`clock`]: ERCOT's Central-time intervals to UTC.

#![forbid(unsafe_code)]

pub mod book;
pub mod clock;
pub mod grpc;
pub mod recorder;
pub mod source;

pub use book::Book;
pub use recorder::{Recorder, SiteMarket};
