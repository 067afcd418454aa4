//! The resource aggregate: one device (an ASIC miner or a GPU) at a site.
//!
//! A resource has a kind (fixed at registration), a mode (idle, mining, serving AI,
//! curtailed), a health (healthy, degraded, offline, retired) and at most one
//! workload assigned. Mining is only for ASICs and serving AI only for GPUs;
//! retired is terminal. Its stream is `resource-<id>`.

mod command;
mod decide;
mod error;
mod event;
mod state;
#[cfg(test)]
mod tests;

pub use command::{ResourceCommand, ResourceCommandKind};
pub use error::ResourceError;
pub use event::ResourceEvent;
pub use state::{Health, Mode, Resource, ResourceKind, ResourceSpec};
