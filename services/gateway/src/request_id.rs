//! What every response carries, and what every request leaves behind:
//! - an `X-Request-Id`: the caller's own (when it is a sane token) or a new UUID, also set
//!   on the request for handlers and logs to use;
//! - a W3C `traceparent`: the caller's trace continued (a new span of it) or a new trace,
//!   passed on to the services (so the events a request causes share its trace id);
//! - one log line per request (request id, trace id, method, route, status, duration),
//!   and its duration in `http.server.request.duration` by method, route and status.

use crate::state::Gateway;
use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use hcp_runtime::metrics::HttpLabels;
use std::sync::Arc;
use std::time::Instant;

/// The request id header.
pub const HEADER: &str = "x-request-id";

/// The trace context header.
pub const TRACEPARENT: &str = "traceparent";

/// A request's trace context, as the `traceparent` it passes on.
#[derive(Debug, Clone, Default)]
pub struct Trace(pub String);

impl Trace {
    /// The caller's trace continued in a new span, or a new trace.
    fn of(given: Option<&str>) -> Trace {
        let trace = given.and_then(hcp_runtime::context::parse_traceparent).unwrap_or_else(uuid::Uuid::new_v4);
        let span = &uuid::Uuid::new_v4().simple().to_string()[..16];
        Trace(format!("00-{}-{span}-01", trace.simple()))
    }

    /// The trace id (32 hex digits).
    pub fn trace_id(&self) -> &str {
        self.0.get(3..35).unwrap_or_default()
    }
}

/// The request id and trace context, on every response (404s included).
pub async fn request_id(mut request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned);
    let id = given.unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let value = HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    let trace = Trace::of(request.headers().get(TRACEPARENT).and_then(|v| v.to_str().ok()));
    let traceparent = HeaderValue::from_str(&trace.0).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    request.headers_mut().insert(HEADER, value.clone());
    request.headers_mut().insert(TRACEPARENT, traceparent.clone());
    request.extensions_mut().insert(trace);
    let mut response = next.run(request).await;
    response.headers_mut().insert(HEADER, value);
    response.headers_mut().insert(TRACEPARENT, traceparent);
    response
}

/// The log line and the duration of a routed request.
pub async fn observe(State(g): State<Arc<Gateway>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned()).unwrap_or_default();
    let id = request.headers().get(HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let trace = request.extensions().get::<Trace>().cloned().unwrap_or_default();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    tracing::info!(
        request_id = %id,
        trace_id = %trace.trace_id(),
        method = %method,
        route = %route,
        status,
        duration_ms = elapsed.as_secs_f64() * 1e3,
        "request"
    );
    if let Some(metrics) = &g.metrics {
        let labels = HttpLabels { http_request_method: method, http_route: route, http_response_status_code: status };
        metrics.http_duration.get_or_create(&labels).observe(elapsed.as_secs_f64());
    }
    response
}
