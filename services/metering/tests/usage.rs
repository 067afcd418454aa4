//! Metering on a real SQLite store: a workload's lifecycle (started, paused, preempted,
//! started again, completed) becomes usage records on its tenant's stream, with the GPU
//! time the events give, the second span cut at the end of its hourly period; handling
//! the whole log again (the checkpoint lost, as after a crash before it was saved)
//! records nothing twice.

mod common;

use hcp_billing::period::Cadence;
use hcp_domain::ids::WorkloadId;
use hcp_domain::units::Timestamp;
use hcp_domain::workload::WorkloadEvent as E;
use hcp_eventstore::sqlite::SqliteStore;
use hcp_eventstore::{Direction, EventStore};
use hcp_metering::{CONSUMER, usage_stream};
use hcp_proto::v1 as pb;
use hcp_runtime::{Host, Metrics};
use prost::Message;
use std::sync::Arc;
use std::time::Duration;

fn t(seconds: i64) -> Timestamp {
    Timestamp::from_unix_secs(1_800_000_000 + seconds)
}

async fn lifecycle(store: &SqliteStore, id: &str) {
    let events = [
        E::Submitted { id: WorkloadId::parse(id).expect("id"), spec: common::spec("acme", 4), at: t(0) },
        E::Queued { attempt: 1, at: t(0) },
        E::Started { endpoint: None, at: t(10) },
        E::Paused { reason: String::new(), at: t(70) },
        E::Resumed { at: t(130) },
        E::Preempted { reason: "realtime".into(), at: t(190) },
        E::Queued { attempt: 2, at: t(190) },
        E::Started { endpoint: None, at: t(250) },
        E::Completed { at: t(3850) },
    ];
    common::append(store, id, 0, &events).await;
}

async fn usage(store: &SqliteStore) -> Vec<pb::UsageRecorded> {
    let events = store.read_stream(&usage_stream("acme"), 1, Direction::Forwards, 100).await.expect("read");
    events.iter().map(|e| pb::UsageRecorded::decode(e.payload.as_ref()).expect("decode")).collect()
}

async fn meter_until(store: &Arc<SqliteStore>, records: usize) {
    let host = Host::new(Arc::clone(store), Metrics::new(), "test");
    let watch = hcp_metering::start::recorder(&host, Cadence::Hour);
    let head = store.head().await.expect("head");
    tokio::time::timeout(Duration::from_secs(10), watch.caught_up(head)).await.expect("caught up in time");
    assert_eq!(usage(store).await.len(), records);
    host.shutdown(Duration::from_secs(5)).await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lifecycle_becomes_usage_records_exactly_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    let id = "0190a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5b";
    lifecycle(&store, id).await;
    meter_until(&store, 3).await;
    let records = usage(&store).await;
    // 180 s (pause included), then 3,600 s from 08:04:10 cut at 09:00, on 4 GPUs.
    let seconds: Vec<i64> = records.iter().map(|r| r.gpu_micros / 1_000_000).collect();
    assert_eq!(seconds, [4 * 180, 4 * 3350, 4 * 250]);
    let closed: Vec<&str> = records.iter().map(|r| r.closed_by.as_str()).collect();
    assert_eq!(closed, ["workload.preempted", "period.ended", "workload.completed"]);
    assert_eq!(records[1].to_unix_micros, records[2].from_unix_micros);
    assert_eq!((records[1].workload_id.as_str(), records[1].gpu_model.as_str()), (id, "h100-sxm-80gb"));

    // The checkpoint lost: the whole log handled again, nothing recorded twice.
    store.save_checkpoint(CONSUMER, 0).await.expect("reset");
    meter_until(&store, 3).await;
}
