//! The one trait every backend implements.

use crate::{AppendResult, Direction, ExpectedVersion, NewEvent, Position, RecordedEvent, Result, Subscription};
use std::future::Future;

/// An append-only event store.
///
/// Appends are atomic per call: all events of one append are stored, in order,
/// at consecutive versions and increasing positions, or none are. Appending the
/// same event ids again returns the original result and writes nothing.
pub trait EventStore: Send + Sync + 'static {
    /// Appends `events` to `stream` if it is at `expected`.
    fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> impl Future<Output = Result<AppendResult>> + Send;

    /// Reads up to `limit` events of `stream` starting at version `from` (inclusive),
    /// forwards (versions `from..`) or backwards (versions `..=from`, newest first;
    /// `u64::MAX` = from the end). An unknown stream reads as empty.
    fn read_stream(
        &self,
        stream: &str,
        from: u64,
        direction: Direction,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>>> + Send;

    /// Reads up to `limit` events of the global log from `from` (inclusive), in order.
    fn read_all(&self, from: Position, limit: usize) -> impl Future<Output = Result<Vec<RecordedEvent>>> + Send;

    /// The position of the last stored event (0 when the store is empty).
    fn head(&self) -> impl Future<Output = Result<Position>> + Send;

    /// Every event from `from` (inclusive) in global order: the stored ones, then
    /// new ones as they are appended, with no gap and no repeat.
    fn subscribe(&self, from: Position) -> impl Future<Output = Result<Subscription>> + Send;

    /// A durable consumer's checkpoint: the last position it has fully handled.
    fn load_checkpoint(&self, consumer: &str) -> impl Future<Output = Result<Option<Position>>> + Send;

    /// Stores a consumer's checkpoint.
    fn save_checkpoint(&self, consumer: &str, position: Position) -> impl Future<Output = Result<()>> + Send;

    /// How far position `to` is past `from`, for lag: in events where positions are
    /// gapless (SQLite), otherwise in appends (JetStream: messages, each one append of
    /// one or more events).
    fn distance(&self, from: Position, to: Position) -> u64 {
        to.saturating_sub(from)
    }
}
