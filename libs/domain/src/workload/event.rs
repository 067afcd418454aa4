//! What happens to a workload, in the past tense.

use super::WorkloadSpec;
use crate::ids::{ResourceId, WorkloadId};
use crate::units::Timestamp;
use serde::{Deserialize, Serialize};

/// A fact about a workload. Each carries the instant it happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)] // the fields say what they are
pub enum WorkloadEvent {
    Submitted { id: WorkloadId, spec: WorkloadSpec, at: Timestamp },
    Queued { attempt: u32, at: Timestamp },
    Scheduled { resources: Vec<ResourceId>, at: Timestamp },
    Starting { at: Timestamp },
    Started { endpoint: Option<String>, at: Timestamp },
    Checkpointed { progress: std::time::Duration, at: Timestamp },
    Paused { reason: String, at: Timestamp },
    Resumed { at: Timestamp },
    Preempted { reason: String, at: Timestamp },
    MigrationStarted { to: Vec<ResourceId>, at: Timestamp },
    Migrated { from: Vec<ResourceId>, to: Vec<ResourceId>, at: Timestamp },
    Completed { at: Timestamp },
    Failed { reason: String, at: Timestamp },
    Cancelled { reason: String, at: Timestamp },
}

impl WorkloadEvent {
    /// When it happened.
    pub fn at(&self) -> Timestamp {
        use WorkloadEvent as E;
        match self {
            E::Submitted { at, .. }
            | E::Queued { at, .. }
            | E::Scheduled { at, .. }
            | E::Starting { at }
            | E::Started { at, .. }
            | E::Checkpointed { at, .. }
            | E::Paused { at, .. }
            | E::Resumed { at }
            | E::Preempted { at, .. }
            | E::MigrationStarted { at, .. }
            | E::Migrated { at, .. }
            | E::Completed { at }
            | E::Failed { at, .. }
            | E::Cancelled { at, .. } => *at,
        }
    }

    /// The stored event type, e.g. `workload.submitted`.
    pub fn event_type(&self) -> &'static str {
        use WorkloadEvent as E;
        match self {
            E::Submitted { .. } => "workload.submitted",
            E::Queued { .. } => "workload.queued",
            E::Scheduled { .. } => "workload.scheduled",
            E::Starting { .. } => "workload.starting",
            E::Started { .. } => "workload.started",
            E::Checkpointed { .. } => "workload.checkpointed",
            E::Paused { .. } => "workload.paused",
            E::Resumed { .. } => "workload.resumed",
            E::Preempted { .. } => "workload.preempted",
            E::MigrationStarted { .. } => "workload.migration_started",
            E::Migrated { .. } => "workload.migrated",
            E::Completed { .. } => "workload.completed",
            E::Failed { .. } => "workload.failed",
            E::Cancelled { .. } => "workload.cancelled",
        }
    }
}
