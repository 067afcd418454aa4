//! Who calls: the `Authorization: Bearer` header, an API key (`hcp_<id>_<secret>`)
//! checked against the recorded keys or a JWT checked against the issuer's keys, in one
//! place; then the caller's rate, its tenant's rate and its daily quota. No key or a key that does not work is 401 (with the
//! reason); a working key whose role may not do the thing is 403, by the roles the route
//! table gives each route.

use crate::jwt::{Issuer, TokenError};
use crate::keys::Principal;
use crate::limits::Verdict;
use crate::problem::Problem;
use crate::request_id::Trace;
use crate::state::Gateway;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use hcp_domain::apikey::Role;
use hcp_domain::units::Timestamp;
use std::sync::Arc;

/// The caller of a request, authenticated, and the request's trace context.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal, pub Trace);

impl Caller {
    /// 403 unless its role is one of `roles`.
    pub fn may(&self, roles: &[Role]) -> Result<(), Problem> {
        if self.0.roles.iter().any(|r| roles.contains(r)) {
            Ok(())
        } else {
            let allowed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            let has: Vec<&str> = self.0.roles.iter().map(|r| r.as_str()).collect();
            let has = if has.is_empty() { "no role".to_owned() } else { has.join(", ") };
            Err(Problem::forbidden(format!("{} ({has}) may not do this (it takes {})", self.0.id, allowed.join(", "))))
        }
    }

    /// A request to a service on the caller's behalf, naming it as the actor
    /// and carrying the trace on.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Ok(actor) = self.0.id.parse() {
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
    let trace = request.extensions().get::<Trace>().cloned().unwrap_or_default();
    let presented = presented.trim();
    let principal = match &g.issuer {
        Some(issuer) if !presented.starts_with("hcp_") && Issuer::looks_like_token(presented) => {
            let principal = issuer.verify(presented).await.map_err(|e| match e {
                TokenError::Unavailable(_) => Problem::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
                _ => Problem::unauthenticated(e.to_string()),
            })?;
            let subject = principal.id.strip_prefix("user:").unwrap_or_default();
            crate::users::seen(&g, issuer.issuer(), subject, &principal.tenant, &principal.roles).await;
            principal
        }
        _ => g
            .keys
            .check(presented, Timestamp::from_unix_micros(now))
            .map_err(|e| Problem::unauthenticated(e.to_string()))?,
    };
    let caller = Caller(principal, trace);
    let burst = g.limits.burst;
    let (remaining, reset) = match admit(&g, &caller, now) {
        Ok(admitted) => admitted,
        Err(response) => return Ok(*response),
    };
    // The route's roles, from the table: every role check is this one.
    let matched = request.extensions().get::<axum::extract::MatchedPath>().map(|m| m.as_str().to_owned());
    if let Some(route) = matched.and_then(|path: String| crate::routes::Route::find(request.method().as_str(), &path)) {
        caller.may(route.roles)?;
    }
    request.extensions_mut().insert(caller);
    let mut response = match tokio::time::timeout(g.timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Problem::new(
            StatusCode::GATEWAY_TIMEOUT,
            format!("no answer within {} s: it may still complete; check before retrying", g.timeout.as_secs_f64()),
        )
        .into_response(),
    };
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

/// The caller's rate (its own, then its tenant's) and daily quota: how many more it may
/// send at once and when its burst is whole again, or the 429 to answer.
fn admit(g: &Gateway, caller: &Caller, now: i64) -> Result<(u32, std::time::Duration), Box<Response>> {
    let limited = |detail: String, limit: u32, retry_after: std::time::Duration| {
        let seconds = retry_after.as_secs_f64().ceil().max(1.0) as u64;
        let mut response =
            Problem::new(StatusCode::TOO_MANY_REQUESTS, format!("{detail}; retry after {seconds} s")).into_response();
        let headers = response.headers_mut();
        headers.insert(axum::http::header::RETRY_AFTER, seconds.into());
        rate_headers(headers, limit, 0, seconds);
        Box::new(response)
    };
    let who = &caller.0.id;
    let admitted = match g.limits.check(who, now) {
        Verdict::Allowed { remaining, reset } => (remaining, reset),
        Verdict::Limited { retry_after } => {
            return Err(limited(
                format!("{who} is over {} requests at once", g.limits.burst),
                g.limits.burst,
                retry_after,
            ));
        }
    };
    if let Some(tenant) = &caller.0.tenant
        && let Verdict::Limited { retry_after } = g.tenant_limits.check(tenant.as_str(), now)
    {
        let detail = format!("tenant {tenant} is over {} requests at once", g.tenant_limits.burst);
        return Err(limited(detail, g.limits.burst, retry_after));
    }
    if let Err(retry_after) = g.daily.take(who, now) {
        return Err(limited(
            format!("{who} has used its {} requests for today", g.daily.limit),
            g.limits.burst,
            retry_after,
        ));
    }
    Ok(admitted)
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
