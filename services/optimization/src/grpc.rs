//! The Optimization gRPC API.

use crate::service::Optimizer;
use hcp_eventstore::EventStore;
use hcp_proto::v1 as pb;
use hcp_proto::v1::optimization_server::Optimization;
use hcp_runtime::grpc::request_context;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// The service.
pub struct OptimizationService<S>(pub Arc<Optimizer<S>>);

#[tonic::async_trait]
impl<S: EventStore> Optimization for OptimizationService<S> {
    async fn plan(&self, request: Request<pb::PlanRequest>) -> Result<Response<pb::AllocationPlanned>, Status> {
        let context = request_context("optimization", &request);
        let site = request.into_inner().site;
        self.0.plan(&site, &context).await.map(Response::new).map_err(|e| hcp_runtime::status(&e))
    }

    async fn set_site_cap(&self, request: Request<pb::SetSiteCapRequest>) -> Result<Response<pb::SiteView>, Status> {
        let context = request_context("optimization", &request);
        let r = request.into_inner();
        let site = self.0.set_cap(&r.site, r.cap_kw, &r.reason, &context).await.map_err(|e| hcp_runtime::status(&e))?;
        Ok(Response::new(hcp_domain::codec::site_to_pb(&site)))
    }

    async fn explain(&self, request: Request<pb::ExplainRequest>) -> Result<Response<pb::AllocationPlanned>, Status> {
        self.0.explain(&request.into_inner().plan_id).await.map(Response::new).map_err(|e| hcp_runtime::status(&e))
    }

    async fn list_sites(
        &self,
        _request: Request<pb::ListSitesRequest>,
    ) -> Result<Response<pb::ListSitesResponse>, Status> {
        let sites = self.0.site_statuses().await.map_err(|e| hcp_runtime::status(&e))?;
        Ok(Response::new(pb::ListSitesResponse { sites }))
    }

    async fn list_plans(
        &self,
        request: Request<pb::ListPlansRequest>,
    ) -> Result<Response<pb::ListPlansResponse>, Status> {
        let r = request.into_inner();
        self.0
            .plans_page(&r.site, r.page_size, &r.page_token)
            .await
            .map(Response::new)
            .map_err(|e| hcp_runtime::status(&e))
    }
}
