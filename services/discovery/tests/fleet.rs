//! Discovery against a simulated fleet on real loopback sockets and a real SQLite store:
//! misbehaving miners, a failed hashboard, a miner stopped and restarted.

use hcp_discovery::{Discovery, DiscoveryConfig, ScanTarget};
use hcp_domain::ids::SiteId;
use hcp_eventstore::EventStore;
use hcp_eventstore::sqlite::SqliteStore;
use hcp_proto::v1 as pb;
use hcp_proto::v1::inventory_client::InventoryClient;
use hcp_runtime::{Host, Metrics};
use hcp_simulator::{Behaviour, Fleet, FleetSpec};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn eventually(what: &str, within: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not within {within:?}: {what}");
}

async fn ids_with_health(
    client: &mut InventoryClient<tonic::transport::Channel>,
    health: pb::ResourceHealth,
) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut token = String::new();
    loop {
        let req = pb::ListResourcesRequest {
            health: health as i32,
            page_size: 7,
            page_token: token.clone(),
            ..Default::default()
        };
        let page = client.list_resources(req).await.expect("list").into_inner();
        ids.extend(page.resources.into_iter().map(|r| r.id));
        if page.next_page_token.is_empty() {
            return ids;
        }
        token = page.next_page_token;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_the_fleet_and_tracks_its_health() {
    let fleet = Fleet::start(FleetSpec::uniform(1, 24, 210)).await.expect("fleet on 127.210/16");
    let m = &fleet.miners;
    m[3].set_behaviour(Behaviour::Malformed);
    m[4].set_behaviour(Behaviour::Malformed);
    m[5].set_behaviour(Behaviour::Hang);
    m[6].set_behaviour(Behaviour::Garbage);
    m[7].set_behaviour(Behaviour::Slow(Duration::from_millis(100)));
    fleet.stop(&m[8]);
    m[9].with_physics(|p| p.boards_alive[0] = false);

    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    let (first, last) = fleet.spec.sites[0].range();
    let config = DiscoveryConfig {
        targets: vec![ScanTarget { site: SiteId::new("tx-south-1").expect("site"), first, last, port: 4028 }],
        timeout: Duration::from_millis(400),
        poll_interval: Duration::from_millis(200),
        rescan_interval: Duration::from_secs(3600),
        offline_after: 3,
        confirm_after: 2,
        grpc_addr: "127.0.0.1:0".parse().expect("addr"),
        ..DiscoveryConfig::default()
    };
    let host = Host::new(Arc::clone(&store), Metrics::new(), "test");
    let mut discovery = Discovery::start(&host, config).await.expect("discovery");
    discovery.scanned(1).await;

    let id = |i: usize| format!("asic-{}", m[i].addr.ip());
    let answering: BTreeSet<String> = (0..24).filter(|i| ![5, 6, 8].contains(i)).map(id).collect();
    let registered: BTreeSet<String> = discovery.inventory.snapshot().into_iter().map(|(k, _)| k).collect();
    assert_eq!(registered, answering, "registered exactly the miners that identified themselves");

    let channel = hcp_proto::client::connect(&format!("http://{}", discovery.grpc_addr)).await.expect("grpc");
    let mut client = InventoryClient::new(channel);
    let healthy: BTreeSet<String> = answering.iter().filter(|i| **i != id(9)).cloned().collect();
    eventually("the failed board is recorded degraded", Duration::from_secs(5), async || {
        ids_with_health(&mut client, pb::ResourceHealth::Degraded).await == BTreeSet::from([id(9)])
    })
    .await;
    assert_eq!(ids_with_health(&mut client, pb::ResourceHealth::Healthy).await, healthy);
    let got = client.get_resource(pb::GetResourceRequest { id: id(0) }).await.expect("get").into_inner();
    assert!(got.telemetry.is_some_and(|t| t.hashrate_ths > 150.0 && t.boards_alive == 3), "telemetry");
    let missing = client.get_resource(pb::GetResourceRequest { id: "asic-10.0.0.1".into() }).await;
    assert_eq!(missing.expect_err("unknown").code(), tonic::Code::NotFound);

    // Stop a healthy miner: offline within offline_after polls (plus a timeout and slack).
    let stopped_at = Instant::now();
    fleet.stop(&m[0]);
    eventually("a stopped miner goes offline", Duration::from_secs(3), async || {
        ids_with_health(&mut client, pb::ResourceHealth::Offline).await.contains(&id(0))
    })
    .await;
    assert!(stopped_at.elapsed() >= Duration::from_millis(400), "not before the damping window");
    fleet.restart(&m[0]).await.expect("restart");
    eventually("a restarted miner is healthy again", Duration::from_secs(3), async || {
        ids_with_health(&mut client, pb::ResourceHealth::Healthy).await.contains(&id(0))
    })
    .await;

    // Events only on change: registrations, the degraded board, offline and back.
    let events = store.read_all(0, 10_000).await.expect("log");
    let health_changes: Vec<_> = events.iter().filter(|e| e.event_type == "resource.health_changed").collect();
    let streams: BTreeSet<&str> = health_changes.iter().map(|e| e.stream.as_str()).collect();
    assert_eq!(
        streams,
        BTreeSet::from([format!("resource-{}", id(9)).as_str(), format!("resource-{}", id(0)).as_str()])
    );
    assert_eq!(health_changes.len(), 3, "degraded once, offline once, back once");
    assert_eq!(events.iter().filter(|e| e.event_type == "resource.registered").count(), answering.len());
    assert_eq!(
        events.iter().filter(|e| e.event_type == "resource.mode_changed").count(),
        answering.len(),
        "found mining"
    );

    // A restarted discovery rebuilds the inventory from the store and registers nothing twice.
    drop(discovery);
    host.shutdown(Duration::from_secs(5)).await.expect("stops within the grace period");
    let config = DiscoveryConfig { grpc_addr: "127.0.0.1:0".parse().expect("addr"), ..DiscoveryConfig::default() };
    let host = Host::new(Arc::clone(&store), Metrics::new(), "test");
    let again = Discovery::start(&host, DiscoveryConfig { targets: vec![], ..config }).await.expect("restart");
    assert_eq!(again.inventory.len(), answering.len());
    assert_eq!(again.inventory.state(&id(9)).map(|r| r.health), Some(hcp_domain::resource::Health::Degraded));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readings_are_summarized_per_interval_with_their_energy_and_hashes() {
    let fleet = Fleet::start(FleetSpec::uniform(1, 4, 211)).await.expect("fleet on 127.211/16");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    let (first, last) = fleet.spec.sites[0].range();
    let config = DiscoveryConfig {
        targets: vec![ScanTarget { site: SiteId::new("tx-south-1").expect("site"), first, last, port: 4028 }],
        timeout: Duration::from_millis(400),
        poll_interval: Duration::from_millis(100),
        rescan_interval: Duration::from_secs(3600),
        summary_interval: Duration::from_secs(1),
        samples: Some((dir.path().join("telemetry.db"), Duration::from_secs(3600))),
        grpc_addr: "127.0.0.1:0".parse().expect("addr"),
        ..DiscoveryConfig::default()
    };
    let host = Host::new(Arc::clone(&store), Metrics::new(), "test");
    let mut discovery = Discovery::start(&host, config).await.expect("discovery");
    discovery.scanned(1).await;
    // The first miner is a LuxOS S21 (it reports its power): ~3.5 kW and ~200 TH/s.
    let stream = format!("telemetry-asic-{}", fleet.miners[0].addr.ip());
    let mut summaries = Vec::new();
    eventually("three whole intervals summarized", Duration::from_secs(10), async || {
        let events = store.read_stream(&stream, 1, hcp_eventstore::Direction::Forwards, 100).await.expect("read");
        summaries = events
            .iter()
            .map(|e| {
                assert_eq!(e.event_type, "telemetry.summarized");
                <pb::TelemetrySummarized as prost::Message>::decode(e.payload.as_ref()).expect("decodes")
            })
            .collect();
        summaries.len() >= 3
    })
    .await;
    // The first interval starts mid-way; the next ones are whole seconds, read every 100 ms.
    for s in &summaries[1..] {
        assert_eq!(s.interval_end_unix_micros - s.interval_start_unix_micros, 1_000_000, "{s:?}");
        assert!(s.gap_seconds == 0.0 && (s.covered_seconds - 1.0).abs() < 0.01, "covered to the second: {s:?}");
        assert!((s.energy_wh - s.mean_power_w / 3600.0).abs() < 1e-9, "{s:?}");
        assert!((3000.0..4000.0).contains(&s.mean_power_w) && s.peak_power_w >= s.mean_power_w, "{s:?}");
        assert!((150.0..250.0).contains(&s.terahashes), "about 200 TH in a second: {s:?}");
        assert!(s.power_reported && s.samples >= 5 && s.peak_temp_c > 30.0, "{s:?}");
    }
    // The raw readings are kept for charts, oldest first.
    let channel = hcp_proto::client::connect(&format!("http://{}", discovery.grpc_addr)).await.expect("connect");
    let id = format!("asic-{}", fleet.miners[0].addr.ip());
    let request = pb::SamplesRequest { resource_id: id, since_unix_micros: 0, limit: 0 };
    let samples = InventoryClient::new(channel.clone()).samples(request).await.expect("samples").into_inner().samples;
    assert!(samples.len() >= 15, "{} readings", samples.len());
    assert!(samples.windows(2).all(|w| w[0].observed_unix_micros < w[1].observed_unix_micros));
    assert!(samples.iter().all(|t| (3000.0..4000.0).contains(&t.power_w)), "{:?}", samples[0]);
    let unknown = pb::SamplesRequest { resource_id: "asic-10.9.9.9".into(), since_unix_micros: 0, limit: 0 };
    let refused = InventoryClient::new(channel).samples(unknown).await.expect_err("unknown");
    assert_eq!(refused.code(), tonic::Code::NotFound);
    host.shutdown(Duration::from_secs(5)).await.expect("shutdown");
}
