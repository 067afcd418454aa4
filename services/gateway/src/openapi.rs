//! The OpenAPI 3.1 document at `/v1/openapi.json`, generated from the code: the request
//! and response bodies are the API's protobuf messages, so their schemas come from the
//! compiled descriptors in the proto3 JSON mapping (64-bit integers as strings, enums as
//! their names, `camelCase` fields), and the paths from the route table in
//! [`crate::routes`] (a test calls every one of them on the router; a forwarded GET's
//! query parameters are its request's fields); `/docs` renders it.

use crate::routes::{self, Route};
use hcp_proto::descriptors::pool;
use prost_reflect::{Cardinality, FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The schema name of a message (`hcp.v1.WorkloadView` -> `WorkloadView`).
fn short(full: &str) -> &str {
    full.rsplit('.').next().unwrap_or(full)
}

fn scalar(kind: &Kind) -> Value {
    match kind {
        Kind::Double | Kind::Float => json!({"type": "number"}),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            json!({"type": "integer", "minimum": i32::MIN, "maximum": i32::MAX})
        }
        Kind::Uint32 | Kind::Fixed32 => json!({"type": "integer", "minimum": 0, "maximum": u32::MAX}),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
            json!({"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"})
        }
        Kind::Uint64 | Kind::Fixed64 => json!({"type": "string", "format": "uint64", "pattern": "^[0-9]+$"}),
        Kind::Bool => json!({"type": "boolean"}),
        Kind::String => json!({"type": "string"}),
        Kind::Bytes => json!({"type": "string", "contentEncoding": "base64"}),
        Kind::Enum(e) => json!({"type": "string", "enum": e.values().map(|v| v.name().to_owned()).collect::<Vec<_>>()}),
        Kind::Message(m) => json!({"$ref": format!("#/components/schemas/{}", m.name())}),
    }
}

fn field_schema(f: &FieldDescriptor, todo: &mut Vec<MessageDescriptor>) -> Value {
    if let Kind::Message(m) = f.kind() {
        todo.push(m);
    }
    if f.is_map() {
        let Kind::Message(entry) = f.kind() else { return json!({"type": "object"}) };
        let value = entry.map_entry_value_field();
        return json!({"type": "object", "additionalProperties": scalar(&value.kind())});
    }
    match f.cardinality() {
        Cardinality::Repeated => json!({"type": "array", "items": scalar(&f.kind())}),
        _ => scalar(&f.kind()),
    }
}

/// The schemas of `roots` and every message they use.
fn schemas(roots: &[&str]) -> BTreeMap<String, Value> {
    let mut todo: Vec<MessageDescriptor> = roots.iter().filter_map(|r| pool().get_message_by_name(r)).collect();
    let mut out = BTreeMap::new();
    while let Some(m) = todo.pop() {
        if out.contains_key(m.name()) || m.is_map_entry() {
            continue;
        }
        let mut properties = Map::new();
        for f in m.fields() {
            properties.insert(f.json_name().to_owned(), field_schema(&f, &mut todo));
        }
        out.insert(
            m.name().to_owned(),
            json!({"type": "object", "properties": properties, "additionalProperties": false}),
        );
    }
    out
}

/// A route's query parameters: its own, and a forwarded GET's request fields (but the
/// one its path fills).
fn query_parameters(r: &Route) -> Vec<Value> {
    let mut out: Vec<Value> = r
        .query
        .iter()
        .map(|(name, t, d)| {
            let schema = if *t == "integer" { json!({"type": t, "minimum": 0}) } else { json!({"type": t}) };
            json!({"name": name, "in": "query", "required": false, "description": d, "schema": schema})
        })
        .collect();
    if let Some(forward) = r.forward.as_ref().filter(|_| r.method == "get")
        && let Some(message) = pool().get_message_by_name(forward.request)
    {
        for f in message.fields().filter(|f| f.name() != forward.id_field) {
            let schema = scalar(&f.kind());
            out.push(json!({"name": f.name(), "in": "query", "required": false, "schema": schema}));
        }
    }
    out
}

/// A route's body schema: its message's, less the field its path fills.
fn body_schema(r: &Route, body: &str, components: &BTreeMap<String, Value>) -> Value {
    let reference = json!({"$ref": format!("#/components/schemas/{}", short(body))});
    let Some(forward) = r.forward.as_ref().filter(|f| !f.id_field.is_empty()) else { return reference };
    let (Some(message), Some(schema)) = (pool().get_message_by_name(body), components.get(short(body))) else {
        return reference;
    };
    let mut schema = schema.clone();
    if let (Some(field), Some(properties)) =
        (message.get_field_by_name(forward.id_field), schema["properties"].as_object_mut())
    {
        properties.remove(field.json_name());
    }
    schema
}

/// The document.
pub fn document() -> Value {
    let mut roots: Vec<&str> = routes::all().filter_map(|r| r.body).collect();
    roots.extend(routes::all().map(|r| r.ok.1).filter(|m| !m.is_empty()));
    let mut components = schemas(&roots);
    components.insert(
        "Problem".into(),
        json!({"type": "object", "description": "RFC 9457 problem details", "properties": {
            "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object", "properties": {
                "detail": {"type": "string"}, "pointer": {"type": "string"}}}}}}),
    );
    let problem = json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}});
    let mut paths: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    for r in routes::all() {
        let mut parameters = query_parameters(r);
        if r.path.contains("{id}") {
            let format = if r.path.starts_with("/v1/workloads/") {
                json!({"type": "string", "format": "uuid"})
            } else {
                json!({"type": "string", "minLength": 1})
            };
            parameters
                .push(json!({"name": "id", "in": "path", "required": true, "description": r.id, "schema": format}));
        }
        if r.path == "/v1/workloads" && r.method == "post" {
            parameters.push(json!({"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "maxLength": 128}}));
        }
        let ok = if r.ok.0 == 101 {
            json!({"description": "Switching Protocols: a WebSocket of events, one JSON object per text message"})
        } else if r.path == "/v1/events" {
            json!({"description": "An event stream, one JSON object per event", "content": {"text/event-stream": {"schema": {"type": "string"}}}})
        } else if r.ok.1.is_empty() {
            json!({"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}})
        } else {
            json!({"description": "OK", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{}", short(r.ok.1))}}}})
        };
        let mut responses = Map::new();
        responses.insert(r.ok.0.to_string(), ok);
        let errors: &[(u16, &str)] = if r.keyed() {
            &[
                (400, "Bad request, naming the field"),
                (401, "No working API key"),
                (403, "The key's role may not"),
                (404, "Not found (or another tenant's)"),
                (409, "In conflict with what is recorded (it exists already)"),
                (413, "Body too large"),
                (415, "Body not JSON"),
                (422, "Not possible in its present state"),
                (426, "A WebSocket handshake is required"),
                (429, "Over the key's rate"),
                (503, "A service is unavailable"),
                (504, "No answer in time"),
            ]
        } else {
            &[(503, "Not ready")]
        };
        for (code, what) in errors.iter().filter(|(code, _)| *code != 426 || r.ok.0 == 101) {
            responses.insert(code.to_string(), json!({"description": what, "content": problem}));
        }
        let mut op = json!({"summary": r.summary, "parameters": parameters, "responses": responses});
        if let Some(body) = r.body {
            op["requestBody"] = json!({"required": !r.body_optional, "content": {"application/json": {"schema": body_schema(r, body, &components)}}});
        }
        if r.keyed() {
            let roles: Vec<&str> = r.roles.iter().map(|r| r.as_str()).collect();
            op["description"] = json!(format!("Roles: {}.", roles.join(", ")));
            op["security"] = json!([{"apiKey": []}]);
        }
        paths.entry(r.path).or_default().insert(r.method.to_owned(), op);
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "HCP", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Hybrid compute platform: customers' GPU workloads over REST. Bodies are the API's messages in the proto3 JSON mapping."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer", "description": "An API key, hcp_<id>_<secret>"}}},
    })
}

/// `/docs`: the document, readable.
pub fn docs_page() -> String {
    let mut html = String::from(
        "<!doctype html><html><head><meta charset=utf-8><title>HCP API</title></head><body><h1>HCP API</h1><p>The OpenAPI 3.1 document: <a href=\"/v1/openapi.json\">/v1/openapi.json</a>. Send <code>Authorization: Bearer hcp_...</code>.</p><table><tr><th>Method</th><th>Path</th><th>What</th><th>Body</th><th>Answer</th></tr>",
    );
    for r in routes::all() {
        html.push_str(&format!(
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{} {}</td></tr>",
            r.method.to_uppercase(),
            r.path,
            r.summary,
            r.body.map(short).unwrap_or("-"),
            r.ok.0,
            short(r.ok.1)
        ));
    }
    html.push_str("</table></body></html>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_and_message_is_in_the_document() {
        let doc = document();
        for r in routes::all() {
            assert!(doc["paths"][r.path][r.method].is_object(), "{} {}", r.method, r.path);
        }
        let spec = &doc["components"]["schemas"]["WorkloadSpec"]["properties"];
        assert_eq!(spec["gpuCount"]["type"], "integer");
        assert_eq!(spec["maxRunTimeSeconds"]["type"], "string", "64-bit integers are strings in proto3 JSON");
        assert!(spec["kind"]["enum"].as_array().is_some_and(|e| e.iter().any(|v| v == "WORKLOAD_KIND_TRAINING")));
        // Every $ref points at a schema in the document.
        let text = doc.to_string();
        for (at, _) in text.match_indices("#/components/schemas/") {
            let name: String = text[at + 21..].chars().take_while(|c| c.is_alphanumeric()).collect();
            assert!(doc["components"]["schemas"][&name].is_object(), "{name} is referenced but missing");
        }
    }
}
