//! The usage recorder: on each lifecycle event that closes a billed span, the workload's
//! stream is read up to that event and folded through a [`Meter`]; the span it closes is
//! recorded on the tenant's usage stream, with an id derived from the closing event.

use crate::CONSUMER;
use hcp_billing::usage::Meter;
use hcp_domain::codec::decode_workload_event;
use hcp_domain::units::Timestamp;
use hcp_domain::workload::WorkloadEvent;
use hcp_eventstore::{Direction, EventStore, RecordedEvent, append_at_tail};
use hcp_proto::v1 as pb;
use hcp_runtime::{EventContext, Handler, HandlerError};
use prost::Message;
use std::sync::Arc;

/// The usage record's event type.
pub const USAGE_RECORDED: &str = "usage.recorded";

/// The lifecycle events that may close a billed span.
const CLOSING: [&str; 5] =
    ["workload.preempted", "workload.queued", "workload.completed", "workload.failed", "workload.cancelled"];

/// A tenant's usage stream.
pub fn usage_stream(tenant: &str) -> String {
    format!("usage-{tenant}")
}

/// The handler.
pub struct UsageRecorder<S> {
    store: Arc<S>,
}

impl<S> UsageRecorder<S> {
    /// A recorder over `store`.
    pub fn new(store: Arc<S>) -> Self {
        UsageRecorder { store }
    }
}

impl<S: EventStore> UsageRecorder<S> {
    /// The record `event` closes, if it closes a span.
    async fn record_of(&self, event: &RecordedEvent) -> Result<Option<pb::UsageRecorded>, HandlerError> {
        let history = self
            .store
            .read_stream(&event.stream, 1, Direction::Forwards, event.version as usize)
            .await
            .map_err(HandlerError::from)?;
        let mut meter = Meter::default();
        let mut spec = None;
        let mut closed = None;
        for e in history.iter().take_while(|e| e.version <= event.version) {
            let at = Timestamp::from_unix_micros(e.metadata.time_unix_micros);
            let decoded =
                decode_workload_event(&e.event_type, &e.payload, at).map_err(|why| HandlerError::corrupt(e, why))?;
            if let WorkloadEvent::Submitted { spec: s, .. } = &decoded {
                spec = Some(s.clone());
            }
            closed = meter.apply(&decoded);
        }
        let (Some(span), Some(spec)) = (closed, spec) else { return Ok(None) };
        Ok(Some(pb::UsageRecorded {
            workload_id: event.stream.trim_start_matches("workload-").to_owned(),
            tenant: spec.tenant.as_str().to_owned(),
            gpu_model: spec.gpu_model.as_str().to_owned(),
            site: spec.site.as_ref().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            gpus: span.gpus,
            from_unix_micros: span.from.unix_micros(),
            to_unix_micros: span.to.unix_micros(),
            gpu_micros: i64::try_from(span.gpu_micros()).unwrap_or(i64::MAX),
            closed_by: event.event_type.clone(),
        }))
    }
}

impl<S: EventStore> Handler for UsageRecorder<S> {
    fn name(&self) -> &str {
        CONSUMER
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        event.stream.starts_with("workload-") && CLOSING.contains(&event.event_type.as_str())
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandlerError> {
        let Some(record) = self.record_of(event).await? else { return Ok(()) };
        let context = EventContext::caused_by("metering", event).with_tenant(record.tenant.clone());
        let usage = context.event(0, USAGE_RECORDED, record.encode_to_vec(), record.to_unix_micros);
        append_at_tail(self.store.as_ref(), &usage_stream(&record.tenant), usage).await.map_err(HandlerError::from)?;
        Ok(())
    }
}
