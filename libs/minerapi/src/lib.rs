//! The JSON API that Bitcoin-mining firmware serves on TCP port 4028.
//!
//! cgminer started it and every firmware family copied it: stock Antminer (bmminer),
//! LuxOS (LUXminer), Whatsminer (btminer). A client connects, writes one request such as
//! `{"command":"summary"}` (report commands join with `+`: `summary+devs`), reads the
//! reply and the miner closes the connection.
//!
//! - [`request`]: building and reading requests.
//! - [`tolerant`]: turning what real firmware sends into JSON. Replies end in a NUL byte,
//!   put `}{` between objects, leave `,}` and write `inf` and `nan` as numbers; the
//!   parser accepts all of that and never panics, whatever the bytes.
//! - [`reply`]: the `STATUS` section and a reply's sections, one per command.
//! - [`report`]: typed readings of `version`, `summary` and `stats`, across dialects.
//! - [`client`]: one request over one connection, with a deadline.
//! - [`control`]: sleep, wake and power targets per firmware, and what a miner is really doing.
//! - [`web`]: the stock Antminer's web interface (digest auth), its one way to sleep.

#![forbid(unsafe_code)]

pub mod client;
pub mod control;
pub mod reply;
pub mod report;
pub mod request;
pub mod tolerant;
pub mod web;

pub use client::{ClientError, query};
pub use reply::{Reply, ReplyError, Status, StatusKind};
pub use report::{Firmware, StatsReport, SummaryReport, VersionReport};
pub use request::Request;

/// The port every firmware family serves its API on.
pub const API_PORT: u16 = 4028;
