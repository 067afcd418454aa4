//! The Workloads, Tenants and Hosts gRPC APIs.

use crate::board::Cordon;
use crate::routing::{Routing, RoutingError};
use hcp_domain::codec::{kind_from_pb, kind_to_pb};
use hcp_domain::tenant::{Quota, Tenant, TenantCommand};
use hcp_domain::units::Timestamp;
use hcp_domain::workload::{Workload, WorkloadCommand, WorkloadStatus};
use hcp_eventstore::{Direction, EventStore};
use hcp_proto::v1 as pb;
use hcp_runtime::grpc::request_context;
use hcp_runtime::status;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// The three services over one [`Routing`].
pub struct RoutingService<S>(pub Arc<Routing<S>>);

impl<S> Clone for RoutingService<S> {
    fn clone(&self) -> Self {
        RoutingService(Arc::clone(&self.0))
    }
}

fn at() -> Timestamp {
    Timestamp::from_unix_micros(hcp_runtime::clock::now_micros())
}

fn reason_or(reason: String, default: &str) -> String {
    if reason.trim().is_empty() { default.to_owned() } else { reason }
}

/// A workload's view, with its pending reason when it waits.
pub fn view<S>(routing: &Routing<S>, w: &Workload) -> pb::WorkloadView {
    let id = w.id.map(|i| i.to_string()).unwrap_or_default();
    pb::WorkloadView { pending: Some(pending(routing, &id, w)), ..hcp_domain::codec::workload_to_pb(w) }
}

fn pending<S>(routing: &Routing<S>, id: &str, w: &Workload) -> pb::PendingInfo {
    let board = routing.board.read();
    let p = (w.status == WorkloadStatus::Queued).then(|| board.pending.get(id)).flatten();
    pb::PendingInfo {
        workload_id: id.to_owned(),
        reason: p.map(|p| p.reason.as_str().to_owned()).unwrap_or_default(),
        message: p.map_or_else(
            || {
                if w.status == WorkloadStatus::Queued {
                    "waiting for the next scheduling cycle".to_owned()
                } else {
                    String::new()
                }
            },
            |p| p.message.to_string(),
        ),
        position: p.map_or(0, |p| p.position as u32),
        status: w.status.to_string(),
    }
}

fn tenant_view<S>(routing: &Routing<S>, t: &Tenant) -> pb::TenantView {
    let id = t.id.as_ref().map(|i| i.as_str().to_owned()).unwrap_or_default();
    pb::TenantView {
        used_gpus: routing.board.read().used_gpus(&id),
        id,
        name: t.name.clone(),
        nominal_gpus: t.quota.nominal_gpus,
        borrowing_limit_gpus: t.quota.borrowing_limit_gpus,
        weight: t.quota.weight,
        classes: t.classes.iter().map(|c| kind_to_pb((*c).into()) as i32).collect(),
    }
}

fn err(e: RoutingError) -> Status {
    status(&e)
}

#[tonic::async_trait]
impl<S: EventStore> pb::workloads_server::Workloads for RoutingService<S> {
    async fn submit(&self, request: Request<pb::SubmitWorkloadRequest>) -> Result<Response<pb::WorkloadView>, Status> {
        let context = request_context("routing", &request);
        let w = self.0.submit(request.into_inner(), &context).await.map_err(err)?;
        Ok(Response::new(view(&self.0, &w)))
    }

    async fn get(&self, request: Request<pb::GetWorkloadRequest>) -> Result<Response<pb::WorkloadView>, Status> {
        let w = self.0.get(&request.into_inner().workload_id).await.map_err(err)?;
        Ok(Response::new(view(&self.0, &w)))
    }

    async fn list(
        &self,
        request: Request<pb::ListWorkloadsRequest>,
    ) -> Result<Response<pb::ListWorkloadsResponse>, Status> {
        let r = request.into_inner();
        let size = match r.page_size {
            0 => 100,
            n => n.min(1000) as usize,
        };
        let after = match r.page_token.as_str() {
            "" => None,
            token => Some(parse_token(token).ok_or_else(|| {
                Status::invalid_argument(format!("page_token: {token:?} is not a token this API gave"))
            })?),
        };
        let mut rows: Vec<Workload> = {
            let board = self.0.board.read();
            board
                .workloads
                .values()
                .filter(|w| w.spec.as_ref().is_some_and(|s| r.tenant.is_empty() || s.tenant.as_str() == r.tenant))
                .filter(|w| r.status.is_empty() || w.status.to_string() == r.status)
                .filter(|w| after.is_none_or(|a| key(w) > a))
                .cloned()
                .collect()
        };
        rows.sort_by_key(key);
        let more = rows.len() > size;
        rows.truncate(size);
        let next_page_token = if more { rows.last().map(|w| token(key(w))).unwrap_or_default() } else { String::new() };
        let workloads = rows.iter().map(|w| view(&self.0, w)).collect();
        Ok(Response::new(pb::ListWorkloadsResponse { workloads, next_page_token }))
    }

    async fn pause(&self, request: Request<pb::WorkloadActionRequest>) -> Result<Response<pb::WorkloadView>, Status> {
        let context = request_context("routing", &request);
        let r = request.into_inner();
        let command = WorkloadCommand::Pause { reason: reason_or(r.reason, "paused by its owner"), at: at() };
        let w = self.0.act(&r.workload_id, command, &context).await.map_err(err)?;
        Ok(Response::new(view(&self.0, &w)))
    }

    async fn resume(&self, request: Request<pb::WorkloadActionRequest>) -> Result<Response<pb::WorkloadView>, Status> {
        let context = request_context("routing", &request);
        let r = request.into_inner();
        let w = self.0.act(&r.workload_id, WorkloadCommand::Resume { at: at() }, &context).await.map_err(err)?;
        Ok(Response::new(view(&self.0, &w)))
    }

    async fn cancel(&self, request: Request<pb::WorkloadActionRequest>) -> Result<Response<pb::WorkloadView>, Status> {
        let context = request_context("routing", &request);
        let r = request.into_inner();
        let command = WorkloadCommand::Cancel { reason: reason_or(r.reason, "cancelled by its owner"), at: at() };
        let w = self.0.act(&r.workload_id, command, &context).await.map_err(err)?;
        Ok(Response::new(view(&self.0, &w)))
    }

    async fn history(&self, request: Request<pb::GetWorkloadRequest>) -> Result<Response<pb::WorkloadHistory>, Status> {
        let w = self.0.get(&request.into_inner().workload_id).await.map_err(err)?;
        let stream = w.id.map(|i| i.stream()).unwrap_or_default();
        let stored =
            self.0.store.read_stream(&stream, 1, Direction::Forwards, usize::MAX).await.map_err(|e| status(&e))?;
        let events = stored.iter().map(hcp_runtime::render::history_entry).collect();
        Ok(Response::new(pb::WorkloadHistory { events }))
    }

    async fn why(&self, request: Request<pb::GetWorkloadRequest>) -> Result<Response<pb::PendingInfo>, Status> {
        let w = self.0.get(&request.into_inner().workload_id).await.map_err(err)?;
        Ok(Response::new(pending(&self.0, &w.id.map(|i| i.to_string()).unwrap_or_default(), &w)))
    }
}

fn key(w: &Workload) -> (i64, uuid::Uuid) {
    (w.submitted_at.unix_micros(), w.id.map(|i| i.uuid()).unwrap_or_default())
}

fn token((micros, id): (i64, uuid::Uuid)) -> String {
    format!("{micros}.{id}")
}

fn parse_token(token: &str) -> Option<(i64, uuid::Uuid)> {
    let (micros, id) = token.split_once('.')?;
    Some((micros.parse().ok()?, uuid::Uuid::parse_str(id).ok()?))
}

fn quota(nominal_gpus: u32, borrowing_limit_gpus: u32, weight: u32) -> Quota {
    Quota { nominal_gpus, borrowing_limit_gpus, weight: if weight == 0 { 1 } else { weight } }
}

#[tonic::async_trait]
impl<S: EventStore> pb::tenants_server::Tenants for RoutingService<S> {
    async fn create(&self, request: Request<pb::CreateTenantRequest>) -> Result<Response<pb::TenantView>, Status> {
        let context = request_context("routing", &request);
        let r = request.into_inner();
        let q = quota(r.nominal_gpus, r.borrowing_limit_gpus, r.weight);
        let t = self.0.create_tenant(&r.id, &r.name, q, &context).await.map_err(err)?;
        Ok(Response::new(tenant_view(&self.0, &t)))
    }

    async fn set_quota(&self, request: Request<pb::SetTenantQuotaRequest>) -> Result<Response<pb::TenantView>, Status> {
        let context = request_context("routing", &request);
        let r = request.into_inner();
        let command =
            TenantCommand::SetQuota { quota: quota(r.nominal_gpus, r.borrowing_limit_gpus, r.weight), at: at() };
        let t = self.0.tenant(&r.id, command, &context).await.map_err(err)?;
        Ok(Response::new(tenant_view(&self.0, &t)))
    }

    async fn grant(&self, request: Request<pb::GrantClassRequest>) -> Result<Response<pb::TenantView>, Status> {
        let context = request_context("routing", &request);
        let r = request.into_inner();
        let class = kind_from_pb("grant", "kind", r.kind).map_err(|e| Status::invalid_argument(e.to_string()))?;
        let t = self.0.tenant(&r.id, TenantCommand::Grant { class, at: at() }, &context).await.map_err(err)?;
        Ok(Response::new(tenant_view(&self.0, &t)))
    }

    async fn revoke(&self, request: Request<pb::GrantClassRequest>) -> Result<Response<pb::TenantView>, Status> {
        let context = request_context("routing", &request);
        let r = request.into_inner();
        let class = kind_from_pb("revoke", "kind", r.kind).map_err(|e| Status::invalid_argument(e.to_string()))?;
        let t = self.0.tenant(&r.id, TenantCommand::Revoke { class, at: at() }, &context).await.map_err(err)?;
        Ok(Response::new(tenant_view(&self.0, &t)))
    }

    async fn list(
        &self,
        _request: Request<pb::ListTenantsRequest>,
    ) -> Result<Response<pb::ListTenantsResponse>, Status> {
        let tenants: Vec<Tenant> = self.0.board.read().tenants.values().filter(|t| t.id.is_some()).cloned().collect();
        Ok(Response::new(pb::ListTenantsResponse {
            tenants: tenants.iter().map(|t| tenant_view(&self.0, t)).collect(),
        }))
    }
}

impl<S: EventStore> RoutingService<S> {
    async fn host_action(
        &self,
        request: Request<pb::HostRequest>,
        cordon: Option<bool>,
    ) -> Result<Response<pb::HostView>, Status> {
        let context = request_context("routing", &request);
        let r = request.into_inner();
        let cordon = cordon.map(|drain| Cordon {
            reason: reason_or(
                r.reason.clone(),
                if drain { "drained by an operator" } else { "cordoned by an operator" },
            ),
            drain,
        });
        self.0.cordon(&r.host, cordon, &context).await.map_err(err)?;
        hosts(&self.0)
            .into_iter()
            .find(|h| h.host == r.host)
            .map(Response::new)
            .ok_or_else(|| Status::not_found(r.host))
    }
}

fn hosts<S>(routing: &Routing<S>) -> Vec<pb::HostView> {
    let board = routing.board.read();
    let mut by_host: std::collections::BTreeMap<String, pb::HostView> = std::collections::BTreeMap::new();
    let holder: std::collections::HashMap<&str, String> = board
        .workloads
        .values()
        .filter(|w| w.status.holds_resources())
        .flat_map(|w| w.resources.iter().map(move |r| (r.as_str(), w.id.map(|i| i.to_string()).unwrap_or_default())))
        .collect();
    for g in board.gpus() {
        let h = by_host.entry(g.host.clone()).or_insert_with(|| pb::HostView {
            host: g.host.clone(),
            site: g.site.clone(),
            rack: g.rack.clone(),
            state: match board.cordons.get(&g.host) {
                Some(c) if c.drain => "draining",
                Some(_) => "cordoned",
                None => "schedulable",
            }
            .to_owned(),
            ..pb::HostView::default()
        });
        h.gpus += 1;
        if let Some(w) = holder.get(g.id.as_str()) {
            h.busy_gpus += 1;
            if !h.workloads.contains(w) {
                h.workloads.push(w.clone());
            }
        }
    }
    by_host.into_values().collect()
}

#[tonic::async_trait]
impl<S: EventStore> pb::hosts_server::Hosts for RoutingService<S> {
    async fn cordon(&self, request: Request<pb::HostRequest>) -> Result<Response<pb::HostView>, Status> {
        self.host_action(request, Some(false)).await
    }

    async fn drain(&self, request: Request<pb::HostRequest>) -> Result<Response<pb::HostView>, Status> {
        self.host_action(request, Some(true)).await
    }

    async fn uncordon(&self, request: Request<pb::HostRequest>) -> Result<Response<pb::HostView>, Status> {
        self.host_action(request, None).await
    }

    async fn list(&self, _request: Request<pb::ListHostsRequest>) -> Result<Response<pb::ListHostsResponse>, Status> {
        Ok(Response::new(pb::ListHostsResponse { hosts: hosts(&self.0) }))
    }
}
