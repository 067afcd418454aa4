//! The Pricing gRPC API over the book.

use crate::book::{Book, BookError};
use hcp_proto::v1 as pb;
use hcp_proto::v1::pricing_server::Pricing;
use hcp_runtime::{ErrorCode, HasErrorCode};
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// The service.
pub struct PricingService(pub Arc<Book>);

/// The book's refusals, in the runtime's table.
pub struct Coded(pub BookError);

impl std::fmt::Display for Coded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl HasErrorCode for Coded {
    fn code(&self) -> ErrorCode {
        match self.0 {
            BookError::UnknownSite(_) => ErrorCode::NotFound,
            BookError::NoPrices(_) | BookError::NoBitcoin => ErrorCode::Unavailable,
            BookError::EmptyRange { .. } | BookError::BadTimestamp(_) => ErrorCode::InvalidArgument,
        }
    }
}

fn status(e: BookError) -> Status {
    hcp_runtime::status(&Coded(e))
}

#[tonic::async_trait]
impl Pricing for PricingService {
    async fn get_quote(&self, request: Request<pb::GetQuoteRequest>) -> Result<Response<pb::Quote>, Status> {
        self.0.quote(&request.into_inner().site).map(Response::new).map_err(status)
    }

    async fn get_history(
        &self,
        request: Request<pb::GetHistoryRequest>,
    ) -> Result<Response<pb::GetHistoryResponse>, Status> {
        let r = request.into_inner();
        let quotes = self.0.history(&r.site, r.from_unix_micros, r.to_unix_micros).map_err(status)?;
        Ok(Response::new(pb::GetHistoryResponse { quotes }))
    }

    async fn get_hashprice(&self, _: Request<pb::GetHashpriceRequest>) -> Result<Response<pb::Hashprice>, Status> {
        self.0.hashprice().map(Response::new).map_err(status)
    }
}
