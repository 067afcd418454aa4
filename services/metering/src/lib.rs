//! Metering on the service runtime (issue 14, first step): a durable reactor that turns
//! workloads' lifecycles into usage records (`usage.recorded` on `usage-<tenant>`) as
//! each billed span closes, through the pure metering core (`hcp-billing`).
//!
//! Exactly once: the reactor resumes from its checkpoint after a crash, and a record's
//! event id derives from the lifecycle event that closed its span, so handling that
//! event again appends nothing new. A tenant's usage is always what a recomputation from
//! the workloads' streams gives.

#![forbid(unsafe_code)]

pub mod recorder;

pub use recorder::{USAGE_RECORDED, UsageRecorder, usage_stream};

use hcp_eventstore::EventStore;
use hcp_runtime::host::ReactorWatch;
use hcp_runtime::{Durability, Host};
use std::sync::Arc;

/// The reactor's durable consumer name.
pub const CONSUMER: &str = "metering-usage";

/// Starts metering in `host`: the usage recorder, from its checkpoint.
pub fn start<S: EventStore>(host: &Arc<Host<S>>) -> ReactorWatch {
    host.reactor("metering", Arc::new(UsageRecorder::new(Arc::clone(&host.store))), Durability::Checkpointed)
}
