//! Routes that are one gRPC method over HTTP (the table's [`Forward`]s): the request is
//! built from the JSON body (a POST) or the query string (a GET) and the path's `{id}`,
//! checked against the method's request message (an unknown or mistyped field is a 400
//! naming it), sent on the caller's behalf, and the reply answered in the proto3 JSON
//! mapping. Also the JSON replies every route shares, and `/v1/ready`.

use crate::auth::Caller;
use crate::problem::Problem;
use crate::routes::{Forward, Route};
use crate::state::Gateway;
use crate::upstream::{Upstream, unary};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hcp_proto::descriptors::pool;
use prost_reflect::Kind;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// A message of HCP's (encoded, named by `full_name`) as a JSON response.
pub fn json_bytes(status: StatusCode, full_name: &str, encoded: &[u8]) -> Response {
    match hcp_proto::descriptors::message_to_json_bytes(full_name, encoded) {
        Ok(body) => {
            let json = [(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"))];
            (status, json, body).into_response()
        }
        Err(e) => Problem::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// A message of HCP's as a JSON response.
pub fn json_of(status: StatusCode, full_name: &str, message: &impl prost::Message) -> Response {
    json_bytes(status, full_name, &message.encode_to_vec())
}

/// A query parameter's value as the JSON its field takes (`page_size=5` a number,
/// `dry_run=true` a boolean, 64-bit integers and enums as strings, as proto3 JSON has them).
fn query_value(kind: &Kind, name: &str, text: &str) -> Result<Value, Problem> {
    let bad = |what: &str| Problem::new(StatusCode::BAD_REQUEST, format!("{name}: {text:?} is not {what}"));
    Ok(match kind {
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => json!(text.parse::<i32>().map_err(|_| bad("a 32-bit integer"))?),
        Kind::Uint32 | Kind::Fixed32 => json!(text.parse::<u32>().map_err(|_| bad("a count"))?),
        Kind::Double | Kind::Float => json!(text.parse::<f64>().map_err(|_| bad("a number"))?),
        Kind::Bool => json!(text.parse::<bool>().map_err(|_| bad("true or false"))?),
        _ => json!(text),
    })
}

/// The request `forward` takes, from the body or query, with the path's `id`.
fn request_json(
    forward: &Forward,
    post: bool,
    id: Option<String>,
    query: HashMap<String, String>,
    body: Value,
) -> Result<Value, Problem> {
    let message = pool()
        .get_message_by_name(forward.request)
        .ok_or_else(|| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, format!("no message {}", forward.request)))?;
    let mut fields = if post {
        match body {
            Value::Object(map) => map,
            _ => return Err(Problem::new(StatusCode::BAD_REQUEST, "body: must be a JSON object")),
        }
    } else {
        Map::new()
    };
    if !post {
        for (name, text) in query {
            let field = message
                .get_field_by_name(&name)
                .or_else(|| message.get_field_by_json_name(&name))
                .filter(|f| f.name() != forward.id_field)
                .ok_or_else(|| Problem::new(StatusCode::BAD_REQUEST, format!("{name}: no such parameter")))?;
            let value = if field.is_list() {
                // A repeated field: `group_by=model,site`.
                let items = text.split(',').filter(|t| !t.is_empty());
                Value::Array(items.map(|t| query_value(&field.kind(), &name, t)).collect::<Result<_, _>>()?)
            } else {
                query_value(&field.kind(), &name, &text)?
            };
            fields.insert(name.clone(), value);
        }
    }
    if let Some(id) = id.filter(|_| !forward.id_field.is_empty()) {
        // The path names the object; the body may not name another.
        if let Some(field) = message.get_field_by_name(forward.id_field)
            && (fields.contains_key(field.json_name()) || fields.contains_key(field.name()))
        {
            return Err(Problem::new(StatusCode::BAD_REQUEST, format!("{}: given by the path", field.name())));
        }
        fields.insert(forward.id_field.to_owned(), Value::String(id));
    }
    Ok(Value::Object(fields))
}

/// A tenant's key acts for its own tenant only: the request's `tenant` is filled with
/// it, and naming another is refused. A platform key names the tenant.
fn scope_to_tenant(caller: &Caller, json: &mut Value) -> Result<(), Problem> {
    let (Some(own), Value::Object(fields)) = (&caller.0.tenant, json) else { return Ok(()) };
    let named = match fields.get("tenant") {
        None => None,
        Some(Value::String(named)) => Some(named.as_str()),
        Some(other) => return Err(Problem::new(StatusCode::BAD_REQUEST, format!("tenant: {other} is not a string"))),
    };
    match named {
        Some(named) if !named.is_empty() && named != own.as_str() => {
            Err(Problem::forbidden(format!("tenant: {} acts for tenant {own} only, not {named}", caller.0.id)))
        }
        _ => {
            fields.insert("tenant".into(), Value::String(own.as_str().to_owned()));
            Ok(())
        }
    }
}

/// Answers `route` (one with a [`Forward`]) for `caller`.
pub async fn forward(
    g: &Gateway,
    route: &'static Route,
    caller: &Caller,
    id: Option<String>,
    query: HashMap<String, String>,
    body: Value,
) -> Result<Response, Problem> {
    let Some(forward) = &route.forward else {
        return Err(Problem::new(StatusCode::INTERNAL_SERVER_ERROR, format!("{} is not forwarded", route.path)));
    };
    let mut json = request_json(forward, route.method == "post", id, query, body)?;
    if forward.tenanted {
        scope_to_tenant(caller, &mut json)?;
    }
    let encoded = hcp_proto::descriptors::json_to_message(forward.request, &json)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    let reply = unary(g.upstreams.channel(forward.upstream), forward.rpc, caller.request(encoded))
        .await
        .map_err(|s| Problem::from_status(&s))?;
    Ok(json_bytes(StatusCode::from_u16(route.ok.0).unwrap_or(StatusCode::OK), route.ok.1, &reply))
}

/// `GET /v1/ready`: whether each service behind the gateway answers its health check;
/// 503 naming the ones that do not.
pub async fn ready(g: &Gateway) -> Response {
    let mut services = Map::new();
    let mut all = true;
    for (name, upstream) in [
        ("routing", Upstream::Routing),
        ("discovery", Upstream::Discovery),
        ("pricing", Upstream::Pricing),
        ("optimization", Upstream::Optimization),
        ("execution", Upstream::Execution),
        ("metering", Upstream::Metering),
        ("notifications", Upstream::Notifications),
    ] {
        let check =
            unary(g.upstreams.channel(upstream), "/grpc.health.v1.Health/Check", tonic::Request::new(Vec::new()));
        let state = match tokio::time::timeout(std::time::Duration::from_secs(2), check).await {
            // HealthCheckResponse { status: SERVING (1) }.
            Ok(Ok(reply)) if reply == [0x08, 0x01] => "serving".to_owned(),
            Ok(Ok(_)) => "not serving".to_owned(),
            Ok(Err(e)) => format!("unavailable: {}", e.message()),
            Err(_) => "unavailable: no answer in 2 s".to_owned(),
        };
        all &= state == "serving";
        services.insert(name.to_owned(), Value::String(state));
    }
    let status = if all { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(json!({"status": if all { "ready" } else { "not ready" }, "services": services}))).into_response()
}
