//! The values the store takes and gives: new events, recorded events, expected
//! versions and append results.

use bytes::Bytes;
use std::fmt;
use uuid::Uuid;

use crate::StoreError;

/// A position in the global log. Positions are totally ordered; on SQLite they are
/// gapless (1, 2, 3, ...), on JetStream they are `stream sequence x 1000 + index of
/// the event within its append` (see docs/adr/0002).
pub type Position = u64;

/// What the caller believes about the stream before appending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// Append whatever the stream holds.
    Any,
    /// The stream must be empty.
    NoStream,
    /// The stream must have at least one event.
    StreamExists,
    /// The stream must have exactly this many events (0 is the same as `NoStream`).
    Exact(u64),
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::NoStream => f.write_str("no stream"),
            ExpectedVersion::StreamExists => f.write_str("stream exists"),
            ExpectedVersion::Exact(n) => write!(f, "version {n}"),
        }
    }
}

impl ExpectedVersion {
    /// Whether a stream at `actual` (0 = empty) satisfies this expectation.
    pub fn admits(self, actual: u64) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => actual == 0,
            ExpectedVersion::StreamExists => actual > 0,
            ExpectedVersion::Exact(n) => actual == n,
        }
    }
}

/// Who and why, carried with every event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventMetadata {
    /// When the fact happened, microseconds since the Unix epoch (from the command).
    pub time_unix_micros: i64,
    /// The request or process this event belongs to.
    pub correlation_id: Option<Uuid>,
    /// The event or command that caused it.
    pub causation_id: Option<Uuid>,
    /// The tenant it concerns.
    pub tenant: Option<String>,
    /// Who did it (user, service, `system`).
    pub actor: Option<String>,
}

/// An event to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// UUIDv7; appending the same ids again is idempotent.
    pub id: Uuid,
    /// Past-tense type, e.g. `workload.submitted`.
    pub event_type: String,
    /// Schema version of the payload.
    pub schema_version: u32,
    /// Protobuf payload.
    pub payload: Bytes,
    /// Who, why and when.
    pub metadata: EventMetadata,
}

impl NewEvent {
    /// A new event with a fresh UUIDv7 and empty metadata.
    pub fn new(event_type: impl Into<String>, schema_version: u32, payload: impl Into<Bytes>) -> Self {
        NewEvent {
            id: Uuid::now_v7(),
            event_type: event_type.into(),
            schema_version,
            payload: payload.into(),
            metadata: EventMetadata::default(),
        }
    }

    /// Sets the metadata.
    pub fn with_metadata(mut self, metadata: EventMetadata) -> Self {
        self.metadata = metadata;
        self
    }
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    /// Its id.
    pub id: Uuid,
    /// Its stream.
    pub stream: String,
    /// 1-based version within the stream.
    pub version: u64,
    /// Position in the global log.
    pub position: Position,
    /// Event type.
    pub event_type: String,
    /// Schema version (after upcasting, the newest).
    pub schema_version: u32,
    /// Payload (after upcasting).
    pub payload: Bytes,
    /// Who, why and when.
    pub metadata: EventMetadata,
    /// When the store recorded it, microseconds since the Unix epoch.
    pub recorded_unix_micros: i64,
}

/// What an append did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendResult {
    /// Position of the first event appended.
    pub first_position: Position,
    /// Position of the last event appended.
    pub last_position: Position,
    /// The stream's version after the append (its last event's version).
    pub version: u64,
}

/// Which way to read a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Oldest first, from a version up.
    Forwards,
    /// Newest first, from a version down.
    Backwards,
}

/// Checks a stream name: 1-200 characters of `[A-Za-z0-9._:-]`, no empty
/// dot-separated token (it becomes part of a NATS subject).
pub fn validate_stream(stream: &str) -> Result<(), StoreError> {
    let reason = if stream.is_empty() {
        Some("must not be empty")
    } else if stream.len() > 200 {
        Some("longer than 200 characters")
    } else if !stream.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b)) {
        Some("only letters, digits and . _ : - are allowed")
    } else if stream.starts_with('.') || stream.ends_with('.') || stream.contains("..") {
        Some("dots must separate non-empty parts")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(StoreError::InvalidStream { stream: stream.to_owned(), reason }),
        None => Ok(()),
    }
}

/// Checks a consumer name for checkpoints: 1-100 characters of `[A-Za-z0-9_-]`.
pub fn validate_consumer(consumer: &str) -> Result<(), StoreError> {
    if consumer.is_empty()
        || consumer.len() > 100
        || !consumer.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(StoreError::InvalidConsumer(consumer.to_owned()));
    }
    Ok(())
}

/// Checks a batch before any backend touches it.
pub(crate) fn validate_append(stream: &str, events: &[NewEvent]) -> Result<(), StoreError> {
    validate_stream(stream)?;
    let bad = |reason: String| Err(StoreError::InvalidAppend { stream: stream.to_owned(), reason });
    if events.is_empty() {
        return bad("no events to append".into());
    }
    let mut ids = std::collections::HashSet::with_capacity(events.len());
    for e in events {
        if !ids.insert(e.id) {
            return bad(format!("event id {} appears twice in one append", e.id));
        }
        if e.event_type.is_empty() || e.event_type.len() > 200 {
            return bad(format!("event {}: type must be 1-200 characters", e.id));
        }
    }
    Ok(())
}
