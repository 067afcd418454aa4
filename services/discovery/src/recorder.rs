//! Writing resource events: decide a command against the resource's state, append what
//! it decided with the version it was decided at, and keep that state.
//!
//! Discovery is the only writer of `resource-*` streams it creates, so the cached state
//! is normally current; a conflict (another writer got there first) reloads the stream
//! and decides once more.

use hcp_domain::Aggregate;
use hcp_domain::codec::{SCHEMA_VERSION, decode_resource_event, encode_resource_event};
use hcp_domain::ids::ResourceId;
use hcp_domain::resource::{Resource, ResourceCommand, ResourceError};
use hcp_domain::units::Timestamp;
use hcp_eventstore::{Direction, EventMetadata, EventStore, ExpectedVersion, NewEvent, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;

/// Why a command was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The domain refused it.
    #[error("{id}: {source}")]
    Refused {
        /// The resource.
        id: ResourceId,
        /// Why.
        source: ResourceError,
    },
    /// The store failed.
    #[error("{id}: {source}")]
    Store {
        /// The resource.
        id: ResourceId,
        /// Why.
        source: StoreError,
    },
    /// A stored event did not decode.
    #[error("{id}: stored event unreadable: {reason}")]
    Corrupt {
        /// The resource.
        id: ResourceId,
        /// Why.
        reason: String,
    },
}

/// Records resource commands in a store.
pub struct Recorder<S> {
    store: Arc<S>,
    states: Mutex<HashMap<ResourceId, Resource>>,
    actor: String,
}

impl<S: EventStore> Recorder<S> {
    /// Writes as `actor` (recorded in each event's metadata).
    pub fn new(store: Arc<S>, actor: &str) -> Self {
        Recorder { store, states: Mutex::new(HashMap::new()), actor: actor.to_owned() }
    }

    /// Decides `command` for `id` and appends the result; returns the new state.
    ///
    /// Commands for different resources run concurrently (their appends share the
    /// store's group commit); two for the same resource race on the expected version,
    /// and the loser reloads and decides again.
    pub async fn execute(&self, id: &ResourceId, command: ResourceCommand) -> Result<Resource, RecordError> {
        let mut reloaded = false;
        loop {
            let cached = if reloaded { None } else { self.lock().get(id).cloned() };
            let state = match cached {
                Some(s) => s,
                None => self.load(id).await?,
            };
            let events =
                state.decide(command.clone()).map_err(|source| RecordError::Refused { id: id.clone(), source })?;
            if events.is_empty() {
                self.lock().insert(id.clone(), state.clone());
                return Ok(state);
            }
            let expected =
                if state.version == 0 { ExpectedVersion::NoStream } else { ExpectedVersion::Exact(state.version) };
            let new_events = events
                .iter()
                .map(|e| {
                    let (event_type, payload) = encode_resource_event(e);
                    let metadata = EventMetadata {
                        time_unix_micros: e.at().unix_micros(),
                        actor: Some(self.actor.clone()),
                        ..EventMetadata::default()
                    };
                    NewEvent::new(event_type, SCHEMA_VERSION, payload).with_metadata(metadata)
                })
                .collect();
            match self.store.append(&id.stream(), expected, new_events).await {
                Ok(_) => {
                    let next = events.iter().fold(state, |s, e| s.evolve(e));
                    let mut states = self.lock();
                    // Keep whichever state is newer (a concurrent command may have landed).
                    if states.get(id).is_none_or(|s| s.version < next.version) {
                        states.insert(id.clone(), next.clone());
                    }
                    return Ok(next);
                }
                Err(StoreError::Conflict(_)) if !reloaded => reloaded = true,
                Err(source) => return Err(RecordError::Store { id: id.clone(), source }),
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ResourceId, Resource>> {
        self.states.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The state as last recorded by or loaded into this recorder, if any.
    pub fn known(&self, id: &ResourceId) -> Option<Resource> {
        self.lock().get(id).cloned()
    }

    /// Takes a state folded elsewhere (the inventory's catch-up) as current.
    pub fn adopt(&self, id: ResourceId, state: Resource) {
        self.lock().insert(id, state);
    }

    async fn load(&self, id: &ResourceId) -> Result<Resource, RecordError> {
        let stored = self
            .store
            .read_stream(&id.stream(), 1, Direction::Forwards, usize::MAX)
            .await
            .map_err(|source| RecordError::Store { id: id.clone(), source })?;
        stored.iter().try_fold(Resource::default(), |s, r| {
            let at = Timestamp::from_unix_micros(r.metadata.time_unix_micros);
            decode_resource_event(&r.event_type, &r.payload, at)
                .map(|e| s.evolve(&e))
                .map_err(|e| RecordError::Corrupt { id: id.clone(), reason: e.to_string() })
        })
    }
}
