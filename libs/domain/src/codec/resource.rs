//! Resource events <-> `hcp.v1.Resource*` messages.

use super::{CodecError, decode_as, invalid};
use crate::ids::{RackId, ResourceId, SiteId, WorkloadId};
use crate::resource::{Health, Mode, ResourceEvent, ResourceKind, ResourceSpec};
use crate::units::{Hashrate, Power, Timestamp};
use hcp_proto::v1 as pb;
use prost::Message;

/// Encodes an event as (type, payload). The instant travels in the envelope.
pub fn encode_resource_event(event: &ResourceEvent) -> (&'static str, Vec<u8>) {
    use ResourceEvent as E;
    let bytes = match event {
        E::Registered { id, spec, .. } => {
            pb::ResourceRegistered { resource_id: id.as_str().to_owned(), spec: Some(spec_to_pb(spec)) }.encode_to_vec()
        }
        E::ModeChanged { from, to, .. } => {
            pb::ResourceModeChanged { from: mode_to_pb(*from) as i32, to: mode_to_pb(*to) as i32 }.encode_to_vec()
        }
        E::HealthChanged { from, to, reason, .. } => pb::ResourceHealthChanged {
            from: health_to_pb(*from) as i32,
            to: health_to_pb(*to) as i32,
            reason: reason.clone(),
        }
        .encode_to_vec(),
        E::Assigned { workload, .. } => pb::ResourceAssigned { workload_id: workload.to_string() }.encode_to_vec(),
        E::Released { workload, .. } => pb::ResourceReleased { workload_id: workload.to_string() }.encode_to_vec(),
        E::Retired { reason, .. } => pb::ResourceRetired { reason: reason.clone() }.encode_to_vec(),
    };
    (event.event_type(), bytes)
}

/// Decodes a stored resource event; `at` comes from the envelope.
pub fn decode_resource_event(event_type: &str, payload: &[u8], at: Timestamp) -> Result<ResourceEvent, CodecError> {
    use ResourceEvent as E;
    let t = event_type;
    let workload = |s: &str| WorkloadId::parse(s).map_err(|e| invalid(t, "workload_id", e));
    Ok(match event_type {
        "resource.registered" => {
            let m: pb::ResourceRegistered = decode_as(t, payload)?;
            let id = ResourceId::new(m.resource_id).map_err(|e| invalid(t, "resource_id", e))?;
            let spec = m.spec.ok_or_else(|| invalid(t, "spec", "missing"))?;
            E::Registered { id, spec: spec_from_pb(t, spec)?, at }
        }
        "resource.mode_changed" => {
            let m: pb::ResourceModeChanged = decode_as(t, payload)?;
            E::ModeChanged { from: mode_from_pb(t, "from", m.from)?, to: mode_from_pb(t, "to", m.to)?, at }
        }
        "resource.health_changed" => {
            let m: pb::ResourceHealthChanged = decode_as(t, payload)?;
            E::HealthChanged {
                from: health_from_pb(t, "from", m.from)?,
                to: health_from_pb(t, "to", m.to)?,
                reason: m.reason,
                at,
            }
        }
        "resource.assigned" => {
            E::Assigned { workload: workload(&decode_as::<pb::ResourceAssigned>(t, payload)?.workload_id)?, at }
        }
        "resource.released" => {
            E::Released { workload: workload(&decode_as::<pb::ResourceReleased>(t, payload)?.workload_id)?, at }
        }
        "resource.retired" => E::Retired { reason: decode_as::<pb::ResourceRetired>(t, payload)?.reason, at },
        other => return Err(CodecError::UnknownType(other.to_owned())),
    })
}

/// A resource's recorded state as its message (no telemetry or address: those are
/// discovery's observations, not events).
pub fn resource_to_pb(r: &crate::resource::Resource) -> pb::Resource {
    pb::Resource {
        id: r.id.as_ref().map(|i| i.as_str().to_owned()).unwrap_or_default(),
        spec: r.spec.as_ref().map(spec_to_pb),
        mode: mode_to_pb(r.mode) as i32,
        health: health_to_pb(r.health) as i32,
        assigned_workload: r.assignment.map(|w| w.to_string()).unwrap_or_default(),
        version: r.version,
        ..Default::default()
    }
}

/// A resource spec as its protobuf message.
pub fn spec_to_pb(s: &ResourceSpec) -> pb::ResourceSpec {
    let kind = match &s.kind {
        ResourceKind::AsicMiner { model, nominal_hashrate, nominal_power } => {
            pb::resource_spec::Kind::Asic(pb::AsicMinerSpec {
                model: model.clone(),
                nominal_hashrate_hs: nominal_hashrate.hashes_per_second(),
                nominal_power_w: nominal_power.watts(),
            })
        }
        ResourceKind::Gpu { model, host, memory_mib, power_limit, uuid } => pb::resource_spec::Kind::Gpu(pb::GpuSpec {
            model: model.clone(),
            host: host.clone(),
            memory_mib: *memory_mib,
            power_limit_w: power_limit.watts(),
            uuid: uuid.clone().unwrap_or_default(),
        }),
    };
    pb::ResourceSpec {
        site: s.site.as_str().to_owned(),
        rack: s.rack.as_ref().map(|r| r.as_str().to_owned()).unwrap_or_default(),
        kind: Some(kind),
    }
}

fn spec_from_pb(t: &str, s: pb::ResourceSpec) -> Result<ResourceSpec, CodecError> {
    let kind = match s.kind.ok_or_else(|| invalid(t, "kind", "missing"))? {
        pb::resource_spec::Kind::Asic(a) => ResourceKind::AsicMiner {
            model: a.model,
            nominal_hashrate: Hashrate::from_hashes_per_second(a.nominal_hashrate_hs),
            nominal_power: Power::from_watts(a.nominal_power_w),
        },
        pb::resource_spec::Kind::Gpu(g) => ResourceKind::Gpu {
            model: g.model,
            host: g.host,
            memory_mib: g.memory_mib,
            power_limit: Power::from_watts(g.power_limit_w),
            uuid: (!g.uuid.is_empty()).then_some(g.uuid),
        },
    };
    Ok(ResourceSpec {
        site: SiteId::new(s.site).map_err(|e| invalid(t, "site", e))?,
        rack: if s.rack.is_empty() { None } else { Some(RackId::new(s.rack).map_err(|e| invalid(t, "rack", e))?) },
        kind,
    })
}

/// A mode as its protobuf enum.
pub fn mode_to_pb(m: Mode) -> pb::ResourceMode {
    match m {
        Mode::Idle => pb::ResourceMode::Idle,
        Mode::Mining => pb::ResourceMode::Mining,
        Mode::ServingAi => pb::ResourceMode::ServingAi,
        Mode::Curtailed => pb::ResourceMode::Curtailed,
    }
}

/// A protobuf mode value (`t` and `field` name it in errors).
pub fn mode_from_pb(t: &str, field: &'static str, v: i32) -> Result<Mode, CodecError> {
    match pb::ResourceMode::try_from(v) {
        Ok(pb::ResourceMode::Idle) => Ok(Mode::Idle),
        Ok(pb::ResourceMode::Mining) => Ok(Mode::Mining),
        Ok(pb::ResourceMode::ServingAi) => Ok(Mode::ServingAi),
        Ok(pb::ResourceMode::Curtailed) => Ok(Mode::Curtailed),
        _ => Err(invalid(t, field, format!("{v} is not a resource mode"))),
    }
}

/// A health as its protobuf enum.
pub fn health_to_pb(h: Health) -> pb::ResourceHealth {
    match h {
        Health::Healthy => pb::ResourceHealth::Healthy,
        Health::Degraded => pb::ResourceHealth::Degraded,
        Health::Offline => pb::ResourceHealth::Offline,
        Health::Retired => pb::ResourceHealth::Retired,
    }
}

/// A protobuf health value (`t` and `field` name it in errors).
pub fn health_from_pb(t: &str, field: &'static str, v: i32) -> Result<Health, CodecError> {
    match pb::ResourceHealth::try_from(v) {
        Ok(pb::ResourceHealth::Healthy) => Ok(Health::Healthy),
        Ok(pb::ResourceHealth::Degraded) => Ok(Health::Degraded),
        Ok(pb::ResourceHealth::Offline) => Ok(Health::Offline),
        Ok(pb::ResourceHealth::Retired) => Ok(Health::Retired),
        _ => Err(invalid(t, field, format!("{v} is not a resource health"))),
    }
}
