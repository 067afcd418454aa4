//! Serving gRPC: one builder for every service's server.
//!
//! Every server gets the `grpc.health.v1` health service (each added service reported
//! SERVING while it runs, NOT_SERVING once shutdown begins), TCP_NODELAY on every
//! connection (tonic ignores its own setting for a given listener, and small unary
//! replies would otherwise wait out delayed ACKs), tonic's own routing, the request
//! metrics of [`GrpcMetricsLayer`], and graceful shutdown: when the signal fires it
//! stops accepting and waits for in-flight calls to finish.

use crate::context::EventContext;
use crate::metrics::{GrpcLabels, MethodLabels, Metrics};
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tonic::server::NamedService;
use tonic::service::RoutesBuilder;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

/// The services one server will serve.
#[derive(Default)]
pub struct GrpcServices {
    routes: RoutesBuilder,
    names: Vec<&'static str>,
}

impl GrpcServices {
    /// Adds a generated server.
    pub fn add<S>(&mut self, service: S) -> &mut Self
    where
        S: tower::Service<
                axum::http::Request<tonic::body::Body>,
                Response = axum::http::Response<tonic::body::Body>,
                Error = std::convert::Infallible,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.routes.add_service(service);
        self.names.push(S::NAME);
        self
    }

    /// The fully qualified names of the services added.
    pub fn names(&self) -> &[&'static str] {
        &self.names
    }
}

/// A bound gRPC listener.
pub struct GrpcListener {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
}

impl GrpcListener {
    /// Binds `addr` (port 0 picks a free port).
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        Ok(GrpcListener { listener, addr })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves `services` (plus health) until `shutdown` completes, then drains
    /// in-flight calls.
    pub async fn serve(
        self,
        service: &str,
        mut services: GrpcServices,
        metrics: Metrics,
        shutdown: impl std::future::Future<Output = ()> + Send,
    ) -> Result<(), tonic::transport::Error> {
        let (reporter, health) = tonic_health::server::health_reporter();
        services.routes.add_service(health);
        set_all(&reporter, &services.names, ServingStatus::Serving).await;
        let incoming = TcpIncoming::from(self.listener).with_nodelay(Some(true));
        let layer = GrpcMetricsLayer { service: Arc::from(service), metrics };
        let names = services.names.clone();
        let signal = async move {
            shutdown.await;
            set_all(&reporter, &names, ServingStatus::NotServing).await;
        };
        tonic::transport::Server::builder()
            .layer(layer)
            .add_routes(services.routes.routes())
            .serve_with_incoming_shutdown(incoming, signal)
            .await
    }
}

async fn set_all(reporter: &HealthReporter, names: &[&'static str], status: ServingStatus) {
    reporter.set_service_status("", status).await;
    for name in names {
        reporter.set_service_status(*name, status).await;
    }
}

/// The event context of a request: the caller's trace from its `traceparent` metadata.
pub fn request_context<T>(actor: &str, request: &tonic::Request<T>) -> EventContext {
    let traceparent = request.metadata().get("traceparent").and_then(|v| v.to_str().ok());
    let mut context = EventContext::from_traceparent(actor, traceparent);
    // The operator or customer the caller names acts; the service only carries it out.
    if let Some(named) = request.metadata().get("x-hcp-actor").and_then(|v| v.to_str().ok()).filter(|a| !a.is_empty()) {
        context.actor = named.to_owned();
    }
    context
}

/// Counts and times every call by method and status code.
#[derive(Clone)]
pub struct GrpcMetricsLayer {
    service: Arc<str>,
    metrics: Metrics,
}

impl<S> tower::Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetrics<S>;
    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetrics { inner, service: Arc::clone(&self.service), metrics: self.metrics.clone() }
    }
}

/// The service [`GrpcMetricsLayer`] wraps around the routes.
#[derive(Clone)]
pub struct GrpcMetrics<S> {
    inner: S,
    service: Arc<str>,
    metrics: Metrics,
}

impl<S, B, R> tower::Service<axum::http::Request<B>> for GrpcMetrics<S>
where
    S: tower::Service<axum::http::Request<B>, Response = axum::http::Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: axum::http::Request<B>) -> Self::Future {
        let method = request.uri().path().to_owned();
        let traceparent = request.headers().get("traceparent").and_then(|v| v.to_str().ok());
        let span = crate::telemetry::request_span(&self.service, &method, traceparent);
        let started = Instant::now();
        let future = span.in_scope(|| self.inner.call(request));
        let (service, metrics) = (Arc::clone(&self.service), self.metrics.clone());
        Box::pin(tracing::Instrument::instrument(
            async move {
                let response = future.await?;
                // An error is a trailers-only response: its status is in the headers. A
                // success's status follows in the trailers, so no status header means OK.
                let code = response
                    .headers()
                    .get("grpc-status")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<i32>().ok())
                    .map_or(tonic::Code::Ok, tonic::Code::from);
                // Unknown paths are one label value, so a scanner cannot grow the series.
                let method = if code == tonic::Code::Unimplemented { "other".to_owned() } else { method };
                let seconds = started.elapsed().as_secs_f64();
                let service = service.to_string();
                metrics
                    .grpc_duration
                    .get_or_create(&MethodLabels { service: service.clone(), method: method.clone() })
                    .observe(seconds);
                metrics.grpc_requests.get_or_create(&GrpcLabels { service, method, code: format!("{code:?}") }).inc();
                Ok(response)
            },
            span,
        ))
    }
}
