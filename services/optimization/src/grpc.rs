//! The Optimization gRPC API.

use crate::service::{Optimizer, PlanError};
use hcp_eventstore::EventStore;
use hcp_proto::v1 as pb;
use hcp_proto::v1::optimization_server::Optimization;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// The service.
pub struct OptimizationService<S>(pub Arc<Optimizer<S>>);

fn status(e: PlanError) -> Status {
    match &e {
        PlanError::UnknownSite(_) | PlanError::UnknownPlan(_) => Status::not_found(e.to_string()),
        PlanError::Prices(_) | PlanError::NoDevices(_) | PlanError::Store(_) => Status::unavailable(e.to_string()),
        PlanError::Infeasible(_) => Status::failed_precondition(e.to_string()),
    }
}

#[tonic::async_trait]
impl<S: EventStore> Optimization for OptimizationService<S> {
    async fn plan(&self, request: Request<pb::PlanRequest>) -> Result<Response<pb::AllocationPlanned>, Status> {
        self.0.plan(&request.into_inner().site).await.map(Response::new).map_err(status)
    }

    async fn explain(&self, request: Request<pb::ExplainRequest>) -> Result<Response<pb::AllocationPlanned>, Status> {
        self.0.explain(&request.into_inner().plan_id).await.map(Response::new).map_err(status)
    }
}
