//! HCP's append-only event store: one trait, two backends.
//!
//! - [`EventStore`]: append with an expected version, read a stream forwards or
//!   backwards, read the global log, subscribe to it (catch up, then live, in
//!   global order), and durable consumer checkpoints.
//! - [`sqlite::SqliteStore`] (the default): one file in WAL mode, one writer thread
//!   that group-commits concurrent appends so they share a sync; gapless global
//!   positions.
//! - [`jetstream::JetStreamStore`]: the store is also the bus; a subject per
//!   stream, `Nats-Expected-Last-Subject-Sequence` for the expected version,
//!   `Nats-Msg-Id` for idempotent appends.
//! - [`AnyStore`]: either, chosen at run time from a URL (`sqlite:PATH`, `nats://HOST:PORT`).
//!
//! Every backend runs the same conformance suite (`tests/conformance.rs`).

#![forbid(unsafe_code)]

mod any;
mod error;
pub mod jetstream;
pub mod sqlite;
mod store;
mod subscription;
mod tail;
mod tails;
mod types;
mod upcast;

pub use any::AnyStore;
pub use error::{ConcurrencyConflict, Result, StoreError};
pub use store::EventStore;
pub use subscription::Subscription;
pub use tail::{append_all_at_tail, append_at_tail, last_version};
pub use tails::Tails;
pub use types::{
    AppendResult, Direction, EventMetadata, ExpectedVersion, NewEvent, Position, RecordedEvent, validate_consumer,
    validate_stream,
};
pub use upcast::{Upcaster, Upcasters};
