//! Who calls: the `Authorization: Bearer hcp_<id>_<secret>` header checked against the
//! recorded keys, in one place. No key or a key that does not work is 401 (with the
//! reason); a working key whose role may not do the thing is 403, by the roles the route
//! table gives each route.

use crate::keys::Principal;
use crate::problem::Problem;
use crate::request_id::Trace;
use crate::state::Gateway;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use hcp_domain::apikey::Role;
use hcp_domain::units::Timestamp;
use std::sync::Arc;

/// The caller of a request, authenticated, and the request's trace context.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal, pub Trace);

impl Caller {
    /// 403 unless its role is one of `roles`.
    pub fn may(&self, roles: &[Role]) -> Result<(), Problem> {
        if roles.contains(&self.0.role) {
            Ok(())
        } else {
            let allowed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(Problem::forbidden(format!("a {} key may not do this (it takes {})", self.0.role, allowed.join(", "))))
        }
    }

    /// A request to a service on the caller's behalf, naming it as the actor (`key:<id>`)
    /// and carrying the trace on.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Ok(actor) = format!("key:{}", self.0.key_id).parse() {
            request.metadata_mut().insert("x-hcp-actor", actor);
        }
        if let Ok(trace) = self.1.0.parse() {
            request.metadata_mut().insert(crate::request_id::TRACEPARENT, trace);
        }
        request
    }
}

impl FromRequestParts<Arc<Gateway>> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &Arc<Gateway>) -> Result<Self, Problem> {
        // Set by [`authenticate`] on every route that needs a caller.
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| Problem::unauthenticated("an API key is required"))
    }
}

/// Who calls, checked once per request: the key (401 when it does not work), then its
/// rate limit (429 with `Retry-After`); every answer carries `RateLimit-*` headers (and
/// the `X-RateLimit-*` many clients read).
pub async fn authenticate(
    axum::extract::State(g): axum::extract::State<Arc<Gateway>>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Result<axum::response::Response, Problem> {
    let presented = match request.headers().get(axum::http::header::AUTHORIZATION) {
        Some(header) => header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| Problem::unauthenticated("Authorization must be `Bearer <key>`"))?
            .to_owned(),
        // A browser cannot set headers on a WebSocket or an EventSource: the live routes
        // also take the key as `access_token` in the query.
        None => query_token(&request)
            .ok_or_else(|| Problem::unauthenticated("an API key is required: Authorization: Bearer hcp_..."))?,
    };
    let now = hcp_runtime::clock::now_micros();
    let caller = g
        .keys
        .check(presented.trim(), Timestamp::from_unix_micros(now))
        .map(|principal| Caller(principal, request.extensions().get::<Trace>().cloned().unwrap_or_default()))
        .map_err(|e| Problem::unauthenticated(e.to_string()))?;
    let burst = g.limits.burst;
    let (remaining, reset) = match g.limits.check(&caller.0.key_id, now) {
        crate::limits::Verdict::Allowed { remaining, reset } => (remaining, reset),
        crate::limits::Verdict::Limited { retry_after } => {
            let seconds = retry_after.as_secs_f64().ceil().max(1.0) as u64;
            let mut response = axum::response::IntoResponse::into_response(Problem::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                format!("key {} is over {burst} requests at once; retry after {seconds} s", caller.0.key_id),
            ));
            let headers = response.headers_mut();
            headers.insert(axum::http::header::RETRY_AFTER, seconds.into());
            rate_headers(headers, burst, 0, seconds);
            return Ok(response);
        }
    };
    // The route's roles, from the table: every role check is this one.
    let matched = request.extensions().get::<axum::extract::MatchedPath>().map(|m| m.as_str().to_owned());
    if let Some(route) = matched.and_then(|path: String| crate::routes::Route::find(request.method().as_str(), &path)) {
        caller.may(route.roles)?;
    }
    request.extensions_mut().insert(caller);
    let mut response = next.run(request).await;
    rate_headers(response.headers_mut(), burst, remaining, reset.as_secs_f64().ceil() as u64);
    Ok(response)
}

/// The `access_token` query parameter of a live route (`/v1/stream`, `/v1/events`).
fn query_token(request: &axum::extract::Request) -> Option<String> {
    let path = request.uri().path();
    if path != "/v1/stream" && path != "/v1/events" {
        return None;
    }
    request.uri().query()?.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name == "access_token").then(|| value.to_owned())
    })
}

fn rate_headers(headers: &mut axum::http::HeaderMap, limit: u32, remaining: u32, reset: u64) {
    for (name, value) in [("limit", u64::from(limit)), ("remaining", u64::from(remaining)), ("reset", reset)] {
        for prefix in ["ratelimit-", "x-ratelimit-"] {
            if let Ok(name) = axum::http::HeaderName::from_bytes(format!("{prefix}{name}").as_bytes()) {
                headers.insert(name, value.into());
            }
        }
    }
}
