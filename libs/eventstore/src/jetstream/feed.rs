//! The feeder behind a JetStream subscription: an ordered consumer decoded into batches
//! of events, which outlives the consumer. An ordered consumer is ephemeral, so a server
//! restart (or a consumer lost for any other reason) ends it; the feeder then creates a
//! new one from the stream sequence after the last it delivered, so the subscriber sees
//! neither a gap nor a repeat. Only if no consumer can be had for [`GIVE_UP_AFTER`]
//! does the subscription end, with the error. Undecodable data ends it at once.

use super::batch::decode_batch;
use super::read::ordered_from;
use crate::{Position, RecordedEvent, Result, StoreError, Upcasters};
use async_nats::jetstream::consumer::pull::Ordered;
use async_nats::jetstream::stream::Stream;
use futures_util::StreamExt;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::Sender;

/// Most consumer messages decoded into one batch.
const READY_MESSAGES: usize = 512;
/// How long the consumer may stay lost before the subscription reports it.
pub(super) const GIVE_UP_AFTER: Duration = Duration::from_secs(60);
/// Wait between attempts to create a lost consumer.
const RETRY_EVERY: Duration = Duration::from_millis(250);

/// Why a consumer stopped delivering.
enum Stop {
    /// The subscriber is gone, or the data cannot be decoded: the end.
    Done,
    /// The consumer failed or ended: make another.
    Lost(StoreError),
}

/// Feeds `tx` with the events from `from` on, starting with `first` (a consumer from
/// `from`'s stream sequence), until the subscriber goes away.
pub(super) async fn run(
    stream: Stream,
    upcasters: Upcasters,
    from: Position,
    first: Ordered,
    tx: Sender<Result<Vec<RecordedEvent>>>,
) {
    let mut next = super::batch::sequence_of(from).max(1);
    let mut consumer = Some(first);
    let mut lost_since: Option<Instant> = None;
    loop {
        let messages = match consumer.take() {
            Some(c) => c,
            None => match ordered_from(&stream, next).await {
                Ok(c) => c,
                Err(e) => {
                    let since = *lost_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= GIVE_UP_AFTER {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                    tokio::time::sleep(RETRY_EVERY).await;
                    continue;
                }
            },
        };
        match deliver(messages, &upcasters, from, &mut next, &mut lost_since, &tx).await {
            Stop::Done => return,
            Stop::Lost(e) => {
                tracing::warn!(error = %e, next_sequence = next, "subscription consumer lost; creating another");
                lost_since.get_or_insert_with(Instant::now);
            }
        }
    }
}

/// Decodes and sends what `messages` delivers, advancing `next` past each message.
async fn deliver(
    messages: Ordered,
    upcasters: &Upcasters,
    from: Position,
    next: &mut u64,
    lost_since: &mut Option<Instant>,
    tx: &Sender<Result<Vec<RecordedEvent>>>,
) -> Stop {
    let mut ready = messages.ready_chunks(READY_MESSAGES);
    while let Some(msgs) = ready.next().await {
        let mut batch = Vec::with_capacity(msgs.len());
        let mut stop = None;
        for msg in msgs {
            let m = match msg {
                Ok(m) => m,
                Err(e) => {
                    stop = Some(Stop::Lost(StoreError::nats(e)));
                    break;
                }
            };
            let decoded = m.info().map_err(StoreError::nats).and_then(|info| {
                let recorded = (info.published.unix_timestamp_nanos() / 1_000) as i64;
                let events = decode_batch(info.stream_sequence, recorded, &m.payload)?;
                Ok((info.stream_sequence, events))
            });
            match decoded.and_then(|(seq, events)| Ok((seq, upcasters.apply_all(events)?))) {
                Ok((seq, events)) => {
                    *next = seq + 1;
                    *lost_since = None;
                    batch.extend(events.into_iter().filter(|e| e.position >= from));
                }
                Err(e) => {
                    if !batch.is_empty() {
                        let _ = tx.send(Ok(batch)).await;
                    }
                    let _ = tx.send(Err(e)).await;
                    return Stop::Done;
                }
            }
        }
        if !batch.is_empty() && tx.send(Ok(batch)).await.is_err() {
            return Stop::Done;
        }
        if let Some(stop) = stop {
            return stop;
        }
    }
    Stop::Lost(StoreError::Nats("the subscription's consumer ended".into()))
}
