//! The event store as every service sees it: any backend, with each operation's
//! latency recorded in the process's metrics.

use crate::metrics::{Metrics, StoreLabels};
use hcp_eventstore::{
    AppendResult, Direction, EventStore, ExpectedVersion, NewEvent, Position, RecordedEvent, Result, Subscription,
};
use std::future::Future;
use std::time::Instant;

/// A store whose operations are timed into `hcp_store_operation_duration_seconds`.
pub struct Instrumented<S> {
    inner: S,
    metrics: Metrics,
}

impl<S> Instrumented<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, metrics: Metrics) -> Self {
        Instrumented { inner, metrics }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    async fn timed<T>(&self, operation: &str, f: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let out = f.await;
        self.metrics
            .store_duration
            .get_or_create(&StoreLabels { operation: operation.to_owned() })
            .observe(started.elapsed().as_secs_f64());
        out
    }
}

impl<S: EventStore> EventStore for Instrumented<S> {
    async fn append(&self, stream: &str, expected: ExpectedVersion, events: Vec<NewEvent>) -> Result<AppendResult> {
        self.timed("append", self.inner.append(stream, expected, events)).await
    }
    async fn read_stream(
        &self,
        stream: &str,
        from: u64,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>> {
        self.timed("read_stream", self.inner.read_stream(stream, from, direction, limit)).await
    }
    async fn read_all(&self, from: Position, limit: usize) -> Result<Vec<RecordedEvent>> {
        self.timed("read_all", self.inner.read_all(from, limit)).await
    }
    async fn head(&self) -> Result<Position> {
        self.timed("head", self.inner.head()).await
    }
    async fn subscribe(&self, from: Position) -> Result<Subscription> {
        self.timed("subscribe", self.inner.subscribe(from)).await
    }
    async fn load_checkpoint(&self, consumer: &str) -> Result<Option<Position>> {
        self.timed("load_checkpoint", self.inner.load_checkpoint(consumer)).await
    }
    async fn save_checkpoint(&self, consumer: &str, position: Position) -> Result<()> {
        self.timed("save_checkpoint", self.inner.save_checkpoint(consumer, position)).await
    }
    fn distance(&self, from: Position, to: Position) -> u64 {
        self.inner.distance(from, to)
    }
}
