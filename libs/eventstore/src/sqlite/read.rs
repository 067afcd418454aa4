//! Queries on read connections.

use super::schema::open_reader;
use crate::{Direction, EventMetadata, Position, RecordedEvent, Result, StoreError};
use bytes::Bytes;
use rusqlite::{Connection, Row, params};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// A pool of read connections, opened on demand and reused.
#[derive(Clone)]
pub(super) struct ReadPool {
    path: PathBuf,
    idle: Arc<Mutex<Vec<Connection>>>,
}

impl ReadPool {
    pub(super) fn new(path: PathBuf) -> Self {
        ReadPool { path, idle: Arc::new(Mutex::new(Vec::new())) }
    }

    /// Runs `f` on a pooled connection (on the calling, blocking thread).
    pub(super) fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = self.idle.lock().map_err(|_| StoreError::Closed)?.pop();
        let conn = match pooled {
            Some(c) => c,
            None => open_reader(&self.path)?,
        };
        let out = f(&conn);
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(conn);
        }
        out
    }
}

/// `SELECT <every column> FROM events <tail>`, built at compile time (these run on
/// every aggregate load and replay page).
macro_rules! select_events {
    ($tail:literal) => {
        concat!(
            "SELECT position, stream, version, id, type, schema_version, time, recorded, correlation, causation, tenant, actor, payload FROM events ",
            $tail
        )
    };
}

/// A UUID column, read from the row's own bytes (no allocation per event).
fn uuid_col(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<Uuid>> {
    let conversion = |e: Box<dyn std::error::Error + Send + Sync>| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Blob, e)
    };
    match row.get_ref(i)?.as_blob_or_null().map_err(|e| conversion(Box::new(e)))? {
        None => Ok(None),
        Some(b) => Uuid::from_slice(b).map(Some).map_err(|e| conversion(Box::new(e))),
    }
}

/// The most events a read reserves room for before it sees them.
const MAX_PAGE_HINT: usize = 4096;
/// Events a stream read reserves room for (most aggregates are shorter; more still fit).
const STREAM_HINT: usize = 64;
/// Payload bytes reserved per expected event (a workload event is 20-200 bytes).
const PAYLOAD_HINT: usize = 96;

/// Reads every row of a query (`expected` of them, or about) into events. The
/// payloads share one buffer per call (one allocation for a page, not one per
/// event); an event kept alive keeps its page's payloads alive too.
fn events(mut rows: rusqlite::Rows<'_>, expected: usize) -> rusqlite::Result<Vec<RecordedEvent>> {
    let expected = expected.min(MAX_PAGE_HINT);
    let mut events = Vec::with_capacity(expected);
    let mut payloads = Vec::with_capacity(expected * PAYLOAD_HINT);
    let mut ends = Vec::with_capacity(expected);
    while let Some(row) = rows.next()? {
        payloads.extend_from_slice(
            row.get_ref(12)?
                .as_blob()
                .map_err(|e| rusqlite::Error::FromSqlConversionFailure(12, rusqlite::types::Type::Blob, Box::new(e)))?,
        );
        ends.push(payloads.len());
        events.push(event(row)?);
    }
    let payloads = Bytes::from(payloads);
    let mut start = 0;
    for (e, end) in events.iter_mut().zip(ends) {
        e.payload = payloads.slice(start..end);
        start = end;
    }
    Ok(events)
}

/// One row, but its payload (see [`events`]).
fn event(row: &Row<'_>) -> rusqlite::Result<RecordedEvent> {
    Ok(RecordedEvent {
        position: row.get::<_, i64>(0)? as u64,
        stream: row.get(1)?,
        version: row.get::<_, i64>(2)? as u64,
        id: uuid_col(row, 3)?.unwrap_or_default(),
        event_type: row.get(4)?,
        schema_version: row.get(5)?,
        metadata: EventMetadata {
            time_unix_micros: row.get(6)?,
            correlation_id: uuid_col(row, 8)?,
            causation_id: uuid_col(row, 9)?,
            tenant: row.get(10)?,
            actor: row.get(11)?,
        },
        recorded_unix_micros: row.get(7)?,
        payload: Bytes::new(),
    })
}

/// A stream's events from a version up.
pub(super) const STREAM_FORWARDS: &str =
    select_events!("WHERE stream = ?1 AND version >= ?2 ORDER BY version ASC LIMIT ?3");
/// A stream's events from a version down.
const STREAM_BACKWARDS: &str = select_events!("WHERE stream = ?1 AND version <= ?2 ORDER BY version DESC LIMIT ?3");

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(super) fn stream(
    c: &Connection,
    stream: &str,
    from: u64,
    dir: Direction,
    limit: usize,
) -> Result<Vec<RecordedEvent>> {
    let sql = match dir {
        Direction::Forwards => STREAM_FORWARDS,
        Direction::Backwards => STREAM_BACKWARDS,
    };
    let mut stmt = c.prepare_cached(sql)?;
    Ok(events(stmt.query(params![stream, clamp(from), clamp(limit as u64)])?, limit.min(STREAM_HINT))?)
}

pub(super) fn all(c: &Connection, from: Position, limit: usize) -> Result<Vec<RecordedEvent>> {
    let mut stmt = c.prepare_cached(select_events!("WHERE position >= ?1 ORDER BY position LIMIT ?2"))?;
    Ok(events(stmt.query(params![clamp(from), clamp(limit as u64)])?, limit)?)
}

/// Positions `first..=last` of the global log.
pub(super) fn range(c: &Connection, first: Position, last: Position) -> Result<Vec<RecordedEvent>> {
    let mut stmt = c.prepare_cached(select_events!("WHERE position BETWEEN ?1 AND ?2 ORDER BY position"))?;
    let expected = usize::try_from(last.saturating_sub(first) + 1).unwrap_or(usize::MAX);
    Ok(events(stmt.query(params![clamp(first), clamp(last)])?, expected)?)
}

pub(super) fn head(c: &Connection) -> Result<Position> {
    let h: Option<i64> = c.query_row("SELECT MAX(position) FROM events", [], |r| r.get(0))?;
    Ok(h.map_or(0, |h| h as u64))
}

pub(super) fn checkpoint(c: &Connection, consumer: &str) -> Result<Option<Position>> {
    let mut stmt = c.prepare_cached("SELECT position FROM checkpoints WHERE consumer = ?1")?;
    let mut rows = stmt.query(params![consumer])?;
    Ok(match rows.next()? {
        Some(r) => Some(r.get::<_, i64>(0)? as u64),
        None => None,
    })
}
