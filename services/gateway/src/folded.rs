//! The gateway's own aggregates (API keys, users) folded from their streams, by id, and
//! the handler that keeps them folded. What the gateway writes itself it keeps at once
//! (so a new key works on the next request); when the same event then arrives through
//! the log it is not applied a second time.

use hcp_eventstore::RecordedEvent;
use hcp_runtime::{EventSourced, Handler, HandlerError};
use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard};

/// An aggregate that counts its events.
pub trait Versioned {
    /// How many events it has.
    fn version(&self) -> u64;
}

impl Versioned for hcp_domain::apikey::ApiKey {
    fn version(&self) -> u64 {
        self.version
    }
}

impl Versioned for hcp_domain::user::User {
    fn version(&self) -> u64 {
        self.version
    }
}

/// Every `A` by id.
pub struct ById<A> {
    states: RwLock<HashMap<String, A>>,
}

impl<A> Default for ById<A> {
    fn default() -> Self {
        ById { states: RwLock::default() }
    }
}

impl<A: EventSourced + Versioned> ById<A> {
    /// Folds one event of an `A`'s stream (others are skipped), unless its state already has it.
    pub fn apply(&self, recorded: &RecordedEvent) -> Result<(), String> {
        let Some(id) = recorded.stream.strip_prefix(A::STREAM_PREFIX) else { return Ok(()) };
        let event = A::decode(recorded)?;
        let mut states = self.states.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let state = states.entry(id.to_owned()).or_default();
        if state.version() < recorded.version {
            *state = std::mem::take(state).evolve(&event);
        }
        Ok(())
    }

    /// Keeps a state the gateway just recorded, unless a newer one is known.
    pub fn keep(&self, id: &str, state: A) {
        let mut states = self.states.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if states.get(id).is_none_or(|s| s.version() < state.version()) {
            states.insert(id.to_owned(), state);
        }
    }

    /// The states, to read.
    pub fn read(&self) -> RwLockReadGuard<'_, HashMap<String, A>> {
        self.states.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The handler that keeps a [`ById`] folded.
pub struct Feed<A> {
    name: &'static str,
    states: Arc<ById<A>>,
}

impl<A> Feed<A> {
    /// A handler named `name` folding into `states`.
    pub fn new(name: &'static str, states: Arc<ById<A>>) -> Self {
        Feed { name, states }
    }
}

impl<A: EventSourced + Versioned + Send + Sync + 'static> Handler for Feed<A> {
    fn name(&self) -> &str {
        self.name
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        event.stream.starts_with(A::STREAM_PREFIX)
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandlerError> {
        self.states.apply(event).map_err(|e| HandlerError::corrupt(event, e))
    }
}
