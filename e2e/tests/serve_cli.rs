//! The services as separate processes on the machine's JetStream (a private namespace):
//! the simulator, `hcp serve discovery`, `hcp serve pricing` and `hcp serve
//! optimization`. Miners are discovered, prices replayed and plans recorded, each plan
//! caused by its price event and on its trace. Optimization is killed (SIGKILL) mid-stream
//! and started again: it resumes from its checkpoint, and every interval is planned once.
//! Each `hcp serve` exits 0 on SIGTERM within its grace period, its checkpoint committed.

use hcp_e2e::{Proc, eventually, hcp_bin, simulator_bin};
use hcp_eventstore::{AnyStore, Direction, EventStore, RecordedEvent};
use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

fn serve(config: &std::path::Path, service: &str) -> Proc {
    let mut command = Command::new(hcp_bin());
    command.arg("--config").arg(config).args(["serve", service]).env("HCP_LOG", "warn");
    let mut proc = Proc::spawn(service, command);
    proc.wait_for_line(&format!("ready: {service}"));
    proc
}

async fn events_of(store: &AnyStore, stream: &str, event_type: &str) -> Vec<RecordedEvent> {
    let all = store.read_stream(stream, 1, Direction::Forwards, usize::MAX).await.expect("read");
    all.into_iter().filter(|e| e.event_type == event_type).collect()
}

const PLANNER: &str = "optimization-planner";

/// The interval start of a `price.observed` payload.
fn interval_start(payload: &[u8]) -> i64 {
    let json = hcp_proto::descriptors::payload_to_json("price.observed", payload).expect("a price");
    json["intervalStartUnixMicros"].as_str().and_then(|s| s.parse().ok()).expect("an interval start")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_apart_on_jetstream_plan_every_price_once_across_a_kill() {
    let server = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let url = format!("{server}?namespace=e2eserve{}", uuid::Uuid::new_v4().simple());
    let store = AnyStore::open(&url)
        .await
        .unwrap_or_else(|e| panic!("NATS JetStream is required at {server} ({e}); `make nats` starts one"));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("hcp.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[store]
url = "{url}"
[shutdown]
grace_seconds = 10.0
[services.discovery]
grpc = "127.0.0.1:0"
http = "127.0.0.1:0"
[services.pricing]
grpc = "127.0.0.1:0"
http = "127.0.0.1:0"
[services.optimization]
grpc = "127.0.0.1:0"
http = "127.0.0.1:0"
[discovery]
poll_seconds = 0.5
[[discovery.targets]]
site = "tx-south-1"
first = "127.241.0.1"
last = "127.241.0.12"
[pricing]
speed = 9000.0
[[sites]]
id = "tx-south-1"
cap_kw = 100000.0
"#
        ),
    )
    .expect("write config");

    let mut simulator = {
        let mut command = Command::new(simulator_bin());
        command.args(["--sites", "1", "--miners-per-site", "12", "--first-octet", "241"]);
        Proc::spawn("simulator", command)
    };
    simulator.wait_for_line("ready:");
    let mut discovery = serve(&config, "discovery");
    let mut optimization = serve(&config, "optimization");
    let mut pricing = serve(&config, "pricing");

    let plans = || async { events_of(&store, "plans-tx-south-1", "allocation.planned").await };
    eventually("plans are recorded", Duration::from_secs(30), || async { plans().await.len() >= 5 }).await;
    let registered = store.read_all(0, usize::MAX).await.expect("log");
    assert_eq!(registered.iter().filter(|e| e.event_type == "resource.registered").count(), 12, "every miner found");

    // A plan is caused by its price event and carries that event's trace.
    let prices: HashMap<uuid::Uuid, RecordedEvent> =
        events_of(&store, "prices-tx-south-1", "price.observed").await.into_iter().map(|e| (e.id, e)).collect();
    let plan = plans().await.pop().expect("a plan");
    let cause = &prices[&plan.metadata.causation_id.expect("a cause")];
    assert_eq!(plan.metadata.correlation_id, cause.metadata.correlation_id, "one trace from price to plan");
    assert!(cause.metadata.correlation_id.is_some());
    assert_eq!(plan.metadata.actor.as_deref(), Some(PLANNER));

    // SIGKILL mid-stream; prices keep coming; a new optimizer resumes from the checkpoint.
    drop(optimization);
    let before = plans().await.len();
    tokio::time::sleep(Duration::from_millis(800)).await;
    optimization = serve(&config, "optimization");
    eventually("planning resumes", Duration::from_secs(30), || async { plans().await.len() > before + 5 }).await;

    // Stop pricing (exit 0) and start it again: it resumes after the last interval in
    // the log at once (no replay of what is recorded, no gap, no repeat).
    let (status, took) = pricing.terminate();
    assert!(status.success(), "pricing: {status} after {took:?}:\n{}", pricing.output());
    let recorded = events_of(&store, "prices-tx-south-1", "price.observed").await.len();
    let restarted = Instant::now();
    pricing = serve(&config, "pricing");
    eventually("prices resume", Duration::from_secs(10), || async {
        events_of(&store, "prices-tx-south-1", "price.observed").await.len() > recorded + 3
    })
    .await;
    assert!(restarted.elapsed() < Duration::from_secs(10), "resumed in {:?}", restarted.elapsed());
    let starts: Vec<i64> = events_of(&store, "prices-tx-south-1", "price.observed")
        .await
        .iter()
        .map(|e| interval_start(&e.payload))
        .collect();
    assert!(starts.windows(2).all(|w| w[1] - w[0] == 900_000_000), "every interval once, in order, no gap");

    // Stop pricing again, let optimization catch up, then stop it and discovery.
    let (status, took) = pricing.terminate();
    assert!(status.success(), "pricing: {status} after {took:?}:\n{}", pricing.output());
    let last_price = events_of(&store, "prices-tx-south-1", "price.observed").await.pop().expect("prices").position;
    eventually("optimization handles the last price", Duration::from_secs(30), || async {
        store.load_checkpoint(PLANNER).await.expect("checkpoint").is_some_and(|p| p >= last_price)
    })
    .await;
    let (status, took) = optimization.terminate();
    assert!(status.success() && took < Duration::from_secs(10), "optimization: {status} after {took:?}");
    let (status, took) = discovery.terminate();
    assert!(status.success() && took < Duration::from_secs(10), "discovery: {status} after {took:?}");
    let checkpoint = store.load_checkpoint(PLANNER).await.expect("checkpoint").expect("committed");
    assert!(checkpoint >= last_price, "checkpoint {checkpoint} before the last price {last_price}");

    // Every price from the first one planned is planned exactly once: none twice, none missed.
    let mut planned: HashMap<uuid::Uuid, usize> = HashMap::new();
    for p in plans().await {
        *planned.entry(p.metadata.causation_id.expect("cause")).or_default() += 1;
    }
    let all_prices = events_of(&store, "prices-tx-south-1", "price.observed").await;
    let first = all_prices.iter().position(|p| planned.contains_key(&p.id)).expect("some price planned");
    let counts: Vec<usize> = all_prices[first..].iter().map(|p| planned.get(&p.id).copied().unwrap_or(0)).collect();
    assert!(counts.len() > 10, "{counts:?}");
    assert!(counts.iter().all(|&n| n == 1), "each price planned once: {counts:?}");
    let stopped = store.read_stream("service-optimization", u64::MAX, Direction::Backwards, 1).await.expect("read");
    assert_eq!(stopped[0].event_type, "service.stopped", "a clean stop is announced");

    drop(simulator);
    let AnyStore::JetStream(js) = store else { unreachable!("a nats:// URL opens JetStream") };
    js.destroy().await.expect("delete the test namespace");
}
