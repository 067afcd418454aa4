//! All of the workload's rules: which command is allowed in which status, and
//! which events it produces.

use super::{Workload, WorkloadCommand, WorkloadError, WorkloadEvent, WorkloadStatus};
use crate::ids::ResourceId;
use std::collections::HashSet;

type Decision = Result<Vec<WorkloadEvent>, WorkloadError>;

pub(super) fn decide(w: &Workload, command: WorkloadCommand) -> Decision {
    use WorkloadCommand as C;
    use WorkloadEvent as E;
    use WorkloadStatus as S;

    let kind = command.kind();
    let refuse = || Err(WorkloadError::InvalidTransition { command: kind, status: w.status });

    if w.status == S::New && !matches!(command, C::Submit { .. }) {
        return Err(WorkloadError::NotFound);
    }

    match command {
        C::Submit { id, spec, at } => {
            if let Some(existing) = w.id {
                return Err(WorkloadError::AlreadyExists(existing));
            }
            spec.validate()?;
            Ok(vec![E::Submitted { id, spec, at }])
        }
        C::Queue { at } => match w.status {
            S::Submitted | S::Preempted => Ok(vec![E::Queued { attempt: w.attempts + 1, at }]),
            _ => refuse(),
        },
        C::Schedule { resources, at } => match w.status {
            S::Queued => {
                check_resources(w, &resources)?;
                Ok(vec![E::Scheduled { resources, at }])
            }
            _ => refuse(),
        },
        C::Start { at } => match w.status {
            S::Scheduled => Ok(vec![E::Starting { at }]),
            _ => refuse(),
        },
        C::ConfirmStarted { endpoint, at } => match w.status {
            S::Starting => Ok(vec![E::Started { endpoint, at }]),
            _ => refuse(),
        },
        C::Checkpoint { progress, at } => match w.status {
            // A checkpoint that saves nothing new is not news.
            S::Running | S::Paused if progress <= w.progress => Ok(vec![]),
            S::Running | S::Paused => Ok(vec![E::Checkpointed { progress, at }]),
            _ => refuse(),
        },
        C::Pause { reason, at } => match w.status {
            S::Running => Ok(vec![E::Paused { reason: required(reason, kind)?, at }]),
            _ => refuse(),
        },
        C::Resume { at } => match w.status {
            S::Paused => Ok(vec![E::Resumed { at }]),
            _ => refuse(),
        },
        C::Preempt { reason, at } => match w.status {
            S::Scheduled | S::Starting | S::Running | S::Paused | S::Migrating => {
                Ok(vec![E::Preempted { reason: required(reason, kind)?, at }])
            }
            _ => refuse(),
        },
        C::Migrate { to, at } => match w.status {
            S::Running => {
                check_resources(w, &to)?;
                if same_set(&to, &w.resources) {
                    return Err(WorkloadError::MigrationToSameResources);
                }
                Ok(vec![E::MigrationStarted { to, at }])
            }
            _ => refuse(),
        },
        C::ConfirmMigrated { at } => match w.status {
            S::Migrating => Ok(vec![E::Migrated { from: w.resources.clone(), to: w.migration_target.clone(), at }]),
            _ => refuse(),
        },
        C::Complete { at } => match w.status {
            S::Running => Ok(vec![E::Completed { at }]),
            _ => refuse(),
        },
        C::Fail { reason, at } => match w.status {
            // A preempted workload fails when its retry budget is spent.
            S::Scheduled | S::Starting | S::Running | S::Paused | S::Migrating | S::Preempted => {
                Ok(vec![E::Failed { reason: required(reason, kind)?, at }])
            }
            _ => refuse(),
        },
        C::Cancel { reason, at } => match w.status {
            s if s.is_terminal() => refuse(),
            _ => Ok(vec![E::Cancelled { reason: required(reason, kind)?, at }]),
        },
    }
}

fn required(reason: String, kind: super::WorkloadCommandKind) -> Result<String, WorkloadError> {
    if reason.trim().is_empty() { Err(WorkloadError::ReasonRequired(kind)) } else { Ok(reason) }
}

fn check_resources(w: &Workload, resources: &[ResourceId]) -> Result<(), WorkloadError> {
    let needed = w.spec.as_ref().map_or(0, |s| s.gpu_count);
    if resources.len() != needed as usize {
        return Err(WorkloadError::WrongResourceCount { needed, got: resources.len() });
    }
    let mut seen = HashSet::with_capacity(resources.len());
    for r in resources {
        if !seen.insert(r) {
            return Err(WorkloadError::DuplicateResource(r.clone()));
        }
    }
    Ok(())
}

fn same_set(a: &[ResourceId], b: &[ResourceId]) -> bool {
    a.len() == b.len() && a.iter().collect::<HashSet<_>>() == b.iter().collect::<HashSet<_>>()
}
