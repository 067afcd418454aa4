//! `make bench` for workloads: submit-to-running and dispatch latency through the same
//! services `hcp up` runs (discovery, routing, execution and a simulated agent with 8
//! GPUs, capacity free: each workload is cancelled once it runs, with no grace), on the
//! embedded SQLite store and on JetStream.
//!
//! - `submit_to_running`: from the Submit call to the `workload.started` event's instant
//!   (execution records it when the agent reports the run started).
//! - `dispatch`: from the `workload.scheduled` decision to the agent receiving the start,
//!   from the agent's own journal.
//!
//! - `submit_to_running_at_cap`: the same at a site already at its cap: 40 LuxOS S21
//!   (simulated at 5x: they shed their load in ~1 s) draw all but 0.3 kW of it, so each
//!   one-GPU workload (0.7 kW) starts only once execution has put a miner to sleep; beside
//!   the physical sleep time of one miner told directly (`at_cap_physical_sleep`).
//!
//! The services share this process but talk only through the store and gRPC, as apart.

#[path = "store/report.rs"]
#[allow(dead_code)] // the bench prints percentiles only
mod report;

use hcp_agent::executor::ExecutorConfig;
use hcp_agent::runner::Runner;
use hcp_discovery::{Discovery, DiscoveryConfig};
use hcp_eventstore::{AnyStore, Direction, EventStore};
use hcp_proto::v1 as pb;
use hcp_runtime::config::{Config, LoadOptions, Secret};
use hcp_runtime::{Host, Metrics};
use report::percentiles;
use std::sync::Arc;
use std::time::Duration;

const WORKLOADS: usize = 300;
/// Workloads submitted at the capped site (each waits for a miner to sleep).
const AT_CAP: usize = 30;
/// Miners at the capped site (simulated at 5x).
const AT_CAP_MINERS: usize = 40;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    run("sqlite", &format!("sqlite:{}", dir.path().join("events.db").display()), dir.path(), None).await?;
    let server = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let url = format!("{server}?namespace=benchwork{}", uuid::Uuid::new_v4().simple());
    run("jetstream", &url, dir.path(), None).await?;
    let fleet = capped_fleet().await?;
    let url = format!("sqlite:{}", dir.path().join("capped.db").display());
    run("at_cap_sqlite", &url, dir.path(), Some(&fleet)).await
}

/// 40 LuxOS S21 at 5x on 127.251/16, and the physical sleep time of one more.
async fn capped_fleet() -> anyhow::Result<hcp_simulator::Fleet> {
    let s21 = hcp_domain::catalogue::asic_model("Antminer S21").ok_or_else(|| anyhow::anyhow!("no S21"))?;
    let mut spec = hcp_simulator::FleetSpec::uniform(1, AT_CAP_MINERS + 1, 251);
    spec.time_factor = 5.0;
    spec.http_port = None;
    spec.sites[0].mix = vec![(s21, hcp_simulator::SimFirmware::Luxos)];
    let fleet = hcp_simulator::Fleet::start(spec).await?;
    let spare = fleet.miners[AT_CAP_MINERS].addr;
    let (firmware, timeout) = (hcp_minerapi::Firmware::Luxminer, Duration::from_secs(2));
    let started = std::time::Instant::now();
    hcp_minerapi::control::command(
        spare,
        &firmware,
        &hcp_minerapi::control::Action::Sleep,
        &Default::default(),
        timeout,
    )
    .await?;
    while hcp_minerapi::control::power_state(spare, timeout).await?.0 != hcp_minerapi::control::PowerState::Asleep {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    report::figure("workloads_at_cap_physical_sleep", started.elapsed().as_secs_f64() * 1e3, "ms");
    Ok(fleet)
}

/// Registers the capped fleet's miners and sets the site's cap to their draw plus 0.3 kW.
async fn cap_the_site(store: &Arc<AnyStore>, fleet: &hcp_simulator::Fleet) -> anyhow::Result<()> {
    use hcp_domain::resource::{Resource, ResourceCommand, ResourceKind, ResourceSpec};
    use hcp_domain::site::{Site, SiteCommand, SitePolicy};
    let at = || hcp_domain::units::Timestamp::from_unix_micros(hcp_runtime::clock::now_micros());
    let context = hcp_runtime::EventContext::new("bench");
    let resources: hcp_runtime::Repository<Resource, AnyStore> = hcp_runtime::Repository::new(Arc::clone(store));
    let mut kw = 0.0;
    for m in &fleet.miners[..AT_CAP_MINERS] {
        let id = hcp_domain::ids::ResourceId::new(format!("asic-{}", m.addr.ip()))?;
        let kind = ResourceKind::AsicMiner {
            model: m.model.name.into(),
            nominal_hashrate: m.model.nominal_hashrate(),
            nominal_power: m.model.nominal_power(),
        };
        let spec = ResourceSpec { site: hcp_domain::ids::SiteId::new("tx-south-1")?, rack: None, kind };
        let register = ResourceCommand::Register { id: id.clone(), spec, at: at() };
        resources.execute(id.as_str(), register, &context).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        kw += m.model.watts as f64 / 1000.0;
    }
    let policy = SitePolicy {
        settlement_point: "HB_SOUTH".into(),
        min_dwell_seconds: 900.0,
        hysteresis_usd_mwh: 5.0,
        max_wake_kw: kw,
        gpu_usd_per_hour: 2.0,
        switch_cost_usd: 0.05,
    };
    let sites: hcp_runtime::Repository<Site, AnyStore> = hcp_runtime::Repository::new(Arc::clone(store));
    let configure = SiteCommand::Configure { id: "tx-south-1".into(), cap_kw: kw + 0.3, policy, at: at() };
    sites.execute("tx-south-1", configure, &context).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

async fn run(
    name: &str,
    url: &str,
    dir: &std::path::Path,
    capped: Option<&hcp_simulator::Fleet>,
) -> anyhow::Result<()> {
    let mut config = Config::load(&LoadOptions::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
    config.routing.preemption_grace_seconds = 0.0;
    let store = Arc::new(AnyStore::open(url).await?);
    if let Some(fleet) = capped {
        cap_the_site(&store, fleet).await?;
    }
    let host = Host::new(Arc::clone(&store), Metrics::new(), "bench");
    let token = "bench-enrolment-token-0123456789".to_owned();
    let discovery = Discovery::start(
        &host,
        DiscoveryConfig {
            grpc_addr: "127.0.0.1:0".parse()?,
            agent_token: Some(Secret::new(token.clone())),
            ..DiscoveryConfig::default()
        },
    )
    .await?;
    let (routing_addr, routing) = hcp_routing::start(&host, &config, "127.0.0.1:0".parse()?).await?;
    let (execution_addr, _) =
        hcp_execution::start(&host, &config, Secret::new(token.clone()), "127.0.0.1:0".parse()?).await?;
    let gpus = hcp_sim::gpu::SimGpuHost::new("bench-host", &hcp_domain::catalogue::GPU_MODELS[0], 8);
    let data_dir = dir.join(format!("agent-{name}"));
    let executor = ExecutorConfig {
        execution: format!("http://{execution_addr}"),
        token: token.clone(),
        host: gpus.name.clone(),
        gpus: gpus.gpus.iter().map(|g| (g.uuid.clone(), g.index)).collect(),
        data_dir: data_dir.clone(),
        runner: Runner::Simulated { time_factor: 1.0 },
    };
    let agent = hcp_agent::AgentConfig {
        discovery: format!("http://{}", discovery.grpc_addr),
        host: gpus.name.clone(),
        site: "tx-south-1".into(),
        rack: "r1".into(),
        token: token.clone(),
    };
    host.spawn("agent", async move {
        let _ = hcp_agent::run(hcp_agent::backend::Simulated(gpus), agent).await;
    });
    host.spawn("executor", async move {
        let _ = hcp_agent::executor::run(executor).await;
    });
    let channel = hcp_proto::client::connect(&format!("http://{routing_addr}")).await?;
    let mut tenants = pb::tenants_client::TenantsClient::new(channel.clone());
    let create = pb::CreateTenantRequest {
        id: "bench".into(),
        name: String::new(),
        nominal_gpus: 8,
        borrowing_limit_gpus: 0,
        weight: 1,
    };
    tenants.create(create).await?;
    let mut workloads = pb::workloads_client::WorkloadsClient::new(channel);
    while routing.board.read().gpus().count() < 8 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let samples = if capped.is_some() { AT_CAP } else { WORKLOADS };
    let mut submitted = Vec::with_capacity(samples);
    for _ in 0..samples {
        let spec = pb::WorkloadSpec {
            tenant: "bench".into(),
            kind: pb::WorkloadKind::BatchInference as i32,
            gpu_model: "H100".into(),
            gpu_count: 1,
            memory_mib: 1,
            max_run_time_seconds: 3600,
            ..pb::WorkloadSpec::default()
        };
        let at = hcp_runtime::clock::now_micros();
        let view = workloads
            .submit(pb::SubmitWorkloadRequest { spec: Some(spec), request_id: String::new() })
            .await?
            .into_inner();
        let id = hcp_domain::ids::WorkloadId::parse(&view.workload_id)?;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while routing
            .board
            .read()
            .workloads
            .get(&id)
            .is_none_or(|w| w.status != hcp_domain::workload::WorkloadStatus::Running)
        {
            anyhow::ensure!(std::time::Instant::now() < deadline, "{id} did not run within 10 s");
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        let cancel = pb::WorkloadActionRequest { workload_id: view.workload_id.clone(), reason: "bench".into() };
        workloads.cancel(cancel).await?;
        submitted.push((id, at));
        if capped.is_some() {
            // The miner it slept wakes (and is hashing again) before the next one is timed.
            tokio::time::sleep(Duration::from_millis(2500)).await;
        }
    }
    let mut to_running = Vec::with_capacity(samples);
    for (id, at) in &submitted {
        let events = store.read_stream(&id.stream(), 1, Direction::Forwards, usize::MAX).await?;
        let started = events.iter().find(|e| e.event_type == "workload.started").map(|e| e.metadata.time_unix_micros);
        to_running.push(Duration::from_micros(u64::try_from(started.unwrap_or(*at) - at).unwrap_or(0)));
    }
    percentiles(&format!("workloads_submit_to_running_{name}"), to_running);
    if capped.is_some() {
        let _ = host.shutdown(Duration::from_secs(5)).await;
        return Ok(());
    }
    let journal = std::fs::read_to_string(data_dir.join("starts.jsonl"))?;
    let dispatch: Vec<Duration> = journal
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["dispatch_micros"].as_i64())
        .map(|m| Duration::from_micros(u64::try_from(m).unwrap_or(0)))
        .collect();
    percentiles(&format!("workloads_dispatch_{name}"), dispatch);
    let _ = host.shutdown(Duration::from_secs(5)).await;
    Ok(())
}
