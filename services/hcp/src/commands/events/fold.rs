//! Workload and resource states folded from the log through the domain: what
//! `hcp events replay` and `hcp projections rebuild` summarise.

use hcp_domain::aggregate::evolve_keyed;
use hcp_domain::codec::{decode_resource_event, decode_workload_event};
use hcp_domain::resource::Resource;
use hcp_domain::units::Timestamp;
use hcp_domain::workload::Workload;
use hcp_eventstore::RecordedEvent;
use std::collections::{BTreeMap, HashMap};

/// Aggregate states folded from the replayed events.
#[derive(Default)]
pub struct Fold {
    workloads: HashMap<String, Workload>,
    resources: HashMap<String, Resource>,
    other: u64,
    undecodable: u64,
}

impl Fold {
    /// Folds one event.
    pub fn apply(&mut self, e: &RecordedEvent) {
        let at = Timestamp::from_unix_micros(e.metadata.time_unix_micros);
        if e.event_type.starts_with("workload.") {
            match decode_workload_event(&e.event_type, &e.payload, at) {
                Ok(ev) => evolve_keyed(&mut self.workloads, &e.stream, &ev),
                Err(_) => self.undecodable += 1,
            }
        } else if e.event_type.starts_with("resource.") {
            match decode_resource_event(&e.event_type, &e.payload, at) {
                Ok(ev) => evolve_keyed(&mut self.resources, &e.stream, &ev),
                Err(_) => self.undecodable += 1,
            }
        } else {
            self.other += 1;
        }
    }

    /// Workloads by status and resources by mode/health, as JSON.
    pub fn counts(&self) -> serde_json::Value {
        let mut by_status = BTreeMap::<String, usize>::new();
        for w in self.workloads.values() {
            *by_status.entry(w.status.to_string()).or_default() += 1;
        }
        let mut by_mode = BTreeMap::<String, usize>::new();
        for r in self.resources.values() {
            *by_mode.entry(format!("{}/{}", r.mode, r.health)).or_default() += 1;
        }
        serde_json::json!({
            "workloads": by_status, "resources": by_mode, "other": self.other, "undecodable": self.undecodable,
        })
    }

    /// What the log folded into.
    pub fn summary(&self, events: u64, last: Option<u64>) -> String {
        let mut by_status = BTreeMap::<String, usize>::new();
        for w in self.workloads.values() {
            *by_status.entry(w.status.to_string()).or_default() += 1;
        }
        let mut by_mode = BTreeMap::<String, usize>::new();
        for r in self.resources.values() {
            *by_mode.entry(format!("{}/{}", r.mode, r.health)).or_default() += 1;
        }
        let list =
            |m: &BTreeMap<String, usize>| m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
        format!(
            "replayed {events} events (last position {}); workloads: {} [{}]; resources: {} [{}]; other events: {}; undecodable: {}",
            last.map_or("-".into(), |p| p.to_string()),
            self.workloads.len(),
            list(&by_status),
            self.resources.len(),
            list(&by_mode),
            self.other,
            self.undecodable
        )
    }
}
