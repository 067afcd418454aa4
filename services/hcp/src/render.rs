//! How events look to operators: readable text, or JSON lines. Payloads are
//! rendered as JSON through the proto descriptors, whatever their type.

use hcp_eventstore::RecordedEvent;
use hcp_proto::descriptors::payload_to_json;
use serde_json::{Value, json};
use std::fmt::Write as _;

fn time(micros: i64) -> String {
    hcp_domain::units::Timestamp::from_unix_micros(micros).to_string()
}

fn payload(e: &RecordedEvent) -> Value {
    match payload_to_json(&e.event_type, &e.payload) {
        Ok(v) => v,
        Err(err) => json!({ "undecoded_bytes": e.payload.len(), "error": err.to_string() }),
    }
}

/// The event as one JSON object.
pub fn to_json(e: &RecordedEvent) -> Value {
    let m = &e.metadata;
    json!({
        "position": e.position,
        "stream": e.stream,
        "version": e.version,
        "id": e.id.to_string(),
        "type": e.event_type,
        "schema_version": e.schema_version,
        "time": time(m.time_unix_micros),
        "recorded": time(e.recorded_unix_micros),
        "correlation_id": m.correlation_id.map(|u| u.to_string()),
        "causation_id": m.causation_id.map(|u| u.to_string()),
        "tenant": m.tenant,
        "actor": m.actor,
        "payload": payload(e),
    })
}

/// The event as one line of text.
pub fn to_text(e: &RecordedEvent) -> String {
    let mut line = format!(
        "{:>10}  {}  {}@{}  {} v{}  {}",
        e.position,
        time(e.metadata.time_unix_micros),
        e.stream,
        e.version,
        e.event_type,
        e.schema_version,
        payload(e)
    );
    if let Some(t) = &e.metadata.tenant {
        let _ = write!(line, "  tenant={t}");
    }
    if let Some(a) = &e.metadata.actor {
        let _ = write!(line, "  actor={a}");
    }
    line
}

/// The event in the chosen format.
pub fn line(e: &RecordedEvent, json: bool) -> String {
    if json { to_json(e).to_string() } else { to_text(e) }
}
