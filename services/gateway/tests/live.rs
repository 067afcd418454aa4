//! The live stream over a real WebSocket (tokio-tungstenite) and real SSE: two tenants
//! each see only their own workloads' events; a client that disconnects and resumes
//! from its last position misses nothing and sees nothing twice.

mod common;

use common::{Platform, http};
use futures_util::{SinkExt, StreamExt};
use hcp_domain::apikey::Role;
use hcp_domain::ids::TenantId;
use hcp_gateway::{Upstreams, keys};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(gw: SocketAddr, key: &str, query: &str) -> Socket {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://{gw}/v1/stream{query}").into_client_request().expect("request");
    request.headers_mut().insert("authorization", format!("Bearer {key}").parse().expect("header"));
    tokio_tungstenite::connect_async(request).await.expect("websocket").0
}

/// The next event on `socket` (pings skipped), or `None` after `wait` of silence.
async fn next(socket: &mut Socket, wait: Duration) -> Option<Value> {
    loop {
        match tokio::time::timeout(wait, socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => return Some(serde_json::from_str(&text).expect("json")),
            Ok(Some(Ok(_))) => continue,
            Ok(other) => panic!("the socket ended: {other:?}"),
            Err(_) => return None,
        }
    }
}

/// Events until `count` of them, or a second of silence.
async fn drain(socket: &mut Socket, count: usize) -> Vec<Value> {
    let mut out = Vec::new();
    while out.len() < count {
        match next(socket, Duration::from_secs(10)).await {
            Some(e) => out.push(e),
            None => break,
        }
    }
    while let Some(e) = next(socket, Duration::from_millis(300)).await {
        out.push(e);
    }
    out
}

async fn submit(gw: SocketAddr, key: &str, name: &str) -> String {
    let spec = json!({"kind": "WORKLOAD_KIND_TRAINING", "env": {"NAME": name}, "gpuModel": "H100", "gpuCount": 1, "memoryMib": "1024", "maxRunTimeSeconds": "3600"});
    let (status, _, view) = http(gw, "POST", "/v1/workloads", Some(key), &[], Some(&spec)).await;
    assert_eq!(status, 201, "{view}");
    view["workloadId"].as_str().expect("id").to_owned()
}

fn workloads_of(events: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = events
        .iter()
        .filter_map(|e| e["stream"].as_str().and_then(|s| s.strip_prefix("workload-")).map(ToOwned::to_owned))
        .collect();
    ids.dedup();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_tenant_sees_its_own_and_a_resumed_stream_misses_nothing() {
    let platform = Platform::start().await;
    let (store, context) = (&platform.store, &platform.context);
    let tenant = |t: &str| Some(TenantId::new(t).expect("tenant"));
    let acme = keys::create(store, tenant("acme"), Role::Developer, "ci", None, context).await.expect("key");
    let globex = keys::create(store, tenant("globex"), Role::Viewer, "dash", None, context).await.expect("key");
    let globex_dev = keys::create(store, tenant("globex"), Role::Developer, "ci", None, context).await.expect("key");
    let admin = keys::create(store, None, Role::Admin, "root", None, context).await.expect("key");
    let routing = platform.routing_addr;
    let upstreams =
        Upstreams::lazy(|name| Some(if name == "routing" { routing } else { "127.0.0.1:9".parse().expect("addr") }))
            .expect("upstreams");
    let limits = hcp_runtime::config::GatewayConfig { requests_per_second: 1000.0, burst: 1000, ..Default::default() };
    let (gw, _) = hcp_gateway::start(&platform.host, "127.0.0.1:0".parse().expect("addr"), upstreams, &limits)
        .await
        .expect("gateway");

    let mut mine = connect(gw, &acme, "").await;
    let mut theirs = connect(gw, &globex, "?kinds=workload").await;
    let mut everything = connect(gw, &admin, "").await;
    let a1 = submit(gw, &acme, "a1").await;
    let g1 = submit(gw, &globex_dev, "g1").await;
    let seen = drain(&mut mine, 2).await;
    assert_eq!(workloads_of(&seen), [a1.as_str()], "acme sees its own: {seen:?}");
    assert_eq!(seen[0]["type"], "workload.submitted");
    assert_eq!(seen[0]["payload"]["spec"]["env"]["NAME"], "a1", "{seen:?}");
    let seen = drain(&mut theirs, 2).await;
    assert_eq!(workloads_of(&seen), [g1.as_str()], "globex sees its own: {seen:?}");
    let seen = drain(&mut everything, 4).await;
    assert!(workloads_of(&seen).contains(&a1) && workloads_of(&seen).contains(&g1), "{seen:?}");

    // acme goes away; what happens meanwhile comes when it resumes after its last position.
    let last = seen_position(&drain(&mut mine, 0).await).unwrap_or(0);
    let before = last_of(&mut connect(gw, &acme, "?after=0").await).await;
    mine.close(None).await.expect("close");
    let a2 = submit(gw, &acme, "a2").await;
    let cancel = http(gw, "POST", &format!("/v1/workloads/{a1}/cancel"), Some(&acme), &[], None).await;
    assert_eq!(cancel.0, 200, "{cancel:?}");
    submit(gw, &globex_dev, "g2").await;
    let mut resumed = connect(gw, &acme, &format!("?after={}", before.max(last))).await;
    let seen = drain(&mut resumed, 3).await;
    let positions: Vec<u64> = seen.iter().filter_map(|e| e["position"].as_u64()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]) && positions[0] > before, "in order, nothing twice: {seen:?}");
    assert!(workloads_of(&seen).iter().all(|w| *w == a1 || *w == a2), "{seen:?}");
    assert!(seen.iter().any(|e| e["stream"] == format!("workload-{a2}") && e["type"] == "workload.submitted"));
    assert!(seen.iter().any(|e| e["stream"] == format!("workload-{a1}") && e["type"] == "workload.cancelled"));

    // Filters, and what a tenant may not follow.
    let mut one = connect(gw, &acme, &format!("?after=0&workload={a2}")).await;
    assert_eq!(workloads_of(&drain(&mut one, 1).await), [a2.as_str()]);
    let (status, _, problem) = http(gw, "GET", "/v1/stream?kinds=resource", Some(&acme), &[], None).await;
    assert_eq!(status, 403, "{problem}");
    let (status, _, problem) = http(gw, "GET", "/v1/stream", Some(&acme), &[], None).await;
    assert_eq!(status, 426, "no handshake: {problem}");
    let (status, _, problem) = http(gw, "GET", "/v1/events?after=yesterday", Some(&acme), &[], None).await;
    assert!(status == 400 && problem["errors"][0]["pointer"] == "/after", "{problem}");
    mine_pings(gw, &acme).await;

    // SSE: the same events, each with its position as the id; Last-Event-ID resumes.
    let sse = server_sent(gw, &format!("/v1/events?access_token={acme}"), None, 2).await;
    assert!(sse.is_empty(), "live from now on: {sse:?}");
    let all = server_sent(gw, "/v1/events", Some((&acme, "0")), 4).await;
    assert_eq!(all.len(), 4, "{all:?}");
    assert!(
        all.iter().all(|(_, e)| e["stream"] == format!("workload-{a1}") || e["stream"] == format!("workload-{a2}"))
    );
    let (id, first) = &all[0];
    assert_eq!(first["position"].as_u64().map(|p| p.to_string()).as_deref(), Some(id.as_str()));
    let after_first = server_sent(gw, "/v1/events", Some((&acme, id)), 3).await;
    assert_eq!(after_first, all[1..], "resumed after the first");
    platform.host.shutdown(Duration::from_secs(5)).await.expect("shutdown");
}

fn seen_position(events: &[Value]) -> Option<u64> {
    events.iter().filter_map(|e| e["position"].as_u64()).max()
}

/// The position of the last event `socket` sends before it is quiet.
async fn last_of(socket: &mut Socket) -> u64 {
    seen_position(&drain(socket, 1).await).unwrap_or(0)
}

/// The server pings, and answers a ping with a pong.
async fn mine_pings(gw: SocketAddr, key: &str) {
    let mut socket = connect(gw, key, "").await;
    socket.send(Message::Ping(b"hi".to_vec().into())).await.expect("ping");
    let pong = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Some(Ok(Message::Pong(p))) = socket.next().await {
                return p;
            }
        }
    })
    .await
    .expect("a pong");
    assert_eq!(&pong[..], b"hi");
}

/// Up to `count` SSE events from `path` (key in the header with a Last-Event-ID, or in
/// the query): (id, event).
async fn server_sent(gw: SocketAddr, path: &str, auth: Option<(&str, &str)>, count: usize) -> Vec<(String, Value)> {
    let mut stream = tokio::net::TcpStream::connect(gw).await.expect("connect");
    let mut head = format!("GET {path} HTTP/1.1\r\nHost: gateway\r\nAccept: text/event-stream\r\n");
    if let Some((key, last)) = auth {
        head.push_str(&format!("Authorization: Bearer {key}\r\nLast-Event-ID: {last}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut text = String::new();
    let mut buf = [0u8; 65536];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    while text.matches("\ndata: ").count() < count {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => text.push_str(&String::from_utf8_lossy(&buf[..n])),
            _ => break,
        }
    }
    assert!(text.starts_with("HTTP/1.1 200") && text.contains("text/event-stream"), "{text}");
    let mut events = Vec::new();
    let mut id = String::new();
    for line in text.lines() {
        if let Some(i) = line.strip_prefix("id: ").or_else(|| line.strip_prefix("id:")) {
            id = i.to_owned();
        } else if let Some(d) = line.strip_prefix("data: ").or_else(|| line.strip_prefix("data:")) {
            events.push((id.clone(), serde_json::from_str(d).expect("json")));
        }
    }
    events.truncate(count);
    events
}
