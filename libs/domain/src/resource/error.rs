//! Why a resource command was refused.

use super::{Health, Mode, ResourceCommandKind};
use crate::ids::{ResourceId, WorkloadId};

/// A refused resource command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResourceError {
    /// `Register` on a registered resource.
    #[error("resource {0} is already registered")]
    AlreadyRegistered(ResourceId),
    /// A command other than `Register` on an empty stream.
    #[error("resource is not registered")]
    NotRegistered,
    /// Retired is terminal.
    #[error("cannot {0} a retired resource")]
    Retired(ResourceCommandKind),
    /// Mining on a GPU, serving AI on an ASIC.
    #[error("a {kind} cannot be {mode}")]
    ModeNotSupported {
        /// `ASIC miner` or `GPU`.
        kind: &'static str,
        /// The refused mode.
        mode: Mode,
    },
    /// Working modes and assignments need a device that answers.
    #[error("cannot {command} a resource that is {health}")]
    Unhealthy {
        /// What was asked.
        command: ResourceCommandKind,
        /// Its health.
        health: Health,
    },
    /// Health reports are healthy, degraded or offline; retiring is its own command.
    #[error("health {0} cannot be reported; retire the resource instead")]
    HealthNotReportable(Health),
    /// Only GPUs serve workloads.
    #[error("only GPUs can be assigned workloads")]
    NotAGpu,
    /// Assignments need the GPU in serving-AI mode.
    #[error("cannot assign a workload to a GPU that is {0}")]
    NotServing(Mode),
    /// A GPU serves one workload at a time.
    #[error("the resource is assigned to workload {0}")]
    AssignedTo(WorkloadId),
    /// Releasing a workload that is not the one assigned.
    #[error("workload {0} is not assigned to this resource")]
    NotAssignedTo(WorkloadId),
    /// A spec field is out of bounds.
    #[error("invalid resource spec: {field}: {reason}")]
    InvalidSpec {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A reason was required and not given.
    #[error("a reason is required to {0}")]
    ReasonRequired(ResourceCommandKind),
}
