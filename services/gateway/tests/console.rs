//! The console's files and the routes it leans on, over real HTTP: `/` and any path outside
//! `/v1` answer index.html (no-cache, under the Content-Security-Policy), hashed assets are
//! cached for good and sent pre-compressed as the browser accepts, an unknown `/v1` path is
//! still a problem, a missing build says how to build it; `/v1/me` names the caller, and a
//! device's history comes from its stream.

mod common;

use common::{Platform, exchange, http};
use hcp_domain::apikey::Role;
use hcp_domain::ids::TenantId;
use hcp_gateway::{Upstreams, keys};
use std::net::SocketAddr;

async fn gateway(platform: &Platform, console_dir: &std::path::Path) -> SocketAddr {
    let config = hcp_runtime::config::GatewayConfig {
        requests_per_second: 1000.0,
        burst: 1000,
        console_dir: console_dir.display().to_string(),
        ..Default::default()
    };
    let routing = platform.routing_addr;
    let upstreams =
        Upstreams::lazy(|name| Some(if name == "routing" { routing } else { "127.0.0.1:9".parse().expect("addr") }))
            .expect("upstreams");
    hcp_gateway::start(&platform.host, "127.0.0.1:0".parse().expect("addr"), upstreams, &config)
        .await
        .expect("gateway")
        .0
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| l.strip_prefix(&format!("{name}: ")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_and_its_routes() {
    let platform = Platform::start().await;
    let build = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(build.path().join("assets")).expect("assets");
    let index = "<!doctype html><title>HCP</title><div id=root></div>";
    std::fs::write(build.path().join("index.html"), index).expect("index");
    std::fs::write(build.path().join("assets/index-abc.js"), "console.log('hcp')").expect("js");
    std::fs::write(build.path().join("assets/index-abc.js.br"), [1u8, 2, 3]).expect("br");
    let gw = gateway(&platform, build.path()).await;

    for path in ["/", "/workloads/01a2", "/resources?site=tx-south-1"] {
        let (status, content_type, _, head) = exchange(gw, "GET", path, None, &[], None).await;
        assert_eq!((status, content_type.as_str()), (200, "text/html; charset=utf-8"), "{path}: {head}");
        assert_eq!(header(&head, "content-length"), Some(index.len().to_string().as_str()), "{path}: {head}");
        assert_eq!(header(&head, "cache-control"), Some("no-cache"), "{head}");
        assert!(header(&head, "content-security-policy").is_some_and(|c| c.contains("default-src 'self'")), "{head}");
    }
    let br = [("Accept-Encoding", "gzip, deflate, br")];
    let (status, content_type, _, head) = exchange(gw, "GET", "/assets/index-abc.js", None, &br, None).await;
    assert_eq!((status, content_type.as_str()), (200, "text/javascript; charset=utf-8"), "{head}");
    assert_eq!(header(&head, "content-encoding"), Some("br"), "{head}");
    assert_eq!(header(&head, "content-length"), Some("3"), "{head}");
    assert!(header(&head, "cache-control").is_some_and(|c| c.contains("immutable")), "{head}");
    let gzip_only = [("Accept-Encoding", "gzip")];
    let (_, _, _, head) = exchange(gw, "GET", "/assets/index-abc.js", None, &gzip_only, None).await;
    assert_eq!(header(&head, "content-encoding"), None, "no .gz was built: sent as it is: {head}");
    assert_eq!(header(&head, "content-length"), Some("18"), "{head}");
    let (status, _, _, head) = exchange(gw, "GET", "/assets/gone.js", None, &[], None).await;
    assert_eq!(status, 404, "a missing asset is not index.html: {head}");
    let (status, _, _, head) = exchange(gw, "GET", "/favicon.ico", None, &[], None).await;
    assert_eq!(status, 404, "nor is any file the build lacks: {head}");
    let (status, _, _, head) = exchange(gw, "POST", "/workloads", None, &[], None).await;
    assert!(status == 405 && header(&head, "allow") == Some("get, head"), "{head}");
    let refused = [("Accept-Encoding", "br;q=0, gzip")];
    let (_, _, _, head) = exchange(gw, "GET", "/assets/index-abc.js", None, &refused, None).await;
    assert_eq!(header(&head, "content-encoding"), None, "br;q=0 refuses brotli: {head}");
    let (status, content_type, _, _) = exchange(gw, "GET", "/metrics", None, &[], None).await;
    assert!(status == 200 && content_type.starts_with("application/openmetrics-text"), "{content_type}");
    let (status, content_type, problem) = http(gw, "GET", "/v1/nothing-here", None, &[], None).await;
    assert_eq!((status, content_type.as_str()), (404, "application/problem+json"), "{problem}");
    let (status, _, problem) = http(gw, "DELETE", "/v1/workloads/x/y", None, &[], None).await;
    assert_eq!(status, 404, "{problem}");

    // Who a key is.
    let acme = TenantId::new("acme").ok();
    let developer =
        keys::create(&platform.store, acme, Role::Developer, "console", None, &platform.context).await.expect("key");
    let operator =
        keys::create(&platform.store, None, Role::Operator, "ops", None, &platform.context).await.expect("key");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (status, _, me) = http(gw, "GET", "/v1/me", Some(&developer), &[], None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!((me["tenant"].as_str(), me["roles"][0].as_str()), (Some("acme"), Some("developer")), "{me}");
    let (_, _, me) = http(gw, "GET", "/v1/me", Some(&operator), &[], None).await;
    assert!(me["tenant"].is_null() && me["roles"][0] == "operator", "{me}");
    assert_eq!(http(gw, "GET", "/v1/me", None, &[], None).await.0, 401);

    // A device's history: the platform's only.
    let (status, _, history) = http(gw, "GET", "/v1/resources/gpu-h1-3/history", Some(&operator), &[], None).await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["events"][0]["eventType"], "resource.registered", "{history}");
    let detail: serde_json::Value =
        serde_json::from_str(history["events"][0]["detail"].as_str().expect("detail")).expect("JSON");
    assert_eq!(detail["spec"]["gpu"]["model"], "h100-sxm-80gb", "{detail}");
    let (status, _, _) = http(gw, "GET", "/v1/resources/gpu-h1-3/history", Some(&developer), &[], None).await;
    assert_eq!(status, 403, "a tenant's key sees no devices");
    let (status, _, problem) = http(gw, "GET", "/v1/resources/nope/history", Some(&operator), &[], None).await;
    assert!(status == 404 && problem["detail"] == "no resource nope", "{problem}");
    let (status, _, problem) = http(gw, "GET", "/v1/resources/a%20b/history", Some(&operator), &[], None).await;
    assert!(status == 400 && problem["detail"].as_str().is_some_and(|d| d.starts_with("id: ")), "{problem}");

    // No build: a page that says how to make one.
    let empty = tempfile::tempdir().expect("tempdir");
    let bare = gateway(&platform, &empty.path().join("dist")).await;
    let (status, content_type, _, head) = exchange(bare, "GET", "/", None, &[], None).await;
    assert_eq!((status, content_type.as_str()), (503, "text/html; charset=utf-8"), "{head}");
}
