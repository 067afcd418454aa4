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

impl Fleet {
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

    #[test]
    fn a_gpu_is_committed_while_a_workload_holds_it_and_a_miner_uncontrolled_after_a_failed_command() {
        use hcp_domain::ids::{ResourceId, TenantId, WorkloadId};
        use hcp_domain::workload::{
            GpuModel, Locality, Priority, RunSpec, WorkloadEvent as E, WorkloadKind, WorkloadSpec,
        };
        let fleet = Fleet::default();
        let id = WorkloadId::from_uuid(uuid::Uuid::now_v7());
        let at = Timestamp::from_unix_secs(1_800_000_000);
        let spec = WorkloadSpec {
            tenant: TenantId::new("acme").expect("tenant"),
            kind: WorkloadKind::Training,
            gpu_model: GpuModel::new("h100-sxm-80gb").expect("model"),
            gpu_count: 1,
            memory_mib: 1,
            max_latency: None,
            priority: Priority::new(5).expect("priority"),
            preemptible: true,
            site: None,
            locality: Locality::Any,
            run: RunSpec::default(),
        };
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

        fleet.apply(&recorded("control-asic-1", 1, (MINER_COMMAND_FAILED, vec![]))).expect("applies");
        assert!(fleet.read().uncontrolled.contains("asic-1"));
        fleet.apply(&recorded("control-asic-1", 2, (MINER_CONFIRMED, vec![]))).expect("applies");
        assert!(fleet.read().uncontrolled.is_empty());
    }
}
