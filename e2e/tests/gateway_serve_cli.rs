//! The gateway in the distributed mode: `hcp serve discovery|routing|execution|gateway`,
//! each its own process on the machine's JetStream (a private namespace), an agent with
//! 8 simulated H100, the first keys made with `hcp keys create` (as on a new deployment).
//! Two tenants submit over REST and follow their workloads on WebSockets: each sees only
//! its own, in lists, by id and on the stream; a workload's history over REST is the
//! CLI's; a revoked key stops working.

use futures_util::StreamExt;
use hcp_e2e::platform::jetstream_url;
use hcp_e2e::{Platform, eventually};
use hcp_eventstore::AnyStore;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// One HTTP/1.1 exchange: (status, body as JSON).
fn http(gateway: &str, method: &str, path: &str, key: &str, body: Option<&Value>) -> (u16, Value) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(gateway).expect("connect to the gateway");
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes()).expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a response");
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("a status");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn follow(gateway: &str, key: &str) -> Socket {
    let mut request = format!("ws://{gateway}/v1/stream").into_client_request().expect("request");
    request.headers_mut().insert("authorization", format!("Bearer {key}").parse().expect("header"));
    tokio_tungstenite::connect_async(request).await.expect("websocket").0
}

/// The workload ids of the events `socket` sends until it is quiet for a second.
async fn seen(socket: &mut Socket) -> Vec<String> {
    let mut ids = Vec::new();
    while let Ok(Some(Ok(message))) = tokio::time::timeout(Duration::from_secs(1), socket.next()).await {
        if let Message::Text(text) = message {
            let event: Value = serde_json::from_str(&text).expect("json");
            if let Some(id) = event["stream"].as_str().and_then(|s| s.strip_prefix("workload-"))
                && !ids.iter().any(|i| i == id)
            {
                ids.push(id.to_owned());
            }
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tenants_over_rest_and_websockets_each_see_their_own() {
    let (url, server) = jetstream_url("e2egw");
    AnyStore::open(&url)
        .await
        .unwrap_or_else(|e| panic!("NATS JetStream is required at {server} ({e}); `make nats` starts one"));
    let p = Platform::new(&url, 22051, &[("routing", "cycle_seconds = 0.5")]);
    let _discovery = p.serve("discovery");
    let _routing = p.serve("routing");
    let _execution = p.serve("execution");
    let _gateway = p.serve("gateway");
    let _agent = p.agent("g1", "tx-south-1", 8, "simulated", &p.token);
    for tenant in ["acme", "globex"] {
        p.ok(&["tenants", "create", tenant, "--nominal-gpus", "4"]);
    }
    let key = |args: &[&str]| p.ok(&[&["keys", "create"], args].concat()).trim().to_owned();
    let acme = key(&["--tenant", "acme", "--role", "developer", "--name", "ci"]);
    let globex = key(&["--tenant", "globex", "--role", "developer"]);
    let gateway = format!("127.0.0.1:{}", p.base_port + 7 + 20);
    // The gateway learns of keys from the log: wait until both work.
    eventually("the keys reach the gateway", Duration::from_secs(10), || async {
        http(&gateway, "GET", "/v1/workloads", &acme, None).0 == 200
            && http(&gateway, "GET", "/v1/workloads", &globex, None).0 == 200
    })
    .await;

    let mut acme_stream = follow(&gateway, &acme).await;
    let mut globex_stream = follow(&gateway, &globex).await;
    let spec = json!({"kind": "WORKLOAD_KIND_BATCH_INFERENCE", "gpuModel": "H100", "gpuCount": 2, "memoryMib": "1024", "maxRunTimeSeconds": "600"});
    let submit = |key: &str| {
        let (status, view) = http(&gateway, "POST", "/v1/workloads", key, Some(&spec));
        assert_eq!(status, 201, "{view}");
        view["workloadId"].as_str().expect("id").to_owned()
    };
    let (a1, a2, g1) = (submit(&acme), submit(&acme), submit(&globex));
    eventually("all three run", Duration::from_secs(20), || async {
        [(&a1, &acme), (&a2, &acme), (&g1, &globex)]
            .iter()
            .all(|(id, key)| http(&gateway, "GET", &format!("/v1/workloads/{id}"), key, None).1["status"] == "running")
    })
    .await;

    // Each sees its own: lists, by id, and on its stream.
    let listed = |key: &str| -> Vec<String> {
        let (_, page) = http(&gateway, "GET", "/v1/workloads", key, None);
        page["workloads"].as_array().map_or_else(Vec::new, |w| {
            w.iter().filter_map(|v| v["workloadId"].as_str().map(ToOwned::to_owned)).collect()
        })
    };
    let mut mine = listed(&acme);
    mine.sort();
    let mut expected = vec![a1.clone(), a2.clone()];
    expected.sort();
    assert_eq!(mine, expected);
    assert_eq!(listed(&globex), [g1.as_str()]);
    assert_eq!(http(&gateway, "GET", &format!("/v1/workloads/{g1}"), &acme, None).0, 404);
    let seen_by_acme = seen(&mut acme_stream).await;
    assert!(
        seen_by_acme.contains(&a1) && seen_by_acme.contains(&a2) && !seen_by_acme.contains(&g1),
        "{seen_by_acme:?}"
    );
    assert_eq!(seen(&mut globex_stream).await, [g1.as_str()]);

    // A workload's history over REST is the CLI's.
    let (_, history) = http(&gateway, "GET", &format!("/v1/workloads/{a1}/history"), &acme, None);
    let cli: Vec<Value> = p
        .ok(&["workloads", "history", &a1, "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(history["events"].as_array().expect("events"), &cli);

    // A revoked key stops working.
    let id = globex.split('_').nth(1).expect("id");
    p.ok(&["keys", "revoke", id]);
    eventually("the revocation reaches the gateway", Duration::from_secs(10), || async {
        http(&gateway, "GET", "/v1/workloads", &globex, None).0 == 401
    })
    .await;
    let listed_keys = p.ok(&["keys", "list"]);
    assert!(listed_keys.contains(id) && listed_keys.contains("inactive"), "{listed_keys}");
}
