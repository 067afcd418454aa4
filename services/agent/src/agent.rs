//! The agent's loop: register the host's GPUs with discovery, then heartbeat with
//! readings; register again when discovery has forgotten the host (it restarted), and
//! keep retrying, with backoff, while discovery is unreachable; stop at a refusal that
//! retrying cannot change (the runtime's error-code table decides which).

use crate::backend::GpuBackend;
use hcp_proto::v1 as pb;
use hcp_proto::v1::agents_client::AgentsClient;
use std::time::Duration;
use tonic::transport::Channel;

/// Who this agent is.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// Discovery's gRPC address, e.g. `http://127.0.0.1:50051`.
    pub discovery: String,
    /// This host's name.
    pub host: String,
    /// Its site.
    pub site: String,
    /// Its rack, if known.
    pub rack: String,
    /// The enrolment token (empty: none).
    pub token: String,
}

const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Whether a failed call may succeed if repeated unchanged (`Unknown` covers broken
/// connections that tonic cannot classify).
fn retryable(code: tonic::Code) -> bool {
    code == tonic::Code::Unknown || hcp_runtime::ErrorCode::from_grpc(code).is_retryable()
}

/// Runs until the task is dropped.
pub async fn run(mut backend: impl GpuBackend, config: AgentConfig) -> anyhow::Result<()> {
    let gpus = backend.gpus()?;
    tracing::info!(host = %config.host, backend = backend.name(), gpus = gpus.len(), "found GPUs");
    let channel = Channel::from_shared(config.discovery.clone())?.connect_lazy();
    let mut client = AgentsClient::new(channel);
    let mut backoff = Duration::from_millis(100);
    loop {
        let registration = pb::RegisterAgentRequest {
            host: config.host.clone(),
            site: config.site.clone(),
            rack: config.rack.clone(),
            gpus: gpus.clone(),
            backend: backend.name().into(),
            token: config.token.clone(),
        };
        let interval = match client.register_agent(registration).await {
            Ok(reply) => {
                let reply = reply.into_inner();
                tracing::info!(host = %config.host, resources = reply.resource_ids.len(), "registered");
                backoff = Duration::from_millis(100);
                Duration::from_millis(u64::from(reply.heartbeat_interval_ms.max(100)))
            }
            // A refusal (a malformed or impossible registration) cannot succeed later;
            // only store or network trouble is worth retrying.
            Err(status) if !retryable(status.code()) => {
                anyhow::bail!("discovery refused the registration ({:?}): {}", status.code(), status.message())
            }
            Err(status) => {
                tracing::warn!(host = %config.host, error = %status, "cannot register; retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        loop {
            tokio::time::sleep(interval).await;
            let readings = match backend.readings() {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(host = %config.host, error = %e, "cannot read GPUs");
                    continue;
                }
            };
            match client.heartbeat(pb::HeartbeatRequest { host: config.host.clone(), readings }).await {
                Ok(reply) if reply.get_ref().known => {}
                Ok(_) => break,
                Err(status) => tracing::warn!(host = %config.host, error = %status, "heartbeat failed"),
            }
        }
    }
}
