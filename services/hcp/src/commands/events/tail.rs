//! `hcp events tail [--follow]`

use super::emit;
use crate::cli::TailArgs;
use crate::render;
use hcp_eventstore::{AnyStore, EventStore};
use std::io::Write;

/// The position of the first of the last `n` events (up to the head now); the head + 1
/// when `n` is 0 or the log is empty. Positions may be sparse (JetStream's advance by
/// 1000 per append), so it looks back from the head in growing steps until the window
/// holds `n` events, and takes the last `n` of that window.
async fn start_of_last(store: &AnyStore, n: usize) -> anyhow::Result<u64> {
    let head = store.head().await?;
    if n == 0 || head == 0 {
        return Ok(head + 1);
    }
    let mut back = n as u64;
    loop {
        let from = head.saturating_sub(back);
        let window = positions(store, from, head).await?;
        if from == 0 || window.len() >= n {
            return Ok(window.get(window.len().saturating_sub(n)).copied().unwrap_or(head + 1));
        }
        back = back.saturating_mul(8);
    }
}

/// The positions of the events from `from` through `to`.
async fn positions(store: &AnyStore, from: u64, to: u64) -> anyhow::Result<Vec<u64>> {
    const PAGE: usize = 1024;
    let mut out = Vec::new();
    let mut at = from;
    loop {
        let page = store.read_all(at, PAGE).await?;
        out.extend(page.iter().map(|e| e.position).take_while(|&p| p <= to));
        match page.last() {
            Some(last) if last.position < to && page.len() == PAGE => at = last.position + 1,
            _ => return Ok(out),
        }
    }
}

pub(super) async fn run(store: &AnyStore, args: TailArgs) -> anyhow::Result<()> {
    let from = start_of_last(store, args.lines).await?;
    let mut out = std::io::stdout().lock();
    if !args.follow {
        for e in store.read_all(from, args.lines).await? {
            if !emit(&mut out, &render::line(&e, args.output.json))? {
                break;
            }
        }
        return Ok(());
    }
    let mut sub = store.subscribe(from).await?;
    loop {
        tokio::select! {
            next = sub.next() => match next {
                Some(Ok(e)) => {
                    if !emit(&mut out, &render::line(&e, args.output.json))? {
                        return Ok(());
                    }
                    out.flush()?;
                }
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}
