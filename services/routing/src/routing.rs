//! Routing's operations: submit (admission, then `workload.submitted` and
//! `workload.queued`), the customer's pause / resume / cancel, tenants and cordons. Each
//! goes through the runtime's repository (or, for the `hosts` stream, a plain append)
//! and is applied to the board at once, so the scheduler's next cycle sees it.

use crate::admission::{self, Refusal};
use crate::board::{Board, Cordon};
use crate::view::{HOST_CORDONED, HOST_UNCORDONED, HOSTS_STREAM};
use hcp_domain::ids::{TenantId, WorkloadId};
use hcp_domain::tenant::{Quota, Tenant, TenantCommand};
use hcp_domain::units::Timestamp;
use hcp_domain::workload::{Workload, WorkloadCommand, WorkloadError};
use hcp_eventstore::{EventStore, ExpectedVersion};
use hcp_proto::v1 as pb;
use hcp_runtime::repository::Executed;
use hcp_runtime::{ErrorCode, EventContext, HasErrorCode, Repository, RepositoryError};
use prost::Message;
use std::sync::Arc;

/// Why a request was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum RoutingError {
    /// Admission refused the spec.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The workload refused the command.
    #[error(transparent)]
    Workload(#[from] RepositoryError<WorkloadError>),
    /// The tenant refused the command.
    #[error(transparent)]
    Tenant(#[from] RepositoryError<hcp_domain::tenant::TenantError>),
    /// A field is wrong.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// No such workload, tenant or host.
    #[error("{0}")]
    NotFound(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] hcp_eventstore::StoreError),
}

impl HasErrorCode for RoutingError {
    fn code(&self) -> ErrorCode {
        match self {
            RoutingError::Refused(e) => e.code(),
            RoutingError::Workload(RepositoryError::Refused { source: WorkloadError::NotFound, .. }) => {
                ErrorCode::NotFound
            }
            RoutingError::Workload(e) => e.code(),
            RoutingError::Tenant(e) => e.code(),
            RoutingError::Invalid { .. } => ErrorCode::InvalidArgument,
            RoutingError::NotFound(_) => ErrorCode::NotFound,
            RoutingError::Store(e) => e.code(),
        }
    }
}

/// The routing service's state.
pub struct Routing<S> {
    /// The store.
    pub store: Arc<S>,
    /// Its view of the log.
    pub board: Arc<Board>,
    /// Workloads.
    pub workloads: Repository<Workload, S>,
    /// Tenants.
    pub tenants: Repository<Tenant, S>,
    /// Times a workload may be queued.
    pub max_attempts: u32,
    /// Aging, µs.
    pub aging_micros: i64,
}

fn now() -> Timestamp {
    Timestamp::from_unix_micros(hcp_runtime::clock::now_micros())
}

fn parse_id(id: &str) -> Result<WorkloadId, RoutingError> {
    WorkloadId::parse(id).map_err(|e| RoutingError::Invalid { field: "workload_id", reason: e.to_string() })
}

impl<S: EventStore> Routing<S> {
    /// Executes `command` on workload `id` and applies what it recorded to the board.
    pub async fn execute(
        &self,
        id: WorkloadId,
        command: WorkloadCommand,
        context: &EventContext,
    ) -> Result<Executed<Workload>, RepositoryError<WorkloadError>> {
        let done = self.workloads.execute(&id.to_string(), command, context).await?;
        for (version, e) in done.versioned() {
            self.board.apply_workload(id, e, version);
        }
        Ok(done)
    }

    /// Executes a scheduler's command; a refusal (the workload moved on) is logged.
    pub async fn record(&self, id: WorkloadId, command: WorkloadCommand, context: &EventContext) {
        let kind = command.kind();
        match self.execute(id, command, context).await {
            Ok(_) => {}
            Err(RepositoryError::Refused { source, .. }) => {
                tracing::debug!(workload = %id, %kind, error = %source, "decision no longer applies");
            }
            Err(e) => tracing::warn!(workload = %id, %kind, error = %e, "cannot record the decision"),
        }
    }

    /// Admits and queues a workload; a retried submit with the same key and spec answers
    /// the workload its first try recorded.
    pub async fn submit(
        &self,
        request: pb::SubmitWorkloadRequest,
        context: &EventContext,
    ) -> Result<Workload, RoutingError> {
        let key = request.request_id.clone();
        let (id, spec) = admission::admit(&self.board.read(), request)?;
        let context = context.clone().with_tenant(spec.tenant.as_str());
        let submitted =
            match self.execute(id, WorkloadCommand::Submit { id, spec: spec.clone(), at: now() }, &context).await {
                Ok(done) => done.state,
                Err(RepositoryError::Refused { source: WorkloadError::AlreadyExists(_), .. }) => {
                    let (existing, _) = self.workloads.load(&id.to_string()).await?;
                    if existing.spec.as_ref() != Some(&spec) {
                        return Err(Refusal::KeyReused(key).into());
                    }
                    return Ok(existing);
                }
                Err(e) => return Err(e.into()),
            };
        // The scheduler queues a submitted workload too, should this process stop here.
        match self.execute(id, WorkloadCommand::Queue { at: now() }, &context).await {
            Ok(done) => Ok(done.state),
            Err(RepositoryError::Refused { .. }) => Ok(submitted),
            Err(e) => Err(e.into()),
        }
    }

    /// The workload as the board has it, else from its stream.
    pub async fn get(&self, id: &str) -> Result<Workload, RoutingError> {
        let id = parse_id(id)?;
        if let Some(w) = self.board.read().workloads.get(&id) {
            return Ok(w.clone());
        }
        let (w, version) = self.workloads.load(&id.to_string()).await?;
        if version == 0 {
            return Err(RoutingError::NotFound(format!("no workload {id}")));
        }
        Ok(w)
    }

    /// Pauses, resumes or cancels a workload for its customer.
    pub async fn act(
        &self,
        id: &str,
        command: WorkloadCommand,
        context: &EventContext,
    ) -> Result<Workload, RoutingError> {
        let id = parse_id(id)?;
        Ok(self.execute(id, command, context).await?.state)
    }

    /// Runs a tenant command.
    pub async fn tenant(
        &self,
        id: &str,
        command: TenantCommand,
        context: &EventContext,
    ) -> Result<Tenant, RoutingError> {
        TenantId::new(id).map_err(|e| RoutingError::Invalid { field: "id", reason: e.to_string() })?;
        let done = self.tenants.execute(id, command, context).await?;
        for (version, e) in done.versioned() {
            self.board.apply_tenant(id, e, version);
        }
        Ok(done.state)
    }

    /// Creates a tenant.
    pub async fn create_tenant(
        &self,
        id: &str,
        name: &str,
        quota: Quota,
        context: &EventContext,
    ) -> Result<Tenant, RoutingError> {
        let tenant_id = TenantId::new(id).map_err(|e| RoutingError::Invalid { field: "id", reason: e.to_string() })?;
        let name = if name.is_empty() { id.to_owned() } else { name.to_owned() };
        self.tenant(id, TenantCommand::Create { id: tenant_id, name, quota, at: now() }, context).await
    }

    /// Cordons (`Some`) or uncordons (`None`) a host the fleet has.
    pub async fn cordon(&self, host: &str, cordon: Option<Cordon>, context: &EventContext) -> Result<(), RoutingError> {
        if !self.board.read().gpus().any(|g| g.host == host) {
            return Err(RoutingError::NotFound(format!("no GPU host {host:?} in the fleet")));
        }
        let (event_type, payload) = match &cordon {
            Some(c) => (
                HOST_CORDONED,
                pb::HostCordoned { host: host.to_owned(), reason: c.reason.clone(), drain: c.drain }.encode_to_vec(),
            ),
            None => (HOST_UNCORDONED, pb::HostUncordoned { host: host.to_owned() }.encode_to_vec()),
        };
        let event = context.event(0, event_type, payload, hcp_runtime::clock::now_micros());
        let appended = self.store.append(HOSTS_STREAM, ExpectedVersion::Any, vec![event]).await?;
        self.board.apply_cordon(host, cordon, appended.version);
        Ok(())
    }
}
