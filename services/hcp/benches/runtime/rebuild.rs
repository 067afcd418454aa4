//! Rebuilding a projection from a large store: discovery's inventory folded through a
//! reactor from position 0, against a raw subscription read of the same log (the
//! store's own replay path, no decoding), alternating.

use crate::report::{Rounds, figure, rate};
use hcp_discovery::Inventory;
use hcp_discovery::inventory::InventoryFeed;
use hcp_domain::Aggregate;
use hcp_domain::codec::encode_resource_event;
use hcp_domain::ids::{ResourceId, SiteId};
use hcp_domain::resource::{Mode, Resource, ResourceCommand, ResourceKind, ResourceSpec};
use hcp_domain::units::{Hashrate, Power, Timestamp};
use hcp_eventstore::sqlite::SqliteStore;
use hcp_eventstore::{EventStore, ExpectedVersion, NewEvent};
use hcp_runtime::{Durability, Host, Metrics};
use std::sync::Arc;
use std::time::Instant;

/// Events per resource: registered, then mode changes.
const PER_RESOURCE: usize = 100;

async fn seed(store: &SqliteStore, events: usize) -> anyhow::Result<()> {
    let spec = |site: &str| ResourceSpec {
        site: SiteId::new(site).expect("site"),
        rack: None,
        kind: ResourceKind::AsicMiner {
            model: "Antminer S21".into(),
            nominal_hashrate: Hashrate::from_terahashes(200),
            nominal_power: Power::from_watts(3_500),
        },
    };
    let mut appends = Vec::new();
    for r in 0..events / PER_RESOURCE {
        let id = ResourceId::new(format!("asic-10.{}.{}.{}", r / 65_536, (r / 256) % 256, r % 256))?;
        let mut state = Resource::default();
        let mut batch = Vec::with_capacity(PER_RESOURCE);
        for k in 0..PER_RESOURCE {
            let at = Timestamp::from_unix_secs(1_700_000_000 + k as i64);
            let command = match k {
                0 => ResourceCommand::Register { id: id.clone(), spec: spec("tx-south-1"), at },
                k => ResourceCommand::SetMode { mode: if k % 2 == 1 { Mode::Mining } else { Mode::Curtailed }, at },
            };
            for e in state.decide(command)? {
                let (t, p) = encode_resource_event(&e);
                let meta = hcp_eventstore::EventMetadata { time_unix_micros: at.unix_micros(), ..Default::default() };
                batch.push(NewEvent::new(t, 1, p).with_metadata(meta));
                state = state.evolve(&e);
            }
        }
        let stream = id.stream();
        appends.push(async move { store.append(&stream, ExpectedVersion::NoStream, batch).await });
        if appends.len() == 64 {
            for a in futures_util::future::join_all(std::mem::take(&mut appends)).await {
                a?;
            }
        }
    }
    for a in futures_util::future::join_all(appends).await {
        a?;
    }
    Ok(())
}

async fn raw_read(store: &Arc<SqliteStore>, head: u64) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut sub = store.subscribe(0).await?;
    let mut n = 0usize;
    while let Some(batch) = sub.next_batch().await {
        let batch = batch?;
        n += batch.len();
        if batch.last().is_some_and(|e| e.position >= head) {
            break;
        }
    }
    Ok(rate(n, started.elapsed()))
}

async fn rebuild(store: &Arc<SqliteStore>, head: u64, events: usize) -> anyhow::Result<f64> {
    let started = Instant::now();
    let host = Host::new(Arc::clone(store), Metrics::new(), "bench");
    let inventory = Arc::new(Inventory::default());
    let watch = host.reactor("bench", Arc::new(InventoryFeed(Arc::clone(&inventory))), Durability::InMemory);
    watch.caught_up(head).await;
    let elapsed = started.elapsed();
    anyhow::ensure!(inventory.len() == events / PER_RESOURCE, "folded {} resources", inventory.len());
    host.shutdown(std::time::Duration::from_secs(5)).await.map_err(anyhow::Error::msg)?;
    Ok(rate(events, elapsed))
}

/// Prints the rebuild rate, the raw read rate and their ratio.
pub async fn run(events: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await?);
    seed(&store, events).await?;
    let head = store.head().await?;
    let mut rounds = Rounds::<2>::new();
    for _ in 0..crate::report::ROUNDS {
        let raw = raw_read(&store, head).await?;
        let ours = rebuild(&store, head, events).await?;
        rounds.push([ours, raw]);
    }
    let [ours, raw] = rounds.medians();
    figure("projection_rebuild_inventory_events_per_s", ours, "events/s");
    figure("raw_sqlite_subscription_read_events_per_s", raw, "events/s");
    figure("projection_rebuild_vs_raw_read", ours / raw, "x");
    Ok(())
}
