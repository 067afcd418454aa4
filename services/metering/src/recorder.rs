//! The usage recorder: each workload's lifecycle folded through a [`Meter`] as it comes;
//! on each event that closes a billed span, the span is recorded on the tenant's usage
//! stream, cut at the periods' ends (see [`crate::pieces`]): its last piece with an id
//! derived from the closing event, the pieces before with ids naming them. Where the log
//! has a tenant's usage closed through a period's end (`usage.period_closed`, the
//! ledger's before it invoices) while a span is open, the pieces up to that end are
//! recorded then, so a workload running on is billed in each period. One writer, in log
//! order: whether a span was open at the close is what the log says.
//!
//! A record's site is the one its workload's spec named, else the site of the resource it
//! was placed on when its span closed (read from the resource's registration, once), so
//! usage by site and the records on Kafka say where the GPU time ran.
//!
//! Exactly once: every record's id is derived, and [`Tails`] appends it once however
//! often its event is handled. A workload whose start came before the checkpoint is read
//! from its stream once.

use crate::CONSUMER;
use crate::amend::standing as standing_records;
use crate::pieces::{ACTOR, Billed, PERIOD_ENDED, piece_id};
use hcp_billing::period::Cadence;
use hcp_billing::usage::{Meter, Span};
use hcp_domain::codec::decode_workload_event;
use hcp_domain::units::Timestamp;
use hcp_domain::workload::{WorkloadEvent, WorkloadSpec};
use hcp_eventstore::{Direction, EventStore, RecordedEvent, Tails};
use hcp_proto::v1 as pb;
use hcp_runtime::reactor::decoded as runtime_decode;
use hcp_runtime::{EventContext, Handler, HandlerError};
use prost::Message;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Mutex;

/// The usage record's event type.
pub const USAGE_RECORDED: &str = "usage.recorded";
/// A usage record's correction's event type.
pub const USAGE_AMENDED: &str = "usage.amended";
/// A tenant's usage closed through a period's end (the ledger's, before it invoices).
pub const USAGE_PERIOD_CLOSED: &str = "usage.period_closed";

/// The lifecycle events that end a workload.
const ENDING: [&str; 3] = ["workload.completed", "workload.failed", "workload.cancelled"];

/// A tenant's usage stream.
pub fn usage_stream(tenant: &str) -> String {
    format!("usage-{tenant}")
}

/// A workload being metered: its spec and meter, the resource it was last placed on, and
/// the last version folded.
struct Metered {
    spec: WorkloadSpec,
    meter: Meter,
    placed: Option<String>,
    version: u64,
}

impl Metered {
    fn new(spec: WorkloadSpec) -> Self {
        Metered { spec, meter: Meter::default(), placed: None, version: 0 }
    }

    /// Folds the event at `version`: the span it closes, if any, with the resource the
    /// span ran on (placed before this event).
    fn apply(&mut self, version: u64, event: &WorkloadEvent) -> Option<(Span, Option<String>)> {
        let closed = self.meter.apply_at(version, event);
        let ran_on = self.placed.clone();
        if let WorkloadEvent::Scheduled { resources, .. } | WorkloadEvent::Migrated { to: resources, .. } = event {
            self.placed = resources.first().map(|r| r.as_str().to_owned());
        }
        self.version = version;
        closed.map(|span| (span, ran_on))
    }
}

#[derive(Default)]
struct State {
    workloads: HashMap<String, Metered>,
    /// Resource → its site, from its registration.
    sites: HashMap<String, String>,
    tails: Tails,
}

/// Whose a workload's GPU time is, from its spec, and where it ran (`site`).
fn billed<'a>(spec: &'a WorkloadSpec, workload_id: &'a str, site: &'a str) -> Billed<'a> {
    Billed { workload_id, tenant: spec.tenant.as_str(), model: spec.gpu_model.as_str(), site }
}

/// Appends the usage record of `piece` (of the span opened by `opened_by`, ending at a
/// period's end) unless it is there.
async fn piece_record<S: EventStore>(
    store: &S,
    tails: &mut Tails,
    caused: &EventContext,
    billed: Billed<'_>,
    opened_by: u64,
    piece: Span,
) -> Result<(), HandlerError> {
    let context = billed.piece(caused.clone(), opened_by, piece.to);
    let record = billed.record(piece, PERIOD_ENDED);
    let usage = context.event(0, USAGE_RECORDED, record.encode_to_vec(), record.to_unix_micros);
    tails.append_once(store, &usage_stream(billed.tenant), usage).await.map_err(HandlerError::from)?;
    Ok(())
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
            let version = event.version;
            self.refold(state, &event.stream, version as usize - 1, |e| e.version < version).await?;
        }
        Ok(state.workloads.get_mut(&event.stream))
    }

    /// `stream`'s workload folded from its stream (its first `max` events), through the
    /// events `before` keeps.
    async fn refold(
        &self,
        state: &mut State,
        stream: &str,
        max: usize,
        before: impl Fn(&RecordedEvent) -> bool,
    ) -> Result<(), HandlerError> {
        let history = self.store.read_stream(stream, 1, Direction::Forwards, max).await.map_err(HandlerError::from)?;
        let mut folded: Option<Metered> = None;
        for e in history.iter().take_while(|e| before(e)) {
            let decoded = decode(e)?;
            if let WorkloadEvent::Submitted { spec, .. } = &decoded {
                folded = Some(Metered::new(spec.clone()));
            }
            if let Some(m) = folded.as_mut() {
                m.apply(e.version, &decoded);
            }
        }
        match folded {
            Some(m) => state.workloads.insert(stream.to_owned(), m),
            None => state.workloads.remove(stream),
        };
        Ok(())
    }

    /// A tenant's usage closed through a period's end: the listed spans still open here in
    /// the log have their pieces up to that end recorded.
    async fn close_period(&self, state: &mut State, event: &RecordedEvent) -> Result<(), HandlerError> {
        let closed = runtime_decode::<pb::UsagePeriodClosed>(event)?;
        let end = Timestamp::from_unix_micros(closed.period_end_unix_micros);
        let caused = EventContext::caused_by("metering", event);
        for open in &closed.open {
            let stream = format!("workload-{}", open.workload_id);
            if !state.workloads.contains_key(&stream) {
                // Started before the checkpoint: as the log stood at this event.
                self.refold(state, &stream, usize::MAX, |e| e.position < event.position).await?;
            }
            let Some(m) = state.workloads.get(&stream) else { continue };
            let Some(span) = m.meter.open(end).filter(|_| m.meter.opened_by() == open.opened_by) else { continue };
            let (spec, placed) = (m.spec.clone(), m.placed.clone());
            let site = self.site(&mut state.sites, &spec, placed.as_deref()).await?;
            let billed = billed(&spec, &open.workload_id, &site);
            for piece in self.cadence.records(span).into_iter().filter(|p| p.from < p.to) {
                piece_record(self.store.as_ref(), &mut state.tails, &caused, billed, open.opened_by, piece).await?;
            }
        }
        Ok(())
    }

    /// Where a workload of `spec` ran, placed on resource `placed`: the site its spec
    /// named, else the site the resource was registered at ("" when neither is known).
    async fn site(
        &self,
        sites: &mut HashMap<String, String>,
        spec: &WorkloadSpec,
        placed: Option<&str>,
    ) -> Result<String, HandlerError> {
        if let Some(site) = &spec.site {
            return Ok(site.as_str().to_owned());
        }
        let Some(resource) = placed else { return Ok(String::new()) };
        if let Some(site) = sites.get(resource) {
            return Ok(site.clone());
        }
        let stream = format!("resource-{resource}");
        let first = self.store.read_stream(&stream, 1, Direction::Forwards, 1).await.map_err(HandlerError::from)?;
        let Some(registered) = first.first().filter(|e| e.event_type == "resource.registered") else {
            return Ok(String::new());
        };
        let site = runtime_decode::<pb::ResourceRegistered>(registered)?.spec.map(|s| s.site).unwrap_or_default();
        sites.insert(resource.to_owned(), site.clone());
        Ok(site)
    }

    /// Records `span` (closed by `event`, opened by version `opened_by`) on its tenant's
    /// usage stream: each piece that is not there yet, the last (named by `event`) last.
    async fn record(
        &self,
        tails: &mut Tails,
        event: &RecordedEvent,
        billed: Billed<'_>,
        (span, opened_by): (Span, u64),
    ) -> Result<(), HandlerError> {
        let store = self.store.as_ref();
        let stream = usage_stream(billed.tenant);
        let caused = EventContext::caused_by(ACTOR, event).with_tenant(billed.tenant);
        // Recorded whole before (the last piece goes last; or, from before spans were cut,
        // the span as one record under this id).
        if tails.contains(store, &stream, caused.event_id(0)).await.map_err(HandlerError::from)? {
            return Ok(());
        }
        let pieces = self.cadence.records(span);
        let (last, earlier) = pieces.split_last().map_or((span, &[][..]), |(last, earlier)| (*last, earlier));
        for piece in earlier {
            piece_record(store, tails, &caused, billed, opened_by, *piece).await?;
        }
        if self.amend_past_end(tails, event, billed, opened_by, last).await? {
            return Ok(());
        }
        if last.from < last.to {
            let record = billed.record(last, &event.event_type);
            let usage = caused.event(0, USAGE_RECORDED, record.encode_to_vec(), record.to_unix_micros);
            tails.append_once(store, &stream, usage).await.map_err(HandlerError::from)?;
        }
        Ok(())
    }

    /// Pieces recorded past the span's end (`last` its last piece), when the log closed
    /// usage with the span open and its end came after, timed before (a clock behind by
    /// more than the invoice grace): each is amended, as it stands, to end no later than
    /// the span did (the first to its end, any later one to nothing), the difference an
    /// adjustment on the next invoice. Answers whether there were any (then the last
    /// piece is one of them, not recorded again).
    async fn amend_past_end(
        &self,
        tails: &mut Tails,
        event: &RecordedEvent,
        billed: Billed<'_>,
        opened_by: u64,
        last: Span,
    ) -> Result<bool, HandlerError> {
        let store = self.store.as_ref();
        let stream = usage_stream(billed.tenant);
        let caused = EventContext::caused_by(ACTOR, event).with_tenant(billed.tenant);
        let (mut end, mut found, mut standing) = (self.cadence.period_of(last.from).end, 0, None);
        while tails.contains(store, &stream, piece_id(billed.workload_id, opened_by, end)).await? {
            found += 1;
            let id = piece_id(billed.workload_id, opened_by, end);
            if standing.is_none() {
                let events = store.read_stream(&stream, 1, Direction::Forwards, usize::MAX).await?;
                standing = Some(standing_records(&events).map_err(|why| HandlerError::corrupt(event, why))?);
            }
            let was = standing.iter().flatten().find(|(i, _, _)| *i == id).map(|(_, r, _)| r.clone());
            let Some(was) = was else { break };
            // The span ended at `last.to`: this piece runs no further.
            let to = was.to_unix_micros.min(last.to.unix_micros().max(was.from_unix_micros));
            if to < was.to_unix_micros {
                tracing::warn!(
                    workload = billed.workload_id,
                    ended = %last.to,
                    billed_through = %end,
                    "a workload's end came after its period was invoiced with it running; the piece is amended"
                );
                let mut now = was.clone();
                now.to_unix_micros = to;
                now.gpu_micros = (to - now.from_unix_micros) * i64::from(now.gpus);
                now.closed_by = event.event_type.clone();
                let reason = format!("the workload ended at {}, recorded after its period was invoiced", last.to);
                let amendment = pb::UsageAmended { record_id: id.to_string(), was: Some(was), now: Some(now), reason };
                let usage = caused.event(found, USAGE_AMENDED, amendment.encode_to_vec(), last.to.unix_micros());
                tails.append_once(store, &stream, usage).await?;
            }
            end = self.cadence.period_of(end).end;
        }
        Ok(found > 0)
    }
}

impl<S: EventStore> Handler for UsageRecorder<S> {
    fn name(&self) -> &str {
        CONSUMER
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        event.stream.starts_with("workload-")
            || (event.event_type == USAGE_PERIOD_CLOSED && event.stream.starts_with("usage-"))
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandlerError> {
        let mut state = self.state.lock().await;
        let state = &mut *state;
        if event.event_type == USAGE_PERIOD_CLOSED {
            return self.close_period(state, event).await;
        }
        let decoded = decode(event)?;
        if let WorkloadEvent::Submitted { spec, .. } = &decoded {
            let mut metered = Metered::new(spec.clone());
            metered.apply(event.version, &decoded);
            state.workloads.insert(event.stream.clone(), metered);
            return Ok(());
        }
        let Some(metered) = self.metered(state, event).await? else { return Ok(()) };
        let closed = metered.apply(event.version, &decoded);
        let opened_by = metered.meter.opened_by();
        let spec = metered.spec.clone();
        if ENDING.contains(&event.event_type.as_str()) {
            state.workloads.remove(&event.stream);
        }
        let Some((span, ran_on)) = closed else { return Ok(()) };
        let recorded = async {
            let site = self.site(&mut state.sites, &spec, ran_on.as_deref()).await?;
            let billed = billed(&spec, event.stream.trim_start_matches("workload-"), &site);
            self.record(&mut state.tails, event, billed, (span, opened_by)).await
        }
        .await;
        if let Err(e) = recorded {
            // Not recorded: the meter goes back to before this event, to fold it again.
            state.workloads.remove(&event.stream);
            return Err(e);
        }
        Ok(())
    }
}
