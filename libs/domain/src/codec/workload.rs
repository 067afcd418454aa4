//! Workload events <-> `hcp.v1.Workload*` messages.

use super::{CodecError, decode_as, invalid, resource_ids, resource_strings};
use crate::ids::{SiteId, TenantId, WorkloadId};
use crate::units::Timestamp;
use crate::workload::{GpuModel, Locality, Priority, RunSpec, WorkloadEvent, WorkloadKind, WorkloadSpec};
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
        E::Started { endpoint, .. } => {
            pb::WorkloadStarted { endpoint: endpoint.clone().unwrap_or_default() }.encode_to_vec()
        }
        E::Checkpointed { progress, .. } => pb::WorkloadCheckpointed { progress_ms: millis(*progress) }.encode_to_vec(),
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
        "workload.started" => {
            let endpoint = decode_as::<pb::WorkloadStarted>(t, payload)?.endpoint;
            E::Started { endpoint: (!endpoint.is_empty()).then_some(endpoint), at }
        }
        "workload.checkpointed" => {
            let m: pb::WorkloadCheckpointed = decode_as(t, payload)?;
            E::Checkpointed { progress: Duration::from_millis(m.progress_ms), at }
        }
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
pub fn kind_to_pb(kind: WorkloadKind) -> pb::WorkloadKind {
    match kind {
        WorkloadKind::RealtimeInference => pb::WorkloadKind::RealtimeInference,
        WorkloadKind::BatchInference => pb::WorkloadKind::BatchInference,
        WorkloadKind::Training => pb::WorkloadKind::Training,
    }
}

/// A message's workload kind, or an error naming the field.
pub fn kind_from_pb(t: &str, field: &'static str, kind: i32) -> Result<WorkloadKind, CodecError> {
    match pb::WorkloadKind::try_from(kind) {
        Ok(pb::WorkloadKind::RealtimeInference) => Ok(WorkloadKind::RealtimeInference),
        Ok(pb::WorkloadKind::BatchInference) => Ok(WorkloadKind::BatchInference),
        Ok(pb::WorkloadKind::Training) => Ok(WorkloadKind::Training),
        _ => Err(invalid(t, field, format!("{kind} is not a workload kind"))),
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn locality_to_pb(l: Locality) -> pb::Locality {
    match l {
        Locality::Any => pb::Locality::Any,
        Locality::Rack => pb::Locality::Rack,
        Locality::Host => pb::Locality::Host,
    }
}

/// A spec as its message (also what execution sends an agent).
pub fn spec_to_pb(s: &WorkloadSpec) -> pb::WorkloadSpec {
    pb::WorkloadSpec {
        tenant: s.tenant.as_str().to_owned(),
        kind: kind_to_pb(s.kind) as i32,
        gpu_model: s.gpu_model.as_str().to_owned(),
        gpu_count: s.gpu_count,
        memory_mib: s.memory_mib,
        max_latency_ms: s.max_latency.map_or(0, millis),
        priority: u32::from(s.priority.get()),
        image: s.run.image.clone(),
        command: s.run.command.clone(),
        env: s.run.env.clone().into_iter().collect(),
        max_run_time_seconds: s.run.max_run_time.as_secs(),
        preemptible: Some(s.preemptible),
        checkpointing: s.run.checkpointing,
        port: s.run.port.map_or(0, u32::from),
        site: s.site.as_ref().map(|x| x.as_str().to_owned()).unwrap_or_default(),
        locality: locality_to_pb(s.locality) as i32,
    }
}

/// A workload's state as its view (no pending reason: that is routing's queue's to give).
pub fn workload_to_pb(w: &crate::workload::Workload) -> pb::WorkloadView {
    pb::WorkloadView {
        workload_id: w.id.map(|i| i.to_string()).unwrap_or_default(),
        spec: w.spec.as_ref().map(spec_to_pb),
        status: w.status.to_string(),
        resources: w.resources.iter().map(|r| r.as_str().to_owned()).collect(),
        version: w.version,
        attempts: w.attempts,
        reason: w.reason.clone().unwrap_or_default(),
        endpoint: w.endpoint.clone().unwrap_or_default(),
        progress_ms: millis(w.progress),
        submitted_unix_micros: w.submitted_at.unix_micros(),
        updated_unix_micros: w.updated_at.unix_micros(),
        pending: None,
    }
}

/// Converts and validates a proto spec (also used for requests: errors name the field).
/// An unset `preemptible` takes the class's default: realtime inference is not
/// preemptible, the others are.
pub fn spec_from_pb(t: &str, s: pb::WorkloadSpec) -> Result<WorkloadSpec, CodecError> {
    let kind = kind_from_pb(t, "kind", s.kind)?;
    let locality = match pb::Locality::try_from(s.locality) {
        Ok(pb::Locality::Any) => Locality::Any,
        Ok(pb::Locality::Rack) => Locality::Rack,
        Ok(pb::Locality::Host) => Locality::Host,
        Err(_) => return Err(invalid(t, "locality", format!("{} is not a locality", s.locality))),
    };
    let port = match s.port {
        0 => None,
        p => Some(u16::try_from(p).map_err(|_| invalid(t, "port", format!("{p} is not a port (1-65535)")))?),
    };
    let spec = WorkloadSpec {
        tenant: TenantId::new(s.tenant).map_err(|e| invalid(t, "tenant", e))?,
        kind,
        gpu_model: GpuModel::new(s.gpu_model).map_err(|e| invalid(t, "gpu_model", e))?,
        gpu_count: s.gpu_count,
        memory_mib: s.memory_mib,
        max_latency: (s.max_latency_ms > 0).then(|| Duration::from_millis(s.max_latency_ms)),
        priority: Priority::new(s.priority).map_err(|e| invalid(t, "priority", e))?,
        preemptible: s.preemptible.unwrap_or(kind != WorkloadKind::RealtimeInference),
        site: match s.site.as_str() {
            "" => None,
            site => Some(SiteId::new(site).map_err(|e| invalid(t, "site", e))?),
        },
        locality,
        run: RunSpec {
            image: s.image,
            command: s.command,
            env: s.env.into_iter().collect(),
            max_run_time: Duration::from_secs(s.max_run_time_seconds),
            checkpointing: s.checkpointing,
            port,
        },
    };
    spec.validate().map_err(|e| match e {
        crate::workload::WorkloadError::InvalidSpec { field, reason } => invalid(t, field, reason),
        other => invalid(t, "spec", other),
    })?;
    Ok(spec)
}
