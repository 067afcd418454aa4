//! The conformance cases, generic over the backend.

use super::harness::Harness;
use bytes::Bytes;
use hcp_domain::Aggregate;
use hcp_domain::codec::{SCHEMA_VERSION, decode_workload_event, encode_workload_event};
use hcp_domain::ids::{TenantId, WorkloadId};
use hcp_domain::units::Timestamp;
use hcp_domain::workload::{GpuModel, Priority, Workload, WorkloadCommand, WorkloadKind, WorkloadSpec, WorkloadStatus};
use hcp_eventstore::{
    Direction, EventMetadata, EventStore, ExpectedVersion, NewEvent, RecordedEvent, StoreError, Upcasters,
};
use std::collections::HashSet;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use uuid::Uuid;

fn ev(kind: &str, body: &str) -> NewEvent {
    NewEvent::new(kind, 1, Bytes::copy_from_slice(body.as_bytes()))
}

fn evs(n: usize, tag: &str) -> Vec<NewEvent> {
    (0..n).map(|i| ev("test.happened", &format!("{tag}-{i}"))).collect()
}

fn bodies(events: &[RecordedEvent]) -> Vec<String> {
    events.iter().map(|e| String::from_utf8_lossy(&e.payload).into_owned()).collect()
}

/// Appends `appends` batches of `size` events in the background, round-robin over
/// streams `<prefix>-0` .. `<prefix>-<streams - 1>`, with bodies `new<i>-<j>`.
fn spawn_appends<S: EventStore + Send + Sync + 'static>(
    s: S,
    prefix: &'static str,
    streams: usize,
    appends: usize,
    size: usize,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        for i in 0..appends {
            s.append(&format!("{prefix}-{}", i % streams), ExpectedVersion::Any, evs(size, &format!("new{i}")))
                .await
                .expect("append");
        }
    })
}

async fn next_event(sub: &mut hcp_eventstore::Subscription) -> RecordedEvent {
    tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("an event within 10 s")
        .expect("subscription open")
        .expect("no error")
}

pub async fn append_then_read_the_stream_both_ways<H: Harness>(h: &H) {
    let s = h.store();
    let r = s.append("order-1", ExpectedVersion::NoStream, evs(3, "a")).await.expect("append");
    assert_eq!(r.version, 3);
    assert!(r.first_position < r.last_position);
    let r2 = s.append("order-1", ExpectedVersion::Exact(3), evs(2, "b")).await.expect("append");
    assert_eq!(r2.version, 5);
    assert!(r2.first_position > r.last_position);

    let fwd = s.read_stream("order-1", 1, Direction::Forwards, 100).await.expect("read");
    assert_eq!(bodies(&fwd), ["a-0", "a-1", "a-2", "b-0", "b-1"]);
    assert_eq!(fwd.iter().map(|e| e.version).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    assert!(fwd.windows(2).all(|w| w[0].position < w[1].position));
    assert!(fwd.iter().all(|e| e.stream == "order-1"));

    let from3 = s.read_stream("order-1", 3, Direction::Forwards, 2).await.expect("read");
    assert_eq!(bodies(&from3), ["a-2", "b-0"]);
    let back = s.read_stream("order-1", u64::MAX, Direction::Backwards, 2).await.expect("read");
    assert_eq!(bodies(&back), ["b-1", "b-0"]);
    let back4 = s.read_stream("order-1", 4, Direction::Backwards, 10).await.expect("read");
    assert_eq!(back4.iter().map(|e| e.version).collect::<Vec<_>>(), [4, 3, 2, 1]);
    assert!(s.read_stream("never-written", 1, Direction::Forwards, 10).await.expect("read").is_empty());
}

pub async fn expected_version_is_enforced_with_the_actual_version_in_the_conflict<H: Harness>(h: &H) {
    let s = h.store();
    let conflict = |r: Result<_, StoreError>| match r {
        Err(StoreError::Conflict(c)) => c,
        other => panic!("expected a concurrency conflict, got {other:?}"),
    };
    let c = conflict(s.append("acct-1", ExpectedVersion::StreamExists, evs(1, "x")).await);
    assert_eq!((c.actual, c.expected), (0, ExpectedVersion::StreamExists));
    let c = conflict(s.append("acct-1", ExpectedVersion::Exact(2), evs(1, "x")).await);
    assert_eq!(c.actual, 0);

    s.append("acct-1", ExpectedVersion::NoStream, evs(2, "a")).await.expect("first append");
    let c = conflict(s.append("acct-1", ExpectedVersion::NoStream, evs(1, "x")).await);
    assert_eq!(c.actual, 2);
    assert_eq!(c.stream, "acct-1");
    let c = conflict(s.append("acct-1", ExpectedVersion::Exact(1), evs(1, "x")).await);
    assert_eq!(c.actual, 2);
    assert!(c.to_string().contains("expected version 1, actual version 2"), "{c}");

    assert_eq!(s.append("acct-1", ExpectedVersion::StreamExists, evs(1, "b")).await.expect("exists").version, 3);
    assert_eq!(s.append("acct-1", ExpectedVersion::Any, evs(1, "c")).await.expect("any").version, 4);
    assert_eq!(s.append("acct-2", ExpectedVersion::Any, evs(1, "d")).await.expect("any new").version, 1);
    assert_eq!(s.append("acct-3", ExpectedVersion::Exact(0), evs(1, "e")).await.expect("exact 0").version, 1);

    // A second handle (another process) sees the same versions.
    let other = h.reopen(Upcasters::new()).await;
    let c = conflict(other.append("acct-1", ExpectedVersion::Exact(3), evs(1, "x")).await);
    assert_eq!(c.actual, 4);
    other.append("acct-1", ExpectedVersion::Exact(4), evs(1, "f")).await.expect("other writer");
    // ... and the first handle, whose memory is now stale, still cannot overwrite it.
    let c = conflict(s.append("acct-1", ExpectedVersion::Exact(4), evs(1, "x")).await);
    assert_eq!(c.actual, 5);
    let all = s.read_stream("acct-1", 1, Direction::Forwards, 100).await.expect("read");
    assert_eq!(bodies(&all), ["a-0", "a-1", "b-0", "c-0", "f-0"]);
}

pub async fn many_tasks_appending_to_one_stream_each_version_won_exactly_once<H: Harness>(h: &H) {
    const TASKS: usize = 16;
    const EACH: usize = 20;
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        // Half the writers share this handle, half come through their own (as separate processes would).
        let store = if t % 2 == 0 { h.store().clone() } else { h.reopen(Upcasters::new()).await };
        tasks.push(tokio::spawn(async move {
            let mut won = Vec::new();
            let mut conflicts = 0;
            while won.len() < EACH {
                let current = store
                    .read_stream("counter", u64::MAX, Direction::Backwards, 1)
                    .await
                    .expect("read")
                    .first()
                    .map_or(0, |e| e.version);
                let event = ev("test.incremented", &format!("{t}-{}", won.len()));
                match store.append("counter", ExpectedVersion::Exact(current), vec![event]).await {
                    Ok(r) => {
                        assert_eq!(r.version, current + 1);
                        won.push(r.version);
                    }
                    Err(StoreError::Conflict(c)) => {
                        assert!(c.actual > current, "a conflict means someone else moved the stream");
                        conflicts += 1;
                    }
                    Err(e) => panic!("append failed: {e}"),
                }
            }
            (won, conflicts)
        }));
    }
    let mut versions = Vec::new();
    for t in tasks {
        let (won, _conflicts) = t.await.expect("task");
        versions.extend(won);
    }
    versions.sort_unstable();
    assert_eq!(versions, (1..=(TASKS * EACH) as u64).collect::<Vec<_>>(), "each version won exactly once");
    let stored = h.store().read_stream("counter", 1, Direction::Forwards, 10_000).await.expect("read");
    assert_eq!(stored.len(), TASKS * EACH, "nothing lost, nothing extra");
    let unique: HashSet<_> = bodies(&stored).into_iter().collect();
    assert_eq!(unique.len(), TASKS * EACH);
}

pub async fn retrying_an_append_returns_the_original_positions_and_writes_nothing<H: Harness>(h: &H) {
    let s = h.store();
    s.append("other", ExpectedVersion::Any, evs(1, "o")).await.expect("append");
    let batch = evs(3, "p");
    let first = s.append("pay-1", ExpectedVersion::NoStream, batch.clone()).await.expect("append");
    let head = s.head().await.expect("head");

    // The same append again, with the same (now stale) expectation, and with Any.
    assert_eq!(s.append("pay-1", ExpectedVersion::NoStream, batch.clone()).await.expect("retry"), first);
    assert_eq!(s.append("pay-1", ExpectedVersion::Any, batch.clone()).await.expect("retry any"), first);
    // Through another handle, as a client retrying after a crash would.
    let other = h.reopen(Upcasters::new()).await;
    assert_eq!(other.append("pay-1", ExpectedVersion::Exact(0), batch.clone()).await.expect("retry"), first);
    assert_eq!(s.head().await.expect("head"), head, "nothing written");
    assert_eq!(s.read_stream("pay-1", 1, Direction::Forwards, 10).await.expect("read").len(), 3);

    // Reusing an id for a different append is refused.
    let mut mixed = batch.clone();
    mixed[1] = ev("test.happened", "different");
    match s.append("pay-1", ExpectedVersion::Any, mixed).await {
        Err(StoreError::IdempotencyMismatch { .. }) => {}
        other => panic!("expected an idempotency mismatch, got {other:?}"),
    }
    assert_eq!(s.head().await.expect("head"), head, "nothing written");
}

pub async fn the_global_log_is_totally_ordered_across_streams<H: Harness>(h: &H) {
    let s = h.store();
    let mut expected = Vec::new();
    for i in 0..30 {
        let stream = format!("s-{}", i % 4);
        let batch = evs(1 + i % 3, &format!("{i}"));
        expected.extend(bodies_of(&batch));
        s.append(&stream, ExpectedVersion::Any, batch).await.expect("append");
    }
    let all = s.read_all(0, 10_000).await.expect("read all");
    assert_eq!(bodies(&all), expected);
    assert!(all.windows(2).all(|w| w[0].position < w[1].position), "strictly increasing");
    assert_eq!(s.head().await.expect("head"), all.last().expect("events").position);
    if H::GAPLESS {
        let positions: Vec<u64> = all.iter().map(|e| e.position).collect();
        assert_eq!(positions, (1..=all.len() as u64).collect::<Vec<_>>(), "gapless");
    }
    // Paging: from is inclusive, limit is honoured.
    let mid = all[17].position;
    let page = s.read_all(mid, 5).await.expect("page");
    assert_eq!(bodies(&page), bodies(&all[17..22]));
    assert!(s.read_all(all.last().expect("events").position + 1, 10).await.expect("past the end").is_empty());
}

fn bodies_of(batch: &[NewEvent]) -> Vec<String> {
    batch.iter().map(|e| String::from_utf8_lossy(&e.payload).into_owned()).collect()
}

pub async fn subscription_catches_up_then_goes_live_without_gap_or_repeat<H: Harness>(h: &H) {
    let s = h.store();
    for i in 0..50 {
        s.append(&format!("live-{}", i % 5), ExpectedVersion::Any, evs(1, &format!("old{i}"))).await.expect("append");
    }
    let mut sub = s.subscribe(0).await.expect("subscribe");
    let mut seen = Vec::new();
    for _ in 0..50 {
        seen.push(next_event(&mut sub).await);
    }
    let writer = spawn_appends(s.clone(), "live", 5, 50, 1);
    for _ in 0..50 {
        seen.push(next_event(&mut sub).await);
    }
    writer.await.expect("writer");
    let all = s.read_all(0, 1000).await.expect("read all");
    assert_eq!(bodies(&seen), bodies(&all), "the subscription saw the log, in order");
    assert!(tokio::time::timeout(Duration::from_millis(300), sub.next()).await.is_err(), "and nothing more");

    // From a middle position, inclusive.
    let mut sub = s.subscribe(all[70].position).await.expect("subscribe");
    assert_eq!(next_event(&mut sub).await.id, all[70].id);
}

/// Several pages of catch-up while appends continue, read one event and then a
/// batch at a time: every event once, in the log's order.
pub async fn batched_subscription_over_many_pages_sees_every_event_once_in_order<H: Harness>(h: &H) {
    let s = h.store();
    for i in 0..30 {
        s.append(&format!("pages-{}", i % 4), ExpectedVersion::Any, evs(100, &format!("old{i}")))
            .await
            .expect("append");
    }
    let writer = spawn_appends(s.clone(), "pages", 4, 20, 50);
    let mut sub = s.subscribe(0).await.expect("subscribe");
    let mut seen = vec![next_event(&mut sub).await];
    while seen.len() < 4_000 {
        let batch = tokio::time::timeout(Duration::from_secs(10), sub.next_batch())
            .await
            .expect("a batch within 10 s")
            .expect("subscription open")
            .expect("no error");
        assert!(!batch.is_empty(), "a batch holds at least one event");
        seen.extend(batch);
    }
    writer.await.expect("writer");
    let all = s.read_all(0, 10_000).await.expect("read all");
    assert_eq!(seen.len(), all.len(), "as many events as the log holds");
    assert!(seen.iter().zip(&all).all(|(a, b)| a.id == b.id && a.position == b.position), "the log, in order");
    assert!(tokio::time::timeout(Duration::from_millis(300), sub.next_batch()).await.is_err(), "and nothing more");
}

pub async fn subscriber_restarted_from_its_checkpoint_sees_every_event_exactly_once<H: Harness>(h: &H) {
    let s = h.store();
    for i in 0..100 {
        s.append(&format!("c-{}", i % 7), ExpectedVersion::Any, evs(1 + i % 2, &format!("{i}"))).await.expect("append");
    }
    let total = s.read_all(0, 10_000).await.expect("read").len();
    let mut handled: Vec<Uuid> = Vec::new();

    // First run: handle 60 events, committing the checkpoint after each, then stop.
    let from = s.load_checkpoint("projector").await.expect("load").map_or(0, |p| p + 1);
    assert_eq!(from, 0);
    let mut sub = s.subscribe(from).await.expect("subscribe");
    for _ in 0..60 {
        let e = next_event(&mut sub).await;
        handled.push(e.id);
        s.save_checkpoint("projector", e.position).await.expect("checkpoint");
    }
    drop(sub);

    // More events arrive while it is down.
    for i in 0..40 {
        s.append("c-late", ExpectedVersion::Any, evs(1, &format!("late{i}"))).await.expect("append");
    }

    // Second run, from another handle: resume after the checkpoint.
    let again = h.reopen(Upcasters::new()).await;
    let from = again.load_checkpoint("projector").await.expect("load").expect("a checkpoint") + 1;
    let mut sub = again.subscribe(from).await.expect("subscribe");
    while handled.len() < total + 40 {
        let e = next_event(&mut sub).await;
        handled.push(e.id);
        again.save_checkpoint("projector", e.position).await.expect("checkpoint");
    }
    let unique: HashSet<_> = handled.iter().collect();
    assert_eq!(unique.len(), handled.len(), "no event handled twice");
    let all: HashSet<_> = again.read_all(0, 10_000).await.expect("read").into_iter().map(|e| e.id).collect();
    assert_eq!(unique, all.iter().collect(), "every event handled");
}

pub async fn old_schema_versions_are_upcast_on_read<H: Harness>(h: &H) {
    // v1 of `test.price_quoted` carried dollars as text; v2 carries cents as text.
    h.store()
        .append("quotes", ExpectedVersion::NoStream, vec![ev("test.price_quoted", "42"), ev("test.other", "7")])
        .await
        .expect("append v1");
    let upcasters = Upcasters::new().register("test.price_quoted", 1, |p: &Bytes| {
        let dollars: i64 = std::str::from_utf8(p).map_err(|e| e.to_string())?.parse().map_err(|e| format!("{e}"))?;
        Ok(Bytes::from((dollars * 100).to_string()))
    });
    let reader = h.reopen(upcasters).await;
    let events = reader.read_stream("quotes", 1, Direction::Forwards, 10).await.expect("read");
    assert_eq!((events[0].schema_version, bodies(&events)[0].as_str()), (2, "4200"));
    assert_eq!((events[1].schema_version, bodies(&events)[1].as_str()), (1, "7"), "other types untouched");
    let all = reader.read_all(0, 10).await.expect("read all");
    assert_eq!(all[0].schema_version, 2);
    let mut sub = reader.subscribe(0).await.expect("subscribe");
    assert_eq!(next_event(&mut sub).await.schema_version, 2);

    // A failing upcaster is an error naming the type, not a silent pass-through.
    h.store().append("quotes", ExpectedVersion::Any, vec![ev("test.price_quoted", "forty")]).await.expect("append");
    let upcasters = Upcasters::new().register("test.price_quoted", 1, |p: &Bytes| {
        std::str::from_utf8(p)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .map(|d| Bytes::from((d * 100).to_string()))
            .ok_or_else(|| "not a number".to_owned())
    });
    let reader = h.reopen(upcasters).await;
    let err = reader.read_stream("quotes", 1, Direction::Forwards, 10).await.expect_err("upcast fails");
    assert!(err.to_string().contains("test.price_quoted"), "{err}");
}

pub async fn bad_input_is_refused_and_nothing_is_written<H: Harness>(h: &H) {
    let s = h.store();
    s.append("ok", ExpectedVersion::NoStream, evs(1, "x")).await.expect("append");
    let head = s.head().await.expect("head");
    for bad in ["", "has space", "a..b", ".lead", "trail.", "wild*card", "gt>", &"x".repeat(201)] {
        match s.append(bad, ExpectedVersion::Any, evs(1, "x")).await {
            Err(StoreError::InvalidStream { stream, .. }) => assert_eq!(stream, bad),
            other => panic!("stream {bad:?}: expected invalid stream, got {other:?}"),
        }
    }
    let err = s.append("ok", ExpectedVersion::Any, vec![]).await.expect_err("empty");
    assert!(err.to_string().contains("no events"), "{err}");
    let dup = ev("test.happened", "d");
    let err = s.append("ok", ExpectedVersion::Any, vec![dup.clone(), dup]).await.expect_err("dup ids");
    assert!(err.to_string().contains("appears twice"), "{err}");
    let err = s.append("ok", ExpectedVersion::Any, vec![ev("", "no type")]).await.expect_err("no type");
    assert!(err.to_string().contains("type"), "{err}");
    assert_eq!(s.head().await.expect("head"), head, "nothing written");
}

pub async fn checkpoints_are_durable_and_validated<H: Harness>(h: &H) {
    let s = h.store();
    assert_eq!(s.load_checkpoint("billing").await.expect("load"), None);
    s.save_checkpoint("billing", 41).await.expect("save");
    s.save_checkpoint("billing", 42).await.expect("save");
    s.save_checkpoint("alerts", 7).await.expect("save");
    let other = h.reopen(Upcasters::new()).await;
    assert_eq!(other.load_checkpoint("billing").await.expect("load"), Some(42));
    assert_eq!(other.load_checkpoint("alerts").await.expect("load"), Some(7));
    for bad in ["", "has space", "dots.are.keys", "x/y"] {
        assert!(matches!(s.save_checkpoint(bad, 1).await, Err(StoreError::InvalidConsumer(_))), "{bad:?}");
    }
}

pub async fn sigkill_in_the_middle_of_batched_appends_leaves_whole_batches_only<H: Harness>(h: &H) {
    const BATCH: usize = 500;
    let [url, ns] = h.child_args();
    for round in 0..3u64 {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_hcp-store-stress-writer"))
            .args([url.as_str(), ns.as_str(), &BATCH.to_string(), "100000"])
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn the writer");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        // Let it commit a few batches, then kill it at a point that varies by round.
        let mut committed = 0;
        while committed < 3 {
            let line = lines.next_line().await.expect("read").expect("the writer is alive");
            assert!(line.starts_with("committed"), "{line}");
            committed += 1;
        }
        tokio::time::sleep(Duration::from_millis(3 * round + 1)).await;
        child.start_kill().expect("SIGKILL");
        let status = child.wait().await.expect("wait");
        assert!(!status.success(), "the writer was killed, it did not finish");
        // Only the first round starts on an empty store; later rounds find the earlier batches.
        if round < 2 {
            continue;
        }
    }
    let store = h.reopen(Upcasters::new()).await;
    let all = store.read_all(0, 10_000_000).await.expect("read all");
    assert!(all.len() >= 3 * BATCH, "at least the confirmed batches are there");
    let mut per_stream = std::collections::BTreeMap::<String, Vec<u64>>::new();
    for e in &all {
        per_stream.entry(e.stream.clone()).or_default().push(e.version);
    }
    for (stream, versions) in &per_stream {
        assert_eq!(versions.len(), BATCH, "{stream} holds a whole batch, not {}", versions.len());
        assert_eq!(versions, &(1..=BATCH as u64).collect::<Vec<_>>(), "{stream} versions are contiguous");
    }
    if H::GAPLESS {
        assert!(all.iter().enumerate().all(|(i, e)| e.position == i as u64 + 1), "gapless after crashes");
    }
    // The store still takes appends after the crashes.
    store.append("after-crash", ExpectedVersion::NoStream, evs(1, "z")).await.expect("append after crash");
}

pub async fn a_workload_history_round_trips_through_the_store<H: Harness>(h: &H) {
    // The writer loop every service uses: load, decide, append with the expected version.
    let s = h.store();
    let id = WorkloadId::from_uuid(Uuid::now_v7());
    let stream = id.stream();
    let at = |n: i64| Timestamp::from_unix_secs(1_730_000_000 + n);
    let spec = WorkloadSpec {
        tenant: TenantId::new("acme").expect("valid"),
        kind: WorkloadKind::Training,
        gpu_model: GpuModel::new("H100-SXM-80GB").expect("valid"),
        gpu_count: 1,
        memory_mib: 65_536,
        max_latency: None,
        priority: Priority::new(4).expect("valid"),
        preemptible: true,
        site: None,
        locality: hcp_domain::workload::Locality::Any,
        run: hcp_domain::workload::RunSpec::default(),
    };
    let commands = vec![
        WorkloadCommand::Submit { id, spec, at: at(0) },
        WorkloadCommand::Queue { at: at(1) },
        WorkloadCommand::Schedule { resources: vec!["gpu-a1".parse().expect("id")], at: at(2) },
        WorkloadCommand::Start { at: at(3) },
        WorkloadCommand::ConfirmStarted { endpoint: None, at: at(4) },
        WorkloadCommand::Complete { at: at(9) },
    ];
    for command in commands {
        let stored = s.read_stream(&stream, 1, Direction::Forwards, 1000).await.expect("load");
        let history: Vec<_> = stored
            .iter()
            .map(|e| {
                decode_workload_event(
                    &e.event_type,
                    &e.payload,
                    Timestamp::from_unix_micros(e.metadata.time_unix_micros),
                )
                .expect("decode")
            })
            .collect();
        let state = Workload::fold(&history);
        let events = state.decide(command).expect("decide");
        let new: Vec<NewEvent> = events
            .iter()
            .map(|e| {
                let (t, p) = encode_workload_event(e);
                NewEvent::new(t, SCHEMA_VERSION, p).with_metadata(EventMetadata {
                    time_unix_micros: e.at().unix_micros(),
                    tenant: Some("acme".into()),
                    actor: Some("test".into()),
                    ..Default::default()
                })
            })
            .collect();
        s.append(&stream, ExpectedVersion::Exact(state.version), new).await.expect("append");
    }
    let stored = s.read_stream(&stream, 1, Direction::Forwards, 1000).await.expect("load");
    let history: Vec<_> = stored
        .iter()
        .map(|e| {
            decode_workload_event(&e.event_type, &e.payload, Timestamp::from_unix_micros(e.metadata.time_unix_micros))
                .expect("decode")
        })
        .collect();
    let state = Workload::fold(&history);
    assert_eq!(state.status, WorkloadStatus::Completed);
    assert_eq!(state.version, 6);
    assert_eq!(stored[0].metadata.tenant.as_deref(), Some("acme"));
    assert_eq!(stored[5].metadata.time_unix_micros, at(9).unix_micros());
}
