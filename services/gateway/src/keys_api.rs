//! `/v1/keys` (admins): API keys listed (never their secrets), created (the whole key in
//! that answer only), revoked (at once or from a later instant) and rotated (a new key for
//! the same tenant and role; the old one keeps working for the overlap, a day unless
//! told). Each is a command on the key's own `apikey-<id>` stream.

use crate::auth::Caller;
use crate::body::{Body, OptionalBody};
use crate::forward::json_of;
use crate::problem::Problem;
use crate::state::Gateway;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use hcp_domain::apikey::{ApiKey, ApiKeyCommand, Role};
use hcp_domain::ids::TenantId;
use hcp_domain::units::Timestamp;
use hcp_proto::v1 as pb;
use prost::Message;
use std::sync::Arc;

/// How long a rotated key keeps working beside the new one when not told, seconds.
const DEFAULT_OVERLAP_SECONDS: u32 = 24 * 3600;

fn view(key: &ApiKey) -> pb::ApiKeyView {
    pb::ApiKeyView {
        key_id: key.id.clone().unwrap_or_default(),
        tenant_id: key.tenant.as_ref().map(|t| t.as_str().to_owned()).unwrap_or_default(),
        role: key.role.map(|r| r.as_str().to_owned()).unwrap_or_default(),
        name: key.name.clone(),
        prefix: key.prefix.clone(),
        expires_unix_micros: key.expires_at.map_or(0, |t| t.unix_micros()),
        revoked_from_unix_micros: key.revoked_from.map_or(0, |t| t.unix_micros()),
        revoked_reason: key.revoked_reason.clone().unwrap_or_default(),
    }
}

/// A JSON body as `full_name`'s message, naming what is wrong with it.
fn decode<M: Message + Default>(full_name: &str, body: &serde_json::Value) -> Result<M, Problem> {
    let bytes = hcp_proto::descriptors::json_to_message(full_name, body)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    M::decode(bytes.as_slice()).map_err(|e| Problem::new(StatusCode::BAD_REQUEST, format!("body: {e}")))
}

fn context(caller: &Caller) -> hcp_runtime::EventContext {
    hcp_runtime::EventContext::new(caller.0.id.clone())
}

fn now() -> Timestamp {
    Timestamp::from_unix_micros(hcp_runtime::clock::now_micros())
}

/// Records a new key and answers it (201, the whole key).
async fn record_new(
    g: &Gateway,
    caller: &Caller,
    tenant: Option<TenantId>,
    role: Role,
    name: &str,
    expires_at: Option<Timestamp>,
) -> Result<Response, Problem> {
    let (id, key, command) = crate::keys::new_key(tenant, role, name, expires_at);
    let state = g.keystore.execute(&id, command, &context(caller)).await?;
    g.keys.keep(&id, state.clone());
    Ok(json_of(StatusCode::CREATED, "hcp.v1.CreatedApiKey", &pb::CreatedApiKey { key, view: Some(view(&state)) }))
}

/// `GET /v1/keys`.
pub async fn list(State(g): State<Arc<Gateway>>) -> Response {
    let keys = g.keys.all().iter().map(view).collect();
    json_of(StatusCode::OK, "hcp.v1.ListApiKeysResponse", &pb::ListApiKeysResponse { keys })
}

/// `POST /v1/keys`: `hcp.v1.CreateApiKeyRequest`.
pub async fn create(State(g): State<Arc<Gateway>>, caller: Caller, Body(body): Body) -> Result<Response, Problem> {
    let r: pb::CreateApiKeyRequest = decode("hcp.v1.CreateApiKeyRequest", &body)?;
    let role = Role::parse(&r.role).ok_or_else(|| {
        let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        Problem::new(StatusCode::BAD_REQUEST, format!("role: {:?} is not one of {}", r.role, roles.join(", ")))
    })?;
    let tenant = match r.tenant_id.as_str() {
        "" => None,
        t => Some(TenantId::new(t).map_err(|e| Problem::new(StatusCode::BAD_REQUEST, format!("tenant_id: {e}")))?),
    };
    let expires = (r.expires_unix_micros != 0).then(|| Timestamp::from_unix_micros(r.expires_unix_micros));
    record_new(&g, &caller, tenant, role, &r.name, expires).await
}

/// `POST /v1/keys/{id}/revoke`: `hcp.v1.RevokeApiKeyRequest` (an empty body: now).
pub async fn revoke(
    State(g): State<Arc<Gateway>>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalBody(body): OptionalBody,
) -> Result<Response, Problem> {
    let r: pb::RevokeApiKeyRequest = decode("hcp.v1.RevokeApiKeyRequest", &body)?;
    g.keys.get(&id).ok_or_else(|| Problem::not_found(format!("no key {id}")))?;
    let at = now();
    let from = if r.from_unix_micros == 0 { at } else { Timestamp::from_unix_micros(r.from_unix_micros) };
    let reason = if r.reason.is_empty() { format!("revoked by {}", caller.0.id) } else { r.reason };
    let state = g.keystore.execute(&id, ApiKeyCommand::Revoke { from, reason, at }, &context(&caller)).await?;
    g.keys.keep(&id, state.clone());
    Ok(json_of(StatusCode::OK, "hcp.v1.ApiKeyView", &view(&state)))
}

/// `POST /v1/keys/{id}/rotate`: `hcp.v1.RotateApiKeyRequest` (an empty body: a day's overlap).
pub async fn rotate(
    State(g): State<Arc<Gateway>>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalBody(body): OptionalBody,
) -> Result<Response, Problem> {
    let r: pb::RotateApiKeyRequest = decode("hcp.v1.RotateApiKeyRequest", &body)?;
    let old = g.keys.get(&id).ok_or_else(|| Problem::not_found(format!("no key {id}")))?;
    let at = now();
    if old.revoked_from.is_some_and(|r| r <= at) || old.expires_at.is_some_and(|e| e <= at) {
        return Err(Problem::new(StatusCode::CONFLICT, format!("key {id} no longer works: make a new one")));
    }
    let role = old.role.ok_or_else(|| Problem::not_found(format!("no key {id}")))?;
    let name = if r.name.is_empty() { old.name.clone() } else { r.name };
    let overlap = if r.overlap_seconds == 0 { DEFAULT_OVERLAP_SECONDS } else { r.overlap_seconds };
    let created = record_new(&g, &caller, old.tenant.clone(), role, &name, old.expires_at).await?;
    let from = Timestamp::from_unix_micros(at.unix_micros() + i64::from(overlap) * 1_000_000);
    let reason = format!("rotated by {}", caller.0.id);
    let state = g.keystore.execute(&id, ApiKeyCommand::Revoke { from, reason, at }, &context(&caller)).await?;
    g.keys.keep(&id, state);
    Ok(created)
}
