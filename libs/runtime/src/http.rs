//! The small HTTP listener each service (or `hcp up`, once for the process) serves:
//! `/metrics` in the Prometheus text format, `/health` (200 while serving, 503 once
//! shutdown has begun) and `/status` (JSON: the services, their projections' positions
//! and lag).

use crate::metrics::Metrics;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// What `/status` reports; filled by the runtime.
pub type StatusFn = Arc<dyn Fn() -> serde_json::Value + Send + Sync>;

#[derive(Clone)]
struct Shared {
    metrics: Metrics,
    shutdown: CancellationToken,
    status: StatusFn,
}

/// A bound HTTP listener.
pub struct HttpListener {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
}

impl HttpListener {
    /// Binds `addr` (port 0 picks a free port).
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        Ok(HttpListener { listener, addr })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `stop` is cancelled; `/health` turns 503 as soon as `shutdown` is.
    pub async fn serve(
        self,
        metrics: Metrics,
        shutdown: CancellationToken,
        status: StatusFn,
        stop: CancellationToken,
    ) -> std::io::Result<()> {
        let app = axum::Router::new()
            .route("/metrics", axum::routing::get(metrics_text))
            .route("/health", axum::routing::get(health))
            .route("/status", axum::routing::get(status_json))
            .with_state(Shared { metrics, shutdown, status });
        axum::serve(self.listener, app).with_graceful_shutdown(async move { stop.cancelled().await }).await
    }
}

async fn metrics_text(State(s): State<Shared>) -> axum::response::Response {
    metrics_response(&s.metrics)
}

/// `/metrics`' answer: `metrics` in the OpenMetrics text format (also what the gateway
/// serves beside its REST API).
pub fn metrics_response(metrics: &crate::Metrics) -> axum::response::Response {
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], metrics.encode())
        .into_response()
}

async fn health(State(s): State<Shared>) -> impl IntoResponse {
    if s.shutdown.is_cancelled() { (StatusCode::SERVICE_UNAVAILABLE, "stopping\n") } else { (StatusCode::OK, "ok\n") }
}

async fn status_json(State(s): State<Shared>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], (s.status)().to_string())
}

/// GETs `path` from an HTTP/1.1 server at `addr` (our own listeners: `hcp status`
/// reading `/status`), within `timeout`; the body as text.
pub async fn get(addr: &str, path: &str, timeout: std::time::Duration) -> std::io::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut conn = tokio::net::TcpStream::connect(addr).await?;
        conn.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await?;
        let mut response = Vec::new();
        conn.read_to_end(&mut response).await?;
        let text = String::from_utf8_lossy(&response).into_owned();
        let invalid =
            |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{addr}{path}: {what}"));
        let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| invalid("no HTTP response"))?;
        if !head.starts_with("HTTP/1.1 200") {
            return Err(invalid(head.lines().next().unwrap_or("no status line")));
        }
        Ok(body.to_owned())
    };
    tokio::time::timeout(timeout, exchange).await.map_err(|_| {
        std::io::Error::new(std::io::ErrorKind::TimedOut, format!("{addr}{path}: no answer in {timeout:?}"))
    })?
}
