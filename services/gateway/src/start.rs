//! Starting the gateway: its key view catches up with the log, then the router listens.

use crate::keys::{Keys, KeysFeed};
use crate::state::Gateway;
use crate::workloads;
use axum::Router;
use axum::routing::{get, post};
use hcp_eventstore::EventStore;
use hcp_runtime::host::StartError;
use hcp_runtime::{Durability, Host};
use std::net::SocketAddr;
use std::sync::Arc;

/// The `/v1` routes over `gateway`: health open to all, the rest behind a key.
pub fn router(gateway: Arc<Gateway>) -> Router {
    let keyed = Router::new()
        .route("/v1/workloads", post(workloads::submit).get(workloads::list))
        .route("/v1/workloads/{id}", get(workloads::get))
        .route("/v1/workloads/{id}/cancel", post(workloads::cancel))
        .route("/v1/workloads/{id}/pause", post(workloads::pause))
        .route("/v1/workloads/{id}/resume", post(workloads::resume))
        .route("/v1/workloads/{id}/history", get(workloads::history))
        .route("/v1/workloads/{id}/why", get(workloads::why))
        .route_layer(axum::middleware::from_fn_with_state(Arc::clone(&gateway), crate::auth::authenticate));
    Router::new()
        .route("/v1/health", get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }))
        .route("/v1/openapi.json", get(|| async { axum::Json(crate::openapi::document()) }))
        .route("/docs", get(|| async { axum::response::Html(crate::openapi::docs_page()) }))
        .merge(keyed)
        .fallback(|| async { crate::problem::Problem::not_found("no such route") })
        .layer(axum::middleware::from_fn(crate::request_id::request_id))
        .layer(axum::extract::DefaultBodyLimit::max(crate::body::MAX_BODY))
        .with_state(gateway)
}

/// Starts the gateway in `host` on `http`, forwarding to routing over `routing` (a lazily
/// connected channel: routing may start later); returns its address and its keys.
pub async fn start<S: EventStore>(
    host: &Arc<Host<S>>,
    http: SocketAddr,
    routing: tonic::transport::Channel,
    limits: &hcp_runtime::config::GatewayConfig,
) -> Result<(SocketAddr, Arc<Keys>), StartError> {
    let keys = Arc::new(Keys::default());
    let head = host.store.head().await?;
    let view = host.reactor("gateway", Arc::new(KeysFeed(Arc::clone(&keys))), Durability::InMemory);
    tokio::select! {
        _ = view.caught_up(head) => {},
        () = host.shutdown.cancelled() => {},
    }
    let limits = crate::limits::Limits::new(limits.requests_per_second, limits.burst);
    let app = router(Arc::new(Gateway { keys: Arc::clone(&keys), routing, limits }));
    let listener = tokio::net::TcpListener::bind(http).await.map_err(|source| StartError::Bind {
        service: "gateway".into(),
        what: "HTTP",
        addr: http,
        source,
    })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        service: "gateway".into(),
        what: "HTTP",
        addr: http,
        source,
    })?;
    let shutdown = host.shutdown.clone();
    host.spawn("gateway", async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move { shutdown.cancelled().await });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "gateway stopped");
        }
    });
    Ok((addr, keys))
}
