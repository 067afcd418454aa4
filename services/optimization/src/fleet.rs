//! Optimization's own view of the fleet, folded from the log: every resource as its
//! events leave it (discovery's observations), and the mode each plan last targeted for
//! it (this service's `allocation.targeted` events).
//!
//! A device's recorded mode is what it reported; a target is what a plan wants. The
//! planner counts a device as running by its target when it has one (the plan already
//! moved it, or will), by its observed mode otherwise, so the same change is not planned
//! again each interval while execution catches up. A miner execution could not move
//! (`miner.command_failed` on its `control-` stream) counts as observed and is not planned
//! until a command to it is confirmed again. A miner an operator curtailed stays asleep
//! until the curtailment ends, and one in maintenance is left out of plans.

use hcp_domain::aggregate::Aggregate;
use hcp_domain::codec::{decode_resource_event, mode_from_pb};
use hcp_domain::control::{
    CONTROL_PREFIX, CURTAILMENT_LIFTED, CURTAILMENT_PREFIX, CURTAILMENT_STARTED, MINER_COMMAND_FAILED, MINER_CONFIRMED,
    MINER_MAINTENANCE,
};
use hcp_domain::resource::{Mode, Resource};
use hcp_domain::units::Timestamp;
use hcp_domain::workload::Workload;
use hcp_eventstore::RecordedEvent;
use hcp_proto::v1 as pb;
use hcp_runtime::EventSourced;
use prost::Message;
use std::collections::{HashMap, HashSet};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

pub use hcp_domain::plan::ALLOCATION_TARGETED;

/// What a plan last wanted of a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// The mode.
    pub mode: Mode,
    /// When the plan was made, µs since the epoch.
    pub at_unix_micros: i64,
}

/// A device as the planner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetDevice {
    /// Its id.
    pub id: String,
    /// Its state from its events.
    pub resource: Resource,
    /// What the last plan that changed it wanted.
    pub target: Option<Target>,
    /// The customer's workload that holds it (GPUs): it earns while it holds it.
    pub committed_to: Option<String>,
    /// Whether execution last failed to move it (it ignores commands, hangs, or cannot be
    /// told): it stays as observed until a command to it is confirmed again.
    pub uncontrolled: bool,
    /// Until when an operator's curtailment holds it asleep (µs since the epoch), if one does.
    pub curtailed_until: Option<i64>,
    /// Out of plans for maintenance.
    pub maintenance: bool,
}

#[derive(Default)]
struct State {
    resources: HashMap<String, Resource>,
    targets: HashMap<String, Target>,
    uncontrolled: HashSet<String>,
    /// Customers' workloads, as routing and execution record them.
    workloads: HashMap<String, Workload>,
    /// The GPUs a customer's workload holds, and which.
    committed: HashMap<String, String>,
    /// Operators' curtailments in force: their miners and until when.
    curtailments: HashMap<String, pb::CurtailmentStarted>,
    maintenance: HashSet<String>,
}

/// The projection.
#[derive(Default)]
pub struct Fleet {
    state: RwLock<State>,
}

impl Fleet {
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Folds one event of the global log (others are skipped).
    pub fn apply(&self, recorded: &RecordedEvent) -> Result<(), String> {
        let where_ = || format!("{} v{}", recorded.stream, recorded.version);
        if let Some(id) = recorded.stream.strip_prefix("resource-") {
            let at = Timestamp::from_unix_micros(recorded.metadata.time_unix_micros);
            let event = decode_resource_event(&recorded.event_type, &recorded.payload, at)
                .map_err(|e| format!("{}: {e}", where_()))?;
            hcp_domain::aggregate::evolve_keyed(&mut self.write().resources, id, &event);
        } else if let Some(id) = recorded.stream.strip_prefix(Workload::STREAM_PREFIX) {
            let event = Workload::decode(recorded).map_err(|e| format!("{}: {e}", where_()))?;
            let mut state = self.write();
            let before = state.workloads.remove(id).unwrap_or_default();
            for r in &before.resources {
                state.committed.remove(r.as_str());
            }
            let after = before.evolve(&event);
            if after.status.holds_resources() {
                for r in &after.resources {
                    state.committed.insert(r.as_str().to_owned(), id.to_owned());
                }
            }
            if !after.status.is_terminal() {
                state.workloads.insert(id.to_owned(), after);
            }
        } else if let Some(id) = recorded.stream.strip_prefix(CONTROL_PREFIX) {
            let mut state = self.write();
            match recorded.event_type.as_str() {
                MINER_COMMAND_FAILED => state.uncontrolled.insert(id.to_owned()),
                MINER_CONFIRMED => state.uncontrolled.remove(id),
                MINER_MAINTENANCE => {
                    let m = pb::MinerMaintenance::decode(recorded.payload.as_ref())
                        .map_err(|e| format!("{}: {e}", where_()))?;
                    if m.on { state.maintenance.insert(id.to_owned()) } else { state.maintenance.remove(id) }
                }
                _ => false,
            };
        } else if recorded.stream.starts_with(CURTAILMENT_PREFIX) {
            let mut state = self.write();
            match recorded.event_type.as_str() {
                CURTAILMENT_STARTED => {
                    let c = pb::CurtailmentStarted::decode(recorded.payload.as_ref())
                        .map_err(|e| format!("{}: {e}", where_()))?;
                    state.curtailments.insert(c.curtailment_id.clone(), c);
                }
                CURTAILMENT_LIFTED => {
                    let l = pb::CurtailmentLifted::decode(recorded.payload.as_ref())
                        .map_err(|e| format!("{}: {e}", where_()))?;
                    state.curtailments.remove(&l.curtailment_id);
                }
                _ => {}
            }
        } else if recorded.event_type == ALLOCATION_TARGETED {
            let targeted =
                pb::AllocationTargeted::decode(recorded.payload.as_ref()).map_err(|e| format!("{}: {e}", where_()))?;
            for t in targeted.targets {
                self.target(&t.resource_id, t.mode, recorded.metadata.time_unix_micros)
                    .map_err(|e| format!("{}: {e}", where_()))?;
            }
        }
        Ok(())
    }

    /// The registered devices at a site.
    pub fn at_site(&self, site: &str) -> Vec<FleetDevice> {
        let state = self.read();
        let mut devices: Vec<FleetDevice> = state
            .resources
            .iter()
            .filter(|(_, r)| r.id.is_some() && r.spec.as_ref().is_some_and(|s| s.site.as_str() == site))
            .map(|(id, r)| FleetDevice {
                id: id.clone(),
                resource: r.clone(),
                target: state.targets.get(id).copied(),
                committed_to: state.committed.get(id).cloned(),
                uncontrolled: state.uncontrolled.contains(id),
                curtailed_until: state
                    .curtailments
                    .values()
                    .filter(|c| c.miners.iter().any(|m| m == id))
                    .map(|c| c.until_unix_micros)
                    .max(),
                maintenance: state.maintenance.contains(id),
            })
            .collect();
        devices.sort_by(|a, b| a.id.cmp(&b.id));
        devices
    }
}

/// What an idle GPU draws, as a share of its power limit (an H100 idles near 70 W of 700).
pub const IDLE_GPU_SHARE: f64 = 0.1;

/// GPU power a site must keep for customers: its idle GPUs' draw, and what the queue is
/// about to start there.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GpuReserve {
    /// Idle GPUs (no workload holds them), at [`IDLE_GPU_SHARE`] of their limit, kW.
    pub idle_kw: f64,
    /// Queued workloads the site could start now (pinned to it, or unpinned with its
    /// model there), at their GPUs' limits, capped by the site's idle GPUs, kW.
    pub queued_kw: f64,
    /// How many queued workloads that is.
    pub queued: usize,
}

impl Fleet {
    /// The GPU power `site` must keep: idle draw and headroom for the queue.
    pub fn gpu_reserve(&self, site: &str) -> GpuReserve {
        use hcp_domain::resource::ResourceKind;
        use hcp_domain::workload::WorkloadStatus;
        let state = self.read();
        // Idle GPUs at the site: model -> (count, kW each).
        let mut idle: HashMap<String, (u32, f64)> = HashMap::new();
        for (id, r) in &state.resources {
            let Some(spec) = r.spec.as_ref().filter(|s| s.site.as_str() == site) else { continue };
            let ResourceKind::Gpu { model, power_limit, .. } = &spec.kind else { continue };
            if state.committed.contains_key(id) || r.health == hcp_domain::resource::Health::Offline {
                continue;
            }
            let entry = idle.entry(hcp_domain::catalogue::canonical_gpu_model(model)).or_insert((0, 0.0));
            entry.0 += 1;
            entry.1 = power_limit.watts() as f64 / 1000.0;
        }
        let idle_kw = idle.values().map(|(n, kw)| f64::from(*n) * kw * IDLE_GPU_SHARE).sum();
        let mut reserve = GpuReserve { idle_kw, ..GpuReserve::default() };
        let mut free = idle.clone();
        for w in state.workloads.values().filter(|w| w.status == WorkloadStatus::Queued) {
            let Some(spec) = w.spec.as_ref() else { continue };
            if spec.site.as_ref().is_some_and(|s| s.as_str() != site) {
                continue;
            }
            let Some((n, kw)) = free.get_mut(spec.gpu_model.as_str()) else { continue };
            if *n < spec.gpu_count {
                continue;
            }
            *n -= spec.gpu_count;
            // Starting it adds its GPUs' full draw over their idle draw.
            reserve.queued_kw += f64::from(spec.gpu_count) * *kw * (1.0 - IDLE_GPU_SHARE);
            reserve.queued += 1;
        }
        reserve
    }

    /// Sets a device's target unless a newer one is set.
    pub fn target(&self, id: &str, mode: i32, at_unix_micros: i64) -> Result<(), hcp_domain::codec::CodecError> {
        let mode = mode_from_pb(ALLOCATION_TARGETED, "mode", mode)?;
        let mut state = self.write();
        if state.targets.get(id).is_none_or(|t| t.at_unix_micros <= at_unix_micros) {
            state.targets.insert(id.to_owned(), Target { mode, at_unix_micros });
        }
        Ok(())
    }

    /// A resource's state alone (for tests and tools).
    pub fn resource(&self, id: &str) -> Option<Resource> {
        self.read().resources.get(id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_kept_apart_from_observed_modes() {
        let fleet = Fleet::default();
        let targeted = pb::AllocationTargeted {
            plan_id: "p".into(),
            site: "s".into(),
            targets: vec![pb::Assignment { resource_id: "asic-1".into(), mode: pb::ResourceMode::Curtailed as i32 }],
        };
        let event = RecordedEvent {
            id: uuid::Uuid::now_v7(),
            stream: "plans-s".into(),
            version: 2,
            position: 9,
            event_type: ALLOCATION_TARGETED.into(),
            schema_version: 1,
            payload: targeted.encode_to_vec().into(),
            metadata: hcp_eventstore::EventMetadata { time_unix_micros: 42, ..Default::default() },
            recorded_unix_micros: 0,
        };
        fleet.apply(&event).expect("applies");
        assert_eq!(fleet.read().targets["asic-1"], Target { mode: Mode::Curtailed, at_unix_micros: 42 });
        assert!(fleet.resource("asic-1").is_none(), "a target does not invent a resource");
    }

    fn recorded(stream: &str, version: u64, (event_type, payload): (&str, Vec<u8>)) -> RecordedEvent {
        RecordedEvent {
            id: uuid::Uuid::now_v7(),
            stream: stream.into(),
            version,
            position: version,
            event_type: event_type.into(),
            schema_version: 1,
            payload: payload.into(),
            metadata: hcp_eventstore::EventMetadata { time_unix_micros: 1_800_000_000_000_000, ..Default::default() },
            recorded_unix_micros: 0,
        }
    }

    fn spec_for_reserve() -> hcp_domain::workload::WorkloadSpec {
        use hcp_domain::ids::TenantId;
        use hcp_domain::workload::WorkloadSpec;
        WorkloadSpec::example(TenantId::new("acme").expect("tenant"), 1)
    }

    #[test]
    fn gpus_committed_idle_and_queued_and_a_miner_uncontrolled_after_a_failed_command() {
        use hcp_domain::ids::{ResourceId, WorkloadId};
        use hcp_domain::workload::WorkloadEvent as E;
        let fleet = Fleet::default();
        let id = WorkloadId::from_uuid(uuid::Uuid::now_v7());
        let at = Timestamp::from_unix_secs(1_800_000_000);
        let spec = spec_for_reserve();
        let gpu = ResourceId::new("gpu-1").expect("id");
        let stream = format!("workload-{id}");
        let events = [
            E::Submitted { id, spec, at },
            E::Queued { attempt: 1, at },
            E::Scheduled { resources: vec![gpu], at },
            E::Starting { at },
            E::Started { endpoint: None, at },
        ];
        for (n, e) in events.iter().enumerate() {
            fleet.apply(&recorded(&stream, n as u64 + 1, Workload::encode(e))).expect("applies");
        }
        assert_eq!(fleet.read().committed.get("gpu-1"), Some(&id.to_string()));
        fleet.apply(&recorded(&stream, 6, Workload::encode(&E::Completed { at }))).expect("applies");
        assert!(fleet.read().committed.is_empty() && fleet.read().workloads.is_empty(), "released and forgotten");

        // Two idle H100 at the site and a queued one-GPU workload pinned to it.
        for n in 0..2 {
            let kind = hcp_domain::resource::ResourceKind::Gpu {
                model: "NVIDIA H100 80GB HBM3".into(),
                host: "h".into(),
                memory_mib: 81_559,
                power_limit: hcp_domain::units::Power::from_watts(700),
                uuid: None,
            };
            let spec = hcp_domain::resource::ResourceSpec {
                site: hcp_domain::ids::SiteId::new("s").expect("site"),
                rack: None,
                kind,
            };
            let id = ResourceId::new(format!("gpu-{n}")).expect("id");
            let e = hcp_domain::resource::ResourceEvent::Registered { id, spec, at };
            fleet.apply(&recorded(&format!("resource-gpu-{n}"), 1, Resource::encode(&e))).expect("applies");
        }
        let queued = WorkloadId::from_uuid(uuid::Uuid::now_v7());
        let mut pinned = spec_for_reserve();
        pinned.site = Some(hcp_domain::ids::SiteId::new("s").expect("site"));
        let stream = format!("workload-{queued}");
        let e = E::Submitted { id: queued, spec: pinned, at };
        fleet.apply(&recorded(&stream, 1, Workload::encode(&e))).expect("applies");
        fleet.apply(&recorded(&stream, 2, Workload::encode(&E::Queued { attempt: 1, at }))).expect("applies");
        let reserve = fleet.gpu_reserve("s");
        assert!((reserve.idle_kw - 0.14).abs() < 1e-9, "{reserve:?}");
        assert!((reserve.queued_kw - 0.63).abs() < 1e-9 && reserve.queued == 1, "{reserve:?}");
        assert_eq!(fleet.gpu_reserve("elsewhere"), GpuReserve::default());

        fleet.apply(&recorded("control-asic-1", 1, (MINER_COMMAND_FAILED, vec![]))).expect("applies");
        assert!(fleet.read().uncontrolled.contains("asic-1"));
        fleet.apply(&recorded("control-asic-1", 2, (MINER_CONFIRMED, vec![]))).expect("applies");
        assert!(fleet.read().uncontrolled.is_empty());
    }
}
