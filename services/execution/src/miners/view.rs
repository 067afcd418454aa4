//! The handler that folds miners' registrations and observed modes, plans' targets,
//! operators' curtailments and execution's own commands into the
//! [`Book`](super::book::Book), and wakes the controller when a miner may need something.

use super::book::{CONTROL_PREFIX, CURTAILMENT_PREFIX};
use super::controller::Controller;
use hcp_domain::codec::decode_resource_event;
use hcp_domain::plan::ALLOCATION_TARGETED;
use hcp_domain::units::Timestamp;
use hcp_eventstore::{EventStore, RecordedEvent};
use hcp_proto::v1 as pb;
use hcp_runtime::{Handler, HandlerError};
use prost::Message;
use std::sync::Arc;

/// The consumer name (in memory: folded from the start at each start).
pub const VIEW: &str = "execution-miners";

/// Folds the log into the controller's book.
pub struct MinerView<S>(pub Arc<Controller<S>>);

impl<S: EventStore> Handler for MinerView<S> {
    fn name(&self) -> &str {
        VIEW
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        event.stream.starts_with("resource-asic-")
            || event.stream.starts_with(CONTROL_PREFIX)
            || event.stream.starts_with(CURTAILMENT_PREFIX)
            || event.event_type == ALLOCATION_TARGETED
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandlerError> {
        let at = event.metadata.time_unix_micros;
        if let Some(id) = event.stream.strip_prefix("resource-") {
            let decoded = decode_resource_event(&event.event_type, &event.payload, Timestamp::from_unix_micros(at))
                .map_err(|e| HandlerError::corrupt(event, e))?;
            self.0.book.lock().unwrap_or_else(std::sync::PoisonError::into_inner).apply_resource(id, &decoded);
        } else if let Some(site) = event.stream.strip_prefix(CURTAILMENT_PREFIX) {
            let mut book = self.0.book.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            book.apply_curtailment(site, event.version, &event.event_type, &event.payload, at);
        } else if let Some(id) = event.stream.strip_prefix(CONTROL_PREFIX) {
            let mut book = self.0.book.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            book.apply_control(id, event.version, &event.event_type, &event.payload, at);
            return Ok(());
        } else {
            let targeted =
                pb::AllocationTargeted::decode(event.payload.as_ref()).map_err(|e| HandlerError::corrupt(event, e))?;
            self.0.book.lock().unwrap_or_else(std::sync::PoisonError::into_inner).apply_targets(&targeted, at);
        }
        self.0.wake.notify_one();
        Ok(())
    }
}
