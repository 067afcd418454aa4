//! Why a workload command was refused.

use super::{WorkloadCommandKind, WorkloadStatus};
use crate::ids::{ResourceId, WorkloadId};

/// A refused workload command. Every invalid transition is one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkloadError {
    /// `Submit` on a workload that exists.
    #[error("workload {0} already exists")]
    AlreadyExists(WorkloadId),
    /// A command other than `Submit` on an empty stream.
    #[error("workload does not exist")]
    NotFound,
    /// The command is not allowed in the current status.
    #[error("cannot {command} a workload that is {status}")]
    InvalidTransition {
        /// What was asked.
        command: WorkloadCommandKind,
        /// Where the workload is.
        status: WorkloadStatus,
    },
    /// A spec field is out of bounds.
    #[error("invalid workload spec: {field}: {reason}")]
    InvalidSpec {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Scheduling or migrating needs as many resources as the spec's GPU count.
    #[error("the workload needs {needed} resources, got {got}")]
    WrongResourceCount {
        /// GPUs in the spec.
        needed: u32,
        /// Resources given.
        got: usize,
    },
    /// The same resource was named twice.
    #[error("resource {0} is named more than once")]
    DuplicateResource(ResourceId),
    /// Migrating to the resources it already runs on.
    #[error("the workload already runs on these resources")]
    MigrationToSameResources,
    /// A reason was required and not given.
    #[error("a reason is required to {0}")]
    ReasonRequired(WorkloadCommandKind),
}
