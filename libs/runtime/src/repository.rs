//! A repository for any aggregate: load (from its cache or the store), decide, append
//! with the expected version, and on a conflict reload and decide again, a bounded
//! number of times. A refusal decided on a cached state is decided again on the stored
//! one (another writer may have moved the stream on). The aggregate names its stream prefix and codec
//! ([`EventSourced`]); the metadata comes from an [`EventContext`].

use crate::context::EventContext;
use crate::error::{ErrorCode, HasErrorCode};
use hcp_domain::Aggregate;
use hcp_eventstore::{Direction, EventStore, ExpectedVersion, RecordedEvent, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// An aggregate stored as a stream of events.
pub trait EventSourced: Aggregate {
    /// Streams are `<prefix><id>`, e.g. `resource-`.
    const STREAM_PREFIX: &'static str;
    /// The event's type and payload.
    fn encode(event: &Self::Event) -> (&'static str, Vec<u8>);
    /// A stored event back as a domain event.
    fn decode(recorded: &RecordedEvent) -> Result<Self::Event, String>;
    /// When the event happened (it travels in the envelope).
    fn time_unix_micros(event: &Self::Event) -> i64;
}

/// How many times a command is decided before a conflict is given back.
pub const MAX_ATTEMPTS: usize = 4;

/// Why a command was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum RepositoryError<E> {
    /// The aggregate refused it.
    #[error("{stream}: {source}")]
    Refused {
        /// The stream.
        stream: String,
        /// Why.
        source: E,
    },
    /// The store failed.
    #[error("{stream}: {source}")]
    Store {
        /// The stream.
        stream: String,
        /// Why.
        source: StoreError,
    },
    /// A stored event did not decode.
    #[error("{stream}: stored event unreadable: {reason}")]
    Corrupt {
        /// The stream.
        stream: String,
        /// Why.
        reason: String,
    },
    /// Other writers won every attempt.
    #[error("{stream}: still conflicting after {MAX_ATTEMPTS} attempts")]
    Contended {
        /// The stream.
        stream: String,
    },
}

impl<E: HasErrorCode + std::fmt::Display> HasErrorCode for RepositoryError<E> {
    fn code(&self) -> ErrorCode {
        match self {
            RepositoryError::Refused { source, .. } => source.code(),
            RepositoryError::Store { source, .. } => source.code(),
            RepositoryError::Corrupt { .. } => ErrorCode::Internal,
            RepositoryError::Contended { .. } => ErrorCode::Aborted,
        }
    }
}

/// What a command did.
#[derive(Debug, Clone, PartialEq)]
pub struct Executed<A: Aggregate> {
    /// The state after it.
    pub state: A,
    /// The stream's version after it.
    pub version: u64,
    /// The events it recorded (none when nothing changed).
    pub events: Vec<A::Event>,
}

impl<A: Aggregate> Executed<A> {
    /// The events it recorded, each with its version in the stream (for a projection
    /// that applies its own writes at once, by version, before the log delivers them).
    pub fn versioned(&self) -> impl Iterator<Item = (u64, &A::Event)> {
        let first = self.version - self.events.len() as u64;
        self.events.iter().enumerate().map(move |(n, e)| (first + n as u64 + 1, e))
    }
}

/// Loads, decides and appends `A`s; keeps the last state of each in memory.
pub struct Repository<A, S> {
    store: Arc<S>,
    cache: Mutex<HashMap<String, (A, u64)>>,
}

impl<A: EventSourced, S: EventStore> Repository<A, S> {
    /// A repository over `store`.
    pub fn new(store: Arc<S>) -> Self {
        Repository { store, cache: Mutex::default() }
    }

    /// The stream of `id`.
    pub fn stream(id: &str) -> String {
        format!("{}{id}", A::STREAM_PREFIX)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, (A, u64)>> {
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Decides `command` for `id` and appends what it decided; returns the new state.
    pub async fn execute(
        &self,
        id: &str,
        command: A::Command,
        context: &EventContext,
    ) -> Result<Executed<A>, RepositoryError<A::Error>>
    where
        A::Command: Clone,
    {
        let stream = Self::stream(id);
        for attempt in 0..MAX_ATTEMPTS {
            let cached = if attempt == 0 { self.lock().get(id).cloned() } else { None };
            let from_cache = cached.is_some();
            let (state, version) = match cached {
                Some(s) => s,
                None => self.load(id).await?,
            };
            let events = match state.decide(command.clone()) {
                Ok(events) => events,
                // Another writer may have moved the stream on since it was cached: a
                // refusal counts only when decided on what the store holds.
                Err(_) if from_cache => continue,
                Err(source) => return Err(RepositoryError::Refused { stream: stream.clone(), source }),
            };
            if events.is_empty() {
                self.keep(id, state.clone(), version);
                return Ok(Executed { state, version, events });
            }
            let expected = if version == 0 { ExpectedVersion::NoStream } else { ExpectedVersion::Exact(version) };
            let new_events = events
                .iter()
                .enumerate()
                .map(|(n, e)| {
                    let (event_type, payload) = A::encode(e);
                    context.event(n, event_type, payload, A::time_unix_micros(e))
                })
                .collect();
            match self.store.append(&stream, expected, new_events).await {
                Ok(result) => {
                    let state = events.iter().fold(state, |s, e| s.evolve(e));
                    self.keep(id, state.clone(), result.version);
                    return Ok(Executed { state, version: result.version, events });
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(source) => return Err(RepositoryError::Store { stream, source }),
            }
        }
        Err(RepositoryError::Contended { stream })
    }

    /// Keeps `state` as `id`'s unless a newer one is kept (a concurrent command landed).
    fn keep(&self, id: &str, state: A, version: u64) {
        let mut cache = self.lock();
        if cache.get(id).is_none_or(|(_, v)| *v <= version) {
            cache.insert(id.to_owned(), (state, version));
        }
    }

    /// The state last recorded or loaded here, if any.
    pub fn cached(&self, id: &str) -> Option<A> {
        self.lock().get(id).map(|(s, _)| s.clone())
    }

    /// Takes a state folded elsewhere (a projection's catch-up) as current.
    pub fn adopt(&self, id: &str, state: A, version: u64) {
        self.keep(id, state, version);
    }

    /// Folds `id`'s stream from the store.
    pub async fn load(&self, id: &str) -> Result<(A, u64), RepositoryError<A::Error>> {
        let stream = Self::stream(id);
        let stored = self
            .store
            .read_stream(&stream, 1, Direction::Forwards, usize::MAX)
            .await
            .map_err(|source| RepositoryError::Store { stream: stream.clone(), source })?;
        let version = stored.last().map_or(0, |e| e.version);
        let state = stored.iter().try_fold(A::default(), |s, r| {
            A::decode(r)
                .map(|e| s.evolve(&e))
                .map_err(|reason| RepositoryError::Corrupt { stream: stream.clone(), reason })
        })?;
        Ok((state, version))
    }
}
