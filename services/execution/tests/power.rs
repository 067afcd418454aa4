//! GPUs and miners under one cap: a workload whose GPUs would take its site over its
//! cap starts only after execution has put exactly enough miners to sleep (least
//! efficient first), confirmed by their own replies; the site's draw then stays under the
//! cap; when the workload stops, mining takes the power back. Simulated miners on their own
//! loopback addresses, a SQLite store, workloads recorded as routing would.

mod common;

use common::{SITE, at, register, register_resource};
use hcp_domain::ids::{ResourceId, TenantId, WorkloadId};
use hcp_domain::resource::ResourceKind;
use hcp_domain::site::{Site, SiteCommand, SitePolicy};
use hcp_domain::units::Power;
use hcp_domain::workload::{
    GpuModel, Locality, Priority, RunSpec, Workload, WorkloadCommand, WorkloadKind, WorkloadSpec,
};
use hcp_eventstore::sqlite::SqliteStore;
use hcp_eventstore::{Direction, EventStore, RecordedEvent};
use hcp_minerapi::Request;
use hcp_runtime::config::{Config, LoadOptions, Secret};
use hcp_runtime::{EventContext, Host, Metrics, Repository};
use hcp_simulator::{Fleet, SimFirmware};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CAP_KW: f64 = 40.0;

async fn stream(store: &SqliteStore, name: &str) -> Vec<RecordedEvent> {
    store.read_stream(name, 1, Direction::Forwards, usize::MAX).await.expect("read")
}

/// The miners' draw by their own replies (LuxOS `power`), kW.
async fn miners_kw(fleet: &Fleet) -> f64 {
    let mut total = 0.0;
    for m in &fleet.miners {
        let replies = hcp_minerapi::query(m.addr, &Request::new("power"), Duration::from_secs(2)).await.expect("reads");
        let watts = replies[0].first("POWER").and_then(|p| p["Watts"].as_f64()).expect("watts");
        total += watts / 1000.0;
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workload_at_a_site_at_its_cap_starts_once_exactly_enough_miners_sleep() {
    // Ten miners: S21 (17.5 J/TH, 3.5 kW) and S21 Pro (15 J/TH, 3.51 kW), at 10x.
    let mix = [("Antminer S21", SimFirmware::Luxos), ("Antminer S21 Pro", SimFirmware::Luxos)];
    let fleet = common::fleet(219, 10, &mix, 10.0).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    register(&store, &fleet).await;
    // One host of 8 H100 at 700 W: 5.6 kW on a site whose miners draw ~35 kW of its 40.
    let mut gpus = Vec::new();
    for n in 0..8 {
        let kind = ResourceKind::Gpu {
            model: "h100-sxm-80gb".into(),
            host: "h1".into(),
            memory_mib: 81_559,
            power_limit: Power::from_watts(700),
            uuid: Some(format!("GPU-{n}")),
        };
        register_resource(&store, &format!("gpu-h1-{n}"), kind).await;
        gpus.push(ResourceId::new(format!("gpu-h1-{n}")).expect("id"));
    }
    let sites: Repository<Site, SqliteStore> = Repository::new(Arc::clone(&store));
    let policy = SitePolicy {
        settlement_point: "HB_SOUTH".into(),
        min_dwell_seconds: 900.0,
        hysteresis_usd_mwh: 5.0,
        max_wake_kw: CAP_KW,
        gpu_usd_per_hour: 2.0,
        switch_cost_usd: 0.05,
    };
    let configure = SiteCommand::Configure { id: SITE.into(), cap_kw: CAP_KW, policy, at: at() };
    sites.execute(SITE, configure, &EventContext::new("optimization")).await.expect("site");

    let mut config = Config::load(&LoadOptions::default()).expect("defaults");
    config.execution.command_deadline_seconds = 5.0;
    let host = Host::new(Arc::clone(&store), Metrics::new(), "test");
    let token = Secret::new("power-test-enrolment-token".to_owned());
    hcp_execution::start(&host, &config, token, "127.0.0.1:0".parse().expect("addr")).await.expect("execution");
    let before = miners_kw(&fleet).await;
    assert!(before + 5.6 > CAP_KW && before < CAP_KW, "the site is near its cap: {before:.1} kW of miners");

    // Routing places an 8-GPU workload.
    let id = WorkloadId::from_uuid(uuid::Uuid::now_v7());
    let workloads: Repository<Workload, SqliteStore> = Repository::new(Arc::clone(&store));
    let spec = WorkloadSpec {
        tenant: TenantId::new("acme").expect("tenant"),
        kind: WorkloadKind::Training,
        gpu_model: GpuModel::new("h100-sxm-80gb").expect("model"),
        gpu_count: 8,
        memory_mib: 1,
        max_latency: None,
        priority: Priority::new(5).expect("priority"),
        preemptible: true,
        site: None,
        locality: Locality::Host,
        run: RunSpec::default(),
    };
    let routing = EventContext::new("routing");
    for command in [
        WorkloadCommand::Submit { id, spec, at: at() },
        WorkloadCommand::Queue { at: at() },
        WorkloadCommand::Schedule { resources: gpus.clone(), at: at() },
    ] {
        workloads.execute(&id.to_string(), command, &routing).await.expect("recorded");
    }

    // It starts only once its miners are asleep; exactly enough of them, the least efficient.
    let deadline = Instant::now() + Duration::from_secs(20);
    let starting = loop {
        let events = stream(&store, &format!("workload-{id}")).await;
        if let Some(e) = events.iter().find(|e| e.event_type == "workload.starting") {
            break e.metadata.time_unix_micros;
        }
        assert!(
            Instant::now() < deadline,
            "never started: {:?}",
            events.iter().map(|e| &e.event_type).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let curtailments = stream(&store, &format!("curtailment-{SITE}")).await;
    assert_eq!(curtailments.len(), 1, "one curtailment for the workload");
    let json = hcp_proto::descriptors::payload_to_json("curtailment.started", &curtailments[0].payload).expect("json");
    let slept: Vec<String> =
        json["miners"].as_array().expect("miners").iter().map(|m| m.as_str().expect("id").to_owned()).collect();
    let shortfall = before + 5.6 - CAP_KW;
    let exactly = (shortfall / 3.5).ceil() as usize;
    assert_eq!(slept.len(), exactly, "{shortfall:.1} kW short: {json}");
    for miner in &slept {
        let i = fleet.miners.iter().position(|m| format!("asic-{}", m.addr.ip()) == *miner).expect("ours");
        assert_eq!(fleet.miners[i].model.name, "Antminer S21", "the less efficient model sleeps first");
        let control = stream(&store, &format!("control-{miner}")).await;
        let confirmed = control.iter().find(|e| e.event_type == "miner.confirmed").expect("confirmed asleep");
        assert!(confirmed.metadata.time_unix_micros <= starting, "{miner} confirmed asleep before the GPUs started");
    }
    let after = miners_kw(&fleet).await;
    assert!(after + 5.6 <= CAP_KW, "the site under its cap: {after:.1} kW of miners + 5.6 kW of GPUs");

    // The workload stops: its curtailment is lifted and the miners mine again.
    workloads
        .execute(&id.to_string(), WorkloadCommand::Cancel { reason: "done".into(), at: at() }, &routing)
        .await
        .expect("cancel");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut woken = 0;
        for miner in &slept {
            let control = stream(&store, &format!("control-{miner}")).await;
            woken += usize::from(control.iter().filter(|e| e.event_type == "miner.confirmed").count() == 2);
        }
        if woken == slept.len() {
            break;
        }
        assert!(Instant::now() < deadline, "mining did not take the power back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let lifted = stream(&store, &format!("curtailment-{SITE}")).await;
    assert_eq!(lifted.last().map(|e| e.event_type.as_str()), Some("curtailment.lifted"));
    host.shutdown(Duration::from_secs(5)).await.expect("shutdown");
}
