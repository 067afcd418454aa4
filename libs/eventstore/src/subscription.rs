//! A live subscription to the global log, fed by a task the subscription owns.
//!
//! The feeder sends events in batches (a page of the log, or every message the consumer
//! had ready), so the channel is crossed once per batch rather than once per event.

use crate::{RecordedEvent, Result};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Events in global order; catch-up first, then live. Dropping it stops its task.
pub struct Subscription {
    rx: mpsc::Receiver<Result<Vec<RecordedEvent>>>,
    pending: std::vec::IntoIter<RecordedEvent>,
    task: JoinHandle<()>,
}

impl Subscription {
    /// How many batches may wait unread before the feeder pauses.
    pub(crate) const BUFFER: usize = 16;

    /// Wraps a feeder task and its channel.
    pub(crate) fn new(rx: mpsc::Receiver<Result<Vec<RecordedEvent>>>, task: JoinHandle<()>) -> Self {
        Subscription { rx, pending: Vec::new().into_iter(), task }
    }

    /// The next event; `None` once the feeder has stopped (after reporting an error).
    pub async fn next(&mut self) -> Option<Result<RecordedEvent>> {
        loop {
            if let Some(e) = self.pending.next() {
                return Some(Ok(e));
            }
            match self.rx.recv().await? {
                Ok(batch) => self.pending = batch.into_iter(),
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// The next events, as many as arrived together (at least one); `None` once the
    /// feeder has stopped. A projection folding a batch at a time moves each event
    /// once, not twice.
    pub async fn next_batch(&mut self) -> Option<Result<Vec<RecordedEvent>>> {
        let pending: Vec<RecordedEvent> = std::mem::take(&mut self.pending).collect();
        if !pending.is_empty() {
            return Some(Ok(pending));
        }
        loop {
            match self.rx.recv().await? {
                Ok(batch) if batch.is_empty() => continue,
                Ok(batch) => return Some(Ok(batch)),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}
