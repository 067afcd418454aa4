//! Starting the gateway: its key view catches up with the log, then the router listens.

use crate::auth::Caller;
use crate::body::OptionalBody;
use crate::folded::Feed;
use crate::keys::Keys;
use crate::routes::{self, Route};
use crate::state::Gateway;
use crate::upstream::Upstreams;
use crate::{forward, keys_api, live, workloads};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::{MethodRouter, get, post};
use hcp_eventstore::EventStore;
use hcp_runtime::host::StartError;
use hcp_runtime::{Durability, Host};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// The handler of a forwarded route (one gRPC method).
fn forwarded(route: &'static Route) -> MethodRouter<Arc<Gateway>> {
    let handler = move |State(g): State<Arc<Gateway>>,
                        caller: Caller,
                        id: Option<Path<String>>,
                        Query(query): Query<HashMap<String, String>>,
                        OptionalBody(body): OptionalBody| async move {
        forward::forward(&g, route, &caller, id.map(|Path(id)| id), query, body).await
    };
    if route.method == "post" { post(handler) } else { get(handler) }
}

/// The `/v1` routes over `gateway`: health open to all, the rest behind a key, each
/// with the roles the route table gives it.
pub fn router(gateway: Arc<Gateway>) -> Router {
    let mut keyed = Router::new()
        .route("/v1/workloads", post(workloads::submit).get(workloads::list))
        .route("/v1/workloads/{id}", get(workloads::get))
        .route("/v1/workloads/{id}/cancel", post(workloads::cancel))
        .route("/v1/workloads/{id}/pause", post(workloads::pause))
        .route("/v1/workloads/{id}/resume", post(workloads::resume))
        .route("/v1/workloads/{id}/history", get(workloads::history))
        .route("/v1/workloads/{id}/why", get(workloads::why))
        .route("/v1/workloads/{id}/logs", get(workloads::logs))
        .route("/v1/stream", get(live::websocket))
        .route("/v1/events", get(live::server_sent))
        .route("/v1/me", get(crate::fleet::me))
        .route("/v1/resources/{id}/history", get(crate::fleet::history))
        .route("/v1/users", get(crate::users::list))
        .route("/v1/keys", get(keys_api::list).post(keys_api::create))
        .route("/v1/keys/{id}/revoke", post(keys_api::revoke))
        .route("/v1/keys/{id}/rotate", post(keys_api::rotate));
    for route in routes::all().filter(|r| r.forward.is_some()) {
        keyed = keyed.route(route.path, forwarded(route));
    }
    let keyed =
        keyed.route_layer(axum::middleware::from_fn_with_state(Arc::clone(&gateway), crate::auth::authenticate));
    Router::new()
        .route("/v1/health", get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }))
        .route("/v1/ready", get(|State(g): State<Arc<Gateway>>| async move { forward::ready(&g).await }))
        .route("/v1/openapi.json", get(|| async { axum::Json(crate::openapi::document()) }))
        .route("/docs", get(|| async { axum::response::Html(crate::openapi::docs_page()) }))
        .route("/metrics", get(crate::fleet::metrics))
        .merge(keyed)
        .route_layer(axum::middleware::from_fn_with_state(Arc::clone(&gateway), crate::request_id::observe))
        .route("/v1", get(no_route))
        .route("/v1/{*rest}", axum::routing::any(no_route))
        .fallback(
            |State(g): State<Arc<Gateway>>,
             method: axum::http::Method,
             uri: axum::http::Uri,
             headers: axum::http::HeaderMap| async move { g.console.answer(&method, &uri, &headers) },
        )
        .layer(axum::middleware::from_fn(crate::request_id::request_id))
        .layer(axum::extract::DefaultBodyLimit::max(crate::body::MAX_BODY))
        .with_state(gateway)
}

/// The console's files in `dir` (none, with a warning, when they cannot be read).
fn load_console(dir: &str) -> crate::console::Console {
    match crate::console::Console::load(std::path::Path::new(dir)) {
        Ok(console) if console.is_built() => console,
        Ok(console) => {
            tracing::warn!(dir, "the web console is not built (make console): / says how to build it");
            console
        }
        Err(e) => {
            tracing::warn!(dir, error = %e, "the web console's files could not be read");
            crate::console::Console::default()
        }
    }
}

async fn no_route() -> crate::problem::Problem {
    crate::problem::Problem::not_found("no such route")
}

/// Starts the gateway in `host` on `http`, calling the services over `upstreams` (lazily
/// connected channels: they may start later); returns its address and its keys.
pub async fn start<S: EventStore>(
    host: &Arc<Host<S>>,
    http: SocketAddr,
    upstreams: Upstreams,
    config: &hcp_runtime::config::GatewayConfig,
) -> Result<(SocketAddr, Arc<Keys>), StartError> {
    let keys = Arc::new(Keys::default());
    let users = Arc::new(crate::users::Users::default());
    let head = host.store.head().await?;
    let view = host.reactor("gateway", Arc::new(Feed::new("gateway-keys", Arc::clone(&keys))), Durability::InMemory);
    let people =
        host.reactor("gateway", Arc::new(Feed::new("gateway-users", Arc::clone(&users))), Durability::InMemory);
    tokio::select! {
        _ = async { tokio::join!(view.caught_up(head), people.caught_up(head)) } => {},
        () = host.shutdown.cancelled() => {},
    }
    let keystore: hcp_runtime::Repository<hcp_domain::apikey::ApiKey, S> =
        hcp_runtime::Repository::new(Arc::clone(&host.store));
    let userstore: hcp_runtime::Repository<hcp_domain::user::User, S> =
        hcp_runtime::Repository::new(Arc::clone(&host.store));
    let app = router(Arc::new(Gateway {
        keys: Arc::clone(&keys),
        upstreams,
        limits: crate::limits::Limits::new(config.requests_per_second, config.burst),
        tenant_limits: crate::limits::Limits::new(config.tenant_requests_per_second, config.tenant_burst),
        daily: crate::limits::Daily::new(config.daily_requests),
        issuer: config.jwt.clone().map(crate::jwt::Issuer::new),
        timeout: std::time::Duration::from_secs_f64(config.request_timeout_seconds),
        keystore: Arc::new(keystore),
        users,
        userstore: Arc::new(userstore),
        log: Arc::new(crate::state::StoreLog(Arc::clone(&host.store))),
        tenancy: crate::live::Tenancy::default(),
        metrics: Some(host.metrics.clone()),
        console: load_console(&config.console_dir),
    }));
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
