//! The NATS JetStream backend: the store is also the bus.
//!
//! - One JetStream stream (default `HCP_EVENTS`) holds every event stream, one
//!   subject each: `<prefix>.<stream>` (default prefix `hcp.events`). Messages
//!   cannot be deleted or purged.
//! - One append is one message (an `hcp.v1.EventBatch`), so a batch is stored
//!   whole or not at all on any JetStream version. The global position of an event
//!   is `stream sequence x 1000 + its index in the batch` (docs/adr/0002).
//! - `Nats-Expected-Last-Subject-Sequence` enforces the expected version: the
//!   store remembers, per stream it wrote or read, the version and sequence of the
//!   last batch, and asks the server (direct get, last by subject) when it does not
//!   know. The server is always the judge; a stale memory costs one retry.
//! - `Nats-Msg-Id` (the first event id) makes a retried append a no-op within the
//!   duplicate window; beyond it, a conflicting retry is recognised by its ids.
//! - Checkpoints live in a last-message-per-subject stream (default `HCP_CHECKPOINTS`).

mod batch;
mod checkpoint;
mod feed;
mod read;

use crate::subscription::Subscription;
use crate::types::validate_append;
use crate::{
    AppendResult, ConcurrencyConflict, Direction, EventStore, ExpectedVersion, NewEvent, Position, RecordedEvent,
    Result, StoreError, Upcasters, validate_consumer, validate_stream,
};
use async_nats::jetstream::{self, context::PublishErrorKind, stream};
use batch::{decode_with_pointers, encode_batch, next_pointers};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use batch::{MAX_EVENTS_PER_APPEND, position_of, sequence_of};

/// How many times an append with `Any`/`StreamExists` re-reads and retries after
/// losing a race before it reports a conflict.
const MAX_RETRIES: usize = 16;
/// Streams whose last (version, sequence) are remembered before the memory is reset.
const LAST_CACHE: usize = 200_000;

/// Where and how to keep events in JetStream.
#[derive(Debug, Clone)]
pub struct JetStreamConfig {
    /// Server URL, e.g. `nats://127.0.0.1:4222`.
    pub url: String,
    /// JetStream stream name.
    pub stream_name: String,
    /// Subject prefix; a stream `s` is stored on `<prefix>.s`.
    pub subject_prefix: String,
    /// Stream for consumer checkpoints.
    pub checkpoint_stream: String,
    /// Subject prefix of checkpoints (must not overlap `subject_prefix`).
    pub checkpoint_prefix: String,
    /// Replicas (3 on a cluster).
    pub replicas: usize,
    /// How long `Nats-Msg-Id` deduplication remembers an append.
    pub duplicate_window: Duration,
    /// Upcasters applied on read.
    pub upcasters: Upcasters,
}

impl JetStreamConfig {
    /// Defaults for a server.
    pub fn new(url: impl Into<String>) -> Self {
        JetStreamConfig {
            url: url.into(),
            stream_name: "HCP_EVENTS".into(),
            subject_prefix: "hcp.events".into(),
            checkpoint_stream: "HCP_CHECKPOINTS".into(),
            checkpoint_prefix: "hcp.checkpoints".into(),
            replicas: 1,
            duplicate_window: Duration::from_secs(600),
            upcasters: Upcasters::new(),
        }
    }

    /// A private namespace (streams and subjects) on the same server, e.g. for tests.
    pub fn namespaced(url: impl Into<String>, namespace: &str) -> Self {
        let ns = namespace.to_ascii_uppercase().replace('-', "_");
        let lower = namespace.to_ascii_lowercase();
        JetStreamConfig {
            stream_name: format!("HCP_EVENTS_{ns}"),
            subject_prefix: format!("hcp.{lower}.events"),
            checkpoint_stream: format!("HCP_CHECKPOINTS_{ns}"),
            checkpoint_prefix: format!("hcp.{lower}.checkpoints"),
            ..JetStreamConfig::new(url)
        }
    }
}

/// What the store remembers of a stream's tip.
#[derive(Clone, Default)]
struct Last {
    version: u64,
    sequence: u64,
    previous: Vec<u64>,
}

/// The JetStream event store. Cheap to clone.
#[derive(Clone)]
pub struct JetStreamStore {
    inner: Arc<Inner>,
}

struct Inner {
    client: async_nats::Client,
    js: jetstream::Context,
    stream: stream::Stream,
    checkpoints: stream::Stream,
    /// Per stream, as last seen: its version, and its last batch's sequence and back-pointers.
    last: Mutex<HashMap<String, Last>>,
    config: JetStreamConfig,
}

impl JetStreamStore {
    /// Connects and creates the stream and bucket if they do not exist.
    pub async fn connect(config: JetStreamConfig) -> Result<Self> {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .name("hcp-eventstore")
            .connect(config.url.as_str())
            .await
            .map_err(|e| StoreError::Nats(format!("cannot connect to {}: {e}", config.url)))?;
        let js = jetstream::new(client.clone());
        let stream = js
            .get_or_create_stream(stream::Config {
                name: config.stream_name.clone(),
                subjects: vec![format!("{}.>", config.subject_prefix)],
                storage: stream::StorageType::File,
                num_replicas: config.replicas,
                allow_direct: true,
                deny_delete: true,
                deny_purge: true,
                duplicate_window: config.duplicate_window,
                description: Some("HCP event store: one subject per event stream, append-only".into()),
                ..Default::default()
            })
            .await
            .map_err(|e| StoreError::Nats(format!("cannot create stream {}: {e}", config.stream_name)))?;
        let checkpoints =
            checkpoint::ensure(&js, &config.checkpoint_stream, &config.checkpoint_prefix, config.replicas).await?;
        Ok(JetStreamStore {
            inner: Arc::new(Inner { client, js, stream, checkpoints, last: Mutex::new(HashMap::new()), config }),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &JetStreamConfig {
        &self.inner.config
    }

    /// The NATS client (shared connection).
    pub fn client(&self) -> &async_nats::Client {
        &self.inner.client
    }

    /// Deletes this store's streams: for tests' private namespaces only.
    pub async fn destroy(self) -> Result<()> {
        let c = &self.inner.config;
        self.inner.js.delete_stream(&c.stream_name).await.map_err(StoreError::nats)?;
        self.inner.js.delete_stream(&c.checkpoint_stream).await.map_err(StoreError::nats)?;
        Ok(())
    }

    fn subject(&self, stream: &str) -> String {
        format!("{}.{stream}", self.inner.config.subject_prefix)
    }

    fn remember(&self, stream: &str, tip: Last) {
        if let Ok(mut last) = self.inner.last.lock() {
            if last.len() >= LAST_CACHE {
                last.clear();
            }
            last.insert(stream.to_owned(), tip);
        }
    }

    fn forget(&self, stream: &str) {
        if let Ok(mut last) = self.inner.last.lock() {
            last.remove(stream);
        }
    }

    fn remembered(&self, stream: &str) -> Option<Last> {
        self.inner.last.lock().ok().and_then(|l| l.get(stream).cloned())
    }

    /// The stream's tip, asking the server.
    async fn last_from_server(&self, stream: &str) -> Result<Last> {
        match read::last_batch(&self.inner.stream, &self.subject(stream)).await? {
            None => Ok(Last::default()),
            Some(msg) => {
                let decoded = decode_with_pointers(msg.sequence, 0, &msg.payload)?;
                let version = decoded.events.last().map_or(0, |e| e.version);
                let tip = Last { version, sequence: msg.sequence, previous: decoded.previous };
                self.remember(stream, tip.clone());
                Ok(tip)
            }
        }
    }

    /// If `events` are stored already as one append to `stream`, its original result.
    async fn find_original(&self, stream: &str, events: &[NewEvent]) -> Result<Option<AppendResult>> {
        let (stored, _) = read::stream_events(&self.inner.stream, &self.subject(stream)).await?;
        let Some(start) = stored.iter().position(|e| e.id == events[0].id) else {
            return Ok(None);
        };
        original_in(&stored[start..], stream, events).map(Some)
    }
}

/// Checks that `stored` begins with exactly `events` and returns their result.
fn original_in(stored: &[RecordedEvent], stream: &str, events: &[NewEvent]) -> Result<AppendResult> {
    for (i, e) in events.iter().enumerate() {
        match stored.get(i) {
            Some(s) if s.id == e.id => {}
            _ => {
                return Err(StoreError::IdempotencyMismatch {
                    id: events[0].id,
                    stream: stream.to_owned(),
                    version: stored[0].version,
                });
            }
        }
    }
    let last = &stored[events.len() - 1];
    Ok(AppendResult { first_position: stored[0].position, last_position: last.position, version: last.version })
}

impl EventStore for JetStreamStore {
    async fn append(&self, stream: &str, expected: ExpectedVersion, events: Vec<NewEvent>) -> Result<AppendResult> {
        validate_append(stream, &events)?;
        if events.len() > MAX_EVENTS_PER_APPEND {
            return Err(StoreError::InvalidAppend {
                stream: stream.to_owned(),
                reason: format!(
                    "{} events exceed the JetStream limit of {MAX_EVENTS_PER_APPEND} per append",
                    events.len()
                ),
            });
        }
        let subject = self.subject(stream);
        let n = events.len() as u64;
        for _ in 0..MAX_RETRIES {
            let tip = match (expected, self.remembered(stream)) {
                (_, Some(known)) => known,
                (ExpectedVersion::NoStream | ExpectedVersion::Exact(0), None) => Last::default(),
                (_, None) => self.last_from_server(stream).await?,
            };
            let (version, last_seq) = (tip.version, tip.sequence);
            if !expected.admits(version) {
                // Maybe the memory is stale, or this is a retry of a stored append.
                let version = self.last_from_server(stream).await?.version;
                if expected.admits(version) {
                    continue;
                }
                if let Some(original) = self.find_original(stream, &events).await? {
                    return Ok(original);
                }
                return Err(ConcurrencyConflict { stream: stream.to_owned(), expected, actual: version }.into());
            }
            let previous = next_pointers(last_seq, &tip.previous);
            let payload = encode_batch(stream, version + 1, previous.clone(), &events);
            let publish = jetstream::message::PublishMessage::build()
                .payload(payload.into())
                .message_id(events[0].id.to_string())
                .expected_last_subject_sequence(last_seq);
            let ack = self.inner.js.send_publish(subject.clone(), publish).await.map_err(StoreError::nats)?.await;
            match ack {
                Ok(ack) if ack.duplicate => {
                    let stored = read::batch_at(&self.inner.stream, ack.sequence).await?;
                    return original_in(&stored, stream, &events);
                }
                Ok(ack) => {
                    self.remember(stream, Last { version: version + n, sequence: ack.sequence, previous });
                    let first = position_of(ack.sequence, 0);
                    return Ok(AppendResult {
                        first_position: first,
                        last_position: first + n - 1,
                        version: version + n,
                    });
                }
                Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => {
                    self.forget(stream);
                    if let Some(original) = self.find_original(stream, &events).await? {
                        return Ok(original);
                    }
                    if matches!(expected, ExpectedVersion::Exact(_) | ExpectedVersion::NoStream) {
                        let actual = self.last_from_server(stream).await?.version;
                        if !expected.admits(actual) {
                            return Err(ConcurrencyConflict { stream: stream.to_owned(), expected, actual }.into());
                        }
                    }
                }
                Err(e) => return Err(StoreError::Nats(format!("append to {stream}: {e}"))),
            }
        }
        let actual = self.last_from_server(stream).await?.version;
        Err(ConcurrencyConflict { stream: stream.to_owned(), expected, actual }.into())
    }

    async fn read_stream(
        &self,
        stream: &str,
        from: u64,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>> {
        validate_stream(stream)?;
        let (mut events, tip) = read::stream_events(&self.inner.stream, &self.subject(stream)).await?;
        if let (Some(last), Some((sequence, previous))) = (events.last(), tip) {
            self.remember(stream, Last { version: last.version, sequence, previous });
        }
        match direction {
            Direction::Forwards => events.retain(|e| e.version >= from),
            Direction::Backwards => {
                events.retain(|e| e.version <= from);
                events.reverse();
            }
        }
        events.truncate(limit);
        self.inner.config.upcasters.apply_all(events)
    }

    async fn read_all(&self, from: Position, limit: usize) -> Result<Vec<RecordedEvent>> {
        let events = read::all(&self.inner.stream, from, limit).await?;
        self.inner.config.upcasters.apply_all(events)
    }

    async fn head(&self) -> Result<Position> {
        read::head(&self.inner.stream).await
    }

    async fn subscribe(&self, from: Position) -> Result<Subscription> {
        let (tx, rx) = tokio::sync::mpsc::channel(Subscription::BUFFER);
        // The first consumer is made here, so that an unreachable server is this call's error.
        let first = read::ordered_from(&self.inner.stream, sequence_of(from).max(1)).await?;
        let (stream, upcasters) = (self.inner.stream.clone(), self.inner.config.upcasters.clone());
        Ok(Subscription::new(rx, tokio::spawn(feed::run(stream, upcasters, from, first, tx))))
    }

    async fn load_checkpoint(&self, consumer: &str) -> Result<Option<Position>> {
        validate_consumer(consumer)?;
        let subject = format!("{}.{consumer}", self.inner.config.checkpoint_prefix);
        checkpoint::load(&self.inner.checkpoints, &subject, consumer).await
    }

    async fn save_checkpoint(&self, consumer: &str, position: Position) -> Result<()> {
        validate_consumer(consumer)?;
        let subject = format!("{}.{consumer}", self.inner.config.checkpoint_prefix);
        checkpoint::save(&self.inner.js, subject, position).await
    }

    /// In messages: a position is `sequence x 1000 + index`, and each message is one append.
    fn distance(&self, from: Position, to: Position) -> u64 {
        batch::messages_between(from, to)
    }
}
