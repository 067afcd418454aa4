//! The workload's state and how each event changes it (no logic: that is in decide).

use super::{WorkloadEvent, WorkloadSpec};
use crate::aggregate::Aggregate;
use crate::ids::{ResourceId, WorkloadId};
use crate::units::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a workload is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum WorkloadStatus {
    /// Nothing has happened yet (the stream is empty).
    #[default]
    New,
    /// Accepted, not yet admitted to the queue.
    Submitted,
    /// Waiting for placement.
    Queued,
    /// Placed on resources, not yet dispatched.
    Scheduled,
    /// Dispatched; waiting for telemetry to confirm it runs.
    Starting,
    /// Confirmed running.
    Running,
    /// Suspended on its resources.
    Paused,
    /// Taken off its resources for higher-value work; goes back to the queue.
    Preempted,
    /// Moving to other resources.
    Migrating,
    /// Finished successfully (terminal).
    Completed,
    /// Ended with an error (terminal).
    Failed,
    /// Withdrawn (terminal).
    Cancelled,
}

impl WorkloadStatus {
    /// Whether nothing more can happen.
    pub const fn is_terminal(self) -> bool {
        matches!(self, WorkloadStatus::Completed | WorkloadStatus::Failed | WorkloadStatus::Cancelled)
    }

    /// Whether the workload holds resources in this status.
    pub const fn holds_resources(self) -> bool {
        matches!(
            self,
            WorkloadStatus::Scheduled
                | WorkloadStatus::Starting
                | WorkloadStatus::Running
                | WorkloadStatus::Paused
                | WorkloadStatus::Migrating
        )
    }
}

impl fmt::Display for WorkloadStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            WorkloadStatus::New => "new",
            WorkloadStatus::Submitted => "submitted",
            WorkloadStatus::Queued => "queued",
            WorkloadStatus::Scheduled => "scheduled",
            WorkloadStatus::Starting => "starting",
            WorkloadStatus::Running => "running",
            WorkloadStatus::Paused => "paused",
            WorkloadStatus::Preempted => "preempted",
            WorkloadStatus::Migrating => "migrating",
            WorkloadStatus::Completed => "completed",
            WorkloadStatus::Failed => "failed",
            WorkloadStatus::Cancelled => "cancelled",
        };
        f.write_str(s)
    }
}

/// A workload as its events leave it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Workload {
    /// Its id (set by `Submitted`).
    pub id: Option<WorkloadId>,
    /// What was asked for (set by `Submitted`).
    pub spec: Option<WorkloadSpec>,
    /// Where it is in its life.
    pub status: WorkloadStatus,
    /// The resources it holds (empty unless `status.holds_resources()`).
    pub resources: Vec<ResourceId>,
    /// Where a migration is taking it (only while migrating).
    pub migration_target: Vec<ResourceId>,
    /// How many times it has been queued (1 on first admission).
    pub attempts: u32,
    /// Why it failed, was cancelled, paused or preempted last.
    pub reason: Option<String>,
    /// How much of its run is saved (its last checkpoint; 0 after a preemption without one).
    pub progress: std::time::Duration,
    /// Where it serves (realtime inference), as its agent reported at its start.
    pub endpoint: Option<String>,
    /// When it was submitted.
    pub submitted_at: Timestamp,
    /// When its last event happened.
    pub updated_at: Timestamp,
    /// How many events it has (its stream version).
    pub version: u64,
}

impl Aggregate for Workload {
    type Command = super::WorkloadCommand;
    type Event = WorkloadEvent;
    type Error = super::WorkloadError;

    fn decide(&self, command: Self::Command) -> Result<Vec<WorkloadEvent>, Self::Error> {
        super::decide::decide(self, command)
    }

    fn evolve(mut self, event: &WorkloadEvent) -> Self {
        use WorkloadEvent as E;
        self.version += 1;
        self.updated_at = event.at();
        match event {
            E::Submitted { id, spec, at } => {
                self.id = Some(*id);
                self.spec = Some(spec.clone());
                self.submitted_at = *at;
                self.status = WorkloadStatus::Submitted;
            }
            E::Queued { attempt, .. } => {
                self.attempts = *attempt;
                self.status = WorkloadStatus::Queued;
            }
            E::Scheduled { resources, .. } => {
                self.resources = resources.clone();
                self.status = WorkloadStatus::Scheduled;
            }
            E::Starting { .. } => self.status = WorkloadStatus::Starting,
            E::Started { endpoint, .. } => {
                self.endpoint = endpoint.clone();
                self.status = WorkloadStatus::Running;
            }
            E::Checkpointed { progress, .. } => self.progress = *progress,
            E::Resumed { .. } => self.status = WorkloadStatus::Running,
            E::Paused { reason, .. } => {
                self.reason = Some(reason.clone());
                self.status = WorkloadStatus::Paused;
            }
            E::Preempted { reason, .. } => {
                self.reason = Some(reason.clone());
                self.endpoint = None;
                if !self.spec.as_ref().is_some_and(|s| s.run.checkpointing) {
                    self.progress = std::time::Duration::ZERO;
                }
                self.resources.clear();
                self.migration_target.clear();
                self.status = WorkloadStatus::Preempted;
            }
            E::MigrationStarted { to, .. } => {
                self.migration_target = to.clone();
                self.status = WorkloadStatus::Migrating;
            }
            E::Migrated { to, .. } => {
                self.resources = to.clone();
                self.migration_target.clear();
                self.status = WorkloadStatus::Running;
            }
            E::Completed { .. } => {
                self.resources.clear();
                self.status = WorkloadStatus::Completed;
            }
            E::Failed { reason, .. } | E::Cancelled { reason, .. } => {
                self.reason = Some(reason.clone());
                self.resources.clear();
                self.migration_target.clear();
                self.status =
                    if matches!(event, E::Failed { .. }) { WorkloadStatus::Failed } else { WorkloadStatus::Cancelled };
            }
        }
        self
    }
}
