//! A store chosen at run time: `sqlite:PATH` or `nats://HOST:PORT`.

use crate::jetstream::{JetStreamConfig, JetStreamStore};
use crate::sqlite::SqliteStore;
use crate::{
    AppendResult, Direction, EventStore, ExpectedVersion, NewEvent, Position, RecordedEvent, Result, StoreError,
    Subscription,
};

/// Either backend behind one type, for binaries that pick one from configuration.
#[derive(Clone)]
pub enum AnyStore {
    /// The embedded SQLite store.
    Sqlite(SqliteStore),
    /// The JetStream store.
    JetStream(JetStreamStore),
}

impl AnyStore {
    /// Opens `sqlite:PATH` (or `sqlite://PATH`) or connects to `nats://HOST:PORT`.
    pub async fn open(url: &str) -> Result<Self> {
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if path.is_empty() {
                return Err(StoreError::InvalidUrl { url: url.into(), reason: "sqlite: needs a file path".into() });
            }
            return Ok(AnyStore::Sqlite(SqliteStore::open_path(path).await?));
        }
        if url.starts_with("nats://") || url.starts_with("tls://") {
            return Ok(AnyStore::JetStream(JetStreamStore::connect(JetStreamConfig::new(url)).await?));
        }
        Err(StoreError::InvalidUrl { url: url.into(), reason: "expected sqlite:PATH or nats://HOST:PORT".into() })
    }
}

macro_rules! each {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $e,
            AnyStore::JetStream($s) => $e,
        }
    };
}

impl EventStore for AnyStore {
    async fn append(&self, stream: &str, expected: ExpectedVersion, events: Vec<NewEvent>) -> Result<AppendResult> {
        each!(self, s => s.append(stream, expected, events).await)
    }
    async fn read_stream(
        &self,
        stream: &str,
        from: u64,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>> {
        each!(self, s => s.read_stream(stream, from, direction, limit).await)
    }
    async fn read_all(&self, from: Position, limit: usize) -> Result<Vec<RecordedEvent>> {
        each!(self, s => s.read_all(from, limit).await)
    }
    async fn head(&self) -> Result<Position> {
        each!(self, s => s.head().await)
    }
    async fn subscribe(&self, from: Position) -> Result<Subscription> {
        each!(self, s => s.subscribe(from).await)
    }
    async fn load_checkpoint(&self, consumer: &str) -> Result<Option<Position>> {
        each!(self, s => s.load_checkpoint(consumer).await)
    }
    async fn save_checkpoint(&self, consumer: &str, position: Position) -> Result<()> {
        each!(self, s => s.save_checkpoint(consumer, position).await)
    }
}
