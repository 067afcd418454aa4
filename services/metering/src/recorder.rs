//! The usage recorder: each workload's lifecycle folded through a [`Meter`] as it comes;
//! on each event that closes a billed span, the span is recorded on the tenant's usage
//! stream, cut at the periods' ends (see [`crate::pieces`]): its last piece with an id
//! derived from the closing event, the pieces before with ids naming them, which the
//! ledger may have recorded already while the span ran.
//!
//! Exactly once: every record's id is derived, and [`Tails`] appends it once however
//! often its event is handled. A workload whose start came before the checkpoint is read
//! from its stream once.

use crate::CONSUMER;
use crate::pieces::{Billed, PERIOD_ENDED};
use hcp_billing::period::Cadence;
use hcp_billing::usage::{Meter, Span};
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
/// A usage record's correction's event type.
pub const USAGE_AMENDED: &str = "usage.amended";

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
    cadence: Cadence,
    state: Mutex<State>,
}

impl<S> UsageRecorder<S> {
    /// A recorder over `store`, cutting spans at the ends of `cadence`'s periods.
    pub fn new(store: Arc<S>, cadence: Cadence) -> Self {
        UsageRecorder { store, cadence, state: Mutex::default() }
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
                    m.meter.apply_at(e.version, &decoded);
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

    /// Records `span` (closed by `event`, opened by version `opened_by`) on its tenant's
    /// usage stream: each piece that is not there yet.
    async fn record(
        &self,
        tails: &mut Tails,
        event: &RecordedEvent,
        billed: Billed<'_>,
        (span, opened_by): (Span, u64),
    ) -> Result<(), HandlerError> {
        let store = self.store.as_ref();
        let stream = usage_stream(billed.tenant);
        let caused = EventContext::caused_by("metering", event);
        let mut pieces = self.cadence.records(span);
        let last = pieces.pop().unwrap_or(span);
        for piece in pieces {
            let context = billed.piece(caused.clone(), opened_by, piece.to);
            let record = billed.record(piece, PERIOD_ENDED);
            let usage = context.event(0, USAGE_RECORDED, record.encode_to_vec(), record.to_unix_micros);
            tails.append_once(store, &stream, usage).await.map_err(HandlerError::from)?;
        }
        // The ledger recorded pieces past the span's end, the span then still open as far
        // as the log showed: its end came after those periods were invoiced, timed before
        // (a clock behind by more than the invoice grace). Each such piece is amended (the
        // first to end where the span did, any later one to nothing), the difference an
        // adjustment on the next invoice, and nothing is recorded twice.
        let (mut now, mut end, mut amended) = (last, self.cadence.period_of(last.from).end, 0);
        loop {
            let through = billed.piece(caused.clone(), opened_by, end).event_id(0);
            if !tails.contains(store, &stream, through).await.map_err(HandlerError::from)? {
                break;
            }
            if now.to < end {
                tracing::warn!(
                    workload = billed.workload_id,
                    ended = %last.to,
                    billed_through = %end,
                    "a workload's end came after its period was invoiced with it running; the piece is amended"
                );
                let amendment = pb::UsageAmended {
                    record_id: through.to_string(),
                    was: Some(billed.record(Span { to: end, ..now }, PERIOD_ENDED)),
                    now: Some(billed.record(now, &event.event_type)),
                    reason: format!("the workload ended at {}, recorded after its period was invoiced", last.to),
                };
                let context = caused.clone().with_tenant(billed.tenant);
                let usage = context.event(amended, USAGE_AMENDED, amendment.encode_to_vec(), last.to.unix_micros());
                tails.append_once(store, &stream, usage).await.map_err(HandlerError::from)?;
            }
            amended += 1;
            now = Span { from: end, to: end, ..now };
            end = self.cadence.period_of(end).end;
        }
        if amended > 0 {
            return Ok(());
        }
        let context = caused.with_tenant(billed.tenant);
        let record = billed.record(last, &event.event_type);
        let usage = context.event(0, USAGE_RECORDED, record.encode_to_vec(), record.to_unix_micros);
        tails.append_once(store, &stream, usage).await.map_err(HandlerError::from)?;
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
            metered.meter.apply_at(event.version, &decoded);
            state.workloads.insert(event.stream.clone(), metered);
            return Ok(());
        }
        let Some(metered) = self.metered(state, event).await? else { return Ok(()) };
        let closed = metered.meter.apply_at(event.version, &decoded);
        let opened_by = metered.meter.opened_by();
        metered.version = event.version;
        let spec = metered.spec.clone();
        if ENDING.contains(&event.event_type.as_str()) {
            state.workloads.remove(&event.stream);
        }
        let Some(span) = closed else { return Ok(()) };
        let billed = Billed {
            workload_id: event.stream.trim_start_matches("workload-"),
            tenant: spec.tenant.as_str(),
            model: spec.gpu_model.as_str(),
            site: spec.site.as_ref().map_or("", |s| s.as_str()),
        };
        if let Err(e) = self.record(&mut state.tails, event, billed, (span, opened_by)).await {
            // Not recorded: the meter goes back to before this event, to fold it again.
            state.workloads.remove(&event.stream);
            return Err(e);
        }
        Ok(())
    }
}
