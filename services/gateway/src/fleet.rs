//! The gateway's own fleet and identity routes: `GET /v1/me` (who the presented key or
//! token is, so a console can show what its roles may see),
//! `GET /v1/resources/{id}/history` (a device's events, from its stream), and the
//! process's `GET /metrics`.

use crate::auth::Caller;
use crate::forward::json_of;
use crate::problem::Problem;
use crate::state::Gateway;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcp_proto::v1 as pb;
use std::sync::Arc;

/// The most events a history answers with (the latest).
pub const HISTORY_MAX: usize = 500;

/// `GET /metrics`: the process's metrics (Prometheus text), beside the REST API, where
/// `hcp serve gateway` has no other HTTP address for them.
pub async fn metrics(State(g): State<Arc<Gateway>>) -> Response {
    hcp_runtime::http::metrics_response(g.metrics.as_ref().unwrap_or(&hcp_runtime::Metrics::default()))
}

/// `GET /v1/me`: the caller's id, tenant (null for the platform's) and roles.
pub async fn me(caller: Caller) -> Json<serde_json::Value> {
    let roles: Vec<&str> = caller.0.roles.iter().map(|r| r.as_str()).collect();
    Json(serde_json::json!({
        "id": caller.0.id,
        "tenant": caller.0.tenant.as_ref().map(|t| t.as_str()),
        "roles": roles,
    }))
}

/// `GET /v1/resources/{id}/history`: the device's latest events, oldest first, each with
/// its payload as JSON (404 for a device never registered).
pub async fn history(State(g): State<Arc<Gateway>>, Path(id): Path<String>) -> Result<Response, Problem> {
    let stream = format!("resource-{id}");
    hcp_eventstore::validate_stream(&stream)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, format!("id: {id:?} is not a resource id ({e})")))?;
    let events = g
        .log
        .last(&stream, HISTORY_MAX)
        .await
        .map_err(|e| Problem::new(StatusCode::SERVICE_UNAVAILABLE, format!("reading {stream}: {e}")))?;
    if events.is_empty() {
        return Err(Problem::not_found(format!("no resource {id}")));
    }
    let events = events.iter().map(hcp_runtime::render::history_entry).collect();
    Ok(json_of(StatusCode::OK, "hcp.v1.WorkloadHistory", &pb::WorkloadHistory { events }))
}
