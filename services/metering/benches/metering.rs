//! Metering's figures, on the embedded SQLite store and a real Kafka-protocol broker
//! (tansu, `scripts/ensure-tansu.sh`):
//! - metering lag: from a workload's closing event appended to its usage record appended
//!   by the running recorder, p50 and p99 over one workload at a time (aim ≤ 100 ms p99),
//!   beside the raw engine: the store's own append-to-subscriber delivery, same run;
//! - usage records to Kafka per second: the publisher reactor over records already in
//!   the log, every one acknowledged (its checkpoint past them), beside a raw rdkafka
//!   producer sending the same values with the same settings to the same broker, same
//!   run (aim ≥ 0.8x).

#[path = "../tests/common/mod.rs"]
mod common;

use hcp_domain::codec::encode_workload_event;
use hcp_domain::ids::WorkloadId;
use hcp_domain::units::Timestamp;
use hcp_domain::workload::WorkloadEvent as E;
use hcp_e2e::kafka::Broker;
use hcp_eventstore::sqlite::SqliteStore;
use hcp_eventstore::{EventStore, ExpectedVersion, Position, RecordedEvent};
use hcp_metering::publisher::Publisher;
use hcp_proto::v1 as pb;
use hcp_runtime::config::KafkaConfig;
use hcp_runtime::{Durability, EventContext, Host, Metrics};
use prost::Message;
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::sync::Arc;
use std::time::{Duration, Instant};

const LAG_SAMPLES: usize = 300;
const KAFKA_RECORDS: usize = 20_000;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// Waits on `sub` for the first event that `found` accepts.
async fn until(sub: &mut hcp_eventstore::Subscription, found: impl Fn(&RecordedEvent) -> bool) {
    let wait = async {
        loop {
            let batch = sub.next_batch().await.expect("subscription open").expect("batch");
            if batch.iter().any(&found) {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait).await.expect("the event within 10 s");
}

async fn lag(store: &Arc<SqliteStore>) -> (Vec<f64>, Vec<f64>) {
    let host = Host::new(Arc::clone(store), Metrics::new(), "bench");
    hcp_metering::start::recorder(&host, hcp_billing::period::Cadence::Month);
    let now = Timestamp::from_unix_micros(hcp_runtime::clock::now_micros());
    let (mut ours, mut raw) = (Vec::new(), Vec::new());
    for n in 0..LAG_SAMPLES {
        let id = uuid::Uuid::now_v7().to_string();
        let start = [
            E::Submitted { id: WorkloadId::parse(&id).expect("id"), spec: common::spec("acme", 8), at: now },
            E::Queued { attempt: 1, at: now },
            // A minute of GPU time (a span of none is not recorded).
            E::Started { endpoint: None, at: Timestamp::from_unix_micros(now.unix_micros() - 60_000_000) },
        ];
        common::append(store.as_ref(), &id, 0, &start).await;
        let mut sub = store.subscribe(store.head().await.expect("head") + 1).await.expect("subscribe");
        let (kind, payload) = encode_workload_event(&E::Completed { at: now });
        let event = EventContext::new("bench").event(0, kind, payload, now.unix_micros());
        let closing = event.id;
        let sent = Instant::now();
        store.append(&format!("workload-{id}"), ExpectedVersion::Exact(3), vec![event]).await.expect("append");
        until(&mut sub, |e| e.stream == "usage-acme" && e.metadata.causation_id == Some(closing)).await;
        ours.push(sent.elapsed().as_secs_f64() * 1e3);

        // The raw engine: an append seen by a subscriber.
        let mut sub = store.subscribe(store.head().await.expect("head") + 1).await.expect("subscribe");
        let event = EventContext::new("bench").event(0, "bench.ping", n.to_le_bytes().to_vec(), now.unix_micros());
        let ping = event.id;
        let sent = Instant::now();
        store.append("bench-ping", ExpectedVersion::Any, vec![event]).await.expect("append");
        until(&mut sub, |e| e.id == ping).await;
        raw.push(sent.elapsed().as_secs_f64() * 1e3);
    }
    host.shutdown(Duration::from_secs(5)).await.expect("shutdown");
    ours.sort_by(f64::total_cmp);
    raw.sort_by(f64::total_cmp);
    (ours, raw)
}

/// `KAFKA_RECORDS` usage records in the log, over ten tenants; answers the head.
async fn usage_records(store: &SqliteStore) -> Position {
    let context = EventContext::new("bench");
    for tenant in 0..10 {
        for chunk in 0..KAFKA_RECORDS / 10 / 500 {
            let events = (0..500)
                .map(|i| {
                    let record = pb::UsageRecorded {
                        workload_id: uuid::Uuid::now_v7().to_string(),
                        tenant: format!("tenant-{tenant}"),
                        gpu_model: "h100-sxm-80gb".into(),
                        site: "tx-south-1".into(),
                        gpus: 8,
                        from_unix_micros: 1_793_577_600_000_000 + i,
                        to_unix_micros: 1_793_581_200_000_000 + i,
                        gpu_micros: 8 * 3_600_000_000,
                        closed_by: "workload.completed".into(),
                    };
                    context.event(0, hcp_metering::USAGE_RECORDED, record.encode_to_vec(), record.to_unix_micros)
                })
                .collect();
            let stream = format!("usage-tenant-{tenant}");
            let expected =
                if chunk == 0 { ExpectedVersion::NoStream } else { ExpectedVersion::Exact(chunk as u64 * 500) };
            store.append(&stream, expected, events).await.expect("append");
        }
    }
    store.head().await.expect("head")
}

async fn ours(store: &Arc<SqliteStore>, broker: &str, head: Position) -> f64 {
    let host = Host::new(Arc::clone(store), Metrics::new(), "bench");
    let config = KafkaConfig { brokers: broker.to_owned(), topic: "bench-ours".into(), partitions: 3 };
    let publisher = Publisher::new(&config).expect("publisher");
    let started = Instant::now();
    host.reactor("bench", Arc::new(publisher), Durability::Checkpointed);
    // Every record acknowledged: the checkpoint at the head (it trails by a batch, so
    // ticks the publisher passes by move it along).
    let tick = EventContext::new("bench");
    while store.load_checkpoint(hcp_metering::publisher::PUBLISHER).await.expect("checkpoint").is_none_or(|c| c < head)
    {
        let event = tick.event(0, "bench.tick", Vec::new(), 0);
        store.append("bench-ticks", ExpectedVersion::Any, vec![event]).await.expect("tick");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let rate = KAFKA_RECORDS as f64 / started.elapsed().as_secs_f64();
    host.shutdown(Duration::from_secs(5)).await.expect("shutdown");
    rate
}

async fn raw(store: &SqliteStore, broker: &str) -> f64 {
    // The same values, made before the clock starts.
    let events = store.read_all(0, usize::MAX).await.expect("read");
    let values: Vec<(String, String, String)> = events
        .iter()
        .filter(|e| e.event_type == hcp_metering::USAGE_RECORDED)
        .map(|e| {
            let value = hcp_metering::publisher::cloudevent(e).expect("cloudevent").to_string();
            (e.stream.trim_start_matches("usage-").to_owned(), e.id.to_string(), value)
        })
        .collect();
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", broker)
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .create()
        .expect("producer");
    // The topic, made before the clock starts (ours makes its own once, inside its time).
    let admin: rdkafka::admin::AdminClient<_> =
        ClientConfig::new().set("bootstrap.servers", broker).create().expect("admin");
    let topic = rdkafka::admin::NewTopic::new("bench-raw", 3, rdkafka::admin::TopicReplication::Fixed(1));
    admin.create_topics([&topic], &rdkafka::admin::AdminOptions::new()).await.expect("create topic");
    let started = Instant::now();
    let mut pending = Vec::with_capacity(values.len());
    for (key, id, value) in &values {
        // The same message as ours: key, value and headers.
        let headers = rdkafka::message::OwnedHeaders::new()
            .insert(rdkafka::message::Header { key: "hcp-record-id", value: Some(id.as_str()) })
            .insert(rdkafka::message::Header {
                key: "content-type",
                value: Some("application/cloudevents+json; charset=UTF-8"),
            });
        let record = FutureRecord::to("bench-raw").key(key).payload(value).headers(headers);
        pending.push(producer.send_result(record).map_err(|(e, _)| e).expect("queued"));
    }
    for delivery in pending {
        delivery.await.expect("delivered").map_err(|(e, _)| e).expect("acknowledged");
    }
    values.len() as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    let (ours_ms, raw_ms) = lag(&store).await;
    let (p50, p99) = (percentile(&ours_ms, 0.5), percentile(&ours_ms, 0.99));
    let (raw50, raw99) = (percentile(&raw_ms, 0.5), percentile(&raw_ms, 0.99));
    println!("bench: metering_lag_p50 = {p50:.2} ms");
    println!("bench: metering_lag_p99 = {p99:.2} ms");
    println!("bench: sqlite_append_to_subscriber_p50 = {raw50:.2} ms");
    println!("bench: sqlite_append_to_subscriber_p99 = {raw99:.2} ms");

    let broker = Broker::start(22193);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    let head = usage_records(&store).await;
    let raw_rate = raw(&store, &broker.addr).await;
    let ours_rate = ours(&store, &broker.addr, head).await;
    println!("bench: kafka_usage_records_per_s = {ours_rate:.0} records/s");
    println!("bench: kafka_raw_rdkafka_per_s = {raw_rate:.0} records/s");
    println!("bench: kafka_usage_vs_raw_rdkafka = {:.2} x", ours_rate / raw_rate);
}
