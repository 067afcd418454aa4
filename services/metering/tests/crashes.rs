//! Property: for random lifecycles (pauses, preemptions, migrations, re-queues) of
//! several workloads, interleaved in the log, random crashes of the recorder (the
//! process stopped, its checkpoint anywhere at or behind where it was, as when a crash
//! comes before a commit), and invoices issued at random instants (each closing the
//! usage through the last period due, with spans still open), the usage records are
//! exactly the spans the events give, cut at the ends of 20-second periods: the
//! GPU-seconds billed equal the running time in the events, none missing, none twice,
//! none amended (every event is timed no earlier than the instants invoiced before it
//! was written, as the invoice grace asks); and the invoices bill every record once.

mod common;

use hcp_billing::period::Cadence;
use hcp_billing::usage::Meter;
use hcp_domain::ids::WorkloadId;
use hcp_domain::units::Timestamp;
use hcp_domain::workload::WorkloadEvent as E;
use hcp_eventstore::sqlite::SqliteStore;
use hcp_eventstore::{Direction, EventStore};
use hcp_metering::Ledger;
use hcp_metering::view::Folder;
use hcp_proto::v1 as pb;
use hcp_runtime::config::MeteringConfig;
use hcp_runtime::{Durability, Host, Metrics};
use proptest::prelude::*;
use prost::Message;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// What a workload may do next (what its status does not allow is skipped).
#[derive(Debug, Clone, Copy)]
enum Step {
    Start,
    Pause,
    Resume,
    Migrate,
    Preempt,
    Requeue,
    Finish,
}

fn step() -> impl Strategy<Value = Step> {
    // Weighted to runs that go on across periods (what invoices meet open).
    prop_oneof![
        4 => Just(Step::Start),
        2 => Just(Step::Pause),
        2 => Just(Step::Resume),
        2 => Just(Step::Migrate),
        1 => Just(Step::Preempt),
        1 => Just(Step::Requeue),
        1 => Just(Step::Finish),
    ]
}

/// A workload's events from its steps, `gap` seconds apart from `from`.
fn lifecycle(id: &str, gpus: u32, steps: &[Step], from: i64) -> Vec<E> {
    let t = |n: usize| Timestamp::from_unix_secs(1_793_577_600 + from + 7 * n as i64);
    let mut events = vec![
        E::Submitted { id: WorkloadId::parse(id).expect("id"), spec: common::spec("acme", gpus), at: t(0) },
        E::Queued { attempt: 1, at: t(0) },
    ];
    let mut holding = false;
    for (n, s) in steps.iter().enumerate() {
        let at = t(n + 1);
        let (event, holds) = match (s, holding) {
            (Step::Start, false) => (E::Started { endpoint: None, at }, true),
            (Step::Pause, true) => (E::Paused { reason: String::new(), at }, true),
            (Step::Resume, true) => (E::Resumed { at }, true),
            (Step::Migrate, true) => (E::MigrationStarted { to: Vec::new(), at }, true),
            (Step::Preempt, true) => (E::Preempted { reason: String::new(), at }, false),
            (Step::Requeue, _) => (E::Queued { attempt: 2, at }, false),
            (Step::Finish, _) => {
                events.push(E::Completed { at });
                break;
            }
            _ => continue,
        };
        holding = holds;
        events.push(event);
    }
    // Every workload ends: a span open at the end would be cut at the last invoice's
    // instant, which the spans the events give do not know.
    if !matches!(events.last(), Some(E::Completed { .. })) {
        events.push(E::Completed { at: t(steps.len() + 1) });
    }
    events
}

async fn recorded(store: &SqliteStore) -> Vec<(String, i64, i64, u32)> {
    let events = store.read_stream("usage-acme", 1, Direction::Forwards, usize::MAX).await.expect("read");
    assert!(events.iter().all(|e| e.event_type != hcp_metering::USAGE_AMENDED), "nothing to amend");
    events
        .iter()
        .filter(|e| e.event_type == hcp_metering::USAGE_RECORDED)
        .map(|e| pb::UsageRecorded::decode(e.payload.as_ref()).expect("record"))
        .map(|r| (r.workload_id, r.from_unix_micros, r.to_unix_micros, r.gpus))
        .collect()
}

const PERIODS: Cadence = Cadence::Seconds(20);

/// Metering's view, ledger and recorder until they have handled everything; the ledger
/// issues what is due at `now` (0: nothing); then they stop. Answers the invoices'
/// GPU-microseconds.
async fn invoice_at(store: &Arc<SqliteStore>, now: i64) -> i64 {
    let host = Host::new(Arc::clone(store), Metrics::new(), "test");
    let config = MeteringConfig { period: PERIODS.to_string(), invoice_grace_seconds: 0.0, ..Default::default() };
    let view = Arc::new(Ledger::<SqliteStore>::view(&config).expect("view"));
    let folder = host.reactor("metering", Arc::new(Folder(Arc::clone(&view))), Durability::InMemory);
    let ledger = Ledger::new(Arc::clone(store), config, view, folder.clone()).expect("ledger");
    let recorder = hcp_metering::start::recorder(&host, PERIODS);
    ledger.follow(recorder.clone());
    let settle = || async {
        let head = store.head().await.expect("head");
        for w in [&folder, &recorder] {
            tokio::time::timeout(Duration::from_secs(10), w.caught_up(head)).await.expect("caught up");
        }
    };
    settle().await;
    if now > 0 {
        let round = ledger.issue_due(Timestamp::from_unix_micros(now)).await.expect("issue");
        assert!(round.failed.is_empty(), "{:?}", round.failed);
    }
    settle().await;
    let invoices = ledger.invoices("acme").await.expect("invoices");
    host.shutdown(Duration::from_secs(5)).await.expect("shutdown");
    invoices.iter().flat_map(|i| &i.lines).map(|l| l.gpu_micros).sum()
}

/// Runs the recorder until it has handled everything, then "crashes" it.
async fn run_until_caught_up(store: &Arc<SqliteStore>) {
    let host = Host::new(Arc::clone(store), Metrics::new(), "test");
    let watch = hcp_metering::start::recorder(&host, PERIODS);
    let head = store.head().await.expect("head");
    tokio::time::timeout(Duration::from_secs(10), watch.caught_up(head)).await.expect("caught up");
    host.shutdown(Duration::from_secs(5)).await.expect("shutdown");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn billed_time_is_the_running_time_whatever_the_crashes(
        workloads in prop::collection::vec((1u32..9, prop::collection::vec(step(), 0..14)), 1..5),
        crashes in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0), 0..4),
        invoiced in prop::collection::vec(0.0f64..1.0, 0..8),
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        runtime.block_on(async {
            let dir = tempfile::tempdir().expect("tempdir");
            let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
            // The workloads' lifecycles, and what they bill.
            let mut expected = BTreeSet::new();
            let mut all = Vec::new();
            for (n, (gpus, steps)) in workloads.iter().enumerate() {
                let id = uuid::Uuid::now_v7().to_string();
                let events = lifecycle(&id, *gpus, steps, n as i64 * 3);
                let mut meter = Meter::default();
                for span in events.iter().filter_map(|e| meter.apply(e)).flat_map(|s| PERIODS.records(s)) {
                    expected.insert((id.clone(), span.from.unix_micros(), span.to.unix_micros(), span.gpus));
                }
                all.push((id, events));
            }
            // After everything: the last event's time and a period more.
            let end = all.iter().flat_map(|(_, e)| e.iter()).map(|e| e.at().unix_micros()).max().unwrap_or(0) + 20_000_000;
            // Written a piece at a time, workloads interleaved; the recorder crashing at
            // some of the pieces, its checkpoint then set back by a fraction.
            let pieces = all.iter().map(|(_, e)| e.len()).max().unwrap_or(0);
            let mut written = vec![0u64; all.len()];
            for piece in 0..pieces {
                for (w, (id, events)) in all.iter().enumerate() {
                    if let Some(e) = events.get(piece) {
                        common::append(store.as_ref(), id, written[w], std::slice::from_ref(e)).await;
                        written[w] += 1;
                    }
                }
                for at in &invoiced {
                    if (at * pieces as f64) as usize == piece {
                        // At the earliest time of what is still to be written.
                        let next = all.iter().flat_map(|(_, e)| e.iter().skip(piece + 1)).map(|e| e.at().unix_micros());
                        invoice_at(&store, next.min().unwrap_or(end)).await;
                    }
                }
                for (at, back) in &crashes {
                    if (at * pieces as f64) as usize == piece {
                        run_until_caught_up(&store).await;
                        let checkpoint = store.load_checkpoint(hcp_metering::CONSUMER).await.expect("checkpoint");
                        let behind = (checkpoint.unwrap_or(0) as f64 * back) as u64;
                        store.save_checkpoint(hcp_metering::CONSUMER, behind).await.expect("set back");
                    }
                }
            }
            run_until_caught_up(&store).await;
            let got = recorded(&store).await;
            let unique: BTreeSet<_> = got.iter().cloned().collect();
            assert_eq!(got.len(), unique.len(), "a span recorded twice: {got:?}");
            assert_eq!(unique, expected);
            let total: i64 = got.iter().map(|(_, from, to, gpus)| (to - from) * i64::from(*gpus)).sum();
            assert_eq!(invoice_at(&store, end).await, total, "every record invoiced once");
        });
    }
}
