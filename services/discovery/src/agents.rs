//! GPU host agents: they register their GPUs and send heartbeats with telemetry; a host
//! that falls silent for `agent_timeout` has its GPUs recorded offline, and its next
//! heartbeat (or registration) brings them back.

use crate::config::DiscoveryConfig;
use crate::inventory::Inventory;
use crate::recorder::{RecordError, Recorder};
use hcp_domain::ids::{InvalidId, RackId, ResourceId, SiteId};
use hcp_domain::resource::{Health, ResourceCommand, ResourceKind, ResourceSpec};
use hcp_domain::units::Power;
use hcp_eventstore::EventStore;
use hcp_proto::v1 as pb;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Mutex;

/// Why an agent's request was refused.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// A field is invalid.
    #[error(transparent)]
    Invalid(#[from] InvalidId),
    /// Empty or missing where required.
    #[error("{0}")]
    Missing(&'static str),
    /// Not the enrolment token.
    #[error("token: not the enrolment token agents register with")]
    Unauthenticated,
    /// The store refused.
    #[error(transparent)]
    Record(#[from] RecordError),
}

impl hcp_runtime::HasErrorCode for AgentError {
    fn code(&self) -> hcp_runtime::ErrorCode {
        match self {
            AgentError::Invalid(_) | AgentError::Missing(_) => hcp_runtime::ErrorCode::InvalidArgument,
            AgentError::Unauthenticated => hcp_runtime::ErrorCode::Unauthenticated,
            // A domain refusal (say, a GPU with 0 MiB of memory) stays a refusal: the
            // agent must not retry it forever.
            AgentError::Record(e) => e.code(),
        }
    }
}

struct Host {
    gpus: Vec<ResourceId>,
    last_seen: Instant,
    lost: bool,
}

/// The registry of agents.
pub struct Agents<S> {
    hosts: Mutex<HashMap<String, Host>>,
    recorder: Arc<Recorder<S>>,
    inventory: Arc<Inventory>,
    config: DiscoveryConfig,
}

/// The resource id of a GPU: `gpu-<uuid without NVML's GPU- prefix>`.
pub fn gpu_id(uuid: &str) -> Result<ResourceId, InvalidId> {
    let bare = uuid.strip_prefix("GPU-").unwrap_or(uuid);
    ResourceId::new(format!("gpu-{}", bare.to_ascii_lowercase()))
}

impl<S: EventStore> Agents<S> {
    /// An empty registry.
    pub fn new(recorder: Arc<Recorder<S>>, inventory: Arc<Inventory>, config: DiscoveryConfig) -> Self {
        Agents { hosts: Mutex::new(HashMap::new()), recorder, inventory, config }
    }

    /// How often agents should send heartbeats.
    pub fn heartbeat_interval(&self) -> std::time::Duration {
        self.config.heartbeat_interval
    }

    /// Registers a host's GPUs (idempotent: a re-registering host keeps its resources).
    pub async fn register(&self, req: pb::RegisterAgentRequest) -> Result<Vec<ResourceId>, AgentError> {
        if let Some(token) = &self.config.agent_token
            && !token.matches(&req.token)
        {
            tracing::warn!(host = %req.host, "registration with a wrong token refused");
            return Err(AgentError::Unauthenticated);
        }
        if req.host.is_empty() {
            return Err(AgentError::Missing("host is empty"));
        }
        if req.gpus.is_empty() {
            return Err(AgentError::Missing("no GPUs in registration"));
        }
        let site = SiteId::new(req.site)?;
        let rack = if req.rack.is_empty() { None } else { Some(RackId::new(req.rack)?) };
        let mut ids = Vec::with_capacity(req.gpus.len());
        for g in &req.gpus {
            if g.uuid.is_empty() {
                return Err(AgentError::Missing("a GPU has no UUID"));
            }
            let id = gpu_id(&g.uuid)?;
            let known = self.recorder.known(&id).or_else(|| self.inventory.state(id.as_str()));
            if known.as_ref().is_none_or(|r| r.id.is_none()) {
                let spec = ResourceSpec {
                    site: site.clone(),
                    rack: rack.clone(),
                    kind: ResourceKind::Gpu {
                        model: g.model.clone(),
                        host: req.host.clone(),
                        memory_mib: g.memory_mib,
                        power_limit: Power::from_watts(g.power_limit_w),
                        uuid: Some(g.uuid.clone()),
                    },
                };
                self.recorder
                    .execute(&id, ResourceCommand::Register { id: id.clone(), spec, at: crate::clock::now() })
                    .await?;
            } else if known.is_some_and(|r| r.health == Health::Offline) {
                let reason = format!("agent on {} registered", req.host);
                self.recorder
                    .execute(
                        &id,
                        ResourceCommand::ReportHealth { health: Health::Healthy, reason, at: crate::clock::now() },
                    )
                    .await?;
            }
            ids.push(id);
        }
        let host = Host { gpus: ids.clone(), last_seen: Instant::now(), lost: false };
        self.hosts.lock().await.insert(req.host, host);
        Ok(ids)
    }

    /// A heartbeat; `false` when the host is unknown and must register again.
    pub async fn heartbeat(&self, req: pb::HeartbeatRequest) -> Result<bool, AgentError> {
        let (gpus, was_lost) = {
            let mut hosts = self.hosts.lock().await;
            let Some(host) = hosts.get_mut(&req.host) else { return Ok(false) };
            host.last_seen = Instant::now();
            (host.gpus.clone(), std::mem::replace(&mut host.lost, false))
        };
        for r in &req.readings {
            let id = gpu_id(&r.uuid)?;
            let t = pb::Telemetry {
                observed_unix_micros: crate::clock::now().unix_micros(),
                power_w: r.power_w as f64,
                max_temp_c: r.temp_c as f64,
                utilization_pct: r.utilization_pct,
                firmware: "agent".into(),
                ..Default::default()
            };
            self.inventory.observe(id.as_str(), &req.host, t);
        }
        if was_lost {
            self.set_health(&gpus, Health::Healthy, format!("agent on {} is back", req.host)).await;
        }
        Ok(true)
    }

    /// Records the GPUs of every host silent for longer than the agent timeout offline.
    pub async fn sweep(&self) {
        let lost: Vec<(String, Vec<ResourceId>)> = {
            let mut hosts = self.hosts.lock().await;
            hosts
                .iter_mut()
                .filter(|(_, h)| !h.lost && h.last_seen.elapsed() > self.config.agent_timeout)
                .map(|(name, h)| {
                    h.lost = true;
                    (name.clone(), h.gpus.clone())
                })
                .collect()
        };
        for (name, gpus) in lost {
            let why = format!("agent on {name} silent for over {:?}", self.config.agent_timeout);
            tracing::warn!(host = %name, "{why}");
            self.set_health(&gpus, Health::Offline, why).await;
        }
    }

    async fn set_health(&self, gpus: &[ResourceId], health: Health, reason: String) {
        for id in gpus {
            let command = ResourceCommand::ReportHealth { health, reason: reason.clone(), at: crate::clock::now() };
            if let Err(e) = self.recorder.execute(id, command).await {
                tracing::warn!(error = %e, "could not record GPU health");
            }
        }
    }
}
