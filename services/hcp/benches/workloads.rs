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

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    run("sqlite", &format!("sqlite:{}", dir.path().join("events.db").display()), dir.path()).await?;
    let server = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let url = format!("{server}?namespace=benchwork{}", uuid::Uuid::new_v4().simple());
    run("jetstream", &url, dir.path()).await
}

async fn run(name: &str, url: &str, dir: &std::path::Path) -> anyhow::Result<()> {
    let mut config = Config::load(&LoadOptions::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
    config.routing.preemption_grace_seconds = 0.0;
    let store = Arc::new(AnyStore::open(url).await?);
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
    let mut submitted = Vec::with_capacity(WORKLOADS);
    for _ in 0..WORKLOADS {
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
    }
    let mut to_running = Vec::with_capacity(WORKLOADS);
    for (id, at) in &submitted {
        let events = store.read_stream(&id.stream(), 1, Direction::Forwards, usize::MAX).await?;
        let started = events.iter().find(|e| e.event_type == "workload.started").map(|e| e.metadata.time_unix_micros);
        to_running.push(Duration::from_micros(u64::try_from(started.unwrap_or(*at) - at).unwrap_or(0)));
    }
    percentiles(&format!("workloads_submit_to_running_{name}"), to_running);
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
