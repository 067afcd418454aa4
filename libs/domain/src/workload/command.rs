//! What may be asked of a workload. Every command carries the time it is decided at.

use super::WorkloadSpec;
use crate::ids::{ResourceId, WorkloadId};
use crate::units::Timestamp;
use std::fmt;

/// A request to change a workload.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)] // the fields say what they are
pub enum WorkloadCommand {
    /// A customer submits work.
    Submit {
        id: WorkloadId,
        spec: WorkloadSpec,
        at: Timestamp,
    },
    /// Admission puts it in the queue (first time, or again after preemption).
    Queue {
        at: Timestamp,
    },
    /// Placement chose these resources.
    Schedule {
        resources: Vec<ResourceId>,
        at: Timestamp,
    },
    /// Execution dispatched it to its resources.
    Start {
        at: Timestamp,
    },
    /// Its agent confirms it runs (and where it serves, for realtime inference).
    ConfirmStarted {
        endpoint: Option<String>,
        at: Timestamp,
    },
    /// Its agent reports a checkpoint: this much of its run is saved.
    Checkpoint {
        progress: std::time::Duration,
        at: Timestamp,
    },
    Pause {
        reason: String,
        at: Timestamp,
    },
    Resume {
        at: Timestamp,
    },
    /// Higher-value work takes its resources.
    Preempt {
        reason: String,
        at: Timestamp,
    },
    /// Move a running workload to other resources.
    Migrate {
        to: Vec<ResourceId>,
        at: Timestamp,
    },
    /// Telemetry confirms it runs on the new resources.
    ConfirmMigrated {
        at: Timestamp,
    },
    Complete {
        at: Timestamp,
    },
    Fail {
        reason: String,
        at: Timestamp,
    },
    Cancel {
        reason: String,
        at: Timestamp,
    },
}

/// A command's name without its data, for errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum WorkloadCommandKind {
    Submit,
    Queue,
    Schedule,
    Start,
    ConfirmStarted,
    Checkpoint,
    Pause,
    Resume,
    Preempt,
    Migrate,
    ConfirmMigrated,
    Complete,
    Fail,
    Cancel,
}

impl WorkloadCommand {
    /// The command's name.
    pub fn kind(&self) -> WorkloadCommandKind {
        use WorkloadCommand as C;
        use WorkloadCommandKind as K;
        match self {
            C::Submit { .. } => K::Submit,
            C::Queue { .. } => K::Queue,
            C::Schedule { .. } => K::Schedule,
            C::Start { .. } => K::Start,
            C::ConfirmStarted { .. } => K::ConfirmStarted,
            C::Checkpoint { .. } => K::Checkpoint,
            C::Pause { .. } => K::Pause,
            C::Resume { .. } => K::Resume,
            C::Preempt { .. } => K::Preempt,
            C::Migrate { .. } => K::Migrate,
            C::ConfirmMigrated { .. } => K::ConfirmMigrated,
            C::Complete { .. } => K::Complete,
            C::Fail { .. } => K::Fail,
            C::Cancel { .. } => K::Cancel,
        }
    }
}

impl fmt::Display for WorkloadCommandKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            WorkloadCommandKind::Submit => "submit",
            WorkloadCommandKind::Queue => "queue",
            WorkloadCommandKind::Schedule => "schedule",
            WorkloadCommandKind::Start => "start",
            WorkloadCommandKind::ConfirmStarted => "confirm the start of",
            WorkloadCommandKind::Checkpoint => "checkpoint",
            WorkloadCommandKind::Pause => "pause",
            WorkloadCommandKind::Resume => "resume",
            WorkloadCommandKind::Preempt => "preempt",
            WorkloadCommandKind::Migrate => "migrate",
            WorkloadCommandKind::ConfirmMigrated => "confirm the migration of",
            WorkloadCommandKind::Complete => "complete",
            WorkloadCommandKind::Fail => "fail",
            WorkloadCommandKind::Cancel => "cancel",
        };
        f.write_str(s)
    }
}
