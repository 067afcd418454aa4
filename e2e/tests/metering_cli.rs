//! Metering as its own process (`hcp serve metering`) on the machine's JetStream, under a
//! load of workloads' lifecycles written to the log, publishing to a real Kafka-protocol
//! broker (tansu, installed by `scripts/ensure-tansu.sh`, started by this test on its
//! own port and SQLite store). Metering is killed (SIGKILL) mid-stream and started
//! again (the broker's own restart is `services/metering/tests/kafka.rs`). Then:
//! - each tenant's usage records are exactly the spans a recomputation from the
//!   workloads' events gives (pauses billed, preemptions not), none missing, none twice;
//! - every invoice issued equals its recomputation from the log by the billing core, to
//!   the micro-dollar, each period invoiced once, all usage invoiced once;
//! - a Kafka consumer finds every record's id, and no two messages with different ids
//!   for one record (a message may come twice, with the same id).

use hcp_billing::books::{self, Issued, Record};
use hcp_billing::invoice;
use hcp_billing::period::{Cadence, Period};
use hcp_billing::ratecard::{Price, RateCard, Tier};
use hcp_billing::usage::{Meter, Span};
use hcp_domain::codec::{decode_workload_event, encode_workload_event};
use hcp_domain::ids::{TenantId, WorkloadId};
use hcp_domain::units::{Money, Timestamp};
use hcp_domain::workload::{WorkloadEvent as E, WorkloadSpec};
use hcp_e2e::kafka::Broker;
use hcp_e2e::platform::{Platform, jetstream_url};
use hcp_e2e::{Proc, eventually};
use hcp_eventstore::{AnyStore, Direction, EventStore, ExpectedVersion};
use hcp_proto::v1 as pb;
use hcp_runtime::EventContext;
use prost::Message as _;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::Command;
use std::time::{Duration, Instant};

const TENANTS: [&str; 3] = ["acme", "globex", "initech"];
const TOPIC: &str = "hcp.usage";
/// The billing periods metering runs with.
const PERIODS: Cadence = Cadence::Seconds(10);

fn spec(tenant: &str, gpus: u32) -> WorkloadSpec {
    WorkloadSpec::example(TenantId::new(tenant).expect("tenant"), gpus)
}

/// Workload `n`'s lifecycle, its times in tenths of a second, within the 4 s before
/// `now` (less than metering's invoice grace: events are timed no earlier than that before
/// they are recorded, as HCP's own services time them when they record them): some
/// paused (billed), some preempted and run again (the wait not billed).
fn lifecycle(n: usize, now: i64) -> Vec<E> {
    let s = |tenths: i64| Timestamp::from_unix_micros(now - 4_000_000 + tenths * 100_000 + (n as i64 % 997) * 1013);
    let id = WorkloadId::parse(&uuid::Uuid::now_v7().to_string()).expect("id");
    let gpus = 1 + (n % 8) as u32;
    let start = (n % 17) as i64;
    let mut events = vec![
        E::Submitted { id, spec: spec(TENANTS[n % TENANTS.len()], gpus), at: s(start) },
        E::Queued { attempt: 1, at: s(start) },
        E::Started { endpoint: None, at: s(start + 1) },
    ];
    match n % 3 {
        0 => events.extend([E::Paused { reason: String::new(), at: s(start + 3) }, E::Resumed { at: s(start + 5) }]),
        1 => events.extend([
            E::Preempted { reason: "realtime".into(), at: s(start + 4) },
            E::Queued { attempt: 2, at: s(start + 4) },
            E::Started { endpoint: None, at: s(start + 7) },
        ]),
        _ => {}
    }
    events.push(E::Completed { at: s(start + 9 + (n % 11) as i64) });
    events
}

async fn write(store: &AnyStore, n: usize, now: i64) {
    let events = lifecycle(n, now);
    let E::Submitted { id, .. } = &events[0] else { unreachable!() };
    let stream = format!("workload-{id}");
    let context = EventContext::new("e2e");
    let batch = events
        .iter()
        .map(|e| {
            let (kind, payload) = encode_workload_event(e);
            context.event(0, kind, payload, e.at().unix_micros())
        })
        .collect();
    store.append(&stream, ExpectedVersion::NoStream, batch).await.expect("append");
}

/// Writes workloads `from..to` over about `seconds`.
async fn load(store: &AnyStore, from: usize, to: usize, seconds: f64) {
    let pause = Duration::from_secs_f64(seconds / (to - from) as f64 * 10.0);
    for chunk in (from..to).collect::<Vec<_>>().chunks(10) {
        let now = hcp_runtime::clock::now_micros();
        futures_util::future::join_all(chunk.iter().map(|n| write(store, *n, now))).await;
        tokio::time::sleep(pause).await;
    }
}

fn kill9(proc: &mut Proc) {
    let pid = proc.child.id().to_string();
    assert!(Command::new("kill").args(["-KILL", &pid]).status().expect("kill").success());
    proc.child.wait().expect("wait");
}

/// Each tenant's spans as the workloads' events give them, cut at the periods' ends:
/// (workload, from, to, gpus).
async fn recomputed(store: &AnyStore) -> BTreeMap<String, BTreeSet<(String, i64, i64, u32)>> {
    let mut out: BTreeMap<String, BTreeSet<_>> = BTreeMap::new();
    let mut from = 0;
    let mut meters: HashMap<String, (String, Meter)> = HashMap::new();
    loop {
        let batch = store.read_all(from, 1000).await.expect("read all");
        let Some(last) = batch.last().map(|e| e.position) else { break };
        for e in batch.iter().filter(|e| e.stream.starts_with("workload-")) {
            let at = Timestamp::from_unix_micros(e.metadata.time_unix_micros);
            let event = decode_workload_event(&e.event_type, &e.payload, at).expect("decode");
            if let E::Submitted { spec, .. } = &event {
                meters.insert(e.stream.clone(), (spec.tenant.as_str().to_owned(), Meter::default()));
            }
            let (tenant, meter) = meters.get_mut(&e.stream).expect("submitted first");
            for span in meter.apply(&event).into_iter().flat_map(|s| PERIODS.records(s)) {
                let workload = e.stream.trim_start_matches("workload-").to_owned();
                out.entry(tenant.clone()).or_default().insert((
                    workload,
                    span.from.unix_micros(),
                    span.to.unix_micros(),
                    span.gpus,
                ));
            }
        }
        from = last + 1;
    }
    out
}

/// A tenant's usage records: (event id, version, record).
async fn records(store: &AnyStore, tenant: &str) -> Vec<(String, u64, pb::UsageRecorded)> {
    let events = store.read_stream(&format!("usage-{tenant}"), 1, Direction::Forwards, usize::MAX).await.expect("read");
    events
        .iter()
        .filter(|e| e.event_type == "usage.recorded")
        .map(|e| (e.id.to_string(), e.version, pb::UsageRecorded::decode(e.payload.as_ref()).expect("record")))
        .collect()
}

async fn invoices(store: &AnyStore, tenant: &str) -> Vec<pb::Invoice> {
    let events =
        store.read_stream(&format!("invoice-{tenant}"), 1, Direction::Forwards, usize::MAX).await.expect("read");
    events.iter().map(|e| pb::Invoice::decode(e.payload.as_ref()).expect("invoice")).collect()
}

fn period_of(i: &pb::Invoice) -> Period {
    Period {
        start: Timestamp::from_unix_micros(i.period_start_unix_micros),
        end: Timestamp::from_unix_micros(i.period_end_unix_micros),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metering_killed_mid_stream_bills_and_publishes_every_record_once() {
    let broker = Broker::start(22191);
    let (url, server) = jetstream_url("e2emeter");
    let store = AnyStore::open(&url)
        .await
        .unwrap_or_else(|e| panic!("NATS JetStream is required at {server} ({e}); `make nats` starts one"));
    let metering = format!(
        "period = \"{PERIODS}\"\ninvoice_grace_seconds = 5.0\nissue_every_seconds = 0.3\n\
         [metering.kafka]\nbrokers = \"{}\"\ntopic = \"{TOPIC}\"",
        broker.addr
    );
    let platform = Platform::new(&url, 22151, &[("metering", &metering)]);
    let mut serving = platform.serve("metering");

    // Load, and metering killed in the middle of it, then started again.
    let writer = {
        let store = store.clone();
        tokio::spawn(async move { load(&store, 0, 900, 3.0).await })
    };
    tokio::time::sleep(Duration::from_millis(1200)).await;
    kill9(&mut serving);
    let mut serving = platform.serve("metering");
    writer.await.expect("writer");
    // More load after the restart.
    load(&store, 900, 1500, 2.0).await;

    // Usage: exactly the recomputation, once metering has caught up.
    let expected = recomputed(&store).await;
    let spans: usize = expected.values().map(BTreeSet::len).sum();
    assert!(spans >= 1500 + 500, "every workload ran, a third twice: {spans}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // Usage streams hold usage records only: their versions count them.
        let mut n = 0;
        for t in TENANTS {
            let last = store.read_stream(&format!("usage-{t}"), u64::MAX, Direction::Backwards, 1).await.expect("read");
            n += last.first().map_or(0, |e| e.version as usize);
        }
        if n >= spans {
            break;
        }
        assert!(Instant::now() < deadline, "{n} of {spans} spans recorded in time; metering:\n{}", serving.output());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let mut ids = BTreeMap::new();
    for tenant in TENANTS {
        let recorded = records(&store, tenant).await;
        let got: Vec<_> = recorded
            .iter()
            .map(|(_, _, r)| (r.workload_id.clone(), r.from_unix_micros, r.to_unix_micros, r.gpus))
            .collect();
        let set: BTreeSet<_> = got.iter().cloned().collect();
        assert_eq!(got.len(), set.len(), "{tenant}: a span recorded twice");
        assert_eq!(set, expected[tenant], "{tenant}: the records are the recomputation");
        for (id, _, r) in recorded {
            ids.insert(id, (r.workload_id, r.from_unix_micros));
        }
    }

    // Invoices: every span billed (the last period ends, its grace passes, it is issued),
    // each invoice equal to the billing core's recomputation from the log.
    let card = RateCard {
        prices: vec![Price {
            model: "*".into(),
            tiers: vec![Tier { up_to_gpu_hours: None, per_gpu_hour: Money::from_micros(2_500_000) }],
        }],
        commitment_discount_bps: 0,
        tax_bps: 0,
    };
    let cadence = PERIODS;
    for tenant in TENANTS {
        let recorded = records(&store, tenant).await;
        let total: i64 = recorded.iter().map(|(_, _, r)| r.gpu_micros).sum();
        eventually(&format!("{tenant}'s usage all invoiced"), Duration::from_secs(40), || async {
            let billed: i64 = invoices(&store, tenant).await.iter().flat_map(|i| &i.lines).map(|l| l.gpu_micros).sum();
            billed == total
        })
        .await;
        let books: Vec<Record> = recorded
            .iter()
            .map(|(_, version, r)| {
                let span = Span {
                    from: Timestamp::from_unix_micros(r.from_unix_micros),
                    to: Timestamp::from_unix_micros(r.to_unix_micros),
                    gpus: r.gpus,
                };
                Record::new(*version, r.gpu_model.as_str(), span)
            })
            .collect();
        let issued = invoices(&store, tenant).await;
        let periods: BTreeSet<i64> = issued.iter().map(|i| i.period_start_unix_micros).collect();
        assert_eq!(periods.len(), issued.len(), "{tenant}: a period invoiced twice");
        let mut before: Vec<Issued> = Vec::new();
        for i in &issued {
            let draft = books::draft(cadence, &books, &before, period_of(i), i.usage_through_version, &[]);
            let again = invoice::invoice(&card, period_of(i), &draft).expect("recompute");
            let lines: Vec<i64> = i.lines.iter().map(|l| l.amount_usd_micros).collect();
            let again_lines: Vec<i64> = again.lines.iter().map(|l| l.amount.micros()).collect();
            assert_eq!((lines, i.total_usd_micros), (again_lines, again.total.micros()), "{tenant} {}", i.id);
            before.push(Issued { period: period_of(i), through: i.usage_through_version });
        }
    }

    // Kafka: every record's id, and one id per record.
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &broker.addr)
        .set("group.id", format!("e2e-{}", uuid::Uuid::new_v4().simple()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[TOPIC]).expect("subscribe");
    let mut seen: HashMap<String, (String, i64)> = HashMap::new();
    let mut messages = 0;
    let mut errors = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.len() < ids.len() && Instant::now() < deadline {
        let Some(message) = consumer.poll(Duration::from_millis(200)) else { continue };
        // Transient client states (a broker connection down a moment) are reported as errors.
        let message = match message {
            Ok(message) => message,
            Err(e) => {
                errors.push(e.to_string());
                continue;
            }
        };
        messages += 1;
        let headers = message.headers().expect("headers");
        let id = headers
            .iter()
            .find(|h| h.key == "hcp-record-id")
            .and_then(|h| h.value)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .expect("the record id header");
        let value: serde_json::Value = serde_json::from_slice(message.payload().expect("a value")).expect("JSON");
        assert_eq!((value["specversion"].as_str(), value["id"].as_str()), (Some("1.0"), Some(id.as_str())), "{value}");
        let key = String::from_utf8_lossy(message.key().expect("a key")).into_owned();
        assert_eq!(value["data"]["tenant"].as_str(), Some(key.as_str()), "keyed by tenant: {value}");
        let record = (
            value["data"]["workloadId"].as_str().expect("workload").to_owned(),
            value["data"]["fromUnixMicros"].as_str().and_then(|f| f.parse().ok()).expect("from"),
        );
        seen.insert(id, record);
    }
    let missing: Vec<_> = ids.keys().filter(|id| !seen.contains_key(*id)).take(5).collect();
    assert!(
        missing.is_empty(),
        "{} of {} records not on Kafka, e.g. {missing:?} ({messages} messages; consumer errors {errors:?}); tansu:\n{}",
        ids.len() - seen.len().min(ids.len()),
        ids.len(),
        broker.output()
    );
    let per_record: BTreeSet<_> = seen.values().collect();
    assert_eq!(per_record.len(), seen.len(), "two ids for one record");
    assert!(seen.keys().all(|id| ids.contains_key(id)), "an id that is no record's");
    eprintln!("{} records, {messages} messages (duplicates carry the same id)", ids.len());
    let (status, _) = serving.terminate();
    assert!(status.success(), "metering stops cleanly: {}", serving.output());
}
