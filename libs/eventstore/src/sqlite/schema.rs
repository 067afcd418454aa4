//! Opening the file and creating the schema.

use super::Durability;
use crate::{Position, Result, StoreError};
use rusqlite::Connection;
use rusqlite::config::DbConfig;
use std::path::Path;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    position       INTEGER PRIMARY KEY,   -- gapless global position, assigned in commit order
    stream         TEXT    NOT NULL,
    version        INTEGER NOT NULL,      -- 1-based within the stream
    id             BLOB    NOT NULL,      -- UUID, idempotency key
    type           TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    time           INTEGER NOT NULL,      -- when it happened, unix micros
    recorded       INTEGER NOT NULL,      -- when it was stored, unix micros
    correlation    BLOB,
    causation      BLOB,
    tenant         TEXT,
    actor          TEXT,
    payload        BLOB    NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_stream_version ON events (stream, version);
CREATE UNIQUE INDEX IF NOT EXISTS events_id ON events (id);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TABLE IF NOT EXISTS checkpoints (
    consumer TEXT PRIMARY KEY,
    position INTEGER NOT NULL
) WITHOUT ROWID;
";

/// Bytes per page of a new store. Concurrent appends to different streams each
/// dirty a different leaf of the `(stream, version)` index, and every dirtied page
/// is written whole to the WAL and synced at commit; 1 KiB pages cut those bytes
/// to a quarter of SQLite's 4 KiB default. At 64 concurrent appenders (with
/// [`CHECKPOINT_PAGES`]) that took appends from about 22k to 29-32k/s, with
/// replay and aggregate loads unchanged within the noise (BENCHMARKS.md).
const PAGE_SIZE: u32 = 1024;

/// WAL pages between automatic checkpoints (SQLite's default is 1,000). A
/// checkpoint writes each page it finds once, however often the WAL holds it, so
/// a longer WAL writes the hot index leaves back less often: 10 MiB at 1 KiB pages.
const CHECKPOINT_PAGES: u32 = 10_000;

/// Opens the writer connection, creates the schema, and returns the current head.
pub(super) fn open_writer(path: &Path, durability: Durability) -> Result<(Connection, Position)> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Corrupt(format!("cannot create directory {}: {e}", dir.display())))?;
    }
    let conn = Connection::open(path)?;
    keep_plans(&conn)?;
    // Before anything is written (a file that has pages keeps its size): see
    // PAGE_SIZE. Then the WAL, checkpointed every CHECKPOINT_PAGES.
    conn.execute_batch(&format!("PRAGMA page_size={PAGE_SIZE}"))?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt(format!("{} cannot use WAL (journal mode {mode})", path.display())));
    }
    let sync = match durability {
        Durability::Full => "FULL",
        Durability::Normal => "NORMAL",
    };
    conn.execute_batch(&format!(
        "PRAGMA synchronous={sync}; PRAGMA busy_timeout=10000; PRAGMA cache_size=-65536; \
         PRAGMA wal_autocheckpoint={CHECKPOINT_PAGES};"
    ))?;
    conn.execute_batch(SCHEMA)?;
    let head: Option<i64> = conn.query_row("SELECT MAX(position) FROM events", [], |r| r.get(0))?;
    Ok((conn, head.map_or(0, |h| h as u64)))
}

/// Opens a read connection.
pub(super) fn open_reader(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    keep_plans(&conn)?;
    conn.execute_batch("PRAGMA busy_timeout=10000; PRAGMA query_only=1; PRAGMA cache_size=-65536;")?;
    Ok(conn)
}

/// Turns on the query planner stability guarantee, so cached statements stay
/// compiled. Without it, SQLite (3.54 here) marks any statement with a
/// `column = ?` term as depending on the bound value, and rusqlite's statement
/// cache clears the bindings when a statement goes back, which expires it: every
/// append and read re-parsed and re-planned its statements (23 % of the writer's
/// time). Our queries have one right plan whatever the values.
fn keep_plans(conn: &Connection) -> Result<()> {
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Durability, open_reader, open_writer};
    use crate::Direction;
    use rusqlite::StatementStatus;

    #[test]
    fn a_new_store_uses_small_pages_and_a_long_wal() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (writer, _) = open_writer(&dir.path().join("pages.db"), Durability::Full).expect("writer");
        let page: u32 = writer.query_row("PRAGMA page_size", [], |r| r.get(0)).expect("page size");
        let checkpoint: u32 = writer.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0)).expect("checkpoint");
        assert_eq!((page, checkpoint), (super::PAGE_SIZE, super::CHECKPOINT_PAGES));
    }

    /// A cached statement must run again without being recompiled: the writer's
    /// version lookup and an aggregate load, each used three times.
    #[test]
    fn cached_statements_are_not_recompiled() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("plans.db");
        let (writer, _) = open_writer(&path, Durability::Normal).expect("writer");
        let reader = open_reader(&path).expect("reader");
        let version = super::super::writer::STREAM_VERSION;
        for stream in ["a", "b", "c"] {
            let mut stmt = writer.prepare_cached(version).expect("prepare");
            stmt.query_row([stream], |r| r.get::<_, Option<i64>>(0)).expect("query");
            super::super::read::stream(&reader, stream, 1, Direction::Forwards, 20).expect("load");
        }
        let recompiled = writer.prepare_cached(version).expect("prepare").get_status(StatementStatus::RePrepare);
        assert_eq!(recompiled, 0, "the writer's version lookup was recompiled {recompiled} times");
        let load = reader
            .prepare_cached(super::super::read::STREAM_FORWARDS)
            .expect("prepare")
            .get_status(StatementStatus::RePrepare);
        assert_eq!(load, 0, "the aggregate load was recompiled {load} times");
    }
}
