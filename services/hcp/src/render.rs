//! How events look to operators: readable text, or JSON lines. Payloads are
//! rendered as JSON through the proto descriptors, whatever their type.

use hcp_eventstore::RecordedEvent;
use hcp_runtime::render::{payload, time};
use std::fmt::Write as _;

/// The event as one JSON object.
pub fn to_json(e: &RecordedEvent) -> serde_json::Value {
    hcp_runtime::render::event_json(e)
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
