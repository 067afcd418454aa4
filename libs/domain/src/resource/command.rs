//! What may be asked of a device.

use super::{Health, Mode, ResourceSpec};
use crate::ids::{ResourceId, WorkloadId};
use crate::units::Timestamp;
use std::fmt;

/// A request to change a resource.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)] // the fields say what they are
pub enum ResourceCommand {
    /// Discovery found a device.
    Register { id: ResourceId, spec: ResourceSpec, at: Timestamp },
    /// The optimizer or an operator moves it to a mode.
    SetMode { mode: Mode, at: Timestamp },
    /// Health polling observed a health (healthy, degraded or offline).
    ReportHealth { health: Health, reason: String, at: Timestamp },
    /// Placement gives it to a workload.
    Assign { workload: WorkloadId, at: Timestamp },
    /// The workload let go of it.
    Release { workload: WorkloadId, at: Timestamp },
    /// An operator takes it out of service.
    Retire { reason: String, at: Timestamp },
}

/// A command's name without its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum ResourceCommandKind {
    Register,
    SetMode,
    ReportHealth,
    Assign,
    Release,
    Retire,
}

impl ResourceCommand {
    /// The command's name.
    pub fn kind(&self) -> ResourceCommandKind {
        match self {
            ResourceCommand::Register { .. } => ResourceCommandKind::Register,
            ResourceCommand::SetMode { .. } => ResourceCommandKind::SetMode,
            ResourceCommand::ReportHealth { .. } => ResourceCommandKind::ReportHealth,
            ResourceCommand::Assign { .. } => ResourceCommandKind::Assign,
            ResourceCommand::Release { .. } => ResourceCommandKind::Release,
            ResourceCommand::Retire { .. } => ResourceCommandKind::Retire,
        }
    }
}

impl fmt::Display for ResourceCommandKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResourceCommandKind::Register => "register",
            ResourceCommandKind::SetMode => "change the mode of",
            ResourceCommandKind::ReportHealth => "report the health of",
            ResourceCommandKind::Assign => "assign",
            ResourceCommandKind::Release => "release",
            ResourceCommandKind::Retire => "retire",
        })
    }
}
