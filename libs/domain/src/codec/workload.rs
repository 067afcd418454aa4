//! Workload events <-> `hcp.v1.Workload*` messages.

use super::{CodecError, decode_as, invalid, resource_ids, resource_strings};
use crate::ids::{TenantId, WorkloadId};
use crate::units::Timestamp;
use crate::workload::{GpuModel, Priority, WorkloadEvent, WorkloadKind, WorkloadSpec};
use hcp_proto::v1 as pb;
use prost::Message;
use std::time::Duration;

/// Encodes an event as (type, payload). The instant travels in the envelope.
pub fn encode_workload_event(event: &WorkloadEvent) -> (&'static str, Vec<u8>) {
    use WorkloadEvent as E;
    let bytes = match event {
        E::Submitted { id, spec, .. } => {
            pb::WorkloadSubmitted { workload_id: id.to_string(), spec: Some(spec_to_pb(spec)) }.encode_to_vec()
        }
        E::Queued { attempt, .. } => pb::WorkloadQueued { attempt: *attempt }.encode_to_vec(),
        E::Scheduled { resources, .. } => {
            pb::WorkloadScheduled { resources: resource_strings(resources) }.encode_to_vec()
        }
        E::Starting { .. } => pb::WorkloadStarting {}.encode_to_vec(),
        E::Started { .. } => pb::WorkloadStarted {}.encode_to_vec(),
        E::Paused { reason, .. } => pb::WorkloadPaused { reason: reason.clone() }.encode_to_vec(),
        E::Resumed { .. } => pb::WorkloadResumed {}.encode_to_vec(),
        E::Preempted { reason, .. } => pb::WorkloadPreempted { reason: reason.clone() }.encode_to_vec(),
        E::MigrationStarted { to, .. } => pb::WorkloadMigrationStarted { to: resource_strings(to) }.encode_to_vec(),
        E::Migrated { from, to, .. } => {
            pb::WorkloadMigrated { from: resource_strings(from), to: resource_strings(to) }.encode_to_vec()
        }
        E::Completed { .. } => pb::WorkloadCompleted {}.encode_to_vec(),
        E::Failed { reason, .. } => pb::WorkloadFailed { reason: reason.clone() }.encode_to_vec(),
        E::Cancelled { reason, .. } => pb::WorkloadCancelled { reason: reason.clone() }.encode_to_vec(),
    };
    (event.event_type(), bytes)
}

/// Decodes a stored workload event; `at` comes from the envelope.
pub fn decode_workload_event(event_type: &str, payload: &[u8], at: Timestamp) -> Result<WorkloadEvent, CodecError> {
    use WorkloadEvent as E;
    let t = event_type;
    Ok(match event_type {
        "workload.submitted" => {
            let m: pb::WorkloadSubmitted = decode_as(t, payload)?;
            let id = WorkloadId::parse(&m.workload_id).map_err(|e| invalid(t, "workload_id", e))?;
            let spec = m.spec.ok_or_else(|| invalid(t, "spec", "missing"))?;
            E::Submitted { id, spec: spec_from_pb(t, spec)?, at }
        }
        "workload.queued" => E::Queued { attempt: decode_as::<pb::WorkloadQueued>(t, payload)?.attempt, at },
        "workload.scheduled" => {
            let m: pb::WorkloadScheduled = decode_as(t, payload)?;
            E::Scheduled { resources: resource_ids(t, "resources", m.resources)?, at }
        }
        "workload.starting" => E::Starting { at },
        "workload.started" => E::Started { at },
        "workload.paused" => E::Paused { reason: decode_as::<pb::WorkloadPaused>(t, payload)?.reason, at },
        "workload.resumed" => E::Resumed { at },
        "workload.preempted" => E::Preempted { reason: decode_as::<pb::WorkloadPreempted>(t, payload)?.reason, at },
        "workload.migration_started" => {
            let m: pb::WorkloadMigrationStarted = decode_as(t, payload)?;
            E::MigrationStarted { to: resource_ids(t, "to", m.to)?, at }
        }
        "workload.migrated" => {
            let m: pb::WorkloadMigrated = decode_as(t, payload)?;
            E::Migrated { from: resource_ids(t, "from", m.from)?, to: resource_ids(t, "to", m.to)?, at }
        }
        "workload.completed" => E::Completed { at },
        "workload.failed" => E::Failed { reason: decode_as::<pb::WorkloadFailed>(t, payload)?.reason, at },
        "workload.cancelled" => E::Cancelled { reason: decode_as::<pb::WorkloadCancelled>(t, payload)?.reason, at },
        other => return Err(CodecError::UnknownType(other.to_owned())),
    })
}

/// A workload kind as its message enum.
pub(crate) fn kind_to_pb(kind: WorkloadKind) -> pb::WorkloadKind {
    match kind {
        WorkloadKind::RealtimeInference => pb::WorkloadKind::RealtimeInference,
        WorkloadKind::BatchInference => pb::WorkloadKind::BatchInference,
        WorkloadKind::Training => pb::WorkloadKind::Training,
    }
}

/// A message's workload kind, or an error naming the field.
pub(crate) fn kind_from_pb(t: &str, field: &'static str, kind: i32) -> Result<WorkloadKind, CodecError> {
    match pb::WorkloadKind::try_from(kind) {
        Ok(pb::WorkloadKind::RealtimeInference) => Ok(WorkloadKind::RealtimeInference),
        Ok(pb::WorkloadKind::BatchInference) => Ok(WorkloadKind::BatchInference),
        Ok(pb::WorkloadKind::Training) => Ok(WorkloadKind::Training),
        _ => Err(invalid(t, field, format!("{kind} is not a workload kind"))),
    }
}

fn spec_to_pb(s: &WorkloadSpec) -> pb::WorkloadSpec {
    pb::WorkloadSpec {
        tenant: s.tenant.as_str().to_owned(),
        kind: kind_to_pb(s.kind) as i32,
        gpu_model: s.gpu_model.as_str().to_owned(),
        gpu_count: s.gpu_count,
        memory_mib: s.memory_mib,
        max_latency_ms: s.max_latency.map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        priority: u32::from(s.priority.get()),
    }
}

/// Converts and validates a proto spec (also used by the gateway for requests).
pub fn spec_from_pb(t: &str, s: pb::WorkloadSpec) -> Result<WorkloadSpec, CodecError> {
    let kind = kind_from_pb(t, "kind", s.kind)?;
    let spec = WorkloadSpec {
        tenant: TenantId::new(s.tenant).map_err(|e| invalid(t, "tenant", e))?,
        kind,
        gpu_model: GpuModel::new(s.gpu_model).map_err(|e| invalid(t, "gpu_model", e))?,
        gpu_count: s.gpu_count,
        memory_mib: s.memory_mib,
        max_latency: (s.max_latency_ms > 0).then(|| Duration::from_millis(s.max_latency_ms)),
        priority: Priority::new(s.priority).map_err(|e| invalid(t, "priority", e))?,
    };
    spec.validate().map_err(|e| invalid(t, "spec", e))?;
    Ok(spec)
}
