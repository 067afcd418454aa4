//! A store chosen at run time: `sqlite:PATH` or `nats://HOST:PORT`.

use crate::jetstream::{JetStreamConfig, JetStreamStore};
use crate::sqlite::SqliteStore;
use crate::{
    AppendResult, Direction, EventStore, ExpectedVersion, NewEvent, Position, RecordedEvent, Result, StoreError,
    Subscription,
};

/// Either backend behind one type, for binaries that pick one from configuration.
#[derive(Clone)]
pub enum AnyStore {
    /// The embedded SQLite store.
    Sqlite(SqliteStore),
    /// The JetStream store.
    JetStream(JetStreamStore),
}

impl AnyStore {
    /// Opens `sqlite:PATH` (or `sqlite://PATH`) or connects to `nats://HOST:PORT`;
    /// `nats://HOST:PORT?namespace=NAME` uses a private namespace of streams and subjects
    /// on that server (see [`JetStreamConfig::namespaced`]).
    pub async fn open(url: &str) -> Result<Self> {
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if path.is_empty() {
                return Err(StoreError::InvalidUrl { url: url.into(), reason: "sqlite: needs a file path".into() });
            }
            return Ok(AnyStore::Sqlite(SqliteStore::open_path(path).await?));
        }
        if url.starts_with("nats://") || url.starts_with("tls://") {
            let config = match url.split_once('?') {
                None => JetStreamConfig::new(url),
                Some((server, options)) => JetStreamConfig::namespaced(server, namespace(url, options)?),
            };
            return Ok(AnyStore::JetStream(JetStreamStore::connect(config).await?));
        }
        Err(StoreError::InvalidUrl { url: url.into(), reason: "expected sqlite:PATH or nats://HOST:PORT".into() })
    }
}

/// The namespace of `namespace=NAME`, the one option a JetStream URL takes.
fn namespace<'a>(url: &str, options: &'a str) -> Result<&'a str> {
    let invalid = |reason: String| StoreError::InvalidUrl { url: url.into(), reason };
    let name = options
        .strip_prefix("namespace=")
        .ok_or_else(|| invalid(format!("unknown option {options:?}; the one option is namespace=NAME")))?;
    let valid =
        !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        return Err(invalid(format!("namespace {name:?} must be 1-64 letters, digits, '_' or '-'")));
    }
    Ok(name)
}

macro_rules! each {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $e,
            AnyStore::JetStream($s) => $e,
        }
    };
}

impl EventStore for AnyStore {
    async fn append(&self, stream: &str, expected: ExpectedVersion, events: Vec<NewEvent>) -> Result<AppendResult> {
        each!(self, s => s.append(stream, expected, events).await)
    }
    async fn read_stream(
        &self,
        stream: &str,
        from: u64,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>> {
        each!(self, s => s.read_stream(stream, from, direction, limit).await)
    }
    async fn read_all(&self, from: Position, limit: usize) -> Result<Vec<RecordedEvent>> {
        each!(self, s => s.read_all(from, limit).await)
    }
    async fn head(&self) -> Result<Position> {
        each!(self, s => s.head().await)
    }
    async fn subscribe(&self, from: Position) -> Result<Subscription> {
        each!(self, s => s.subscribe(from).await)
    }
    async fn load_checkpoint(&self, consumer: &str) -> Result<Option<Position>> {
        each!(self, s => s.load_checkpoint(consumer).await)
    }
    async fn save_checkpoint(&self, consumer: &str, position: Position) -> Result<()> {
        each!(self, s => s.save_checkpoint(consumer, position).await)
    }
    fn distance(&self, from: Position, to: Position) -> u64 {
        each!(self, s => s.distance(from, to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jetstream_url_may_name_a_namespace_and_nothing_else() {
        let url = "nats://h:4222?x";
        assert_eq!(namespace(url, "namespace=e2e-1_a").expect("valid"), "e2e-1_a");
        for bad in ["namespace=", "namespace=a.b", "namespace=a b", "ns=a", "namespace=a&x=1"] {
            let e = namespace(url, bad).expect_err(bad).to_string();
            assert!(e.contains("namespace"), "{bad}: {e}");
        }
    }
}
