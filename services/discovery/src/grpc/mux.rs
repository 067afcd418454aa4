//! Two gRPC services on one listener without tonic's axum-based router: requests go to
//! the Agents service by its path prefix, everything else to the Inventory service.
//! (The generated services are always ready, so dispatch needs no readiness juggling.)

use std::convert::Infallible;
use std::task::{Context, Poll};
use tonic::body::Body;
use tonic::codegen::{BoxFuture, Service, http};

/// Routes `/hcp.v1.Agents/*` to `agents`, the rest to `inventory`.
#[derive(Clone)]
pub struct Mux<I, A> {
    /// The Inventory server.
    pub inventory: I,
    /// The Agents server.
    pub agents: A,
}

const AGENTS_PREFIX: &str = "/hcp.v1.Agents/";

impl<I, A> Service<http::Request<Body>> for Mux<I, A>
where
    I: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible> + Clone + Send + 'static,
    I::Future: Send + 'static,
    A: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible> + Clone + Send + 'static,
    A::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        if req.uri().path().starts_with(AGENTS_PREFIX) {
            let fut = self.agents.call(req);
            Box::pin(fut)
        } else {
            let fut = self.inventory.call(req);
            Box::pin(fut)
        }
    }
}
