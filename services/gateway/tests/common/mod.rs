//! What the gateway's tests share: one HTTP/1.1 exchange over a real socket, and a
//! platform to put the gateway in front of (a SQLite store, eight H100 for admission,
//! routing on gRPC, tenants acme and globex).
#![allow(dead_code)]

use hcp_domain::ids::{ResourceId, SiteId};
use hcp_domain::resource::{Resource, ResourceCommand, ResourceKind, ResourceSpec};
use hcp_domain::units::{Power, Timestamp};
use hcp_eventstore::sqlite::SqliteStore;
use hcp_proto::v1 as pb;
use hcp_runtime::config::{Config, LoadOptions};
use hcp_runtime::{EventContext, Host, Metrics, Repository};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One HTTP/1.1 exchange: (status, content type, body as JSON).
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, String, Value) {
    let (status, content_type, body, _) = exchange(addr, method, path, key, headers, body).await;
    (status, content_type, body)
}

/// One HTTP/1.1 exchange: (status, content type, body as JSON, the response's head in lower case).
pub async fn exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, String, Value, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if !body.is_empty() {
        head.push_str("Content-Type: application/json\r\n");
    }
    if let Some(k) = key {
        head.push_str(&format!("Authorization: Bearer {k}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write");
    // A server that refuses a body early (413) may stop reading before it is all written.
    let _ = stream.write_all(body.as_bytes()).await;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a response");
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("a status");
    assert!(head.to_ascii_lowercase().contains("\r\nx-request-id: "), "every response has a request id: {head}");
    assert!(head.to_ascii_lowercase().contains("\r\ntraceparent: 00-"), "and a trace context: {head}");
    let content_type = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type:").map(|v| v.trim().to_owned()))
        .unwrap_or_default();
    (status, content_type, serde_json::from_str(body).unwrap_or(Value::Null), head.to_ascii_lowercase())
}

/// The platform behind the gateway.
pub struct Platform {
    /// Holds the store's files.
    pub dir: tempfile::TempDir,
    /// The store.
    pub store: Arc<SqliteStore>,
    /// The host the services run in.
    pub host: Arc<Host<SqliteStore>>,
    /// Routing's gRPC address.
    pub routing_addr: SocketAddr,
    /// Who records.
    pub context: EventContext,
}

impl Platform {
    /// Starts it.
    pub async fn start() -> Platform {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
        let context = EventContext::new("test");
        // Eight H100 for admission to find.
        let resources: Repository<Resource, SqliteStore> = Repository::new(Arc::clone(&store));
        for n in 0..8 {
            let id = ResourceId::new(format!("gpu-h1-{n}")).expect("id");
            let kind = ResourceKind::Gpu {
                model: "h100-sxm-80gb".into(),
                host: "h1".into(),
                memory_mib: 81_559,
                power_limit: Power::from_watts(700),
                uuid: Some(format!("GPU-{n}")),
            };
            let spec = ResourceSpec { site: SiteId::new("tx-south-1").expect("site"), rack: None, kind };
            let at = Timestamp::from_unix_micros(hcp_runtime::clock::now_micros());
            resources
                .execute(id.as_str(), ResourceCommand::Register { id: id.clone(), spec, at }, &context)
                .await
                .expect("gpu");
        }
        let config = Config::load(&LoadOptions::default()).expect("defaults");
        let host = Host::new(Arc::clone(&store), Metrics::new(), "test");
        let (routing_addr, _) =
            hcp_routing::start(&host, &config, "127.0.0.1:0".parse().expect("addr")).await.expect("routing");
        let channel = hcp_proto::client::connect(&format!("http://{routing_addr}")).await.expect("connect");
        let mut tenants = pb::tenants_client::TenantsClient::new(channel.clone());
        for id in ["acme", "globex"] {
            let create = pb::CreateTenantRequest {
                id: id.into(),
                name: String::new(),
                nominal_gpus: 8,
                borrowing_limit_gpus: 0,
                weight: 1,
            };
            tenants.create(create).await.expect("tenant");
        }
        Platform { dir, store, host, routing_addr, context }
    }
}
