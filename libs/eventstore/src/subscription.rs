//! A live subscription to the global log, fed by a task the subscription owns.

use crate::{RecordedEvent, Result};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Events in global order; catch-up first, then live. Dropping it stops its task.
pub struct Subscription {
    rx: mpsc::Receiver<Result<RecordedEvent>>,
    task: JoinHandle<()>,
}

impl Subscription {
    /// How many events may wait unread before the feeder pauses.
    pub(crate) const BUFFER: usize = 4096;

    /// Wraps a feeder task and its channel.
    pub(crate) fn new(rx: mpsc::Receiver<Result<RecordedEvent>>, task: JoinHandle<()>) -> Self {
        Subscription { rx, task }
    }

    /// The next event; `None` once the feeder has stopped (after reporting an error).
    pub async fn next(&mut self) -> Option<Result<RecordedEvent>> {
        self.rx.recv().await
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}
