//! `make bench` for workloads with every service its own process, as the issue measures
//! them: `hcp serve discovery|routing|execution` and one `hcp-agent` (8 simulated H100)
//! on the machine's JetStream, 300 one-GPU workloads submitted one after another over
//! gRPC with capacity free (each cancelled once it runs; no preemption grace).
//!
//! - `workloads_apart_dispatch`: from the `workload.scheduled` append (routing's process)
//!   to the agent receiving the start (the agent's process), from the agent's journal.
//! - `workloads_apart_submit_to_running`: from the Submit call to the `workload.started`
//!   event's instant (execution's process records it when the agent reports the start).

#[path = "../../services/hcp/benches/store/report.rs"]
#[allow(dead_code)] // the bench prints percentiles only
mod report;

use hcp_e2e::Platform;
use hcp_e2e::platform::jetstream_url;
use hcp_eventstore::{AnyStore, Direction, EventStore};
use hcp_proto::v1 as pb;
use report::percentiles;
use std::time::{Duration, Instant};

const WORKLOADS: usize = 300;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let (url, server) = jetstream_url("benchapart");
    let store = AnyStore::open(&url).await.map_err(|e| anyhow::anyhow!("NATS JetStream at {server}: {e}"))?;
    let mut p = Platform::new(&url, 21351, &[("routing", "preemption_grace_seconds = 0.0")]);
    p.time_factor = 1.0;
    let _services = [p.serve("discovery"), p.serve("routing"), p.serve("execution")];
    let _agent = p.agent("bench-host", "tx-south-1", 8, "simulated", &p.token);
    p.ok(&["tenants", "create", "bench", "--nominal-gpus", "8"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while p.host("bench-host")["gpus"] != 8 {
        anyhow::ensure!(Instant::now() < deadline, "the agent's 8 GPUs did not register within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let channel = hcp_proto::client::connect(&p.addr("routing")).await?;
    let mut workloads = pb::workloads_client::WorkloadsClient::new(channel);
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
        let request = pb::SubmitWorkloadRequest { spec: Some(spec), request_id: String::new() };
        let id = workloads.submit(request).await?.into_inner().workload_id;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let get = pb::GetWorkloadRequest { workload_id: id.clone() };
            if workloads.get(get).await?.into_inner().status == "running" {
                break;
            }
            anyhow::ensure!(Instant::now() < deadline, "{id} did not run within 10 s");
            tokio::time::sleep(Duration::from_micros(500)).await;
        }
        workloads.cancel(pb::WorkloadActionRequest { workload_id: id.clone(), reason: "bench".into() }).await?;
        submitted.push((id, at));
    }
    let mut to_running = Vec::with_capacity(WORKLOADS);
    for (id, at) in &submitted {
        let events = store.read_stream(&format!("workload-{id}"), 1, Direction::Forwards, usize::MAX).await?;
        let started = events.iter().find(|e| e.event_type == "workload.started").map(|e| e.metadata.time_unix_micros);
        let started = started.ok_or_else(|| anyhow::anyhow!("{id} has no workload.started"))?;
        to_running.push(Duration::from_micros(u64::try_from(started - at).unwrap_or(0)));
    }
    percentiles("workloads_apart_submit_to_running", to_running);
    let dispatch: Vec<Duration> = p
        .journal_lines("bench-host")
        .iter()
        .filter_map(|v| v["dispatch_micros"].as_i64())
        .map(|m| Duration::from_micros(u64::try_from(m).unwrap_or(0)))
        .collect();
    anyhow::ensure!(dispatch.len() == WORKLOADS, "the agent journalled {} starts of {WORKLOADS}", dispatch.len());
    percentiles("workloads_apart_dispatch", dispatch);
    Ok(())
}
