//! An agent against a real discovery service over gRPC: registration, heartbeats, loss
//! and return.

use hcp_agent::backend::{BackendError, GpuBackend, Simulated};
use hcp_agent::{AgentConfig, run};
use hcp_discovery::{Discovery, DiscoveryConfig};
use hcp_domain::catalogue::GPU_MODELS;
use hcp_domain::resource::Health;
use hcp_eventstore::sqlite::SqliteStore;
use hcp_proto::v1 as pb;
use hcp_runtime::{Host, Metrics};
use hcp_sim::gpu::SimGpuHost;
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn eventually(what: &str, within: Duration, check: impl Fn() -> bool) {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("not within {within:?}: {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_agent_turns_its_gpus_offline_and_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    let config = DiscoveryConfig {
        grpc_addr: "127.0.0.1:0".parse().expect("addr"),
        heartbeat_interval: Duration::from_millis(100),
        agent_timeout: Duration::from_millis(500),
        ..DiscoveryConfig::default()
    };
    let runtime = Host::new(store, Metrics::new(), "test");
    let discovery = Discovery::start(&runtime, config).await.expect("discovery");
    let agent_config = AgentConfig {
        discovery: format!("http://{}", discovery.grpc_addr),
        host: "gpu-host-01".into(),
        site: "tx-south-1".into(),
        rack: "g1".into(),
        token: String::new(),
    };
    let host = || Simulated(SimGpuHost::new("gpu-host-01", &GPU_MODELS[0], 8));
    let agent = tokio::spawn(run(host(), agent_config.clone()));

    let inv = Arc::clone(&discovery.inventory);
    let gpus =
        |h: Health| inv.snapshot().iter().filter(|(id, e)| id.starts_with("gpu-") && e.resource.health == h).count();
    eventually("8 GPUs registered healthy", Duration::from_secs(5), || gpus(Health::Healthy) == 8).await;
    eventually("heartbeats carry telemetry", Duration::from_secs(2), || {
        inv.snapshot().iter().all(|(_, e)| e.telemetry.as_ref().is_some_and(|t| t.power_w > 0.0))
    })
    .await;

    agent.abort();
    let lost = Instant::now();
    eventually("a silent agent's GPUs go offline", Duration::from_secs(3), || gpus(Health::Offline) == 8).await;
    assert!(lost.elapsed() >= Duration::from_millis(300), "not before the agent timeout");

    let agent = tokio::spawn(run(host(), agent_config));
    eventually("a returning agent's GPUs are healthy", Duration::from_secs(5), || gpus(Health::Healthy) == 8).await;
    assert_eq!(inv.len(), 8, "the same GPUs, not new ones");
    agent.abort();
}

/// A host whose one GPU reports 0 MiB of memory: a registration the domain refuses.
struct Broken;

impl GpuBackend for Broken {
    fn name(&self) -> &'static str {
        "broken"
    }
    fn gpus(&mut self) -> Result<Vec<pb::AgentGpu>, BackendError> {
        let gpu = pb::AgentGpu {
            index: 0,
            uuid: "GPU-00000000-0000-0000-0000-000000000001".into(),
            model: GPU_MODELS[0].name.into(),
            memory_mib: 0,
            power_limit_w: 700,
        };
        Ok(vec![gpu])
    }
    fn readings(&mut self) -> Result<Vec<pb::GpuReading>, BackendError> {
        Ok(Vec::new())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_registration_stops_the_agent_instead_of_retrying() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    let config = DiscoveryConfig { grpc_addr: "127.0.0.1:0".parse().expect("addr"), ..DiscoveryConfig::default() };
    let runtime = Host::new(store, Metrics::new(), "test");
    let discovery = Discovery::start(&runtime, config).await.expect("discovery");
    let agent = AgentConfig {
        discovery: format!("http://{}", discovery.grpc_addr),
        host: "gpu-host-09".into(),
        site: "tx-south-1".into(),
        rack: String::new(),
        token: String::new(),
    };
    let ended = tokio::time::timeout(Duration::from_secs(5), run(Broken, agent)).await.expect("it gives up at once");
    let error = ended.expect_err("refused").to_string();
    assert!(error.contains("InvalidArgument") && error.contains("memory"), "{error}");
}
