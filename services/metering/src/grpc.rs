//! The Metering gRPC API over the ledger.

use crate::ledger::Ledger;
use crate::ratecards;
use hcp_domain::units::Timestamp;
use hcp_eventstore::EventStore;
use hcp_proto::v1 as pb;
use hcp_proto::v1::metering_server::Metering;
use hcp_runtime::grpc::request_context;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// The service.
pub struct MeteringService<S>(pub Arc<Ledger<S>>);

fn now() -> Timestamp {
    Timestamp::from_unix_micros(hcp_runtime::clock::now_micros())
}

fn tenant(name: &str) -> Result<&str, Status> {
    if name.trim().is_empty() {
        return Err(Status::invalid_argument("tenant: required"));
    }
    Ok(name)
}

fn status(e: &impl hcp_runtime::HasErrorCode) -> Status {
    hcp_runtime::status(e)
}

impl<S: EventStore> MeteringService<S> {
    async fn card_view(&self, tenant: &str) -> Result<pb::RateCardView, Status> {
        let (card, version, custom) =
            ratecards::load(self.0.store().as_ref(), self.0.config(), tenant).await.map_err(|e| status(&e))?;
        Ok(pb::RateCardView { tenant: tenant.to_owned(), card: Some(ratecards::to_pb(&card)), custom, version })
    }
}

#[tonic::async_trait]
impl<S: EventStore> Metering for MeteringService<S> {
    async fn get_usage(&self, request: Request<pb::UsageRequest>) -> Result<Response<pb::UsageResponse>, Status> {
        let r = request.into_inner();
        tenant(&r.tenant)?;
        self.0.usage_rows(&r).await.map(Response::new).map_err(|e| status(&e))
    }

    async fn list_usage_records(
        &self,
        request: Request<pb::ListUsageRecordsRequest>,
    ) -> Result<Response<pb::ListUsageRecordsResponse>, Status> {
        let r = request.into_inner();
        let records = self.0.usage_records(tenant(&r.tenant)?, &r.workload_id, r.limit);
        Ok(Response::new(pb::ListUsageRecordsResponse { records }))
    }

    async fn amend_usage(
        &self,
        request: Request<pb::AmendUsageRequest>,
    ) -> Result<Response<pb::UsageRecordView>, Status> {
        let context = request_context("metering", &request);
        let r = request.into_inner();
        tenant(&r.tenant)?;
        self.0.amend(&r, &context).await.map(Response::new).map_err(|e| status(&e))
    }

    async fn preview_invoice(
        &self,
        request: Request<pb::PreviewInvoiceRequest>,
    ) -> Result<Response<pb::InvoiceView>, Status> {
        let r = request.into_inner();
        let invoice = self.0.preview(tenant(&r.tenant)?, now()).await.map_err(|e| status(&e))?;
        Ok(Response::new(pb::InvoiceView { invoice: Some(invoice), status: "preview".into() }))
    }

    async fn list_invoices(
        &self,
        request: Request<pb::ListInvoicesRequest>,
    ) -> Result<Response<pb::ListInvoicesResponse>, Status> {
        let r = request.into_inner();
        let mut invoices = self.0.invoices(tenant(&r.tenant)?).await.map_err(|e| status(&e))?;
        invoices.reverse();
        Ok(Response::new(pb::ListInvoicesResponse { invoices }))
    }

    async fn issue_invoices(
        &self,
        _request: Request<pb::IssueInvoicesRequest>,
    ) -> Result<Response<pb::IssueInvoicesResponse>, Status> {
        let round = self.0.issue_due(now()).await.map_err(|e| status(&e))?;
        let failed = round
            .failed
            .iter()
            .map(|(tenant, e)| pb::InvoicingFailure { tenant: tenant.clone(), error: e.to_string() })
            .collect();
        Ok(Response::new(pb::IssueInvoicesResponse { issued: round.issued, failed }))
    }

    async fn get_rate_card(
        &self,
        request: Request<pb::GetRateCardRequest>,
    ) -> Result<Response<pb::RateCardView>, Status> {
        let r = request.into_inner();
        self.card_view(tenant(&r.tenant)?).await.map(Response::new)
    }

    async fn set_rate_card(
        &self,
        request: Request<pb::SetRateCardRequest>,
    ) -> Result<Response<pb::RateCardView>, Status> {
        let context = request_context("metering", &request);
        let r = request.into_inner();
        let tenant = tenant(&r.tenant)?;
        let card = r.card.ok_or_else(|| Status::invalid_argument("card: required"))?;
        let context = context.with_tenant(tenant);
        ratecards::set(self.0.store().as_ref(), tenant, &card, &context).await.map_err(|e| status(&e))?;
        self.card_view(tenant).await.map(Response::new)
    }

    async fn estimate(&self, request: Request<pb::EstimateRequest>) -> Result<Response<pb::EstimateResponse>, Status> {
        let r = request.into_inner();
        let tenant = tenant(&r.tenant)?.to_owned();
        let shape = crate::shape::of(&tenant, r).map_err(|e| status(&e))?;
        self.0.estimate(&tenant, &shape, now()).await.map(Response::new).map_err(|e| status(&e))
    }

    async fn set_budget(&self, request: Request<pb::SetBudgetRequest>) -> Result<Response<pb::BudgetView>, Status> {
        let context = request_context("metering", &request);
        let r = request.into_inner();
        let tenant = tenant(&r.tenant)?;
        let context = context.with_tenant(tenant);
        self.0.set_budget(tenant, r.usd_micros_per_period, &context).await.map_err(|e| status(&e))?;
        self.0.budget(tenant, now()).await.map(Response::new).map_err(|e| status(&e))
    }

    async fn get_site_margins(
        &self,
        request: Request<pb::SiteMarginsRequest>,
    ) -> Result<Response<pb::SiteMarginsResponse>, Status> {
        self.0.site_margins(&request.into_inner(), now()).await.map(Response::new).map_err(|e| status(&e))
    }

    async fn get_budget(&self, request: Request<pb::GetBudgetRequest>) -> Result<Response<pb::BudgetView>, Status> {
        let r = request.into_inner();
        self.0.budget(tenant(&r.tenant)?, now()).await.map(Response::new).map_err(|e| status(&e))
    }
}
