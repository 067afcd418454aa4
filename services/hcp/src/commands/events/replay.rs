//! `hcp events replay --from <position>`: every event from a position to the
//! current head, folded through the domain; the summary says what state the
//! log leaves each aggregate in.

use super::emit;
use super::fold::Fold;
use crate::cli::ReplayArgs;
use crate::render;
use hcp_eventstore::{AnyStore, EventStore};

const PAGE: usize = 4096;

pub(super) async fn run(store: &AnyStore, args: ReplayArgs) -> anyhow::Result<()> {
    let head = store.head().await?;
    let limit = args.limit.unwrap_or(u64::MAX);
    let mut fold = Fold::default();
    let mut from = args.from;
    let mut count = 0u64;
    let mut last = None;
    let mut out = std::io::stdout().lock();
    let mut printing = !args.quiet;
    'pages: while count < limit && from <= head {
        let page = store.read_all(from, PAGE).await?;
        let Some(tail) = page.last() else { break };
        from = tail.position + 1;
        for e in &page {
            if e.position > head || count == limit {
                break 'pages;
            }
            fold.apply(e);
            count += 1;
            last = Some(e.position);
            if printing {
                printing = emit(&mut out, &render::line(e, args.output.json))?;
            }
        }
    }
    eprintln!("{}", fold.summary(count, last));
    Ok(())
}
