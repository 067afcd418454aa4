//! Appending a derived event exactly once without relying on the store's duplicate
//! window: the ids already on each stream written are known (read once per stream, then
//! kept), and an append goes at the version known, so an event handled again (after a
//! crash, from an older checkpoint) is recognised and appends nothing, however long
//! after. Another writer's append makes this one's next append fail, and the stream is read
//! again.

use crate::{Direction, EventStore, ExpectedVersion, NewEvent, StoreError};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// What is on a stream: its version and the ids of its events.
#[derive(Default)]
struct Tail {
    version: u64,
    ids: HashSet<Uuid>,
}

/// The streams written, by name.
#[derive(Default)]
pub struct Tails(HashMap<String, Tail>);

impl Tails {
    /// What is on `stream`: read once, then kept.
    async fn tail<S: EventStore>(&mut self, store: &S, stream: &str) -> Result<&mut Tail, StoreError> {
        if !self.0.contains_key(stream) {
            let events = store.read_stream(stream, 1, Direction::Forwards, usize::MAX).await?;
            let tail =
                Tail { version: events.last().map_or(0, |e| e.version), ids: events.iter().map(|e| e.id).collect() };
            self.0.insert(stream.to_owned(), tail);
        }
        Ok(self.0.get_mut(stream).expect("inserted above"))
    }

    /// Whether an event with `id` is on `stream`, as far as this writer knows (another
    /// writer's append since is seen at this writer's next append, which then fails).
    pub async fn contains<S: EventStore>(&mut self, store: &S, stream: &str, id: Uuid) -> Result<bool, StoreError> {
        Ok(self.tail(store, stream).await?.ids.contains(&id))
    }

    /// Appends `event` to `stream` unless an event with its id is there; answers whether
    /// it appended.
    pub async fn append_once<S: EventStore>(
        &mut self,
        store: &S,
        stream: &str,
        event: NewEvent,
    ) -> Result<bool, StoreError> {
        let tail = self.tail(store, stream).await?;
        if tail.ids.contains(&event.id) {
            return Ok(false);
        }
        let id = event.id;
        match store.append(stream, ExpectedVersion::Exact(tail.version), vec![event]).await {
            Ok(appended) => {
                tail.version = appended.version;
                tail.ids.insert(id);
                Ok(true)
            }
            Err(e) => {
                // Another writer, or a stale memory: read the stream again next time.
                self.0.remove(stream);
                Err(e)
            }
        }
    }
}
