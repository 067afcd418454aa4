//! Raw telemetry for charts: every reading of every device in a bounded SQLite table
//! beside the store (`<data dir>/telemetry.db`), the last `discovery.samples_hours` (24 by
//! default) kept. Readings arrive through a channel and are written in batches by one
//! task, which also prunes what is older than the retention; reads serve the Inventory
//! API's `Samples`.

use hcp_proto::v1 as pb;
use rusqlite::{Connection, params};
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The table.
pub struct Samples {
    conn: Mutex<Connection>,
    retention_micros: i64,
}

/// The most readings one read returns.
pub const MAX_READ: usize = 10_000;

impl Samples {
    /// Opens (creating) the table at `path`, keeping `retention_micros` of readings.
    pub fn open(path: &Path, retention_micros: i64) -> rusqlite::Result<Self> {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let conn = Connection::open(path)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
             CREATE TABLE IF NOT EXISTS samples (
               resource TEXT NOT NULL, at INTEGER NOT NULL, power_w REAL NOT NULL, hashrate_ths REAL NOT NULL,
               max_temp_c REAL NOT NULL, utilization_pct INTEGER NOT NULL, PRIMARY KEY (resource, at)
             ) WITHOUT ROWID;
             CREATE INDEX IF NOT EXISTS samples_at ON samples (at);",
        )?;
        Ok(Samples { conn: Mutex::new(conn), retention_micros })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes a batch of readings in one transaction.
    pub fn insert(&self, batch: &[(String, pb::Telemetry)]) -> rusqlite::Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached("INSERT OR REPLACE INTO samples VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
            for (id, t) in batch {
                insert.execute(params![
                    id,
                    t.observed_unix_micros,
                    t.power_w,
                    t.hashrate_ths,
                    t.max_temp_c,
                    t.utilization_pct
                ])?;
            }
        }
        tx.commit()
    }

    /// Deletes what is older than the retention at `now`; how many rows.
    pub fn prune(&self, now_micros: i64) -> rusqlite::Result<usize> {
        self.conn().execute("DELETE FROM samples WHERE at < ?1", params![now_micros - self.retention_micros])
    }

    /// Device `id`'s readings at or after `since`, oldest first, at most `limit` (0: [`MAX_READ`]).
    pub fn read(&self, id: &str, since: i64, limit: usize) -> rusqlite::Result<Vec<pb::Telemetry>> {
        let limit = if limit == 0 { MAX_READ } else { limit.min(MAX_READ) };
        let conn = self.conn();
        let mut select = conn.prepare_cached(
            "SELECT at, power_w, hashrate_ths, max_temp_c, utilization_pct FROM samples
             WHERE resource = ?1 AND at >= ?2 ORDER BY at LIMIT ?3",
        )?;
        let rows = select.query_map(params![id, since, limit as i64], |r| {
            Ok(pb::Telemetry {
                observed_unix_micros: r.get(0)?,
                power_w: r.get(1)?,
                hashrate_ths: r.get(2)?,
                max_temp_c: r.get(3)?,
                utilization_pct: r.get(4)?,
                ..Default::default()
            })
        })?;
        rows.collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_are_kept_for_the_retention_and_read_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let samples = Samples::open(&dir.path().join("telemetry.db"), 1_000).expect("open");
        let reading = |at: i64, w: f64| pb::Telemetry { observed_unix_micros: at, power_w: w, ..Default::default() };
        let batch: Vec<(String, pb::Telemetry)> =
            (0..5).map(|i| ("asic-1".to_owned(), reading(i * 400, 3000.0 + i as f64))).collect();
        samples.insert(&batch).expect("insert");
        samples.insert(&[("asic-2".to_owned(), reading(100, 1.0))]).expect("insert");
        let all = samples.read("asic-1", 0, 0).expect("read");
        assert_eq!(all.iter().map(|t| t.observed_unix_micros).collect::<Vec<_>>(), [0, 400, 800, 1200, 1600]);
        assert_eq!(samples.read("asic-1", 800, 2).expect("read").len(), 2);
        // At 2,000 µs with 1,000 µs kept: 0, 400, 800 and asic-2's 100 go.
        assert_eq!(samples.prune(2_000).expect("prune"), 4);
        assert_eq!(samples.read("asic-1", 0, 0).expect("read").len(), 2);
    }
}
