//! Serving gRPC: [`serve`] on a bound listener, and several services on one listener
//! without tonic's axum-based router ([`Mux`]): requests
//! whose path starts with `prefix` (e.g. `/hcp.v1.Agents/`) go to `matched`, the rest to
//! `rest`; nest to serve more. (The generated services are always ready, so dispatch
//! needs no readiness juggling.)

use std::convert::Infallible;
use std::task::{Context, Poll};
use tonic::body::Body;
use tonic::codegen::{BoxFuture, Service, http};

/// Serves `svc` on `listener` until it fails, with TCP_NODELAY on every connection:
/// tonic ignores its own nodelay setting when given an incoming stream, and small unary
/// replies would otherwise wait out delayed ACKs (~40 ms each).
pub async fn serve<S>(listener: tokio::net::TcpListener, svc: S) -> Result<(), tonic::transport::Error>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    tonic::transport::Server::builder().serve_with_incoming(svc, incoming).await
}

/// Why a client could not connect.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Not a URI.
    #[error("bad address {0:?}")]
    BadAddress(String),
    /// Nothing answered there.
    #[error("cannot reach {url}: {source}")]
    Unreachable {
        /// Where.
        url: String,
        /// Why.
        source: tonic::transport::Error,
    },
}

/// A channel to a gRPC server at `url` (e.g. `http://127.0.0.1:50051`), connected now.
pub async fn connect(url: &str) -> Result<tonic::transport::Channel, ConnectError> {
    tonic::transport::Channel::from_shared(url.to_owned())
        .map_err(|_| ConnectError::BadAddress(url.to_owned()))?
        .connect()
        .await
        .map_err(|source| ConnectError::Unreachable { url: url.to_owned(), source })
}

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
