//! A simulated mining fleet that real miner clients cannot tell from real hardware.
//!
//! - [`fleet`]: sites of miners, each on its own loopback address at port 4028.
//! - [`miner`] and [`server`]: one miner, its listener, and misbehaviour on demand
//!   (malformed JSON, slow or hung replies, garbage, refused connections, reboots).
//! - [`dialect`]: what bmminer, LuxOS and btminer answer on port 4028; [`web`]: the stock
//!   Antminer's web interface (`/cgi-bin/*.cgi`, digest auth) on port 80.
//! - [`physics`]: power ramps (curtail ~5 s, wake ~10 s), heat, fans, board failures.

#![forbid(unsafe_code)]

pub mod dialect;
pub mod fleet;
pub mod miner;
pub mod physics;
pub use hcp_sim::rng;
mod server;
pub mod web;

pub use dialect::SimFirmware;
pub use fleet::{Fleet, FleetSpec, SiteSpec};
pub use miner::{Behaviour, SimMiner};
