//! Several gRPC services on one listener without tonic's axum-based router: requests
//! whose path starts with `prefix` (e.g. `/hcp.v1.Agents/`) go to `matched`, the rest to
//! `rest`; nest to serve more. (The generated services are always ready, so dispatch
//! needs no readiness juggling.)

use std::convert::Infallible;
use std::task::{Context, Poll};
use tonic::body::Body;
use tonic::codegen::{BoxFuture, Service, http};

/// Routes by path prefix.
#[derive(Clone)]
pub struct Mux<M, R> {
    prefix: &'static str,
    matched: M,
    rest: R,
}

impl<M, R> Mux<M, R> {
    /// `/<package>.<Service>/` to `matched`, everything else to `rest`.
    pub fn new(prefix: &'static str, matched: M, rest: R) -> Self {
        Mux { prefix, matched, rest }
    }
}

impl<M, R> Service<http::Request<Body>> for Mux<M, R>
where
    M: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible> + Clone + Send + 'static,
    M::Future: Send + 'static,
    R: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible> + Clone + Send + 'static,
    R::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        if req.uri().path().starts_with(self.prefix) {
            Box::pin(self.matched.call(req))
        } else {
            Box::pin(self.rest.call(req))
        }
    }
}
