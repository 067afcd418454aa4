//! The store's errors. A concurrency conflict is its own type, carrying the
//! stream's actual version, so that writers can reload and retry.

use crate::ExpectedVersion;

/// `pub type Result<T, E = StoreError>`.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The stream was not at the version the writer expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("concurrency conflict on stream {stream}: expected {expected}, actual version {actual}")]
pub struct ConcurrencyConflict {
    /// The stream.
    pub stream: String,
    /// What the writer expected.
    pub expected: ExpectedVersion,
    /// The stream's version now (0 = no events).
    pub actual: u64,
}

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Optimistic concurrency check failed.
    #[error(transparent)]
    Conflict(#[from] ConcurrencyConflict),
    /// The stream name is not allowed.
    #[error("invalid stream name {stream:?}: {reason}")]
    InvalidStream {
        /// The name.
        stream: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The consumer name is not allowed.
    #[error("invalid consumer name {0:?}: use 1-100 letters, digits, _ or -")]
    InvalidConsumer(String),
    /// The batch itself is wrong (empty, duplicate ids, too large).
    #[error("cannot append to {stream}: {reason}")]
    InvalidAppend {
        /// The stream.
        stream: String,
        /// What is wrong.
        reason: String,
    },
    /// Some of the event ids are stored already, but not as this same append.
    #[error("event {id} is already stored as {stream} v{version}; a retry must repeat the original append exactly")]
    IdempotencyMismatch {
        /// The first id found.
        id: uuid::Uuid,
        /// Where it is stored.
        stream: String,
        /// At which version.
        version: u64,
    },
    /// An upcaster failed.
    #[error("cannot upcast {event_type} from schema v{from}: {reason}")]
    Upcast {
        /// The event type.
        event_type: String,
        /// The stored schema version.
        from: u32,
        /// What went wrong.
        reason: String,
    },
    /// Stored data does not decode.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The store URL is not one we understand.
    #[error("invalid store {url:?}: {reason}")]
    InvalidUrl {
        /// What was given.
        url: String,
        /// What is expected.
        reason: String,
    },
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// NATS or JetStream failed.
    #[error("nats: {0}")]
    Nats(String),
    /// The store has shut down.
    #[error("the event store is closed")]
    Closed,
}

impl StoreError {
    /// Wraps any NATS error.
    pub(crate) fn nats(e: impl std::fmt::Display) -> Self {
        StoreError::Nats(e.to_string())
    }
}
