//! The inventory: every resource as its events leave it, plus its latest telemetry,
//! kept in memory and served by the gRPC API.
//!
//! It is a projection of the `resource-*` streams of the global log ([`InventoryFeed`]), so a
//! restarted discovery rebuilds it from the store; telemetry is not event-sourced (only
//! health changes are), so it arrives fresh from the next poll.

use hcp_domain::Aggregate;
use hcp_domain::codec::{decode_resource_event, health_from_pb, health_to_pb, mode_from_pb, mode_to_pb, spec_to_pb};
use hcp_domain::resource::{Health, Mode, Resource};
use hcp_domain::units::Timestamp;
use hcp_eventstore::{Position, RecordedEvent};
use hcp_proto::v1 as pb;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use tokio::sync::{broadcast, watch};

/// One resource in the inventory.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// Its state from its events.
    pub resource: Resource,
    /// Its latest reading.
    pub telemetry: Option<pb::Telemetry>,
    /// Where it is reached.
    pub address: String,
}

/// Which resources a list wants.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Only this site.
    pub site: Option<String>,
    /// Only this mode.
    pub mode: Option<Mode>,
    /// Only this health.
    pub health: Option<Health>,
    /// Only devices whose id, model, address, rack, firmware or workload contains it
    /// (lowercase; matched without case).
    pub query: Option<String>,
}

impl Filter {
    /// The filter a list request asks for (0 and "" mean any).
    pub fn of_request(req: &pb::ListResourcesRequest) -> Result<Filter, hcp_domain::codec::CodecError> {
        Ok(Filter {
            site: (!req.site.is_empty()).then(|| req.site.clone()),
            mode: (req.mode != 0).then(|| mode_from_pb("ListResourcesRequest", "mode", req.mode)).transpose()?,
            health: (req.health != 0)
                .then(|| health_from_pb("ListResourcesRequest", "health", req.health))
                .transpose()?,
            query: (!req.query.trim().is_empty()).then(|| req.query.trim().to_lowercase()),
        })
    }

    pub(crate) fn admits(&self, id: &str, e: &Entry) -> bool {
        let r = &e.resource;
        self.site.as_deref().is_none_or(|s| r.spec.as_ref().is_some_and(|spec| spec.site.as_str() == s))
            && self.mode.is_none_or(|m| r.mode == m)
            && self.health.is_none_or(|h| r.health == h)
            && self.query.as_deref().is_none_or(|q| crate::listing::matches(q, id, e))
    }
}

/// Where readings go to be written to the samples table: (resource id, reading).
pub type ReadingSender = tokio::sync::mpsc::UnboundedSender<(String, pb::Telemetry)>;

/// The projection.
pub struct Inventory {
    entries: RwLock<BTreeMap<String, Entry>>,
    changes: broadcast::Sender<pb::ResourceChange>,
    position: watch::Sender<Position>,
    /// Readings folded into per-interval summaries, and where closed ones go.
    summaries: Option<(crate::summary::Summaries, tokio::sync::mpsc::UnboundedSender<pb::TelemetrySummarized>)>,
    /// The raw readings' table, and where new readings go to be written.
    samples: Option<(Arc<crate::samples::Samples>, ReadingSender)>,
}

impl Inventory {
    /// An inventory that also folds every reading into per-interval summaries, sending
    /// each closed one to `closed`.
    pub fn with_summaries(
        summaries: crate::summary::Summaries,
        closed: tokio::sync::mpsc::UnboundedSender<pb::TelemetrySummarized>,
    ) -> Self {
        Inventory { summaries: Some((summaries, closed)), ..Inventory::default() }
    }

    /// The same inventory also sending every reading to `writer` for the `samples` table.
    pub fn with_samples(self, samples: Arc<crate::samples::Samples>, writer: ReadingSender) -> Self {
        Inventory { samples: Some((samples, writer)), ..self }
    }

    /// The raw readings' table, where one is kept.
    pub fn samples(&self) -> Option<Arc<crate::samples::Samples>> {
        self.samples.as_ref().map(|(s, _)| Arc::clone(s))
    }
}

impl Default for Inventory {
    fn default() -> Self {
        Inventory {
            entries: RwLock::default(),
            changes: broadcast::channel(4096).0,
            position: watch::channel(0).0,
            summaries: None,
            samples: None,
        }
    }
}

impl Inventory {
    fn read(&self) -> RwLockReadGuard<'_, BTreeMap<String, Entry>> {
        self.entries.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, BTreeMap<String, Entry>> {
        self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Applies one event of the global log (events of other aggregates are skipped).
    pub fn apply(&self, recorded: &RecordedEvent) -> Result<(), String> {
        if let Some(id) = recorded.stream.strip_prefix("resource-") {
            let at = Timestamp::from_unix_micros(recorded.metadata.time_unix_micros);
            let event = decode_resource_event(&recorded.event_type, &recorded.payload, at)
                .map_err(|e| format!("{} v{}: {e}", recorded.stream, recorded.version))?;
            let change = {
                let mut entries = self.write();
                let entry = entries.entry(id.to_owned()).or_default();
                entry.resource = std::mem::take(&mut entry.resource).evolve(&event);
                to_pb(id, entry)
            };
            let _ = self.changes.send(pb::ResourceChange { resource: Some(change), position: recorded.position });
        }
        self.position.send_replace(recorded.position);
        Ok(())
    }

    /// Records a reading (not an event: it changes every poll).
    pub fn observe(&self, id: &str, address: &str, telemetry: pb::Telemetry) {
        self.fold(id, &telemetry);
        self.show(id, address, telemetry);
    }

    /// Folds a full reading into the summaries and the samples table (an empty one, from a
    /// device that answered unusably, says nothing of its power and is left out).
    fn fold(&self, id: &str, telemetry: &pb::Telemetry) {
        let t = telemetry;
        if t.boards_total == 0 && t.power_w == 0.0 && t.hashrate_ths == 0.0 && t.utilization_pct == 0 {
            return;
        }
        if let Some((summaries, closed)) = &self.summaries {
            for s in summaries.observe(id, telemetry) {
                let _ = closed.send(s);
            }
        }
        if let Some((_, writer)) = &self.samples {
            let _ = writer.send((id.to_owned(), telemetry.clone()));
        }
    }

    /// Shows a partial reading (a miner just found: its summary alone, no boards or power)
    /// without counting it in summaries or samples.
    pub fn show(&self, id: &str, address: &str, telemetry: pb::Telemetry) {
        let mut entries = self.write();
        let entry = entries.entry(id.to_owned()).or_default();
        entry.telemetry = Some(telemetry);
        if entry.address != address {
            entry.address = address.to_owned();
        }
    }

    /// A page of the resources `req` asks for (filtered, searched, ordered), with the
    /// count and summed power of all that match.
    pub fn list(&self, req: &pb::ListResourcesRequest) -> Result<pb::ListResourcesResponse, crate::listing::ListError> {
        let filter = Filter::of_request(req).map_err(|e| crate::listing::ListError(e.to_string()))?;
        let entries = self.read();
        let matching: Vec<(&String, &Entry)> =
            entries.iter().filter(|(id, e)| e.resource.id.is_some() && filter.admits(id, e)).collect();
        crate::listing::page(matching, req, to_pb)
    }

    /// One resource.
    pub fn get(&self, id: &str) -> Option<pb::Resource> {
        self.read().get(id).filter(|e| e.resource.id.is_some()).map(|e| to_pb(id, e))
    }

    /// A resource's state from its events.
    pub fn state(&self, id: &str) -> Option<Resource> {
        self.read().get(id).map(|e| e.resource.clone())
    }

    /// Calls `f` with each registered resource, under the read lock (nothing copied: for
    /// tallies taken every few seconds).
    pub fn each(&self, mut f: impl FnMut(&str, &Entry)) {
        for (id, e) in self.read().iter().filter(|(_, e)| e.resource.id.is_some()) {
            f(id, e);
        }
    }

    /// Every registered resource with its address.
    pub fn snapshot(&self) -> Vec<(String, Entry)> {
        self.read().iter().filter(|(_, e)| e.resource.id.is_some()).map(|(k, e)| (k.clone(), e.clone())).collect()
    }

    /// The registered resources at a site, without telemetry (what a planner needs,
    /// without copying every reading).
    pub fn at_site(&self, site: &str) -> Vec<(String, Resource)> {
        self.read()
            .iter()
            .filter(|(_, e)| e.resource.spec.as_ref().is_some_and(|s| s.site.as_str() == site))
            .map(|(k, e)| (k.clone(), e.resource.clone()))
            .collect()
    }

    /// How many resources are registered.
    pub fn len(&self) -> usize {
        self.read().values().filter(|e| e.resource.id.is_some()).count()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Changes from now on.
    pub fn watch(&self) -> broadcast::Receiver<pb::ResourceChange> {
        self.changes.subscribe()
    }

    /// Waits until the projection has applied the global log up to `position`.
    pub async fn caught_up(&self, position: Position) {
        let mut rx = self.position.subscribe();
        let _ = rx.wait_for(|p| *p >= position).await;
    }
}

pub(crate) fn to_pb(id: &str, e: &Entry) -> pb::Resource {
    let r = &e.resource;
    pb::Resource {
        id: id.to_owned(),
        spec: r.spec.as_ref().map(spec_to_pb),
        mode: mode_to_pb(r.mode) as i32,
        health: health_to_pb(r.health) as i32,
        assigned_workload: r.assignment.map(|w| w.to_string()).unwrap_or_default(),
        version: r.version,
        telemetry: e.telemetry.clone(),
        address: e.address.clone(),
    }
}

/// The inventory as a handler of the log (in memory: rebuilt from the start each time).
pub struct InventoryFeed(pub Arc<Inventory>);

impl hcp_runtime::Handler for InventoryFeed {
    fn name(&self) -> &str {
        "discovery-inventory"
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), hcp_runtime::HandlerError> {
        self.0.apply(event).map_err(|e| hcp_runtime::HandlerError::new(hcp_runtime::ErrorCode::Internal, e))
    }
}
