//! Energy, mining and margin on a real SQLite store: a miner's and a GPU host's telemetry
//! summaries become energy records priced at the power price and Bitcoin day in force
//! when each summary was recorded (a later price prices only later summaries); handling
//! the log again from any point records nothing twice and nothing different; a site's
//! margin is its mining revenue plus the GPU time billed there minus its power cost; a
//! workload whose spec named no site has its usage recorded at the site it was placed at.

mod common;

use hcp_domain::ids::WorkloadId;
use hcp_domain::units::Timestamp;
use hcp_domain::workload::WorkloadEvent as E;
use hcp_eventstore::sqlite::SqliteStore;
use hcp_eventstore::{Direction, EventStore, ExpectedVersion};
use hcp_metering::Ledger;
use hcp_metering::energy::{ENERGY_CONSUMER, EnergyRecorder};
use hcp_metering::view::Folder;
use hcp_proto::v1 as pb;
use hcp_runtime::config::MeteringConfig;
use hcp_runtime::host::ReactorWatch;
use hcp_runtime::{Durability, EventContext, Host, Metrics};
use prost::Message;
use std::sync::Arc;
use std::time::Duration;

const T0: i64 = 1_793_577_600_000_000;
const MINUTE: i64 = 60_000_000;

async fn put(store: &SqliteStore, stream: &str, event_type: &str, payload: Vec<u8>) {
    let event = EventContext::new("test").event(0, event_type, payload, T0);
    store.append(stream, ExpectedVersion::Any, vec![event]).await.expect("append");
}

fn registered(id: &str, gpu: bool) -> Vec<u8> {
    let kind = if gpu {
        pb::resource_spec::Kind::Gpu(pb::GpuSpec::default())
    } else {
        pb::resource_spec::Kind::Asic(pb::AsicMinerSpec::default())
    };
    let spec = pb::ResourceSpec { site: "tx-1".into(), rack: "r1".into(), kind: Some(kind) };
    pb::ResourceRegistered { resource_id: id.into(), spec: Some(spec) }.encode_to_vec()
}

fn price(usd_mwh: f64, interval: i64) -> Vec<u8> {
    let p = pb::PriceObserved {
        site: "tx-1".into(),
        interval_start_unix_micros: T0 + interval * 5 * MINUTE,
        real_time_usd_mwh: usd_mwh,
        ..Default::default()
    };
    p.encode_to_vec()
}

fn summary(id: &str, interval: i64, wh: f64, th: f64) -> Vec<u8> {
    let s = pb::TelemetrySummarized {
        resource_id: id.into(),
        interval_start_unix_micros: T0 + interval * 5 * MINUTE,
        interval_end_unix_micros: T0 + (interval + 1) * 5 * MINUTE,
        energy_wh: wh,
        terahashes: th,
        power_reported: true,
        gap_seconds: if interval == 1 { 30.0 } else { 0.0 },
        ..Default::default()
    };
    s.encode_to_vec()
}

async fn energy(store: &SqliteStore) -> Vec<pb::EnergyRecorded> {
    let events = store.read_stream("energy-tx-1", 1, Direction::Forwards, usize::MAX).await.expect("read");
    events.iter().map(|e| pb::EnergyRecorded::decode(e.payload.as_ref()).expect("record")).collect()
}

async fn settle(store: &SqliteStore, watches: &[&ReactorWatch]) {
    loop {
        let head = store.head().await.expect("head");
        for w in watches {
            tokio::time::timeout(Duration::from_secs(10), w.caught_up(head)).await.expect("caught up");
        }
        if store.head().await.expect("head") == head {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn energy_mining_and_margin_from_the_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    put(&store, "resource-m1", "resource.registered", registered("m1", false)).await;
    put(&store, "resource-g1", "resource.registered", registered("g1", true)).await;
    // Difficulty 1e14, 3.125 BTC a block and 0.25 in fees: 1e6 TH is 1e18 / (1e14 x 2^32) x 3.375 BTC.
    let day = pb::BitcoinDayObserved {
        date: "2026-11-02".into(),
        btc_usd: 90_000.0,
        difficulty: 1e14,
        height: 900_000,
        fees_btc_per_block: Some(0.25),
    };
    put(&store, "bitcoin", "bitcoin.day_observed", day.encode_to_vec()).await;
    put(&store, "prices-tx-1", "price.observed", price(40.0, 0)).await;
    // A miner: 250 Wh and 1e6 TH in the first interval; then the price rises to 100.
    put(&store, "telemetry-m1", "telemetry.summarized", summary("m1", 0, 250.0, 1e6)).await;
    put(&store, "prices-tx-1", "price.observed", price(100.0, 1)).await;
    put(&store, "telemetry-m1", "telemetry.summarized", summary("m1", 1, 250.0, 1e6)).await;
    put(&store, "telemetry-g1", "telemetry.summarized", summary("g1", 1, 500.0, 0.0)).await;
    // A workload on the GPU host: 4 GPUs for the two intervals (ten minutes), no site in its spec.
    let id = uuid::Uuid::now_v7().to_string();
    let t = |minutes: i64| Timestamp::from_unix_micros(T0 + minutes * MINUTE);
    let lifecycle = [
        E::Submitted { id: WorkloadId::parse(&id).expect("id"), spec: common::spec("acme", 4), at: t(0) },
        E::Queued { attempt: 1, at: t(0) },
        E::Scheduled { resources: vec![hcp_domain::ids::ResourceId::new("g1").expect("id")], at: t(0) },
        E::Started { endpoint: None, at: t(0) },
        E::Completed { at: t(10) },
    ];
    common::append(store.as_ref(), &id, 0, &lifecycle).await;

    let host = Host::new(Arc::clone(&store), Metrics::new(), "test");
    let recorder =
        host.reactor("metering", Arc::new(EnergyRecorder::new(Arc::clone(&store))), Durability::Checkpointed);
    let usage = hcp_metering::start::recorder(&host, hcp_billing::period::Cadence::Month);
    let view = Arc::new(Ledger::<SqliteStore>::view(&MeteringConfig::default()).expect("view"));
    let folder = host.reactor("metering", Arc::new(Folder(Arc::clone(&view))), Durability::InMemory);
    settle(&store, &[&recorder, &usage, &folder]).await;

    let usage = store.read_stream("usage-acme", 1, Direction::Forwards, usize::MAX).await.expect("usage");
    let sites: Vec<String> =
        usage.iter().map(|e| pb::UsageRecorded::decode(e.payload.as_ref()).expect("record").site).collect();
    assert_eq!(sites, ["tx-1"], "the record names the site its workload was placed at (its spec named none)");

    let records = energy(&store).await;
    assert_eq!(records.len(), 3, "{records:?}");
    let blocks = 1e18 / (1e14 * 4_294_967_296.0);
    let btc = blocks * (3.125 + 0.25);
    let m = &records[0];
    assert_eq!((m.kind.as_str(), m.price_usd_mwh, m.power_cost_usd_micros), ("asic", 40.0, 10_000), "{m:?}");
    assert!((m.btc - btc).abs() < 1e-12 && (m.fees_btc - blocks * 0.25).abs() < 1e-12, "{m:?}");
    assert_eq!(m.mining_usd_micros, (btc * 90_000.0 * 1e6).round() as i64);
    assert_eq!(m.bitcoin_date, "2026-11-02");
    assert_eq!((records[1].price_usd_mwh, records[1].power_cost_usd_micros), (100.0, 25_000), "the price in force");
    assert_eq!((records[1].gap_seconds, records[2].kind.as_str()), (30.0, "gpu"), "gaps are marked");

    // Handled again from the start, and from the middle: the same records, once.
    for from in [0, 5] {
        host.shutdown(Duration::from_secs(5)).await.expect("shutdown");
        store.save_checkpoint(ENERGY_CONSUMER, from).await.expect("set back");
        let host2 = Host::new(Arc::clone(&store), Metrics::new(), "test");
        let again =
            host2.reactor("metering", Arc::new(EnergyRecorder::new(Arc::clone(&store))), Durability::Checkpointed);
        settle(&store, &[&again]).await;
        assert_eq!(energy(&store).await, records, "handled again from {from}");
        host2.shutdown(Duration::from_secs(5)).await.expect("shutdown");
    }

    // The margin: mining + 40 GPU-minutes at $2.50/GPU-h - power.
    let ledger = Ledger::new(Arc::clone(&store), MeteringConfig::default(), view, folder).expect("ledger");
    let request =
        pb::SiteMarginsRequest { site: String::new(), from_unix_micros: T0, to_unix_micros: T0 + 10 * MINUTE };
    let margins = ledger.site_margins(&request, Timestamp::from_unix_micros(T0 + 10 * MINUTE)).await.expect("margins");
    assert_eq!(margins.sites.len(), 1, "{margins:?}");
    let s = &margins.sites[0];
    assert_eq!((s.site.as_str(), s.devices), ("tx-1", 2));
    assert_eq!(s.power_cost_usd_micros, 10_000 + 25_000 + 50_000);
    assert_eq!(s.ai_usd_micros, 1_670_000, "40 GPU-minutes at $2.50 an hour, billed to the cent: {s:?}");
    assert_eq!(s.margin_usd_micros, s.mining_usd_micros + s.ai_usd_micros - s.power_cost_usd_micros);
    assert!((s.energy_kwh - 1.0).abs() < 1e-9 && (s.gap_seconds - 60.0).abs() < 1e-9, "{s:?}");
}
