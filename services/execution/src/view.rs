//! The handler that folds workloads, GPU registrations and sites' caps into the ledger and
//! marks each changed workload for reconciling.

use crate::execution::Execution;
use hcp_domain::aggregate::Aggregate;
use hcp_domain::codec::decode_resource_event;
use hcp_domain::ids::WorkloadId;
use hcp_domain::site::Site;
use hcp_domain::units::Timestamp;
use hcp_domain::workload::Workload;
use hcp_eventstore::{EventStore, RecordedEvent};
use hcp_runtime::{EventSourced, Handler, HandlerError};
use std::sync::Arc;

/// The consumer name (in memory: folded from the start at each start).
pub const VIEW: &str = "execution-view";

/// Folds the log into the ledger.
pub struct View<S>(pub Arc<Execution<S>>);

impl<S: EventStore> Handler for View<S> {
    fn name(&self) -> &str {
        VIEW
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        event.stream.starts_with(Workload::STREAM_PREFIX)
            || (event.stream.starts_with("resource-gpu-") && event.event_type == "resource.registered")
            || event.stream.starts_with(Site::STREAM_PREFIX)
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandlerError> {
        if let Some(id) = event.stream.strip_prefix(Workload::STREAM_PREFIX) {
            let id = WorkloadId::parse(id).map_err(|e| HandlerError::corrupt(event, e))?;
            let decoded = Workload::decode(event).map_err(|e| HandlerError::corrupt(event, e))?;
            if self.0.ledger().apply_workload(id, &decoded, event.version) {
                let _ = self.0.dirty.send(id);
            }
        } else if let Some(id) = event.stream.strip_prefix(Site::STREAM_PREFIX) {
            let decoded = Site::decode(event).map_err(|e| HandlerError::corrupt(event, e))?;
            let mut ledger = self.0.ledger();
            let site = ledger.sites.remove(id).unwrap_or_default().evolve(&decoded);
            ledger.caps.insert(id.to_owned(), site.cap_kw);
            ledger.sites.insert(id.to_owned(), site);
        } else if let Some(id) = event.stream.strip_prefix("resource-") {
            let at = Timestamp::from_unix_micros(event.metadata.time_unix_micros);
            let decoded = decode_resource_event(&event.event_type, &event.payload, at)
                .map_err(|e| HandlerError::corrupt(event, e))?;
            self.0.ledger().apply_resource(id, &decoded);
        }
        Ok(())
    }
}
