//! Market data as the log records it, for every service that reads prices: pricing
//! writes these streams; optimization (and later metering) keep their own [`Book`]
//! from them, so no service reads another's memory.
//!
//! - [`streams`]: the stream names and event types pricing writes.
//! - [`book`]: quotes, day-ahead prices and hashprice, folded from those events.
//! - [`clock`]: ERCOT's Central-time intervals to UTC.
//! - [`shipped`]: the market history built into the binary.

#![forbid(unsafe_code)]

pub mod book;
pub mod clock;
pub mod shipped;
pub mod streams;

pub use book::{Book, BookError};
