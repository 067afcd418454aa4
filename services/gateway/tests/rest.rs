//! The gateway over real HTTP in front of a real routing (gRPC) on a SQLite store: API
//! keys (missing, unknown, revoked: 401; a role that may not: 403), tenant scoping
//! (another tenant's workload is 404), idempotent submits, and RFC 9457 problems that
//! name the field.

mod common;

use common::{Platform, exchange, http};
use hcp_domain::apikey::{ApiKey, ApiKeyCommand, Role};
use hcp_domain::ids::TenantId;
use hcp_domain::units::Timestamp;
use hcp_eventstore::sqlite::SqliteStore;
use hcp_eventstore::{Direction, EventStore};
use hcp_gateway::Upstreams;
use hcp_gateway::keys;
use hcp_gateway::routes;
use hcp_runtime::{EventContext, Host, Metrics, Repository};
use serde_json::json;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_roles_tenants_and_problems() {
    let Platform { dir: _dir, store, host, routing_addr, context } = Platform::start().await;
    let tenant = |t: &str| Some(TenantId::new(t).expect("tenant"));
    let acme = keys::create(&store, tenant("acme"), Role::Developer, "ci", None, &context).await.expect("key");
    let acme_viewer = keys::create(&store, tenant("acme"), Role::Viewer, "dash", None, &context).await.expect("key");
    let globex = keys::create(&store, tenant("globex"), Role::Developer, "ci", None, &context).await.expect("key");
    let leaked = keys::create(&store, tenant("globex"), Role::Developer, "old", None, &context).await.expect("key");
    let leaked_id = leaked.split('_').nth(1).expect("id").to_owned();
    let now = hcp_runtime::clock::now_micros();
    let revoke = ApiKeyCommand::Revoke {
        from: Timestamp::from_unix_micros(now + 1000),
        reason: "leaked".into(),
        at: Timestamp::from_unix_micros(now),
    };
    Repository::<ApiKey, SqliteStore>::new(Arc::clone(&store))
        .execute(&leaked_id, revoke, &context)
        .await
        .expect("revoke");
    let limits = hcp_runtime::config::GatewayConfig { requests_per_second: 1000.0, burst: 1000, ..Default::default() };
    // Routing alone behind it: the other services' routes answer 503.
    let upstreams = Upstreams::lazy(|name| {
        Some(if name == "routing" { routing_addr } else { "127.0.0.1:9".parse().expect("addr") })
    })
    .expect("upstreams");
    let (gw, _) =
        hcp_gateway::start(&host, "127.0.0.1:0".parse().expect("addr"), upstreams, &limits).await.expect("gateway");

    assert_eq!(http(gw, "GET", "/v1/health", None, &[], None).await.0, 200);
    let spec = json!({"kind": "WORKLOAD_KIND_TRAINING", "gpuModel": "H100", "gpuCount": 1, "memoryMib": "1", "maxRunTimeSeconds": "3600"});

    // Who calls.
    let (status, content_type, problem) = http(gw, "POST", "/v1/workloads", None, &[], Some(&spec)).await;
    assert_eq!((status, content_type.as_str()), (401, "application/problem+json"), "{problem}");
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("API key")), "{problem}");
    let (status, _, problem) = http(gw, "POST", "/v1/workloads", Some("hcp_nope_nope"), &[], Some(&spec)).await;
    assert_eq!(status, 401, "{problem}");
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (status, _, problem) = http(gw, "GET", "/v1/workloads", Some(&leaked), &[], None).await;
    assert!(status == 401 && problem["detail"] == "the key was revoked", "{problem}");
    let (status, _, problem) = http(gw, "POST", "/v1/workloads", Some(&acme_viewer), &[], Some(&spec)).await;
    assert_eq!(status, 403, "a viewer may not submit: {problem}");

    // Submit, idempotently, for the key's own tenant.
    let idem = [("Idempotency-Key", "train-1")];
    let (status, _, first) = http(gw, "POST", "/v1/workloads", Some(&acme), &idem, Some(&spec)).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["spec"]["tenant"], "acme", "{first}");
    // The caller's trace goes on, to the response and to the events the request caused.
    let trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let traced = [("Idempotency-Key", "train-2"), ("traceparent", trace)];
    let (status, _, view, head) = exchange(gw, "POST", "/v1/workloads", Some(&acme), &traced, Some(&spec)).await;
    assert!(status == 201 && head.contains("\r\ntraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-"), "{head}");
    assert!(!head.contains("00f067aa0ba902b7"), "a new span of the caller's trace: {head}");
    let stream = format!("workload-{}", view["workloadId"].as_str().expect("id"));
    let submitted = store.read_stream(&stream, 1, Direction::Forwards, 1).await.expect("read");
    assert_eq!(
        submitted[0].metadata.correlation_id.map(|c| c.simple().to_string()).as_deref(),
        Some("4bf92f3577b34da6a3ce929d0e0e4736"),
        "the trace id is the events' correlation id"
    );
    http(
        gw,
        "POST",
        &format!("/v1/workloads/{}/cancel", view["workloadId"].as_str().expect("id")),
        Some(&acme),
        &[],
        None,
    )
    .await;
    let (_, _, again) = http(gw, "POST", "/v1/workloads", Some(&acme), &idem, Some(&spec)).await;
    assert_eq!(again["workloadId"], first["workloadId"], "the same key answers the same workload");
    let other = json!({"tenant": "globex", "kind": "WORKLOAD_KIND_TRAINING", "gpuModel": "H100", "gpuCount": 1});
    assert_eq!(http(gw, "POST", "/v1/workloads", Some(&acme), &[], Some(&other)).await.0, 403);

    // Another tenant's workload is not found; lists are the caller's own.
    let path = format!("/v1/workloads/{}", first["workloadId"].as_str().expect("id"));
    assert_eq!(http(gw, "GET", &path, Some(&acme_viewer), &[], None).await.0, 200);
    let (status, _, problem) = http(gw, "GET", &path, Some(&globex), &[], None).await;
    assert_eq!(status, 404, "no existence leak: {problem}");
    let (_, _, mine) = http(gw, "GET", "/v1/workloads", Some(&acme), &[], None).await;
    assert_eq!(mine["workloads"].as_array().map(Vec::len), Some(2), "{mine}");
    let (_, _, theirs) = http(gw, "GET", "/v1/workloads", Some(&globex), &[], None).await;
    assert!(theirs["workloads"].as_array().is_none_or(Vec::is_empty), "{theirs}");
    assert_eq!(http(gw, "POST", &format!("{path}/cancel"), Some(&globex), &[], None).await.0, 404);

    // Bad input: the field named, nothing recorded.
    let zero = json!({"kind": "WORKLOAD_KIND_TRAINING", "gpuModel": "H100", "gpuCount": 0, "memoryMib": "1"});
    let (status, content_type, problem) = http(gw, "POST", "/v1/workloads", Some(&acme), &[], Some(&zero)).await;
    assert_eq!((status, content_type.as_str()), (400, "application/problem+json"), "{problem}");
    assert_eq!(problem["errors"][0]["pointer"], "/spec/gpu_count", "{problem}");
    let typo = json!({"kind": "WORKLOAD_KIND_TRAINING", "gpuModle": "H100", "gpuCount": 1});
    let (status, _, problem) = http(gw, "POST", "/v1/workloads", Some(&acme), &[], Some(&typo)).await;
    assert!(status == 400 && problem["detail"].as_str().is_some_and(|d| d.contains("gpuModle")), "{problem}");
    let null = json!({"kind": "WORKLOAD_KIND_TRAINING", "gpuModel": null, "gpuCount": 1});
    let (status, _, problem) = http(gw, "POST", "/v1/workloads", Some(&acme), &[], Some(&null)).await;
    assert!(status == 400 && problem["detail"].as_str().is_some_and(|d| d.contains("gpuModel: null")), "{problem}");
    let wrong = json!({"kind": "WORKLOAD_KIND_TRAINING", "gpuModel": "H100", "gpuCount": "many"});
    let (status, _, problem) = http(gw, "POST", "/v1/workloads", Some(&acme), &[], Some(&wrong)).await;
    assert_eq!(status, 400, "{problem}");
    let (status, _, problem) = http(gw, "GET", "/v1/workloads?page_size=lots", Some(&acme), &[], None).await;
    assert!(status == 400 && problem["errors"][0]["pointer"] == "/page_size", "{problem}");
    let too_big = json!({"kind": "WORKLOAD_KIND_TRAINING", "name": "x".repeat(10 * 1024 * 1024)});
    let (status, content_type, problem) = http(gw, "POST", "/v1/workloads", Some(&acme), &[], Some(&too_big)).await;
    assert_eq!((status, content_type.as_str()), (413, "application/problem+json"), "{problem}");
    let (status, _, problem) = http(gw, "GET", "/v1/nothing-here", Some(&acme), &[], None).await;
    assert!(status == 404 && problem["status"] == 404, "{problem}");

    // Its life: why it waits, its history; pause, resume, cancel.
    let (status, _, why) = http(gw, "GET", &format!("{path}/why"), Some(&acme_viewer), &[], None).await;
    assert_eq!(status, 200, "{why}");
    let (_, _, history) = http(gw, "GET", &format!("{path}/history"), Some(&acme_viewer), &[], None).await;
    let kinds: Vec<&str> =
        history["events"].as_array().expect("events").iter().filter_map(|e| e["eventType"].as_str()).collect();
    assert_eq!(&kinds[..2], ["workload.submitted", "workload.queued"], "{history}");
    assert_eq!(http(gw, "GET", &format!("{path}/history"), Some(&globex), &[], None).await.0, 404);
    let (status, _, problem) = http(gw, "POST", &format!("{path}/pause"), Some(&acme), &[], None).await;
    assert!(status == 200 || status == 422, "a queued workload may or may not pause: {problem}");
    let (_, _, cancelled) = http(gw, "POST", &format!("{path}/cancel"), Some(&acme), &[], None).await;
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");

    // The OpenAPI document is served, and the router serves every route it documents.
    let (status, _, doc) = http(gw, "GET", "/v1/openapi.json", None, &[], None).await;
    assert!(status == 200 && doc["openapi"] == "3.1.0", "{doc}");
    let id = first["workloadId"].as_str().expect("id");
    // (The event stream never ends: tests/live.rs reads it.)
    for r in routes::all().filter(|r| r.path != "/v1/events") {
        let route = r.path.replace("{id}", id);
        let body = r.body.map(|_| &spec);
        let (status, _, answer) = http(gw, &r.method.to_uppercase(), &route, Some(&acme), &[], body).await;
        assert!(status != 405 && answer["detail"] != "no such route", "{} {}: {status} {answer}", r.method, r.path);
    }
    // Every route, with another tenant's key and this tenant's workload: refused, not
    // found, or answered without it.
    for r in routes::all().filter(|r| r.keyed() && r.path != "/v1/events") {
        let route = r.path.replace("{id}", id);
        let body = r.body.map(|_| &spec);
        let (status, _, answer) = http(gw, &r.method.to_uppercase(), &route, Some(&globex), &[], body).await;
        let leaks = (200..300).contains(&status) && answer.to_string().contains(id);
        assert!(!leaks && status != 500, "{} {} shows another tenant's: {status} {answer}", r.method, r.path);
        if r.roles.iter().all(|role| role.is_platform()) {
            assert_eq!(status, 403, "{} {} is the platform's: {answer}", r.method, r.path);
        }
    }
    assert_eq!(http(gw, "GET", "/docs", None, &[], None).await.0, 200);

    // Admins manage keys and tenants over REST; a key is shown once, never listed.
    let admin = keys::create(&store, None, Role::Admin, "root", None, &context).await.expect("key");
    let new = json!({"tenantId": "globex", "role": "viewer", "name": "dashboard"});
    assert_eq!(http(gw, "POST", "/v1/keys", Some(&acme), &[], Some(&new)).await.0, 403, "a tenant's key may not");
    let (status, _, created) = http(gw, "POST", "/v1/keys", Some(&admin), &[], Some(&new)).await;
    assert_eq!(status, 201, "{created}");
    let viewer = created["key"].as_str().expect("key").to_owned();
    let viewer_id = created["view"]["keyId"].as_str().expect("id").to_owned();
    let (status, _, _) = http(gw, "GET", "/v1/workloads", Some(&viewer), &[], None).await;
    assert_eq!(status, 200, "a new key works at once");
    let (_, _, listed) = http(gw, "GET", "/v1/keys", Some(&admin), &[], None).await;
    assert!(listed["keys"].as_array().is_some_and(|k| k.len() >= 6), "{listed}");
    assert!(!listed.to_string().contains(&viewer[16..]), "no secret in the list");
    let bad = json!({"tenantId": "globex", "role": "emperor"});
    let (status, _, problem) = http(gw, "POST", "/v1/keys", Some(&admin), &[], Some(&bad)).await;
    assert!(status == 400 && problem["errors"][0]["pointer"] == "/role", "{problem}");
    let rotate = json!({"overlapSeconds": 60});
    let (status, _, rotated) =
        http(gw, "POST", &format!("/v1/keys/{viewer_id}/rotate"), Some(&admin), &[], Some(&rotate)).await;
    assert_eq!(status, 201, "{rotated}");
    let successor = rotated["key"].as_str().expect("key").to_owned();
    for key in [&viewer, &successor] {
        assert_eq!(http(gw, "GET", "/v1/workloads", Some(key), &[], None).await.0, 200, "both work in the overlap");
    }
    let (status, _, revoked) = http(gw, "POST", &format!("/v1/keys/{viewer_id}/revoke"), Some(&admin), &[], None).await;
    assert!(status == 200 && revoked["revokedFromUnixMicros"].is_string(), "{revoked}");
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(http(gw, "GET", "/v1/workloads", Some(&viewer), &[], None).await.0, 401, "revoked now");
    assert_eq!(http(gw, "POST", "/v1/keys/nosuchkey/revoke", Some(&admin), &[], None).await.0, 404);
    let (status, _, tenants) = http(gw, "GET", "/v1/tenants", Some(&admin), &[], None).await;
    assert!(status == 200 && tenants["tenants"].as_array().is_some_and(|t| t.len() == 2), "{tenants}");
    let (status, _, problem) = http(gw, "GET", "/v1/resources?page_size=-1", Some(&admin), &[], None).await;
    assert!(status == 400 && problem["errors"][0]["pointer"] == "/page_size", "{problem}");
    let (status, _, problem) = http(gw, "GET", "/v1/resources?colour=red", Some(&admin), &[], None).await;
    assert!(status == 400 && problem["errors"][0]["pointer"] == "/colour", "{problem}");
    let (status, _, problem) = http(gw, "GET", "/v1/resources", Some(&admin), &[], None).await;
    assert_eq!(status, 503, "discovery is not behind this gateway: {problem}");
    let (status, _, ready) = http(gw, "GET", "/v1/ready", None, &[], None).await;
    assert!(status == 503 && ready["services"]["routing"] == "serving", "{ready}");
    host.shutdown(std::time::Duration::from_secs(5)).await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_over_its_rate_gets_429_and_others_are_unaffected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    let context = EventContext::new("test");
    let host = Host::new(Arc::clone(&store), Metrics::new(), "test");
    let busy = keys::create(&store, Some(TenantId::new("acme").expect("t")), Role::Viewer, "busy", None, &context)
        .await
        .expect("key");
    let calm = keys::create(&store, Some(TenantId::new("acme").expect("t")), Role::Viewer, "calm", None, &context)
        .await
        .expect("key");
    let third = keys::create(&store, Some(TenantId::new("acme").expect("t")), Role::Viewer, "third", None, &context)
        .await
        .expect("key");
    let elsewhere = keys::create(&store, Some(TenantId::new("globex").expect("t")), Role::Viewer, "x", None, &context)
        .await
        .expect("key");
    // No routing behind it: a request that passes the limit answers 503, one over it 429.
    let channel = Upstreams::lazy(|_| Some("127.0.0.1:9")).expect("upstreams");
    let limits = hcp_runtime::config::GatewayConfig {
        requests_per_second: 0.5,
        burst: 3,
        tenant_requests_per_second: 0.5,
        tenant_burst: 5,
        ..Default::default()
    };
    let (gw, _) =
        hcp_gateway::start(&host, "127.0.0.1:0".parse().expect("addr"), channel, &limits).await.expect("gateway");
    let mut statuses = Vec::new();
    for n in 0..4 {
        let (status, _, problem, head) = exchange(gw, "GET", "/v1/workloads", Some(&busy), &[], None).await;
        assert!(head.contains("\r\nratelimit-limit: 3") && head.contains("\r\nx-ratelimit-limit: 3"), "{head}");
        assert!(head.contains(&format!("\r\nratelimit-remaining: {}", 2_i32.saturating_sub(n).max(0))), "{n}: {head}");
        if n == 3 {
            assert!(head.contains("\r\nretry-after: 2"), "{head}");
            assert!(problem["detail"].as_str().is_some_and(|d| d.contains("retry after")), "{problem}");
        }
        statuses.push(status);
    }
    assert_eq!(statuses, [503, 503, 503, 429]);
    assert_eq!(http(gw, "GET", "/v1/workloads", Some(&calm), &[], None).await.0, 503, "another key has its own bucket");
    // The tenant's five at once are spent (three and two): its third key waits too, another tenant's does not.
    assert_eq!(http(gw, "GET", "/v1/workloads", Some(&calm), &[], None).await.0, 503);
    let (status, _, problem) = http(gw, "GET", "/v1/workloads", Some(&third), &[], None).await;
    assert!(status == 429 && problem["detail"].as_str().is_some_and(|d| d.contains("tenant acme")), "{problem}");
    assert_eq!(http(gw, "GET", "/v1/workloads", Some(&elsewhere), &[], None).await.0, 503);
    // A daily quota is apart from the rate: two a day, then 429 until the next UTC day.
    let daily = hcp_runtime::config::GatewayConfig { daily_requests: 2, ..Default::default() };
    let none = Upstreams::lazy(|_| Some("127.0.0.1:9")).expect("upstreams");
    let (quota, _) = hcp_gateway::start(&host, "127.0.0.1:0".parse().expect("addr"), none, &daily).await.expect("gw");
    for _ in 0..2 {
        assert_eq!(http(quota, "GET", "/v1/workloads", Some(&elsewhere), &[], None).await.0, 503);
    }
    let (status, _, problem, head) = exchange(quota, "GET", "/v1/workloads", Some(&elsewhere), &[], None).await;
    assert!(status == 429 && problem["detail"].as_str().is_some_and(|d| d.contains("for today")), "{problem}");
    assert!(head.contains("\r\nretry-after: "), "{head}");
    assert_eq!(http(gw, "GET", "/v1/health", None, &[], None).await.0, 200, "health is open and not limited");
    // Headers are bounded too (hyper's limits: 100 of them, ~400 KB in all): 431, nothing served.
    for head in [
        (0..120).map(|n| format!("X-Filler-{n}: x\r\n")).collect::<String>(),
        format!("X-Big: {}\r\n", "x".repeat(600 * 1024)),
    ] {
        let mut stream = tokio::net::TcpStream::connect(gw).await.expect("connect");
        let request = format!("GET /v1/health HTTP/1.1\r\nHost: gateway\r\n{head}Connection: close\r\n\r\n");
        let _ = tokio::io::AsyncWriteExt::write_all(&mut stream, request.as_bytes()).await;
        let mut answer = Vec::new();
        let _ = tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut answer).await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 431"), "{}", &answer[..answer.len().min(200)]);
    }
    host.shutdown(std::time::Duration::from_secs(5)).await.expect("shutdown");
}
