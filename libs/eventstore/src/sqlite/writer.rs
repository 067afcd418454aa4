//! The single writer thread and its group commit.
//!
//! It takes the first waiting request, then everything else already queued (up
//! to [`MAX_GROUP`]), runs each in a savepoint inside one transaction, commits
//! once, and only then answers every caller and advances the head.

use crate::{AppendResult, ConcurrencyConflict, ExpectedVersion, NewEvent, Position, Result, StoreError};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

/// Requests the queue holds before senders wait.
pub(super) const QUEUE: usize = 8192;
/// Most requests one transaction carries.
const MAX_GROUP: usize = 1024;

pub(super) enum WriteRequest {
    Append {
        stream: String,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        reply: oneshot::Sender<Result<AppendResult>>,
    },
    Checkpoint {
        consumer: String,
        position: Position,
        reply: oneshot::Sender<Result<()>>,
    },
}

pub(super) fn spawn(conn: Connection, rx: mpsc::Receiver<WriteRequest>, head: watch::Sender<Position>) -> Result<()> {
    std::thread::Builder::new()
        .name("hcp-sqlite-writer".into())
        .spawn(move || Writer { conn }.run(rx, head))
        .map_err(|e| StoreError::Corrupt(format!("cannot start the writer thread: {e}")))?;
    Ok(())
}

struct Writer {
    conn: Connection,
}

enum Outcome {
    Append(oneshot::Sender<Result<AppendResult>>, Result<AppendResult>),
    Checkpoint(oneshot::Sender<Result<()>>, Result<()>),
}

impl Writer {
    fn run(mut self, mut rx: mpsc::Receiver<WriteRequest>, head: watch::Sender<Position>) {
        let mut group = Vec::with_capacity(MAX_GROUP);
        while let Some(first) = rx.blocking_recv() {
            group.push(first);
            while group.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(r) => group.push(r),
                    Err(_) => break,
                }
            }
            let (outcomes, last) = self.commit_group(&mut group);
            if let Some(last) = last {
                head.send_if_modified(|h| {
                    let moved = last > *h;
                    *h = (*h).max(last);
                    moved
                });
            }
            for o in outcomes {
                match o {
                    Outcome::Append(tx, r) => drop(tx.send(r)),
                    Outcome::Checkpoint(tx, r) => drop(tx.send(r)),
                }
            }
        }
    }

    /// Runs a group in one transaction; on commit failure every caller gets the error.
    fn commit_group(&mut self, group: &mut Vec<WriteRequest>) -> (Vec<Outcome>, Option<Position>) {
        let mut results = Vec::with_capacity(group.len());
        let mut last = None;
        let tx = match self.conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => return (fail_all(group, &e.to_string()), None),
        };
        for req in group.drain(..) {
            match req {
                WriteRequest::Append { stream, expected, events, reply } => {
                    let r = in_savepoint(&tx, |sp| append(sp, &stream, expected, &events));
                    if let Ok(a) = &r {
                        last = last.max(Some(a.last_position));
                    }
                    results.push(Outcome::Append(reply, r));
                }
                WriteRequest::Checkpoint { consumer, position, reply } => {
                    let r = tx
                        .execute(
                            "INSERT INTO checkpoints (consumer, position) VALUES (?1, ?2)
                             ON CONFLICT (consumer) DO UPDATE SET position = excluded.position",
                            params![consumer, position as i64],
                        )
                        .map(|_| ())
                        .map_err(StoreError::from);
                    results.push(Outcome::Checkpoint(reply, r));
                }
            }
        }
        if let Err(e) = tx.commit() {
            let msg = format!("commit failed: {e}");
            let outcomes = results
                .into_iter()
                .map(|o| match o {
                    Outcome::Append(tx, _) => Outcome::Append(tx, Err(StoreError::Corrupt(msg.clone()))),
                    Outcome::Checkpoint(tx, _) => Outcome::Checkpoint(tx, Err(StoreError::Corrupt(msg.clone()))),
                })
                .collect();
            return (outcomes, None);
        }
        (results, last)
    }
}

fn fail_all(group: &mut Vec<WriteRequest>, msg: &str) -> Vec<Outcome> {
    group
        .drain(..)
        .map(|r| match r {
            WriteRequest::Append { reply, .. } => Outcome::Append(reply, Err(StoreError::Corrupt(msg.to_owned()))),
            WriteRequest::Checkpoint { reply, .. } => {
                Outcome::Checkpoint(reply, Err(StoreError::Corrupt(msg.to_owned())))
            }
        })
        .collect()
}

/// Runs `f` in a savepoint: released on success, rolled back on error (the
/// statements are cached: parsing them was a visible share of each append).
fn in_savepoint<T>(tx: &Transaction<'_>, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    let run = |sql: &str| tx.prepare_cached(sql).and_then(|mut s| s.execute([]));
    run("SAVEPOINT append")?;
    match f(tx) {
        Ok(v) => {
            run("RELEASE append")?;
            Ok(v)
        }
        Err(e) => {
            run("ROLLBACK TO append")?;
            run("RELEASE append")?;
            Err(e)
        }
    }
}

fn now_micros() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as i64)
}

/// A stream's version: its highest, from the `(stream, version)` index.
pub(super) const STREAM_VERSION: &str = "SELECT MAX(version) FROM events WHERE stream = ?1";

/// Appends one request inside the group's transaction. The stream's version is
/// read from the index inside the write lock, so it is right even when another
/// process shares the file, and sees earlier appends of the same group.
fn append(c: &Connection, stream: &str, expected: ExpectedVersion, events: &[NewEvent]) -> Result<AppendResult> {
    if let Some(original) = already_appended(c, stream, events)? {
        return Ok(original);
    }
    let current = c
        .prepare_cached(STREAM_VERSION)?
        .query_row(params![stream], |r| r.get::<_, Option<i64>>(0))?
        .map_or(0, |v| v as u64);
    if !expected.admits(current) {
        return Err(ConcurrencyConflict { stream: stream.to_owned(), expected, actual: current }.into());
    }
    let recorded = now_micros();
    let mut stmt = c.prepare_cached(
        "INSERT INTO events (stream, version, id, type, schema_version, time, recorded, correlation, causation, tenant, actor, payload)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    let mut first = 0;
    for (i, e) in events.iter().enumerate() {
        let m = &e.metadata;
        let inserted = stmt.execute(params![
            stream,
            (current + 1 + i as u64) as i64,
            e.id.as_bytes().as_slice(),
            e.event_type,
            e.schema_version,
            m.time_unix_micros,
            recorded,
            m.correlation_id.as_ref().map(|u| u.as_bytes().to_vec()),
            m.causation_id.as_ref().map(|u| u.as_bytes().to_vec()),
            m.tenant,
            m.actor,
            e.payload.as_ref(),
        ]);
        if let Err(err) = inserted {
            return Err(match stored_at(c, &e.id)? {
                Some((s, v, _)) => StoreError::IdempotencyMismatch { id: e.id, stream: s, version: v },
                None => err.into(),
            });
        }
        if i == 0 {
            first = c.last_insert_rowid() as u64;
        }
    }
    let n = events.len() as u64;
    Ok(AppendResult { first_position: first, last_position: first + n - 1, version: current + n })
}

fn stored_at(c: &Connection, id: &Uuid) -> Result<Option<(String, u64, u64)>> {
    Ok(c.prepare_cached("SELECT stream, version, position FROM events WHERE id = ?1")?
        .query_row(params![id.as_bytes().as_slice()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)? as u64))
        })
        .optional()?)
}

/// If the first event is stored, the whole append must be stored as one run in
/// this stream (a retry): returns its original result. Otherwise `None`.
fn already_appended(c: &Connection, stream: &str, events: &[NewEvent]) -> Result<Option<AppendResult>> {
    let Some((s, v0, p0)) = stored_at(c, &events[0].id)? else {
        return Ok(None);
    };
    let mismatch = |id: Uuid, s: String, v: u64| StoreError::IdempotencyMismatch { id, stream: s, version: v };
    if s != stream {
        return Err(mismatch(events[0].id, s, v0));
    }
    let mut last = (v0, p0);
    for (i, e) in events.iter().enumerate().skip(1) {
        match stored_at(c, &e.id)? {
            Some((s2, v, p)) if s2 == stream && v == v0 + i as u64 => last = (v, p),
            Some((s2, v, _)) => return Err(mismatch(e.id, s2, v)),
            None => return Err(mismatch(events[0].id, s, v0)),
        }
    }
    Ok(Some(AppendResult { first_position: p0, last_position: last.1, version: last.0 }))
}
