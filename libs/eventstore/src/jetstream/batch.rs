//! One append as one JetStream message, and the position scheme that goes with it.

use crate::{EventMetadata, NewEvent, Position, RecordedEvent, Result, StoreError};
use bytes::Bytes;
use hcp_proto::v1::{EventBatch, EventBatchEvents, EventEnvelope};
use prost::Message;
use uuid::Uuid;

/// Positions per stream sequence: an event's position is `sequence x 1000 + index`.
pub(super) const POSITION_STRIDE: u64 = 1_000;
/// Most events one append may carry on JetStream.
pub const MAX_EVENTS_PER_APPEND: usize = POSITION_STRIDE as usize;

/// How many messages (appends) position `to` is past `from`.
pub const fn messages_between(from: Position, to: Position) -> u64 {
    (to / POSITION_STRIDE).saturating_sub(from / POSITION_STRIDE)
}

/// The position of the event at `index` of the batch stored at `sequence`.
pub const fn position_of(sequence: u64, index: u64) -> Position {
    sequence * POSITION_STRIDE + index
}

/// The stream sequence of the batch that holds `position`.
pub const fn sequence_of(position: Position) -> u64 {
    position / POSITION_STRIDE
}

/// How many earlier batches each batch points to.
pub(super) const BACK_POINTERS: usize = 31;

/// A stored batch: its events and the sequences of earlier batches of its stream.
pub(super) struct Decoded {
    pub events: Vec<RecordedEvent>,
    pub previous: Vec<u64>,
}

/// The back-pointers a new batch carries, given the last batch's sequence and its own.
pub(super) fn next_pointers(last_seq: u64, last_previous: &[u64]) -> Vec<u64> {
    if last_seq == 0 {
        return Vec::new();
    }
    std::iter::once(last_seq).chain(last_previous.iter().copied()).take(BACK_POINTERS).collect()
}

pub(super) fn encode_batch(stream: &str, first_version: u64, previous: Vec<u64>, events: &[NewEvent]) -> Vec<u8> {
    let opt = |u: Option<Uuid>| u.map(|u| u.to_string()).unwrap_or_default();
    EventBatch {
        stream: stream.to_owned(),
        first_version,
        events: events
            .iter()
            .map(|e| EventEnvelope {
                id: e.id.to_string(),
                r#type: e.event_type.clone(),
                schema_version: e.schema_version,
                time_unix_micros: e.metadata.time_unix_micros,
                correlation_id: opt(e.metadata.correlation_id),
                causation_id: opt(e.metadata.causation_id),
                tenant: e.metadata.tenant.clone().unwrap_or_default(),
                actor: e.metadata.actor.clone().unwrap_or_default(),
                payload: e.payload.clone(),
                ..Default::default()
            })
            .collect(),
        previous_sequences: previous,
    }
    .encode_to_vec()
}

/// The events of a stored batch (its back-pointers are skipped, not decoded). Their
/// payloads share the message's buffer.
pub(super) fn decode_batch(sequence: u64, recorded_unix_micros: i64, bytes: &Bytes) -> Result<Vec<RecordedEvent>> {
    let batch =
        EventBatchEvents::decode(bytes.clone()).map_err(|e| corrupt(sequence, format!("not an event batch: {e}")))?;
    events_of(sequence, recorded_unix_micros, batch.stream, batch.first_version, batch.events)
}

/// The events of a stored batch and its back-pointers.
pub(super) fn decode_with_pointers(sequence: u64, recorded_unix_micros: i64, bytes: &Bytes) -> Result<Decoded> {
    let batch = EventBatch::decode(bytes.clone()).map_err(|e| corrupt(sequence, format!("not an event batch: {e}")))?;
    let events = events_of(sequence, recorded_unix_micros, batch.stream, batch.first_version, batch.events)?;
    Ok(Decoded { events, previous: batch.previous_sequences })
}

fn corrupt(sequence: u64, what: String) -> StoreError {
    StoreError::Corrupt(format!("message {sequence}: {what}"))
}

fn events_of(
    sequence: u64,
    recorded_unix_micros: i64,
    stream: String,
    first_version: u64,
    envelopes: Vec<EventEnvelope>,
) -> Result<Vec<RecordedEvent>> {
    let uuid = |s: &str, field: &str| -> Result<Option<Uuid>> {
        if s.is_empty() {
            return Ok(None);
        }
        Uuid::parse_str(s).map(Some).map_err(|_| corrupt(sequence, format!("{field} {s:?} is not a UUID")))
    };
    let non_empty = |s: String| (!s.is_empty()).then_some(s);
    let count = envelopes.len();
    let mut stream = Some(stream);
    envelopes
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            // The last event takes the stream name; the others copy it.
            let stream =
                if i + 1 == count { stream.take().unwrap_or_default() } else { stream.clone().unwrap_or_default() };
            Ok(RecordedEvent {
                id: uuid(&e.id, "id")?.ok_or_else(|| corrupt(sequence, "event without id".into()))?,
                stream,
                version: first_version + i as u64,
                position: position_of(sequence, i as u64),
                event_type: e.r#type,
                schema_version: e.schema_version,
                metadata: EventMetadata {
                    time_unix_micros: e.time_unix_micros,
                    correlation_id: uuid(&e.correlation_id, "correlation id")?,
                    causation_id: uuid(&e.causation_id, "causation id")?,
                    tenant: non_empty(e.tenant),
                    actor: non_empty(e.actor),
                },
                recorded_unix_micros,
                payload: e.payload,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_counts_messages_not_position_units() {
        assert_eq!(messages_between(position_of(7, 3), position_of(10, 0)), 3);
        assert_eq!(messages_between(position_of(10, 2), position_of(10, 0)), 0);
        assert_eq!(messages_between(0, position_of(5, 999)), 5);
    }
}
