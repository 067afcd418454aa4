//! The embedded backend: one SQLite file in WAL mode.
//!
//! All writes go through one writer thread that group-commits whatever appends are
//! waiting (each in its own savepoint, so one refused append does not undo the
//! others) and pays one sync for the group. Positions are the table's integer
//! primary key: assigned in commit order by the single writer and never deleted
//! (triggers refuse UPDATE and DELETE), so the global log is gapless and every
//! reader snapshot is a prefix of it. Reads use a small pool of read connections on
//! blocking threads.

mod feed;
mod read;
mod schema;
mod writer;

use crate::subscription::Subscription;
use crate::types::validate_append;
use crate::{
    AppendResult, Direction, EventStore, ExpectedVersion, NewEvent, Position, RecordedEvent, Result, StoreError,
    Upcasters, validate_consumer, validate_stream,
};
use read::ReadPool;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use writer::WriteRequest;

/// How hard SQLite syncs at commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=FULL`: a committed append survives power loss (the default).
    Full,
    /// `synchronous=NORMAL`: survives a process crash; the last commits may be lost on power loss.
    Normal,
}

/// How to open the store.
#[derive(Debug, Clone)]
pub struct SqliteConfig {
    /// The database file; its directory is created if missing.
    pub path: PathBuf,
    /// Sync policy.
    pub durability: Durability,
    /// Upcasters applied on read.
    pub upcasters: Upcasters,
    /// How often a subscription re-reads when no append from this process woke it
    /// (appends from other processes sharing the file).
    pub poll_interval: Duration,
}

impl SqliteConfig {
    /// Defaults for a file.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SqliteConfig {
            path: path.into(),
            durability: Durability::Full,
            upcasters: Upcasters::new(),
            poll_interval: Duration::from_millis(200),
        }
    }
}

/// The embedded event store. Cheap to clone.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    writes: mpsc::Sender<WriteRequest>,
    head: watch::Receiver<Position>,
    reads: ReadPool,
    upcasters: Upcasters,
    poll_interval: Duration,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `config.path`.
    pub async fn open(config: SqliteConfig) -> Result<Self> {
        let cfg = config.clone();
        let (conn, head) = tokio::task::spawn_blocking(move || schema::open_writer(&cfg.path, cfg.durability))
            .await
            .map_err(|e| StoreError::Corrupt(format!("opening the store panicked: {e}")))??;
        let (head_tx, head_rx) = watch::channel(head);
        let (tx, rx) = mpsc::channel(writer::QUEUE);
        writer::spawn(conn, rx, head_tx)?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                writes: tx,
                head: head_rx,
                reads: ReadPool::new(config.path.clone()),
                upcasters: config.upcasters,
                poll_interval: config.poll_interval,
                path: config.path,
            }),
        })
    }

    /// Opens with defaults.
    pub async fn open_path(path: impl AsRef<Path>) -> Result<Self> {
        Self::open(SqliteConfig::new(path.as_ref())).await
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    async fn write<T>(&self, make: impl FnOnce(oneshot::Sender<Result<T>>) -> WriteRequest) -> Result<T> {
        let (reply, rx) = oneshot::channel();
        self.inner.writes.send(make(reply)).await.map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Starts `f` on a pooled read connection, on a blocking thread; [`finish`] waits for it.
    fn spawn_read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> Result<T> + Send + 'static,
    ) -> JoinHandle<Result<T>> {
        let pool = self.inner.reads.clone();
        tokio::task::spawn_blocking(move || pool.with(f))
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        finish(self.spawn_read(f)).await
    }
}

/// The result of a read started by [`SqliteStore::spawn_read`].
async fn finish<T>(read: JoinHandle<Result<T>>) -> Result<T> {
    read.await.map_err(|e| StoreError::Corrupt(format!("read task failed: {e}")))?
}

impl EventStore for SqliteStore {
    async fn append(&self, stream: &str, expected: ExpectedVersion, events: Vec<NewEvent>) -> Result<AppendResult> {
        validate_append(stream, &events)?;
        let stream = stream.to_owned();
        self.write(|reply| WriteRequest::Append { stream, expected, events, reply }).await
    }

    async fn read_stream(
        &self,
        stream: &str,
        from: u64,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>> {
        validate_stream(stream)?;
        let stream = stream.to_owned();
        let events = self.read(move |c| read::stream(c, &stream, from, direction, limit)).await?;
        self.inner.upcasters.apply_all(events)
    }

    async fn read_all(&self, from: Position, limit: usize) -> Result<Vec<RecordedEvent>> {
        let events = self.read(move |c| read::all(c, from, limit)).await?;
        self.inner.upcasters.apply_all(events)
    }

    async fn head(&self) -> Result<Position> {
        self.read(read::head).await
    }

    async fn subscribe(&self, from: Position) -> Result<Subscription> {
        let (tx, rx) = mpsc::channel(Subscription::BUFFER);
        let task = tokio::spawn(feed::feed(self.clone(), from, tx));
        Ok(Subscription::new(rx, task))
    }

    async fn load_checkpoint(&self, consumer: &str) -> Result<Option<Position>> {
        validate_consumer(consumer)?;
        let consumer = consumer.to_owned();
        self.read(move |c| read::checkpoint(c, &consumer)).await
    }

    async fn save_checkpoint(&self, consumer: &str, position: Position) -> Result<()> {
        validate_consumer(consumer)?;
        let consumer = consumer.to_owned();
        self.write(|reply| WriteRequest::Checkpoint { consumer, position, reply }).await
    }
}
