//! The gRPC API: the inventory (list with filters and paging, get, watch) and the agents'
//! registration and heartbeats.

use crate::agents::{AgentError, Agents};
use crate::inventory::Inventory;
use futures_util::{Stream, StreamExt};
use hcp_eventstore::EventStore;
use hcp_proto::v1 as pb;
use hcp_proto::v1::agents_server::Agents as AgentsApi;
use hcp_proto::v1::inventory_server::Inventory as InventoryApi;
use std::pin::Pin;
use std::sync::Arc;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tonic::{Request, Response, Status};

/// The inventory API.
pub struct InventoryService(pub Arc<Inventory>);

/// The agents API.
pub struct AgentsService<S>(pub Arc<Agents<S>>);

type Changes = Pin<Box<dyn Stream<Item = Result<pb::ResourceChange, Status>> + Send>>;

#[tonic::async_trait]
impl InventoryApi for InventoryService {
    async fn list_resources(
        &self,
        request: Request<pb::ListResourcesRequest>,
    ) -> Result<Response<pb::ListResourcesResponse>, Status> {
        let req = request.into_inner();
        self.0.list(&req).map(Response::new).map_err(|e| Status::invalid_argument(e.to_string()))
    }

    async fn get_resource(&self, request: Request<pb::GetResourceRequest>) -> Result<Response<pb::Resource>, Status> {
        let id = request.into_inner().id;
        self.0.get(&id).map(Response::new).ok_or_else(|| Status::not_found(format!("no resource {id:?}")))
    }

    async fn samples(&self, request: Request<pb::SamplesRequest>) -> Result<Response<pb::SamplesResponse>, Status> {
        let r = request.into_inner();
        if self.0.get(&r.resource_id).is_none() {
            return Err(Status::not_found(format!("resource_id: no resource {:?}", r.resource_id)));
        }
        let Some(table) = self.0.samples() else {
            return Err(Status::failed_precondition("raw telemetry is not kept by this discovery"));
        };
        let samples =
            tokio::task::spawn_blocking(move || table.read(&r.resource_id, r.since_unix_micros, r.limit as usize))
                .await
                .map_err(|e| Status::internal(e.to_string()))?
                .map_err(|e| Status::internal(format!("reading raw telemetry: {e}")))?;
        Ok(Response::new(pb::SamplesResponse { samples }))
    }

    type WatchResourcesStream = Changes;

    async fn watch_resources(&self, request: Request<pb::WatchResourcesRequest>) -> Result<Response<Changes>, Status> {
        let site = request.into_inner().site;
        let changes = BroadcastStream::new(self.0.watch()).filter_map(move |item| {
            let site = site.clone();
            async move {
                match item {
                    Ok(change) => {
                        let at_site = site.is_empty()
                            || change.resource.as_ref().and_then(|r| r.spec.as_ref()).is_some_and(|s| s.site == site);
                        at_site.then_some(Ok(change))
                    }
                    Err(BroadcastStreamRecvError::Lagged(n)) => Some(Err(Status::data_loss(format!(
                        "watcher fell {n} changes behind; list again and re-watch"
                    )))),
                }
            }
        });
        Ok(Response::new(Box::pin(changes)))
    }
}

fn agent_status(e: AgentError) -> Status {
    hcp_runtime::status(&e)
}

#[tonic::async_trait]
impl<S: EventStore> AgentsApi for AgentsService<S> {
    async fn register_agent(
        &self,
        request: Request<pb::RegisterAgentRequest>,
    ) -> Result<Response<pb::RegisterAgentResponse>, Status> {
        let ids = self.0.register(request.into_inner()).await.map_err(agent_status)?;
        Ok(Response::new(pb::RegisterAgentResponse {
            resource_ids: ids.iter().map(|i| i.as_str().to_owned()).collect(),
            heartbeat_interval_ms: self.0.heartbeat_interval().as_millis() as u32,
        }))
    }

    async fn heartbeat(
        &self,
        request: Request<pb::HeartbeatRequest>,
    ) -> Result<Response<pb::HeartbeatResponse>, Status> {
        let known = self.0.heartbeat(request.into_inner()).await.map_err(agent_status)?;
        Ok(Response::new(pb::HeartbeatResponse { known }))
    }
}
