//! `hcp events tail [--follow]`

use super::emit;
use crate::cli::TailArgs;
use crate::render;
use hcp_eventstore::{AnyStore, EventStore};
use std::io::Write;

/// How far back to look for the last `n` events when positions are sparse
/// (JetStream positions advance by 1000 per append).
async fn start_of_last(store: &AnyStore, n: usize) -> anyhow::Result<u64> {
    let head = store.head().await?;
    let mut back = n as u64;
    loop {
        let from = head.saturating_sub(back);
        let page = store.read_all(from, n + 1).await?;
        if from == 0 || page.len() > n {
            let skip = page.len().saturating_sub(n);
            return Ok(page.get(skip).map_or(head + 1, |e| e.position));
        }
        back = back.saturating_mul(8);
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
