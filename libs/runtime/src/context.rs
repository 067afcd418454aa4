//! Who and why: the metadata every event a service appends carries.
//!
//! - The **correlation id** is the W3C trace id: 16 bytes, kept from the first event or
//!   request of a chain to the last, so one trace id follows a price observation to the
//!   plan it caused (and, in gRPC metadata, `traceparent` carries it between processes).
//! - The **causation id** is the event (or request) that caused this one.
//! - Events appended while handling an event get ids derived from that event's id, the
//!   handler's name and their index: handling the same event again (after a crash
//!   between the append and the checkpoint) appends the same ids, which the store takes
//!   as the retry of an append it already holds. That is what makes reactors idempotent.
//! - The schema version is [`hcp_domain::codec::SCHEMA_VERSION`], the one constant.

use hcp_domain::codec::SCHEMA_VERSION;
use hcp_eventstore::{EventMetadata, NewEvent, RecordedEvent};
use uuid::Uuid;

/// The metadata for the events of one command or one handled event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventContext {
    /// Who acts: a service name, or `operator:<user>`.
    pub actor: String,
    /// The trace (and correlation) id.
    pub correlation_id: Uuid,
    /// What caused it.
    pub causation_id: Option<Uuid>,
    /// The tenant, where there is one.
    pub tenant: Option<String>,
    /// When set, event ids are derived from this cause instead of drawn fresh.
    derive_ids_from: Option<Uuid>,
}

impl EventContext {
    /// The start of a new chain (a new trace).
    pub fn new(actor: impl Into<String>) -> Self {
        EventContext {
            actor: actor.into(),
            correlation_id: Uuid::new_v4(),
            causation_id: None,
            tenant: None,
            derive_ids_from: None,
        }
    }

    /// A chain continued from a request carrying `traceparent` (a new one if absent or
    /// malformed).
    pub fn from_traceparent(actor: impl Into<String>, traceparent: Option<&str>) -> Self {
        let mut context = EventContext::new(actor);
        if let Some(trace) = traceparent.and_then(parse_traceparent) {
            context.correlation_id = trace;
        }
        context
    }

    /// What `actor` does because of `event`: same trace, `event` as the cause, and
    /// event ids derived from it.
    pub fn caused_by(actor: impl Into<String>, event: &RecordedEvent) -> Self {
        EventContext {
            actor: actor.into(),
            correlation_id: event.metadata.correlation_id.unwrap_or(event.id),
            causation_id: Some(event.id),
            tenant: event.metadata.tenant.clone(),
            derive_ids_from: Some(event.id),
        }
    }

    /// Event ids derived from `key` (`invoice:acme:2026-11`) instead of drawn fresh: the
    /// same key gives the same ids, so a decision that can be reached twice (by two
    /// instances, or again after a crash) is appended once.
    pub fn with_ids_from_key(mut self, key: &str) -> Self {
        let cause = derived_id(Uuid::nil(), key, 0);
        self.derive_ids_from = Some(cause);
        self
    }

    /// Sets the tenant.
    pub fn with_tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    /// The metadata of an event that happened at `time_unix_micros`.
    pub fn metadata(&self, time_unix_micros: i64) -> EventMetadata {
        EventMetadata {
            time_unix_micros,
            correlation_id: Some(self.correlation_id),
            causation_id: self.causation_id,
            tenant: self.tenant.clone(),
            actor: Some(self.actor.clone()),
        }
    }

    /// The id of this context's `index`-th event: derived from the cause when there is
    /// one (the same each time), fresh otherwise.
    pub fn event_id(&self, index: usize) -> Uuid {
        self.derive_ids_from.map_or_else(Uuid::now_v7, |cause| derived_id(cause, &self.actor, index))
    }

    /// The `index`-th event of this context, at the current schema version.
    pub fn event(&self, index: usize, event_type: &str, payload: Vec<u8>, time_unix_micros: i64) -> NewEvent {
        let mut event =
            NewEvent::new(event_type, SCHEMA_VERSION, payload).with_metadata(self.metadata(time_unix_micros));
        if let Some(cause) = self.derive_ids_from {
            event.id = derived_id(cause, &self.actor, index);
        }
        event
    }

    /// The W3C `traceparent` of this context (the span is the cause's low bytes, or zero-free filler).
    pub fn traceparent(&self) -> String {
        let span = self.causation_id.map_or([0x5a; 8], crate::telemetry::span_bytes);
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        format!("00-{}-{}-01", hex(self.correlation_id.as_bytes()), hex(&span))
    }
}

/// The trace id of a W3C `traceparent` header (`00-<32 hex>-<16 hex>-<2 hex>`).
pub fn parse_traceparent(header: &str) -> Option<Uuid> {
    let mut parts = header.trim().split('-');
    let (version, trace, span, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let ok = version.len() == 2 && trace.len() == 32 && span.len() == 16 && flags.len() == 2;
    let trace = Uuid::try_parse(trace).ok()?;
    (ok && !trace.is_nil()).then_some(trace)
}

/// An id derived from a cause: the cause's first 6 bytes (a UUIDv7's millisecond
/// time, so derived ids stay roughly time-ordered) and a 64-bit FNV-1a hash of the
/// cause, the actor and the index, as a version-8 UUID.
fn derived_id(cause: Uuid, actor: &str, index: usize) -> Uuid {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    feed(cause.as_bytes());
    feed(actor.as_bytes());
    feed(&(index as u64).to_le_bytes());
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&cause.as_bytes()[..6]);
    bytes[6..14].copy_from_slice(&hash.to_be_bytes());
    bytes[14..].copy_from_slice(&cause.as_bytes()[14..]);
    Uuid::new_v8(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcp_eventstore::EventMetadata;

    fn recorded(correlation: Option<Uuid>) -> RecordedEvent {
        RecordedEvent {
            id: Uuid::now_v7(),
            stream: "prices-x".into(),
            version: 1,
            position: 7,
            event_type: "price.observed".into(),
            schema_version: 1,
            payload: Vec::new().into(),
            metadata: EventMetadata { correlation_id: correlation, ..EventMetadata::default() },
            recorded_unix_micros: 0,
        }
    }

    #[test]
    fn a_handled_event_passes_on_its_trace_and_becomes_the_cause() {
        let trace = Uuid::new_v4();
        let cause = recorded(Some(trace));
        let ctx = EventContext::caused_by("optimization", &cause);
        let e = ctx.event(0, "allocation.planned", vec![1], 5);
        assert_eq!(e.metadata.correlation_id, Some(trace));
        assert_eq!(e.metadata.causation_id, Some(cause.id));
        assert_eq!(e.schema_version, SCHEMA_VERSION);
        assert_eq!(parse_traceparent(&ctx.traceparent()), Some(trace));
    }

    #[test]
    fn derived_ids_repeat_for_the_same_cause_handler_and_index_only() {
        let cause = recorded(None);
        let a = EventContext::caused_by("optimization", &cause);
        let b = EventContext::caused_by("metering", &cause);
        let id = |c: &EventContext, n| c.event(n, "t", vec![], 0).id;
        assert_eq!(id(&a, 0), id(&a, 0));
        assert_ne!(id(&a, 0), id(&a, 1));
        assert_ne!(id(&a, 0), id(&b, 0));
        // A chain's first event with no correlation id starts its trace at itself.
        assert_eq!(a.correlation_id, cause.id);
    }

    #[test]
    fn malformed_traceparents_start_a_new_trace() {
        for bad in ["", "00-xyz-01", "00-00000000000000000000000000000000-0000000000000001-01"] {
            assert_eq!(parse_traceparent(bad), None, "{bad}");
        }
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            EventContext::from_traceparent("gw", Some(good)).correlation_id.simple().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
    }
}
