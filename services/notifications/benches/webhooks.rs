//! The webhook figures, on the embedded SQLite store and a local receiver (axum):
//! - deliveries per second: notifications raised for two tenants with two endpoints each,
//!   from the first raised to the last delivery received (each scheduled, signed, POSTed
//!   and its attempt recorded as an event; aim ≥ 2,000/s; Svix's paid tier caps at 800/s);
//! - what an endpoint that hangs adds to another tenant's deliveries: the p50 and p99 from
//!   raising a notification to receiving it, for a tenant whose endpoint answers, while a
//!   second tenant gets as many notifications, its endpoint answering (the control) and
//!   then never answering (aim: no difference beyond the noise).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use hcp_eventstore::sqlite::SqliteStore;
use hcp_eventstore::{EventStore, ExpectedVersion};
use hcp_notifications::keys::Keys;
use hcp_notifications::rules::notification;
use hcp_proto::v1 as pb;
use hcp_proto::v1::notifications_client::NotificationsClient;
use hcp_runtime::config::NotificationsConfig;
use hcp_runtime::{EventContext, Host, Metrics};
use prost::Message;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const THROUGHPUT: usize = 2_500;
const PACED: usize = 300;

/// What the receiver got: `<path>/<webhook id>` → when.
type Got = Arc<Mutex<HashMap<String, Instant>>>;

async fn receive(State(got): State<Got>, Path(path): Path<String>, headers: HeaderMap) -> StatusCode {
    if path == "hang" {
        tokio::time::sleep(Duration::from_secs(600)).await;
    }
    let id = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    // One notification goes to each endpoint of its tenant with the same webhook id.
    got.lock().expect("got").insert(format!("{path}/{id}"), Instant::now());
    StatusCode::NO_CONTENT
}

async fn receiver() -> (String, Got) {
    let got: Got = Arc::default();
    let app = Router::new().route("/{path}", axum::routing::post(receive)).with_state(Arc::clone(&got));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    (format!("http://{addr}"), got)
}

struct Platform {
    host: Arc<Host<SqliteStore>>,
    store: Arc<SqliteStore>,
    client: NotificationsClient<tonic::transport::Channel>,
    _dir: tempfile::TempDir,
}

async fn platform() -> Platform {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    let host = Host::new(Arc::clone(&store), Metrics::new(), "bench");
    let config = NotificationsConfig { timeout_seconds: 30.0, ..NotificationsConfig::default() };
    let keys = Keys::new(dir.path().join("keys"));
    let addr =
        hcp_notifications::start(&host, &config, keys, "127.0.0.1:0".parse().expect("addr")).await.expect("start");
    let channel = hcp_proto::client::connect(&format!("http://{addr}")).await.expect("connect");
    Platform { host, store, client: NotificationsClient::new(channel), _dir: dir }
}

impl Platform {
    async fn endpoint(&mut self, tenant: &str, url: String) {
        let request = pb::CreateEndpointRequest { tenant: tenant.into(), url, ..Default::default() };
        self.client.create_endpoint(request).await.expect("endpoint");
    }

    /// Raises a notification for `tenant`; answers its webhook id.
    async fn raise(&self, tenant: &str, n: usize) -> String {
        let context = EventContext::new("bench").with_tenant(tenant);
        let now = hcp_runtime::clock::now_micros();
        let data = serde_json::json!({"workload": format!("w-{n}"), "reason": "exit 1"});
        let event = notification(&context, now, tenant, "workload.failed", &format!("w-{n}"), data, "");
        let id = pb::Notification::decode(event.payload.as_ref()).expect("notification").id;
        self.store.append(&format!("notify-{tenant}"), ExpectedVersion::Any, vec![event]).await.expect("raise");
        id
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// Raises `PACED` notifications for `b` (and as many for `a` when given), one every 5 ms;
/// answers `b`'s latencies from raising to receiving, sorted, in ms.
async fn paced(p: &Platform, got: &Got, a: Option<&str>, b: &str) -> Vec<f64> {
    let mut raised = Vec::new();
    for n in 0..PACED {
        if let Some(a) = a {
            p.raise(a, n).await;
        }
        raised.push((format!("{b}/{}", p.raise(b, n).await), Instant::now()));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let latencies: Option<Vec<f64>> = {
            let g = got.lock().expect("got");
            raised.iter().map(|(id, at)| g.get(id).map(|t| t.duration_since(*at).as_secs_f64() * 1e3)).collect()
        };
        if let Some(mut ms) = latencies {
            ms.sort_by(f64::total_cmp);
            return ms;
        }
        assert!(Instant::now() < deadline, "not every delivery arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (url, got) = receiver().await;

    // Throughput: two tenants, two endpoints each.
    let mut p = platform().await;
    for tenant in ["acme", "globex"] {
        for path in ["a", "b"] {
            p.endpoint(tenant, format!("{url}/{tenant}-{path}")).await;
        }
    }
    let started = Instant::now();
    for n in 0..THROUGHPUT / 4 {
        p.raise("acme", n).await;
        p.raise("globex", n).await;
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while got.lock().expect("got").len() < THROUGHPUT {
        assert!(Instant::now() < deadline, "{} of {THROUGHPUT} delivered", got.lock().expect("got").len());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let rate = THROUGHPUT as f64 / started.elapsed().as_secs_f64();
    println!("bench: webhook_deliveries_per_s = {rate:.0} deliveries/s");
    p.host.shutdown(Duration::from_secs(5)).await.expect("shutdown");

    // Another tenant's hanging endpoint.
    // The control: the same load, the other tenant's endpoint answering.
    let mut p = platform().await;
    p.endpoint("calm", format!("{url}/calm")).await;
    p.endpoint("busy", format!("{url}/busy")).await;
    p.endpoint("stuck", format!("{url}/hang")).await;
    let alone = paced(&p, &got, Some("busy"), "calm").await;
    let beside = paced(&p, &got, Some("stuck"), "calm").await;
    println!("bench: webhook_latency_p50_beside_an_answering_endpoint = {:.2} ms", percentile(&alone, 0.5));
    println!("bench: webhook_latency_p99_beside_an_answering_endpoint = {:.2} ms", percentile(&alone, 0.99));
    println!("bench: webhook_latency_p50_beside_a_hanging_endpoint = {:.2} ms", percentile(&beside, 0.5));
    println!("bench: webhook_latency_p99_beside_a_hanging_endpoint = {:.2} ms", percentile(&beside, 0.99));
    println!(
        "bench: webhook_p99_added_by_a_hanging_endpoint = {:.2} ms",
        percentile(&beside, 0.99) - percentile(&alone, 0.99)
    );
    p.host.shutdown(Duration::from_millis(100)).await.ok();
}
