//! What execution knows, folded from the log: every workload, where each GPU is (host
//! and NVML UUID, from discovery's resources), where each workload was placed, and what
//! each agent was last told about it.

use hcp_domain::Aggregate;
use hcp_domain::ids::WorkloadId;
use hcp_domain::resource::{ResourceEvent, ResourceKind};
use hcp_domain::workload::{Workload, WorkloadEvent};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A workload's placement: its attempt and its GPUs by host.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    /// The attempt (the workload's queue count when it was scheduled).
    pub attempt: u32,
    /// NVML UUIDs by host.
    pub hosts: BTreeMap<String, Vec<String>>,
    /// When it was scheduled, µs.
    pub scheduled_unix_micros: i64,
    /// Hosts that reported the run started.
    pub started: BTreeSet<String>,
}

/// The last command sent to a host about a workload's attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Start.
    Start,
    /// Pause.
    Pause,
    /// Resume.
    Resume,
    /// Stop.
    Stop,
}

/// Execution's view.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Workloads by id.
    pub workloads: HashMap<WorkloadId, Workload>,
    /// GPU resource id -> (host, NVML UUID).
    pub gpus: HashMap<String, (String, String)>,
    /// Where each live (or just stopped) workload runs.
    pub placed: HashMap<WorkloadId, Placed>,
    /// What each host was last told, by workload.
    pub sent: HashMap<(WorkloadId, String), (u32, Sent)>,
    /// GPU resource id -> (site, power limit in kW).
    pub gpu_power: HashMap<String, (String, f64)>,
    /// Each site's grid cap, kW, as recorded.
    pub caps: HashMap<String, f64>,
    /// The sites as recorded.
    pub sites: HashMap<String, hcp_domain::site::Site>,
}

impl Ledger {
    /// Applies a workload's event at `version`; whether it was new.
    pub fn apply_workload(&mut self, id: WorkloadId, event: &WorkloadEvent, version: u64) -> bool {
        let current = self.workloads.get(&id).map_or(0, |w| w.version);
        if version != current + 1 {
            return false;
        }
        let w = self.workloads.remove(&id).unwrap_or_default().evolve(event);
        if let WorkloadEvent::Scheduled { resources, at } = event {
            let mut hosts: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for r in resources {
                if let Some((host, uuid)) = self.gpus.get(r.as_str()) {
                    hosts.entry(host.clone()).or_default().push(uuid.clone());
                }
            }
            let placed = Placed {
                attempt: w.attempts,
                hosts,
                scheduled_unix_micros: at.unix_micros(),
                started: BTreeSet::new(),
            };
            self.placed.insert(id, placed);
        }
        self.workloads.insert(id, w);
        true
    }

    /// Applies a GPU resource's registration.
    pub fn apply_resource(&mut self, id: &str, event: &ResourceEvent) {
        if let ResourceEvent::Registered { spec, .. } = event
            && let ResourceKind::Gpu { host, uuid, power_limit, .. } = &spec.kind
        {
            self.gpus.insert(id.to_owned(), (host.clone(), uuid.clone().unwrap_or_default()));
            let kw = power_limit.watts() as f64 / 1000.0;
            self.gpu_power.insert(id.to_owned(), (spec.site.as_str().to_owned(), kw));
        }
    }

    /// Workloads placed on `host`.
    pub fn on_host(&self, host: &str) -> Vec<WorkloadId> {
        self.placed.iter().filter(|(_, p)| p.hosts.contains_key(host)).map(|(id, _)| *id).collect()
    }
}
