//! Realistic data: workloads with 20-event lives, and the fold a projection does.

use hcp_domain::Aggregate;
use hcp_domain::aggregate::evolve_keyed;
use hcp_domain::codec::{SCHEMA_VERSION, decode_workload_event, encode_workload_event};
use hcp_domain::ids::{ResourceId, TenantId, WorkloadId};
use hcp_domain::units::Timestamp;
use hcp_domain::workload::{GpuModel, Priority, Workload, WorkloadEvent, WorkloadKind, WorkloadSpec};
use hcp_eventstore::{Direction, EventMetadata, EventStore, ExpectedVersion, NewEvent, RecordedEvent};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Events in one workload's life here.
pub const LIFE: usize = 20;
/// Concurrent appenders in every append figure and seed.
pub const APPENDERS: usize = 64;

/// The 20 events of workload `n`: submitted .. started, 7 pause/resume pairs, completed.
pub fn life(n: u64) -> (String, Vec<NewEvent>) {
    let id = WorkloadId::from_uuid(Uuid::from_u64_pair(0x0190_0000_0000_7000, n));
    let t = |s: i64| Timestamp::from_unix_secs(1_730_000_000 + n as i64 * 60 + s);
    let spec = WorkloadSpec {
        tenant: TenantId::new(format!("tenant-{}", n % 50)).expect("valid"),
        kind: WorkloadKind::BatchInference,
        gpu_model: GpuModel::new("H100-SXM-80GB").expect("valid"),
        gpu_count: 1,
        memory_mib: 40_960,
        max_latency: None,
        priority: Priority::new((n % 10) as u32).expect("valid"),
        preemptible: true,
        site: None,
        locality: hcp_domain::workload::Locality::Any,
        run: hcp_domain::workload::RunSpec::default(),
    };
    let mut events = vec![
        WorkloadEvent::Submitted { id, spec, at: t(0) },
        WorkloadEvent::Queued { attempt: 1, at: t(1) },
        WorkloadEvent::Scheduled {
            resources: vec![ResourceId::new(format!("gpu-{}", n % 4096)).expect("valid")],
            at: t(2),
        },
        WorkloadEvent::Starting { at: t(3) },
        WorkloadEvent::Started { endpoint: None, at: t(4) },
    ];
    for i in 0..7 {
        events.push(WorkloadEvent::Paused { reason: "price spike".into(), at: t(5 + 2 * i) });
        events.push(WorkloadEvent::Resumed { at: t(6 + 2 * i) });
    }
    events.push(WorkloadEvent::Completed { at: t(19) });
    debug_assert_eq!(events.len(), LIFE);
    let new = events
        .iter()
        .map(|e| {
            let (ty, payload) = encode_workload_event(e);
            NewEvent::new(ty, SCHEMA_VERSION, payload).with_metadata(EventMetadata {
                time_unix_micros: e.at().unix_micros(),
                tenant: Some("bench".into()),
                ..Default::default()
            })
        })
        .collect();
    (id.stream(), new)
}

/// Decodes and folds events into workload states keyed by stream.
pub fn fold_into(states: &mut HashMap<String, Workload>, events: &[RecordedEvent]) -> anyhow::Result<()> {
    for e in events {
        let ev =
            decode_workload_event(&e.event_type, &e.payload, Timestamp::from_unix_micros(e.metadata.time_unix_micros))?;
        evolve_keyed(states, &e.stream, &ev);
    }
    Ok(())
}

/// Replays the whole store through a subscription (as a projection rebuilds: the
/// source reads ahead while this task folds), decoding and folding every event into
/// workload states; the rate, events/s.
pub async fn replay<S: EventStore>(store: &S, workloads: u64) -> anyhow::Result<f64> {
    let head = store.head().await?;
    let started = Instant::now();
    let mut sub = store.subscribe(0).await?;
    let mut states = HashMap::with_capacity(workloads as usize);
    let mut n = 0usize;
    while let Some(batch) = sub.next_batch().await {
        let batch = batch?;
        n += batch.len();
        fold_into(&mut states, &batch)?;
        if batch.last().is_some_and(|e| e.position >= head) {
            break;
        }
    }
    let elapsed = started.elapsed();
    anyhow::ensure!(states.len() as u64 == workloads, "folded {} workloads, expected {workloads}", states.len());
    Ok(n as f64 / elapsed.as_secs_f64())
}

/// Folds one aggregate's events.
pub fn fold_one(events: &[RecordedEvent]) -> anyhow::Result<Workload> {
    let mut w = Workload::default();
    for e in events {
        w = w.evolve(&decode_workload_event(
            &e.event_type,
            &e.payload,
            Timestamp::from_unix_micros(e.metadata.time_unix_micros),
        )?);
    }
    Ok(w)
}

/// How a seed appends each life.
#[derive(Clone, Copy)]
pub enum Appends {
    /// All 20 events in one append.
    WholeLife,
    /// One append per event, as a live service writes them.
    OneEventEach,
}

/// Writes `workloads` lives from [`APPENDERS`] concurrent tasks.
pub async fn seed<S: EventStore + Clone>(store: &S, workloads: u64, appends: Appends) -> anyhow::Result<()> {
    seed_with(store, workloads, appends, APPENDERS).await
}

/// Writes `workloads` lives from `appenders` concurrent tasks.
pub async fn seed_with<S: EventStore + Clone>(
    store: &S,
    workloads: u64,
    appends: Appends,
    appenders: usize,
) -> anyhow::Result<()> {
    let mut tasks = Vec::new();
    for t in 0..appenders as u64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = t;
            while n < workloads {
                let (stream, events) = life(n);
                match appends {
                    Appends::WholeLife => {
                        store.append(&stream, ExpectedVersion::NoStream, events).await?;
                    }
                    Appends::OneEventEach => {
                        for (v, e) in events.into_iter().enumerate() {
                            store.append(&stream, ExpectedVersion::Exact(v as u64), vec![e]).await?;
                        }
                    }
                }
                n += appenders as u64;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

/// Loads and folds `samples` pseudo-random lives (xorshift from `seed`); returns each load's latency.
pub async fn load_latencies<S: EventStore>(
    store: &S,
    workloads: u64,
    samples: usize,
    seed: u64,
) -> anyhow::Result<Vec<Duration>> {
    let mut out = Vec::with_capacity(samples);
    let mut x = seed;
    for _ in 0..samples {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let (stream, _) = life(x % workloads);
        let t = Instant::now();
        let events = store.read_stream(&stream, 1, Direction::Forwards, 1000).await?;
        let w = fold_one(&events)?;
        out.push(t.elapsed());
        anyhow::ensure!(w.version == LIFE as u64, "loaded {} events", w.version);
    }
    Ok(out)
}
