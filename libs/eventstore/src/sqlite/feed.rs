//! The feeder behind a SQLite subscription: pages of the global log, read ahead.
//!
//! Positions are gapless and assigned in commit order, and the writer moves its
//! head only after a commit, so every position up to that head can be read
//! without waiting for the page before it. While it is behind that head the feeder
//! keeps [`READ_AHEAD`] page reads in flight on blocking threads and sends the
//! pages in order, so decoding one page overlaps reading the next. At the head it
//! reads the next page plainly (which also finds appends by other processes that
//! share the file) and, finding nothing, waits for the head to move or for the
//! poll interval.

use super::{SqliteStore, finish, read};
use crate::{EventStore, Position, RecordedEvent, Result};
use std::collections::VecDeque;
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;

/// Events in one page.
const PAGE: u64 = 1024;
/// Page reads in flight while catching up (one per core on the machines we size for).
const READ_AHEAD: usize = 2;

type PageRead = JoinHandle<Result<Vec<RecordedEvent>>>;

/// Sends every event from `from` on to `tx`, in order, until the subscriber
/// leaves, the store closes, or a read fails (the error is sent last).
pub(super) async fn feed(store: SqliteStore, from: Position, tx: Sender<Result<Vec<RecordedEvent>>>) {
    let mut head = store.inner.head.clone();
    // Positions start at 1; `issued` is the first position no read has asked for.
    let mut issued = from.max(1);
    let mut reads: VecDeque<PageRead> = VecDeque::with_capacity(READ_AHEAD);
    loop {
        let committed = *head.borrow();
        while reads.len() < READ_AHEAD && issued <= committed {
            let last = (issued + PAGE - 1).min(committed);
            let first = issued;
            reads.push_back(store.spawn_read(move |c| read::range(c, first, last)));
            issued = last + 1;
        }
        let page = match reads.pop_front() {
            Some(page) => finish(page).await.and_then(|events| store.inner.upcasters.apply_all(events)),
            None => match store.read_all(issued, PAGE as usize).await {
                Ok(events) if events.is_empty() => {
                    let moved = head.wait_for(|h| *h >= issued);
                    if let Ok(Err(_)) = tokio::time::timeout(store.inner.poll_interval, moved).await {
                        return; // the store closed
                    }
                    continue;
                }
                Ok(events) => {
                    issued = events.last().map_or(issued, |e| e.position + 1);
                    Ok(events)
                }
                Err(e) => Err(e),
            },
        };
        let failed = page.is_err();
        if tx.send(page).await.is_err() || failed {
            return;
        }
    }
}
