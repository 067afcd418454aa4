//! Discovery: finds miners and GPU hosts, records them as resource events, polls their
//! health, and serves the inventory.
//!
//! - [`scan`]: probe address ranges concurrently; identify firmware and model.
//! - [`identify`]: a found miner's resource id and stock specification.
//! - [`poller`] and [`health`]: health polling with flap damping; events only on change.
//! - [`agents`]: GPU host agents' registration, heartbeats and loss.
//! - [`recorder`]: commands decided by the domain, appended with expected versions.
//! - [`inventory`]: the projection of resource events plus telemetry; [`summary`]: each
//!   device's readings folded into one `telemetry.summarized` per market interval;
//!   [`samples`]: the raw readings of the last 24 hours, for charts; [`listing`]: pages of
//!   it, searched and ordered.
//! - [`grpc`]: the Inventory and Agents APIs; [`metrics`]: the fleet's gauges.
//! - [`service`]: all of it running.

#![forbid(unsafe_code)]

pub mod agents;
pub mod clock;
pub mod config;
pub mod grpc;
pub mod health;
pub mod identify;
pub mod inventory;
pub mod listing;
pub mod metrics;
pub mod poller;
pub mod recorder;
pub mod samples;
pub mod scan;
pub mod service;
pub mod summary;

pub use config::{DiscoveryConfig, ScanTarget};
pub use inventory::Inventory;
pub use service::Discovery;
