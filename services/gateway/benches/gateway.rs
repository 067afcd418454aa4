//! The gateway's figures, on a real routing (gRPC) over a SQLite store:
//! - `GET /v1/workloads` (a page of 50, with key auth, rate limiting and tenant scoping on)
//!   under wrk, against a bare axum route that does the same read and serialization with
//!   none of those, in the same run: requests/s of each and the ratio (aim ≥ 0.8x);
//! - its p99 at 2,000 requests/s (wrk paced by a Lua `delay`; aim ≤ 5 ms);
//! - the live stream: from an event's append to a WebSocket client receiving it, p50 and
//!   p99 (aim ≤ 20 ms).
//!
//! wrk comes from Debian's packages (`scripts/ensure-wrk.sh`, which `make bench` runs).

#[path = "../tests/common/mod.rs"]
mod common;

use common::Platform;
use futures_util::StreamExt;
use hcp_domain::apikey::Role;
use hcp_domain::ids::TenantId;
use hcp_eventstore::{EventMetadata, EventStore, ExpectedVersion, NewEvent};
use hcp_gateway::{Upstreams, keys};
use hcp_proto::v1 as pb;
use prost::Message;
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

const WRK_SECONDS: &str = "8";

/// One wrk run: (requests/s, p99 ms).
fn wrk(url: &str, key: &str, connections: u32, script: Option<&str>) -> (f64, f64) {
    let mut command = Command::new("wrk");
    command.args(["-t", "1", "-c", &connections.to_string(), "-d", &format!("{WRK_SECONDS}s"), "--latency"]);
    command.args(["-H", &format!("Authorization: Bearer {key}")]);
    if let Some(s) = script {
        command.args(["-s", s]);
    }
    let out = command.arg(url).output().expect("wrk (scripts/ensure-wrk.sh installs it)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "wrk: {text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(!text.contains("Non-2xx"), "every answer must be a 200: {text}");
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in {text}"));
    let p99 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .map(|v| millis(v.trim()))
        .unwrap_or_else(|| panic!("no 99% in {text}"));
    (rps, p99)
}

/// wrk's `1.23ms`, `456.00us` or `1.02s` in milliseconds.
fn millis(v: &str) -> f64 {
    let (number, factor) = if let Some(n) = v.strip_suffix("us") {
        (n, 1e-3)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1e3)
    } else {
        (v, 1.0)
    };
    number.parse::<f64>().unwrap_or(f64::NAN) * factor
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt");
    let (platform, gateway, bare, key, admin) = runtime.block_on(setup());

    // Throughput: the gateway against the bare route, each under the same closed-loop load.
    let (bare_rps, _) = wrk(&format!("http://{bare}/bare/workloads"), &key, 16, None);
    let (gw_rps, _) = wrk(&format!("http://{gateway}/v1/workloads?page_size=50"), &key, 16, None);
    println!("bench: gateway_list_workloads_rps = {gw_rps:.0} req/s");
    println!("bench: bare_axum_list_workloads_rps = {bare_rps:.0} req/s");
    println!("bench: gateway_vs_bare_axum = {:.2} x", gw_rps / bare_rps);

    // Latency at a steady 2,000 requests/s: 20 connections, each pacing itself to 100/s.
    let script = std::env::temp_dir().join("hcp-gateway-pace.lua");
    std::fs::write(&script, "function delay() return 10 end\n").expect("script");
    let (paced_rps, p99) = wrk(&format!("http://{gateway}/v1/workloads?page_size=50"), &key, 20, script.to_str());
    println!("bench: gateway_list_workloads_paced_rps = {paced_rps:.0} req/s");
    println!("bench: gateway_list_workloads_p99_at_2000rps = {p99:.2} ms");

    // The live stream: append to WebSocket, one event at a time.
    let latencies = runtime.block_on(stream_latency(&platform, gateway, &admin));
    println!("bench: websocket_append_to_client_p50 = {:.2} ms", percentile(&latencies, 0.50));
    println!("bench: websocket_append_to_client_p99 = {:.2} ms", percentile(&latencies, 0.99));
    runtime.block_on(async { platform.host.shutdown(Duration::from_secs(5)).await.expect("shutdown") });
}

/// Routing with 60 of acme's workloads, the gateway before it, and a bare axum route that
/// does the same read and serialization.
async fn setup() -> (Platform, SocketAddr, SocketAddr, String, String) {
    let platform = Platform::start().await;
    let tenant = Some(TenantId::new("acme").expect("tenant"));
    let key =
        keys::create(&platform.store, tenant, Role::Developer, "bench", None, &platform.context).await.expect("key");
    let admin = keys::create(&platform.store, None, Role::Admin, "bench", None, &platform.context).await.expect("key");
    let channel = hcp_proto::client::connect(&format!("http://{}", platform.routing_addr)).await.expect("routing");
    let mut workloads = pb::workloads_client::WorkloadsClient::new(channel.clone());
    for n in 0..60 {
        let spec = pb::WorkloadSpec {
            tenant: "acme".into(),
            kind: pb::WorkloadKind::Training as i32,
            gpu_model: "H100".into(),
            gpu_count: 8,
            memory_mib: 1024,
            max_run_time_seconds: 3600,
            env: [("N".to_owned(), n.to_string())].into(),
            ..Default::default()
        };
        workloads
            .submit(pb::SubmitWorkloadRequest { spec: Some(spec), request_id: String::new() })
            .await
            .expect("submit");
    }
    let routing = platform.routing_addr;
    let upstreams =
        Upstreams::lazy(|name| Some(if name == "routing" { routing } else { "127.0.0.1:9".parse().expect("addr") }))
            .expect("upstreams");
    // Limits on, far above the load: every request is counted, none refused.
    let config = hcp_runtime::config::GatewayConfig {
        requests_per_second: 1e6,
        burst: 1_000_000,
        tenant_requests_per_second: 1e6,
        tenant_burst: 1_000_000,
        daily_requests: 0,
        ..Default::default()
    };
    let (gateway, _) =
        hcp_gateway::start(&platform.host, "127.0.0.1:0".parse().expect("addr"), upstreams, &config).await.expect("gw");
    let bare = axum::Router::new().route(
        "/bare/workloads",
        axum::routing::get(move || {
            let mut client = pb::workloads_client::WorkloadsClient::new(channel.clone());
            async move {
                let list = pb::ListWorkloadsRequest { tenant: "acme".into(), page_size: 50, ..Default::default() };
                let page = client.list(list).await.expect("list").into_inner();
                let body = hcp_proto::descriptors::message_to_json_bytes(
                    "hcp.v1.ListWorkloadsResponse",
                    &page.encode_to_vec(),
                );
                ([(axum::http::header::CONTENT_TYPE, "application/json")], body.expect("json"))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let bare_addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, bare).await });
    (platform, gateway, bare_addr, key, admin)
}

/// Milliseconds from each of 400 appends to the WebSocket client receiving it, sorted.
async fn stream_latency(platform: &Platform, gateway: SocketAddr, key: &str) -> Vec<f64> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://{gateway}/v1/stream?kinds=workload").into_client_request().expect("request");
    request.headers_mut().insert("authorization", format!("Bearer {key}").parse().expect("header"));
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("websocket");
    let mut latencies = Vec::new();
    for n in 0..400 {
        let id = uuid::Uuid::now_v7();
        let payload = pb::WorkloadSubmitted { workload_id: id.to_string(), spec: None };
        let metadata = EventMetadata { tenant: Some("acme".into()), ..Default::default() };
        let event = NewEvent::new("workload.submitted", 1, payload.encode_to_vec()).with_metadata(metadata);
        let stream = format!("workload-{id}");
        let sent = Instant::now();
        platform.store.append(&stream, ExpectedVersion::NoStream, vec![event]).await.expect("append");
        loop {
            let message = tokio::time::timeout(Duration::from_secs(5), socket.next()).await.expect("in time");
            if let Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) = message
                && text.contains(&stream)
            {
                break;
            }
        }
        if n >= 20 {
            latencies.push(sent.elapsed().as_secs_f64() * 1e3);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    latencies.sort_by(f64::total_cmp);
    latencies
}
