//! Backends under test: a fresh store per test (a temp file, or a private
//! JetStream namespace that is deleted afterwards).

use futures_util::FutureExt;
use hcp_eventstore::jetstream::{JetStreamConfig, JetStreamStore};
use hcp_eventstore::sqlite::{SqliteConfig, SqliteStore};
use hcp_eventstore::{EventStore, Upcasters};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;

/// A backend the suite can run against.
pub trait Harness: Sized + Send + Sync + 'static {
    /// The module name the tests carry.
    const NAME: &'static str;
    /// Whether global positions are gapless (1, 2, 3, ...).
    const GAPLESS: bool;
    /// The store type.
    type Store: EventStore + Clone;
    /// A fresh, empty store.
    fn new(upcasters: Upcasters) -> impl Future<Output = Self> + Send;
    /// The store.
    fn store(&self) -> &Self::Store;
    /// Another handle on the same data, opened from scratch (as another process would).
    fn reopen(&self, upcasters: Upcasters) -> impl Future<Output = Self::Store> + Send;
    /// Arguments for the stress writer: `<url> <namespace|->`.
    fn child_args(&self) -> [String; 2];
    /// Removes what the test created.
    fn finish(self) -> impl Future<Output = ()> + Send;
}

/// Runs one test body against a fresh harness, cleaning up even if it panics.
pub async fn run<H: Harness, F>(body: F)
where
    F: for<'a> FnOnce(&'a H) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>,
{
    let h = H::new(Upcasters::new()).await;
    let outcome = AssertUnwindSafe(body(&h)).catch_unwind().await;
    h.finish().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

pub struct SqliteHarness {
    dir: tempfile::TempDir,
    store: SqliteStore,
}

impl SqliteHarness {
    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("events.db")
    }
}

impl Harness for SqliteHarness {
    const NAME: &'static str = "sqlite";
    const GAPLESS: bool = true;
    type Store = SqliteStore;

    async fn new(upcasters: Upcasters) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = SqliteConfig { upcasters, ..SqliteConfig::new(dir.path().join("events.db")) };
        let store = SqliteStore::open(config).await.expect("open sqlite store");
        SqliteHarness { dir, store }
    }
    fn store(&self) -> &SqliteStore {
        &self.store
    }
    async fn reopen(&self, upcasters: Upcasters) -> SqliteStore {
        let config = SqliteConfig { upcasters, ..SqliteConfig::new(self.path()) };
        SqliteStore::open(config).await.expect("reopen sqlite store")
    }
    fn child_args(&self) -> [String; 2] {
        [format!("sqlite:{}", self.path().display()), "-".into()]
    }
    async fn finish(self) {}
}

pub struct JetStreamHarness {
    url: String,
    namespace: String,
    store: JetStreamStore,
}

/// The server the JetStream tests use.
pub fn nats_url() -> String {
    std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

impl Harness for JetStreamHarness {
    const NAME: &'static str = "jetstream";
    const GAPLESS: bool = false;
    type Store = JetStreamStore;

    async fn new(upcasters: Upcasters) -> Self {
        let url = nats_url();
        let namespace = format!("t{}", uuid::Uuid::new_v4().simple());
        let config = JetStreamConfig { upcasters, ..JetStreamConfig::namespaced(&url, &namespace) };
        let store = JetStreamStore::connect(config).await.unwrap_or_else(|e| {
            panic!(
                "NATS JetStream is required for these tests and is not usable at {url} ({e}); `make nats` starts one"
            )
        });
        JetStreamHarness { url, namespace, store }
    }
    fn store(&self) -> &JetStreamStore {
        &self.store
    }
    async fn reopen(&self, upcasters: Upcasters) -> JetStreamStore {
        let config = JetStreamConfig { upcasters, ..JetStreamConfig::namespaced(&self.url, &self.namespace) };
        JetStreamStore::connect(config).await.expect("reconnect")
    }
    fn child_args(&self) -> [String; 2] {
        [self.url.clone(), self.namespace.clone()]
    }
    async fn finish(self) {
        self.store.destroy().await.expect("delete the test namespace");
    }
}
