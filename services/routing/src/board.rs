//! Routing's view of the log, folded in memory: every workload, the GPUs (from the
//! resources discovery records), the tenants, and the operator's cordons. The scheduler
//! reads it whole each cycle; the API reads single entries.
//!
//! Events are applied by version, so the same event from the log and from the writer
//! that just appended it (the API and the scheduler apply their own appends at once, so
//! the next cycle sees them) counts once; a gap waits for the log to fill it.

use hcp_domain::Aggregate;
use hcp_domain::catalogue::canonical_gpu_model;
use hcp_domain::ids::{ResourceId, WorkloadId};
use hcp_domain::resource::{Health, Resource, ResourceKind};
use hcp_domain::tenant::Tenant;
use hcp_domain::workload::{Workload, WorkloadEvent, WorkloadStatus};
use hcp_placement::{Gpu, PendingReason};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use tokio::sync::Notify;

/// An operator's cordon on a host.
#[derive(Debug, Clone, PartialEq)]
pub struct Cordon {
    /// Why.
    pub reason: String,
    /// Whether its preemptible work is moved off.
    pub drain: bool,
}

/// GPUs a stopped workload still holds while its process winds down.
#[derive(Debug, Clone, PartialEq)]
pub struct Releasing {
    /// Its GPUs.
    pub gpus: Vec<ResourceId>,
    /// Until when (µs): the grace period's end.
    pub until_unix_micros: i64,
}

/// Everything routing knows.
#[derive(Debug, Default)]
pub struct Inner {
    /// Every workload by id.
    pub workloads: HashMap<WorkloadId, Workload>,
    /// Every resource (GPUs are the ones with a GPU spec).
    pub resources: BTreeMap<String, Resource>,
    /// Tenants by id.
    pub tenants: BTreeMap<String, Tenant>,
    /// Cordoned hosts.
    pub cordons: BTreeMap<String, Cordon>,
    /// Stopped workloads whose GPUs are not free yet.
    pub releasing: HashMap<WorkloadId, Releasing>,
    /// The last cycle's reason for each waiting workload.
    pub pending: HashMap<Arc<str>, PendingReason>,
    /// The `hosts` stream's version.
    pub hosts_version: u64,
}

/// The shared view, and a signal for the scheduler that it changed.
#[derive(Debug, Default)]
pub struct Board {
    inner: RwLock<Inner>,
    /// Woken on every change that may let work be placed.
    pub changed: Notify,
    /// How long a stopped workload's GPUs stay held (µs).
    pub grace_micros: i64,
}

impl Board {
    /// An empty board; stopped work holds its GPUs for `grace_micros`.
    pub fn new(grace_micros: i64) -> Self {
        Board { grace_micros, ..Board::default() }
    }

    /// Reads it.
    pub fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes it.
    pub fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Applies a workload's event at `version`; returns whether it was new.
    pub fn apply_workload(&self, id: WorkloadId, event: &WorkloadEvent, version: u64) -> bool {
        let mut inner = self.write();
        let current = inner.workloads.get(&id).map_or(0, |w| w.version);
        if version != current + 1 {
            return false;
        }
        let before = inner.workloads.remove(&id).unwrap_or_default();
        let held = before.resources.clone();
        let after = before.evolve(event);
        let stopped = matches!(
            event,
            WorkloadEvent::Preempted { .. } | WorkloadEvent::Cancelled { .. } | WorkloadEvent::Failed { .. }
        );
        if stopped && !held.is_empty() {
            let until_unix_micros = event.at().unix_micros().saturating_add(self.grace_micros);
            inner.releasing.insert(id, Releasing { gpus: held, until_unix_micros });
        }
        if matches!(after.status, WorkloadStatus::Scheduled) {
            inner.releasing.remove(&id);
        }
        inner.workloads.insert(id, after);
        drop(inner);
        self.changed.notify_one();
        true
    }

    /// Applies a resource's event.
    pub fn apply_resource(&self, id: &str, event: &hcp_domain::resource::ResourceEvent) {
        let mut inner = self.write();
        let entry = inner.resources.remove(id).unwrap_or_default();
        inner.resources.insert(id.to_owned(), entry.evolve(event));
        drop(inner);
        self.changed.notify_one();
    }

    /// Applies a tenant's event.
    pub fn apply_tenant(&self, id: &str, event: &hcp_domain::tenant::TenantEvent, version: u64) {
        let mut inner = self.write();
        let entry = inner.tenants.remove(id).unwrap_or_default();
        let entry = if version == entry.version + 1 { entry.evolve(event) } else { entry };
        inner.tenants.insert(id.to_owned(), entry);
        drop(inner);
        self.changed.notify_one();
    }

    /// Applies an operator's cordon (`Some`) or uncordon (`None`) of `host`.
    pub fn apply_cordon(&self, host: &str, cordon: Option<Cordon>, version: u64) {
        let mut inner = self.write();
        if version != inner.hosts_version + 1 {
            return;
        }
        inner.hosts_version = version;
        match cordon {
            Some(c) => inner.cordons.insert(host.to_owned(), c),
            None => inner.cordons.remove(host),
        };
        drop(inner);
        self.changed.notify_one();
    }
}

impl Inner {
    /// Every GPU as the placement core takes it (canonical model, rack or else the host,
    /// healthy when healthy or degraded, cordoned with its host), in id order.
    pub fn gpus(&self) -> impl Iterator<Item = Gpu> + '_ {
        self.resources.values().filter_map(|r| {
            let spec = r.spec.as_ref()?;
            let ResourceKind::Gpu { model, host, memory_mib, .. } = &spec.kind else { return None };
            Some(Gpu {
                id: r.id.as_ref()?.as_str().to_owned(),
                model: canonical_gpu_model(model),
                memory_mib: *memory_mib,
                site: spec.site.as_str().to_owned(),
                rack: spec.rack.as_ref().map_or_else(|| host.clone(), |r| r.as_str().to_owned()),
                host: host.clone(),
                healthy: matches!(r.health, Health::Healthy | Health::Degraded),
                cordoned: self.cordons.contains_key(host),
            })
        })
    }

    /// GPUs held by live workloads, by tenant.
    pub fn used_gpus(&self, tenant: &str) -> u32 {
        self.workloads
            .values()
            .filter(|w| w.status.holds_resources() && w.spec.as_ref().is_some_and(|s| s.tenant.as_str() == tenant))
            .map(|w| w.resources.len() as u32)
            .sum()
    }
}
