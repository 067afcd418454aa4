//! Reads: direct gets for streams and pages of the log, an ordered consumer for
//! subscriptions.

use super::batch::{Decoded, decode_batch, decode_with_pointers, position_of, sequence_of};
use crate::{Position, RecordedEvent, Result, StoreError};
use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use async_nats::jetstream::message::StreamMessage;
use async_nats::jetstream::stream::{DirectGetErrorKind, Stream};
use futures_util::StreamExt;

/// How many direct gets a page read keeps in flight.
const IN_FLIGHT: usize = 64;

fn micros(msg: &StreamMessage) -> i64 {
    (msg.time.unix_timestamp_nanos() / 1_000) as i64
}

/// The last batch on a subject, if any.
pub(super) async fn last_batch(stream: &Stream, subject: &str) -> Result<Option<StreamMessage>> {
    match stream.direct_get_last_for_subject(subject).await {
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == DirectGetErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::Nats(format!("last message of {subject}: {e}"))),
    }
}

/// The events of the batch at `sequence`.
pub(super) async fn batch_at(stream: &Stream, sequence: u64) -> Result<Vec<RecordedEvent>> {
    let msg = stream.direct_get(sequence).await.map_err(|e| StoreError::Nats(format!("message {sequence}: {e}")))?;
    decode_batch(msg.sequence, micros(&msg), &msg.payload)
}

/// Every event on a subject, oldest first, and the sequences of its last batch and
/// that batch's back-pointers. The last batch comes by one direct get; the batches
/// it points to come together, pipelined; streams longer than the pointers reach
/// repeat that from the oldest batch fetched.
pub(super) async fn stream_events(
    stream: &Stream,
    subject: &str,
) -> Result<(Vec<RecordedEvent>, Option<(u64, Vec<u64>)>)> {
    let Some(last) = last_batch(stream, subject).await? else {
        return Ok((Vec::new(), None));
    };
    let newest = decode_with_pointers(last.sequence, micros(&last), &last.payload)?;
    let tip = (last.sequence, newest.previous.clone());
    let mut batches: Vec<Decoded> = vec![newest];
    loop {
        let oldest = batches.last().expect("at least one batch");
        let reaches_start = oldest.events.first().is_none_or(|e| e.version == 1);
        if reaches_start || oldest.previous.is_empty() {
            break;
        }
        let wanted = oldest.previous.clone();
        let fetched: Vec<Result<Decoded>> = futures_util::stream::iter(wanted)
            .map(|seq| async move {
                let msg = stream.direct_get(seq).await.map_err(|e| StoreError::Nats(format!("message {seq}: {e}")))?;
                decode_with_pointers(msg.sequence, micros(&msg), &msg.payload)
            })
            .buffered(IN_FLIGHT)
            .collect()
            .await;
        for b in fetched {
            batches.push(b?);
        }
    }
    let mut events: Vec<RecordedEvent> = batches.into_iter().rev().flat_map(|b| b.events).collect();
    let contiguous = events.iter().enumerate().all(|(i, e)| e.version == i as u64 + 1);
    if !contiguous {
        return Err(StoreError::Corrupt(format!("{subject}: batch back-pointers do not cover versions 1..")));
    }
    events.shrink_to_fit();
    Ok((events, Some(tip)))
}

/// The last stream sequence.
async fn last_sequence(stream: &Stream) -> Result<u64> {
    Ok(stream.get_info().await.map_err(StoreError::nats)?.state.last_sequence)
}

/// Up to `limit` events from `from`, by pipelined direct gets.
pub(super) async fn all(stream: &Stream, from: Position, limit: usize) -> Result<Vec<RecordedEvent>> {
    let last = last_sequence(stream).await?;
    let first = sequence_of(from).max(1);
    if first > last || limit == 0 {
        return Ok(Vec::new());
    }
    let mut out = Vec::with_capacity(limit.min(16_384));
    let mut gets = futures_util::stream::iter(first..=last).map(|seq| stream.direct_get(seq)).buffered(IN_FLIGHT);
    while let Some(msg) = gets.next().await {
        let msg = msg.map_err(|e| StoreError::Nats(format!("reading the log: {e}")))?;
        for e in decode_batch(msg.sequence, micros(&msg), &msg.payload)? {
            if e.position >= from {
                out.push(e);
                if out.len() == limit {
                    return Ok(out);
                }
            }
        }
    }
    Ok(out)
}

/// The position of the last stored event (0 when empty).
pub(super) async fn head(stream: &Stream) -> Result<Position> {
    let last = last_sequence(stream).await?;
    if last == 0 {
        return Ok(0);
    }
    let events = batch_at(stream, last).await?;
    Ok(events.last().map_or(position_of(last, 0), |e| e.position))
}

/// An ordered consumer from `sequence` on: catch-up, then live, no gap.
pub(super) async fn ordered_from(stream: &Stream, sequence: u64) -> Result<pull::Ordered> {
    let consumer = stream
        .create_consumer(pull::OrderedConfig {
            deliver_policy: DeliverPolicy::ByStartSequence { start_sequence: sequence },
            ..Default::default()
        })
        .await
        .map_err(|e| StoreError::Nats(format!("cannot create a consumer: {e}")))?;
    consumer.messages().await.map_err(|e| StoreError::Nats(format!("cannot read the consumer: {e}")))
}
