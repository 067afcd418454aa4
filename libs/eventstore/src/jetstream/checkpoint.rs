//! Durable consumer checkpoints on JetStream: a stream that keeps only the last
//! message per subject (`<prefix>.<consumer>`), read by direct get. This is what a
//! key-value bucket is underneath, without depending on the KV API (whose create
//! call async-nats 0.51 cannot parse from a 2.9 server).

use crate::{Position, Result, StoreError};
use async_nats::jetstream::{self, stream};
use std::time::Duration;

/// Creates (or opens) the checkpoint stream.
pub(super) async fn ensure(
    js: &jetstream::Context,
    name: &str,
    prefix: &str,
    replicas: usize,
) -> Result<stream::Stream> {
    js.get_or_create_stream(stream::Config {
        name: name.to_owned(),
        subjects: vec![format!("{prefix}.>")],
        storage: stream::StorageType::File,
        num_replicas: replicas,
        max_messages_per_subject: 1,
        allow_direct: true,
        allow_rollup: true,
        duplicate_window: Duration::from_secs(1),
        description: Some("HCP consumer checkpoints: the last position each consumer has handled".into()),
        ..Default::default()
    })
    .await
    .map_err(|e| StoreError::Nats(format!("cannot create checkpoint stream {name}: {e}")))
}

/// The stored checkpoint on `subject`, if any.
pub(super) async fn load(stream: &stream::Stream, subject: &str, consumer: &str) -> Result<Option<Position>> {
    let Some(msg) = super::read::last_batch(stream, subject).await? else {
        return Ok(None);
    };
    std::str::from_utf8(&msg.payload)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map(Some)
        .ok_or_else(|| StoreError::Corrupt(format!("checkpoint of {consumer} is not a position")))
}

/// Stores a checkpoint and waits for the server to have it.
pub(super) async fn save(js: &jetstream::Context, subject: String, position: Position) -> Result<()> {
    js.publish(subject, position.to_string().into())
        .await
        .map_err(StoreError::nats)?
        .await
        .map_err(|e| StoreError::Nats(format!("saving a checkpoint: {e}")))?;
    Ok(())
}
