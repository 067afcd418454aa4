//! Miner control against simulated miners on their own loopback addresses (real TCP, the
//! firmware dialects as the simulator speaks them) and a SQLite store: a plan's targets
//! put miners to sleep and wake them (stock Antminers through their web interface),
//! confirmed by the miners' own replies; a miner that ignores commands and one that hangs
//! are each marked failed without holding up the rest; a restarted execution watches the
//! commands it recorded instead of sending them again; an operator's curtailment
//! (previewed first) outranks plans until its time passes.

mod common;

use common::{SITE, fleet, id_of, register};
use hcp_domain::plan::{ALLOCATION_TARGETED, plans_stream};
use hcp_eventstore::sqlite::SqliteStore;
use hcp_eventstore::{Direction, EventStore, RecordedEvent, append_all_at_tail};
use hcp_minerapi::control::{PowerState, power_state};
use hcp_proto::v1 as pb;
use hcp_runtime::config::{Config, LoadOptions, Secret};
use hcp_runtime::{EventContext, Host, Metrics};
use hcp_simulator::{Behaviour, SimFirmware};
use prost::Message;
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn execution(store: &Arc<SqliteStore>, deadline_s: f64, attempts: u32, ramp: f64) -> Arc<Host<SqliteStore>> {
    execution_at(store, deadline_s, attempts, ramp).await.0
}

/// Execution on `store`, and its gRPC address.
async fn execution_at(
    store: &Arc<SqliteStore>,
    deadline_s: f64,
    attempts: u32,
    ramp: f64,
) -> (Arc<Host<SqliteStore>>, std::net::SocketAddr) {
    let mut config = Config::load(&LoadOptions::default()).expect("defaults");
    config.execution.command_deadline_seconds = deadline_s;
    config.execution.command_attempts = attempts;
    config.execution.ramp_kw_per_second = ramp;
    let host = Host::new(Arc::clone(store), Metrics::new(), "test");
    let token = Secret::new("miner-control-test-token".to_owned());
    let (addr, _) =
        hcp_execution::start(&host, &config, token, "127.0.0.1:0".parse().expect("addr")).await.expect("execution");
    (host, addr)
}

/// Appends a plan's targets: every miner in `ids` to `mode`.
async fn target(store: &SqliteStore, ids: &[String], mode: pb::ResourceMode) {
    let targeted = pb::AllocationTargeted {
        plan_id: uuid::Uuid::now_v7().to_string(),
        site: SITE.into(),
        targets: ids.iter().map(|id| pb::Assignment { resource_id: id.clone(), mode: mode as i32 }).collect(),
    };
    let at = hcp_runtime::clock::now_micros();
    let event = EventContext::new("optimization").event(0, ALLOCATION_TARGETED, targeted.encode_to_vec(), at);
    append_all_at_tail(store, &plans_stream(SITE), vec![event]).await.expect("append targets");
}

async fn control(store: &SqliteStore, id: &str) -> Vec<RecordedEvent> {
    store.read_stream(&format!("control-{id}"), 1, Direction::Forwards, usize::MAX).await.expect("read")
}

/// Waits until every miner's control stream holds more than `after` events and ends in one
/// of `ends`; returns the streams.
async fn settled(
    store: &SqliteStore,
    ids: &[String],
    after: usize,
    ends: &[&str],
    within: Duration,
) -> Vec<Vec<RecordedEvent>> {
    let deadline = Instant::now() + within;
    loop {
        let mut all = Vec::new();
        for id in ids {
            all.push(control(store, id).await);
        }
        if all.iter().all(|s| s.len() > after && s.last().is_some_and(|e| ends.contains(&e.event_type.as_str()))) {
            return all;
        }
        let summary: Vec<_> =
            ids.iter().zip(&all).map(|(id, s)| (id, s.last().map(|e| e.event_type.clone()))).collect();
        assert!(Instant::now() < deadline, "not settled within {within:?}: {summary:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn kinds(stream: &[RecordedEvent]) -> Vec<&str> {
    stream.iter().map(|e| e.event_type.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_sleep_and_wake_miners_and_misbehaving_ones_fail_alone() {
    let mix = [
        ("Antminer S21", SimFirmware::Luxos),
        ("Antminer S19j Pro", SimFirmware::Bmminer),
        ("Whatsminer M60S", SimFirmware::Btminer),
        ("Antminer S21 Pro", SimFirmware::Luxos),
    ];
    // 10x: LuxOS sheds its load in 0.5 s and regains it in 1 s.
    let fleet = fleet(215, 8, &mix, 10.0).await;
    let ids: Vec<String> = (0..8).map(|i| id_of(&fleet, i)).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    register(&store, &fleet).await;
    fleet.miners[0].set_obedient(false);
    fleet.miners[3].set_behaviour(Behaviour::Hang);
    let host = execution(&store, 2.0, 2, 1000.0).await;

    target(&store, &ids, pb::ResourceMode::Curtailed).await;
    let done = ["miner.confirmed", "miner.command_failed"];
    let streams = settled(&store, &ids, 0, &done, Duration::from_secs(30)).await;
    for (i, s) in streams.iter().enumerate() {
        let reason =
            || pb::MinerCommandFailed::decode(s.last().expect("an event").payload.as_ref()).expect("decodes").reason;
        match i {
            // Accepts the command, keeps hashing: tried twice, then failed.
            0 => {
                assert_eq!(kinds(s), ["miner.commanded", "miner.commanded", "miner.command_failed"], "{i}");
                assert!(reason().contains("not seen to sleep"), "{}", reason());
            }
            // Hangs: tried twice, then failed.
            3 => assert_eq!(kinds(s), ["miner.commanded", "miner.commanded", "miner.command_failed"], "{i}"),
            // LuxOS, stock Antminer (through its web interface) and Whatsminer asleep, by their own replies.
            _ => {
                assert_eq!(kinds(s), ["miner.commanded", "miner.confirmed"], "{i}");
                let (state, summary) = power_state(fleet.miners[i].addr, Duration::from_secs(2)).await.expect("reads");
                assert_eq!(state, PowerState::Asleep, "{i}: {summary:?}");
            }
        }
    }
    assert_eq!(power_state(fleet.miners[0].addr, Duration::from_secs(2)).await.expect("reads").0, PowerState::Hashing);

    // Wake the ones that slept: each hashes again, confirmed by its own reply.
    let slept: Vec<String> = [1, 2, 4, 5, 6, 7].iter().map(|i| ids[*i].clone()).collect();
    target(&store, &slept, pb::ResourceMode::Mining).await;
    let streams = settled(&store, &slept, 2, &["miner.confirmed"], Duration::from_secs(30)).await;
    for (s, i) in streams.iter().zip([1, 2, 4, 5, 6, 7]) {
        assert_eq!(kinds(s)[2..], ["miner.commanded", "miner.confirmed"], "{i}");
        let confirmed = pb::MinerConfirmed::decode(s.last().expect("event").payload.as_ref()).expect("decodes");
        assert!(confirmed.action == "wake" && confirmed.hashrate_ths > 0.0, "{confirmed:?}");
    }
    host.shutdown(Duration::from_secs(5)).await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wakes_are_staggered_by_the_ramp_limit() {
    // Six S21 (3.5 kW each) at 7 kW/s: two at once, then one every half second.
    let fleet = fleet(217, 6, &[("Antminer S21", SimFirmware::Luxos)], 10.0).await;
    let ids: Vec<String> = (0..6).map(|i| id_of(&fleet, i)).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    register(&store, &fleet).await;
    for m in &fleet.miners {
        m.with_physics(|p| {
            p.target = 0.0;
            p.load = 0.0;
        });
    }
    let host = execution(&store, 5.0, 2, 7.0).await;
    target(&store, &ids, pb::ResourceMode::Mining).await;
    let streams = settled(&store, &ids, 0, &["miner.confirmed"], Duration::from_secs(30)).await;
    let mut sent: Vec<i64> = streams.iter().map(|s| s[0].metadata.time_unix_micros).collect();
    sent.sort_unstable();
    let spread = (sent[5] - sent[0]) as f64 / 1e6;
    assert!((1.8..4.0).contains(&spread), "six wakes spread over {spread:.2} s: {sent:?}");
    host.shutdown(Duration::from_secs(5)).await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_execution_watches_what_it_sent_instead_of_sending_again() {
    // At 1x LuxOS takes ~5 s to shed its load: execution stops while they ramp down.
    let fleet = fleet(216, 4, &[("Antminer S21", SimFirmware::Luxos)], 1.0).await;
    let ids: Vec<String> = (0..4).map(|i| id_of(&fleet, i)).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    register(&store, &fleet).await;
    let first = execution(&store, 20.0, 3, 1000.0).await;
    target(&store, &ids, pb::ResourceMode::Curtailed).await;
    settled(&store, &ids, 0, &["miner.commanded"], Duration::from_secs(10)).await;
    first.shutdown(Duration::from_secs(1)).await.expect("shutdown");
    assert_ne!(
        power_state(fleet.miners[0].addr, Duration::from_secs(2)).await.expect("reads").0,
        PowerState::Asleep,
        "still shedding load when execution stops"
    );
    let second = execution(&store, 20.0, 3, 1000.0).await;
    let streams = settled(&store, &ids, 0, &["miner.confirmed"], Duration::from_secs(30)).await;
    for s in &streams {
        assert_eq!(kinds(s), ["miner.commanded", "miner.confirmed"], "commanded once, confirmed once");
    }
    second.shutdown(Duration::from_secs(5)).await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_curtailment_is_previewed_outranks_plans_and_ends_by_itself() {
    let mix = [("Whatsminer M60S", SimFirmware::Btminer), ("Antminer S21", SimFirmware::Luxos)];
    let fleet = fleet(218, 6, &mix, 10.0).await;
    let ids: Vec<String> = (0..6).map(|i| id_of(&fleet, i)).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    register(&store, &fleet).await;
    let (host, addr) = execution_at(&store, 3.0, 2, 1000.0).await;
    let mut api = pb::fleet_client::FleetClient::new(
        hcp_proto::client::connect(&format!("http://{addr}")).await.expect("connect"),
    );
    let curtail = |kw: f64, dry_run: bool, until: i64| pb::CurtailRequest {
        site: SITE.into(),
        kw,
        all: false,
        until_unix_micros: until,
        dry_run,
        reason: "utility event".into(),
    };

    // The preview: the least efficient first (M60S, 18.5 J/TH), enough for 5 kW; nothing moves.
    let preview = api.curtail(curtail(5.0, true, 0)).await.expect("preview").into_inner();
    let chosen: Vec<&str> = preview.miners.iter().map(|m| m.model.as_str()).collect();
    assert_eq!(chosen, ["Whatsminer M60S", "Whatsminer M60S"], "{preview:?}");
    assert!(preview.curtailment_id.is_empty() && (preview.expected_kw - 6.84).abs() < 0.01, "{preview:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(control(&store, &ids[0]).await.is_empty(), "a preview moves nothing");
    let refused = api.curtail(curtail(0.0, false, 0)).await.expect_err("no kW");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    let refused = api.curtail(curtail(5.0, false, hcp_runtime::clock::now_micros() + 86_400_000_000)).await;
    assert!(refused.expect_err("a day").message().contains("until_unix_micros"), "longer than 4 h is refused");

    // In force for 4 s: the chosen miners sleep, and a plan that wants them mining waits.
    let until = hcp_runtime::clock::now_micros() + 4_000_000;
    let started = api.curtail(curtail(5.0, false, until)).await.expect("curtail").into_inner();
    let curtailed: Vec<String> = started.miners.iter().map(|m| m.resource_id.clone()).collect();
    settled(&store, &curtailed, 0, &["miner.confirmed"], Duration::from_secs(10)).await;
    for id in &curtailed {
        let i = ids.iter().position(|x| x == id).expect("one of ours");
        let state = power_state(fleet.miners[i].addr, Duration::from_secs(2)).await.expect("reads").0;
        assert_eq!(state, PowerState::Asleep, "{id}");
    }
    target(&store, &ids, pb::ResourceMode::Mining).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for id in &curtailed {
        assert_eq!(kinds(&control(&store, id).await), ["miner.commanded", "miner.confirmed"], "the plan waits: {id}");
    }
    let conflict = pb::MaintenanceRequest { resource_id: curtailed[0].clone(), on: true, reason: String::new() };
    let refused = api.maintenance(conflict).await.expect_err("conflicts");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition, "{refused:?}");
    let status = api.status(pb::FleetStatusRequest { site: SITE.into() }).await.expect("status").into_inner();
    assert_eq!(status.curtailments.len(), 1);
    let view = status.miners.iter().find(|m| m.resource_id == curtailed[0]).expect("listed");
    assert_eq!((view.desired.as_str(), view.source.as_str()), ("sleep", started.curtailment_id.as_str()));

    // Its time passes: lifted by execution, and the plan's wish (mining) is carried out.
    let woken = settled(&store, &curtailed, 2, &["miner.confirmed"], Duration::from_secs(20)).await;
    for s in &woken {
        assert_eq!(kinds(s), ["miner.commanded", "miner.confirmed", "miner.commanded", "miner.confirmed"]);
    }
    let lifted = store.read_stream(&format!("curtailment-{SITE}"), 1, Direction::Forwards, 10).await.expect("read");
    assert_eq!(kinds(&lifted), ["curtailment.started", "curtailment.lifted"]);
    host.shutdown(Duration::from_secs(5)).await.expect("shutdown");
}
