//! SQLite figures: concurrent appends vs raw batched inserts (bare, and into the
//! store's own schema), replay with decode and fold vs a raw table scan, aggregate
//! load latency.

use crate::report::{ROUNDS, Rounds, figure, percentiles, rate};
use crate::workload::{APPENDERS, Appends, LIFE, load_latencies, replay, seed};
use hcp_eventstore::sqlite::{SqliteConfig, SqliteStore};
use hcp_eventstore::{EventStore, ExpectedVersion, NewEvent};
use std::time::{Duration, Instant};

pub async fn run(total_events: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    appends(dir.path()).await?;
    replay_and_load(dir.path(), total_events).await?;
    Ok(())
}

/// 64 tasks, each appending single events to its own stream, alternating with the
/// raw engines, ROUNDS times, each into fresh files; the medians.
async fn appends(dir: &std::path::Path) -> anyhow::Result<()> {
    const ROWS: usize = APPENDERS * PER_TASK;
    let payload = crate::workload::life(0).1[2].payload.clone();
    let mut rounds = Rounds::new();
    for round in 0..ROUNDS {
        let ours = concurrent_appends(&dir.join(format!("appends-{round}.db")), &payload).await?;
        let raw = raw_batched_inserts(&dir.join(format!("raw-{round}.db")), ROWS, APPENDERS, payload.len())?;
        let same = raw_store_inserts(&dir.join(format!("raw-events-{round}.db")), ROWS, APPENDERS, &payload).await?;
        rounds.push([ours, raw, same, ours / raw, ours / same]);
    }
    let [ours, raw, same, vs_raw, vs_same] = rounds.medians();
    figure("sqlite_append_64_concurrent", ours, "appends/s");
    figure("sqlite_raw_batched_insert_64_per_commit", raw, "rows/s");
    figure("sqlite_append_vs_raw", vs_raw, "ratio");
    figure("sqlite_raw_store_schema_insert_64_per_commit", same, "rows/s");
    figure("sqlite_append_vs_raw_store_schema", vs_same, "ratio");
    Ok(())
}

/// Events each appender appends.
const PER_TASK: usize = 800;

/// The store's rate: [`APPENDERS`] tasks, each appending PER_TASK single events to
/// its own stream with expected versions.
async fn concurrent_appends(path: &std::path::Path, payload: &bytes::Bytes) -> anyhow::Result<f64> {
    let store = SqliteStore::open(SqliteConfig::new(path)).await?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..APPENDERS {
        let store = store.clone();
        let payload = payload.clone();
        tasks.push(tokio::spawn(async move {
            for v in 0..PER_TASK as u64 {
                let e = NewEvent::new("workload.scheduled", 1, payload.clone());
                store.append(&format!("appender-{t}"), ExpectedVersion::Exact(v), vec![e]).await?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(rate(APPENDERS * PER_TASK, started.elapsed()))
}

/// The raw engine doing the store's work: rusqlite inserting the same rows (64
/// streams, a version each, a UUIDv7 id, the payload) into a file the store
/// created, so with its schema, indexes and page size, `batch` rows per
/// transaction, synced as the store syncs; without the store's version and id
/// checks, savepoints and queue.
async fn raw_store_inserts(path: &std::path::Path, rows: usize, batch: usize, payload: &[u8]) -> anyhow::Result<f64> {
    drop(SqliteStore::open(SqliteConfig::new(path)).await?);
    let mut c = rusqlite::Connection::open(path)?;
    // As the store's writer connection sets them.
    c.execute_batch("PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=10000;")?;
    let started = Instant::now();
    for b in 0..rows / batch {
        let tx = c.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO events (stream, version, id, type, schema_version, time, recorded, tenant, payload)
                 VALUES (?1, ?2, ?3, 'workload.scheduled', 1, ?4, ?4, NULL, ?5)",
            )?;
            for i in 0..batch {
                let id = uuid::Uuid::now_v7();
                stmt.execute(rusqlite::params![
                    format!("appender-{i}"),
                    b as i64 + 1,
                    id.as_bytes().as_slice(),
                    b as i64,
                    payload
                ])?;
            }
        }
        tx.commit()?;
    }
    Ok(rate(rows / batch * batch, started.elapsed()))
}

/// The raw engine: rusqlite, WAL, synchronous=FULL, `batch` rows per transaction.
fn raw_batched_inserts(path: &std::path::Path, rows: usize, batch: usize, size: usize) -> anyhow::Result<f64> {
    let mut c = rusqlite::Connection::open(path)?;
    c.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
         CREATE TABLE t (id INTEGER PRIMARY KEY, stream TEXT NOT NULL, version INTEGER NOT NULL, payload BLOB NOT NULL);",
    )?;
    let payload = vec![7u8; size];
    let started = Instant::now();
    for b in 0..rows / batch {
        let tx = c.transaction()?;
        {
            let mut stmt = tx.prepare_cached("INSERT INTO t (stream, version, payload) VALUES (?1, ?2, ?3)")?;
            for i in 0..batch {
                stmt.execute(rusqlite::params![format!("s-{i}"), b as i64, payload])?;
            }
        }
        tx.commit()?;
    }
    Ok(rate(rows / batch * batch, started.elapsed()))
}

async fn replay_and_load(dir: &std::path::Path, total: usize) -> anyhow::Result<()> {
    let path = dir.join("replay.db");
    let store = SqliteStore::open(SqliteConfig::new(&path)).await?;
    let workloads = (total / LIFE) as u64;
    // Seed: 20-event lives, appended 20 at a time.
    seed(&store, workloads, Appends::WholeLife).await?;
    let head = store.head().await?;
    figure("sqlite_store_events", head as f64, "events");

    // Replay: the whole log through a subscription (as a projection rebuilds: its feeder
    // reads the next page while this task folds the last), decode, fold into workload
    // states.
    // Alternating with the raw scan, ROUNDS times (a replay here has measured from
    // 0.6 to 1.4M events/s minutes apart); the medians.
    let mut rounds = Rounds::new();
    for _ in 0..ROUNDS {
        let ours = replay(&store, workloads).await?;
        let raw = raw_scan(&path)?;
        rounds.push([ours, raw, ours / raw]);
    }
    let [ours, raw, ratio] = rounds.medians();
    figure("sqlite_replay_decode_fold", ours, "events/s");
    figure("sqlite_raw_scan", raw, "rows/s");
    figure("sqlite_replay_vs_raw_scan", ratio, "ratio");

    // Aggregate load: random 20-event workloads from the full store.
    let samples = load_latencies(&store, workloads, 5_000, 0x9e37_79b9_7f4a_7c15).await?;
    percentiles("sqlite_load_20_event_aggregate", samples);
    Ok(())
}

/// The raw engine: one statement over every row and column.
fn raw_scan(path: &std::path::Path) -> anyhow::Result<f64> {
    let c = rusqlite::Connection::open(path)?;
    let started = Instant::now();
    let mut stmt = c.prepare("SELECT position, stream, version, id, type, schema_version, time, recorded, correlation, causation, tenant, actor, payload FROM events ORDER BY position")?;
    let mut rows = stmt.query([])?;
    let mut n = 0usize;
    let mut bytes = 0usize;
    while let Some(r) = rows.next()? {
        bytes += r.get_ref(12)?.as_blob()?.len() + r.get_ref(1)?.as_str()?.len();
        n += 1;
    }
    std::hint::black_box(bytes);
    Ok(rate(n, started.elapsed().max(Duration::from_nanos(1))))
}
