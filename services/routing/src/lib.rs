//! Routing: customers' workloads from submission to placement.
//!
//! - [`admission`]: a submit checked field by field, against its tenant's grants and
//!   against the fleet (a spec no site could ever run is refused at once), with an id
//!   derived from the idempotency key.
//! - [`board`], [`view`]: workloads, GPUs, tenants and cordons folded from the log.
//! - [`scheduler`]: each cycle, the placement core's decision recorded as events
//!   (`workload.scheduled`, `workload.preempted`), the preempted re-queued within their
//!   retry budget, draining hosts emptied of preemptible work.
//! - [`routing`]: the operations, through the runtime's repository.
//! - [`grpc`]: the Workloads, Tenants and Hosts APIs; [`metrics`]: workloads by status and pending reason.
//!
//! A workload's state is the fold of its stream; routing writes the intake and placement
//! events, execution (services/execution) the start, progress and end of each run.

#![forbid(unsafe_code)]

pub mod admission;
pub mod board;
pub mod grpc;
pub mod metrics;
pub mod routing;
pub mod scheduler;
mod start;
pub mod view;

pub use routing::{Routing, RoutingError};
pub use start::start;
