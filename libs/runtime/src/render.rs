//! An event as JSON, as operators and API clients see it (`hcp events --json`, the
//! gateway's live stream): its place in the log, who did it and when, and its payload
//! rendered through the proto descriptors, whatever its type.

use hcp_eventstore::RecordedEvent;
use hcp_proto::descriptors::payload_to_json;
use serde_json::{Value, json};

/// An instant as RFC 3339 text.
pub fn time(micros: i64) -> String {
    hcp_domain::units::Timestamp::from_unix_micros(micros).to_string()
}

/// The payload as JSON (what could not be decoded says so, with its size).
pub fn payload(e: &RecordedEvent) -> Value {
    match payload_to_json(&e.event_type, &e.payload) {
        Ok(v) => v,
        Err(err) => json!({ "undecoded_bytes": e.payload.len(), "error": err.to_string() }),
    }
}

/// The event as an entry of a stream's history (`/v1/workloads/{id}/history`, a device's
/// history): its payload as JSON text.
pub fn history_entry(e: &RecordedEvent) -> hcp_proto::v1::WorkloadHistoryEntry {
    hcp_proto::v1::WorkloadHistoryEntry {
        version: e.version,
        event_type: e.event_type.clone(),
        time_unix_micros: e.metadata.time_unix_micros,
        actor: e.metadata.actor.clone().unwrap_or_default(),
        detail: payload(e).to_string(),
    }
}

/// The event as one JSON object.
pub fn event_json(e: &RecordedEvent) -> Value {
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
