//! The usage recorder: each workload's lifecycle folded through a [`Meter`] as it comes;
//! on each event that closes a billed span, the span is recorded on the tenant's usage
//! stream, with an id derived from the closing event.
//!
//! Exactly once: a record's id derives from the closing event, and [`Tails`] appends it
//! once however often that event is handled. A workload whose start came before the
//! checkpoint is read from its stream once.

use crate::CONSUMER;
use hcp_billing::usage::Meter;
use hcp_domain::codec::decode_workload_event;
use hcp_domain::units::Timestamp;
use hcp_domain::workload::{WorkloadEvent, WorkloadSpec};
use hcp_eventstore::{Direction, EventStore, RecordedEvent, Tails};
use hcp_proto::v1 as pb;
use hcp_runtime::{EventContext, Handler, HandlerError};
use prost::Message;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Mutex;

/// The usage record's event type.
pub const USAGE_RECORDED: &str = "usage.recorded";

/// The lifecycle events that end a workload.
const ENDING: [&str; 3] = ["workload.completed", "workload.failed", "workload.cancelled"];

/// A tenant's usage stream.
pub fn usage_stream(tenant: &str) -> String {
    format!("usage-{tenant}")
}

/// A workload being metered: its spec and meter, and the last version folded.
struct Metered {
    spec: WorkloadSpec,
    meter: Meter,
    version: u64,
}

#[derive(Default)]
struct State {
    workloads: HashMap<String, Metered>,
    tails: Tails,
}

/// The handler.
pub struct UsageRecorder<S> {
    store: Arc<S>,
    state: Mutex<State>,
}

impl<S> UsageRecorder<S> {
    /// A recorder over `store`.
    pub fn new(store: Arc<S>) -> Self {
        UsageRecorder { store, state: Mutex::default() }
    }
}

fn decode(e: &RecordedEvent) -> Result<WorkloadEvent, HandlerError> {
    let at = Timestamp::from_unix_micros(e.metadata.time_unix_micros);
    decode_workload_event(&e.event_type, &e.payload, at).map_err(|why| HandlerError::corrupt(e, why))
}

impl<S: EventStore> UsageRecorder<S> {
    /// The workload of `event` folded up to just before it: from memory, or (its start
    /// before this process's checkpoint) from its stream.
    async fn metered<'a>(
        &self,
        state: &'a mut State,
        event: &RecordedEvent,
    ) -> Result<Option<&'a mut Metered>, HandlerError> {
        let known = state.workloads.get(&event.stream).is_some_and(|m| m.version + 1 == event.version);
        if !known && event.version > 1 {
            let history = self
                .store
                .read_stream(&event.stream, 1, Direction::Forwards, event.version as usize - 1)
                .await
                .map_err(HandlerError::from)?;
            let mut folded: Option<Metered> = None;
            for e in history.iter().take_while(|e| e.version < event.version) {
                let decoded = decode(e)?;
                if let WorkloadEvent::Submitted { spec, .. } = &decoded {
                    folded = Some(Metered { spec: spec.clone(), meter: Meter::default(), version: 0 });
                }
                if let Some(m) = folded.as_mut() {
                    m.meter.apply(&decoded);
                    m.version = e.version;
                }
            }
            match folded {
                Some(m) => state.workloads.insert(event.stream.clone(), m),
                None => state.workloads.remove(&event.stream),
            };
        }
        Ok(state.workloads.get_mut(&event.stream))
    }

    /// Appends `record` (caused by `event`) to its tenant's usage stream unless it is there.
    async fn record(
        &self,
        tails: &mut Tails,
        event: &RecordedEvent,
        record: pb::UsageRecorded,
    ) -> Result<(), HandlerError> {
        let stream = usage_stream(&record.tenant);
        let context = EventContext::caused_by("metering", event).with_tenant(record.tenant.clone());
        let usage = context.event(0, USAGE_RECORDED, record.encode_to_vec(), record.to_unix_micros);
        tails.append_once(self.store.as_ref(), &stream, usage).await.map_err(HandlerError::from)?;
        Ok(())
    }
}

impl<S: EventStore> Handler for UsageRecorder<S> {
    fn name(&self) -> &str {
        CONSUMER
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        event.stream.starts_with("workload-")
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandlerError> {
        let decoded = decode(event)?;
        let mut state = self.state.lock().await;
        let state = &mut *state;
        if let WorkloadEvent::Submitted { spec, .. } = &decoded {
            let mut metered = Metered { spec: spec.clone(), meter: Meter::default(), version: event.version };
            metered.meter.apply(&decoded);
            state.workloads.insert(event.stream.clone(), metered);
            return Ok(());
        }
        let Some(metered) = self.metered(state, event).await? else { return Ok(()) };
        let closed = metered.meter.apply(&decoded);
        metered.version = event.version;
        let spec = metered.spec.clone();
        if ENDING.contains(&event.event_type.as_str()) {
            state.workloads.remove(&event.stream);
        }
        let Some(span) = closed else { return Ok(()) };
        let record = pb::UsageRecorded {
            workload_id: event.stream.trim_start_matches("workload-").to_owned(),
            tenant: spec.tenant.as_str().to_owned(),
            gpu_model: spec.gpu_model.as_str().to_owned(),
            site: spec.site.as_ref().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            gpus: span.gpus,
            from_unix_micros: span.from.unix_micros(),
            to_unix_micros: span.to.unix_micros(),
            gpu_micros: i64::try_from(span.gpu_micros()).unwrap_or(i64::MAX),
            closed_by: event.event_type.clone(),
        };
        if let Err(e) = self.record(&mut state.tails, event, record).await {
            // Not recorded: the meter goes back to before this event, to fold it again.
            state.workloads.remove(&event.stream);
            return Err(e);
        }
        Ok(())
    }
}
