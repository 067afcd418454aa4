//! Appending after whatever a stream holds now, for writers that own a stream but keep
//! no aggregate state for it (prices, plans): the expected version is the stream's
//! current one, so two writers racing still cannot both land.

use crate::{AppendResult, Direction, EventStore, ExpectedVersion, NewEvent, Result};

/// The version of the last event of `stream` (0 when it is empty).
pub async fn last_version<S: EventStore>(store: &S, stream: &str) -> Result<u64> {
    Ok(store.read_stream(stream, u64::MAX, Direction::Backwards, 1).await?.first().map_or(0, |e| e.version))
}

/// Appends `event` right after the stream's current last event; a concurrent writer that
/// got there first makes this a [`crate::StoreError::Conflict`].
pub async fn append_at_tail<S: EventStore>(store: &S, stream: &str, event: NewEvent) -> Result<AppendResult> {
    append_all_at_tail(store, stream, vec![event]).await
}

/// Appends `events`, as one append, right after the stream's current last event.
pub async fn append_all_at_tail<S: EventStore>(store: &S, stream: &str, events: Vec<NewEvent>) -> Result<AppendResult> {
    let expected = match last_version(store, stream).await? {
        0 => ExpectedVersion::NoStream,
        v => ExpectedVersion::Exact(v),
    };
    store.append(stream, expected, events).await
}
