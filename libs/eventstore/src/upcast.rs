//! Upcasters: old schema versions become new ones on read, so that stored history
//! never has to be rewritten and readers only know the newest schema.

use crate::{RecordedEvent, Result, StoreError};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Arc;

/// Turns a payload of `event_type` at `from` into one at `from + 1`.
pub type Upcaster = Arc<dyn Fn(&Bytes) -> std::result::Result<Bytes, String> + Send + Sync>;

/// The registered upcasters, applied in chain (v1 -> v2 -> v3 ...).
#[derive(Clone, Default)]
pub struct Upcasters {
    by_type: HashMap<(String, u32), Upcaster>,
}

impl std::fmt::Debug for Upcasters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.by_type.keys()).finish()
    }
}

impl Upcasters {
    /// No upcasters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the step from schema `from` to `from + 1` of `event_type`.
    pub fn register(
        mut self,
        event_type: impl Into<String>,
        from: u32,
        f: impl Fn(&Bytes) -> std::result::Result<Bytes, String> + Send + Sync + 'static,
    ) -> Self {
        self.by_type.insert((event_type.into(), from), Arc::new(f));
        self
    }

    /// Whether any upcaster is registered (lets readers skip the lookup).
    pub fn is_empty(&self) -> bool {
        self.by_type.is_empty()
    }

    /// Brings every event of a page to the newest schema (a no-op without upcasters).
    pub fn apply_all(&self, events: Vec<RecordedEvent>) -> Result<Vec<RecordedEvent>> {
        if self.by_type.is_empty() {
            return Ok(events);
        }
        events.into_iter().map(|e| self.apply(e)).collect()
    }

    /// Brings an event to the newest schema its upcasters know.
    pub fn apply(&self, mut event: RecordedEvent) -> Result<RecordedEvent> {
        if self.by_type.is_empty() {
            return Ok(event);
        }
        // Bounded: a chain cannot be longer than the number of registered steps.
        for _ in 0..=self.by_type.len() {
            let key = (event.event_type.clone(), event.schema_version);
            let Some(step) = self.by_type.get(&key) else {
                return Ok(event);
            };
            event.payload = step(&event.payload).map_err(|reason| StoreError::Upcast {
                event_type: event.event_type.clone(),
                from: event.schema_version,
                reason,
            })?;
            event.schema_version += 1;
        }
        Ok(event)
    }
}
