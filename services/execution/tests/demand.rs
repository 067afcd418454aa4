//! Demand response against a real MQTT broker (Mosquitto at 127.0.0.1:1883; `make mqtt`
//! starts one): a utility's target 0 makes the site curtail until its draw, read from the
//! miners themselves, is under the contracted kW, with the evidence recorded; target 100
//! lifts it; a signal that goes silent counts as 0. Simulated miners on loopback, SQLite.

mod common;

use common::{SITE, register};
use hcp_eventstore::sqlite::SqliteStore;
use hcp_eventstore::{Direction, EventStore, RecordedEvent};
use hcp_runtime::config::{Config, DemandResponseConfig, LoadOptions, Secret};
use hcp_runtime::{Host, Metrics};
use hcp_simulator::{Fleet, SimFirmware};
use rumqttc::{AsyncClient, MqttOptions, QoS};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Eight miners (S21 and M60S) at 10x.
async fn fleet(octet: u8) -> Fleet {
    common::fleet(octet, 8, &[("Antminer S21", SimFirmware::Luxos), ("Whatsminer M60S", SimFirmware::Btminer)], 10.0)
        .await
}

async fn platform(
    fleet: &Fleet,
    topic: &str,
    stale_seconds: f64,
) -> (Arc<SqliteStore>, Arc<Host<SqliteStore>>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    register(&store, fleet).await;
    let mut config = Config::load(&LoadOptions::default()).expect("defaults");
    config.execution.command_deadline_seconds = 5.0;
    config.execution.demand_response = vec![DemandResponseConfig {
        site: SITE.into(),
        broker: "mqtt://127.0.0.1:1883".into(),
        topic: topic.into(),
        contracted_kw: 15.0,
        stale_seconds,
        comply_seconds: 20.0,
    }];
    let host = Host::new(Arc::clone(&store), Metrics::new(), "test");
    let token = Secret::new("demand-response-test-token".to_owned());
    hcp_execution::start(&host, &config, token, "127.0.0.1:0".parse().expect("addr")).await.expect("execution");
    (store, host, dir)
}

/// A utility's publisher on the machine's broker.
async fn utility() -> AsyncClient {
    let mut options = MqttOptions::new(format!("utility-{}", uuid::Uuid::now_v7()), "127.0.0.1", 1883);
    options.set_keep_alive(Duration::from_secs(5));
    let (client, mut events) = AsyncClient::new(options, 16);
    tokio::spawn(async move { while events.poll().await.is_ok() {} });
    client
}

async fn demand(store: &SqliteStore) -> Vec<RecordedEvent> {
    store.read_stream(&format!("demand-{SITE}"), 1, Direction::Forwards, usize::MAX).await.expect("read")
}

async fn until(store: &SqliteStore, event_type: &str, count: usize, within: Duration) -> Vec<RecordedEvent> {
    let deadline = Instant::now() + within;
    loop {
        let events = demand(store).await;
        if events.iter().filter(|e| e.event_type == event_type).count() >= count {
            return events;
        }
        let seen: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        assert!(Instant::now() < deadline, "no {event_type} within {within:?}: {seen:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn require_broker() {
    if std::net::TcpStream::connect("127.0.0.1:1883").is_err() {
        panic!("an MQTT broker is required at 127.0.0.1:1883; `make mqtt` starts Mosquitto");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_utilitys_signal_curtails_the_site_under_its_contract_with_evidence() {
    require_broker();
    let fleet = fleet(220).await;
    let topic = format!("hcp-test/{}/target", uuid::Uuid::now_v7());
    let (store, host, _dir) = platform(&fleet, &topic, 600.0).await;
    let utility = utility().await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Eight miners draw ~28 kW; the contract is 15 kW.
    let signal = br#"{"target":0,"timestamp":"2026-11-27T22:00:00Z"}"#.to_vec();
    utility.publish(&topic, QoS::AtLeastOnce, false, signal).await.expect("publish");
    let events = until(&store, "demand_response.complied", 1, Duration::from_secs(30)).await;
    let json = |e: &RecordedEvent| hcp_proto::descriptors::payload_to_json(&e.event_type, &e.payload).expect("json");
    let signal = events.iter().find(|e| e.event_type == "demand_response.signal").expect("the signal recorded");
    assert_eq!(json(signal)["timestamp"], "2026-11-27T22:00:00Z");
    let complied = json(events.iter().find(|e| e.event_type == "demand_response.complied").expect("evidence"));
    let measured = complied["measuredKw"].as_f64().expect("measured");
    assert!(measured <= 15.0 && measured > 5.0, "under the contract, by the miners' own reports: {complied}");
    assert_eq!(complied["minersRead"], 8, "{complied}");
    let curtailments =
        store.read_stream(&format!("curtailment-{SITE}"), 1, Direction::Forwards, 10).await.expect("read");
    assert_eq!(curtailments.len(), 1, "one curtailment");

    // A message that is not a signal changes nothing; target 100 lifts the curtailment.
    utility.publish(&topic, QoS::AtLeastOnce, false, b"sleep now".to_vec()).await.expect("publish");
    utility
        .publish(&topic, QoS::AtLeastOnce, false, br#"{"target":100,"timestamp":1}"#.to_vec())
        .await
        .expect("publish");
    until(&store, "demand_response.signal", 2, Duration::from_secs(10)).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let c = store.read_stream(&format!("curtailment-{SITE}"), 1, Direction::Forwards, 10).await.expect("read");
        if c.last().is_some_and(|e| e.event_type == "curtailment.lifted") {
            break;
        }
        assert!(Instant::now() < deadline, "target 100 did not lift the curtailment");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    host.shutdown(Duration::from_secs(5)).await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_signal_counts_as_curtail() {
    require_broker();
    let fleet = fleet(221).await;
    let topic = format!("hcp-test/{}/target", uuid::Uuid::now_v7());
    let (store, host, _dir) = platform(&fleet, &topic, 2.0).await;
    let events = until(&store, "demand_response.complied", 1, Duration::from_secs(30)).await;
    let kinds: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(kinds, ["demand_response.stale", "demand_response.complied"], "no signal, so stale, then under");
    host.shutdown(Duration::from_secs(5)).await.expect("shutdown");
}
