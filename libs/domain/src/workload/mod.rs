//! The workload aggregate: a customer's AI job from submission to its end.
//!
//! ```text
//! submitted -> queued -> scheduled -> starting -> running <-> paused
//!                ^            |           |         |  \
//!                +-- preempted <----------+---------+   migrating -> running
//! any live state -> failed | cancelled;  running -> completed
//! ```
//! The lifecycle is the fold of the workload's stream (`workload-<uuid>`).

mod command;
mod decide;
mod error;
mod event;
mod spec;
mod state;
#[cfg(test)]
mod tests;

pub use command::{WorkloadCommand, WorkloadCommandKind};
pub use error::WorkloadError;
pub use event::WorkloadEvent;
pub use spec::{GpuModel, Locality, MAX_RUN_TIME, Priority, RunSpec, WorkloadKind, WorkloadSpec};
pub use state::{Workload, WorkloadStatus};
