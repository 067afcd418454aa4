//! `hcp events read <stream>`

use super::emit;
use crate::cli::ReadArgs;
use crate::render;
use hcp_eventstore::{AnyStore, Direction, EventStore};

pub(super) async fn run(store: &AnyStore, args: ReadArgs) -> anyhow::Result<()> {
    let (direction, from) = if args.backwards {
        (Direction::Backwards, if args.from_version == 1 { u64::MAX } else { args.from_version })
    } else {
        (Direction::Forwards, args.from_version)
    };
    let events = store.read_stream(&args.stream, from, direction, args.limit).await?;
    if events.is_empty() {
        eprintln!("stream {} has no events", args.stream);
    }
    let mut out = std::io::stdout().lock();
    for e in &events {
        if !emit(&mut out, &render::line(e, args.output.json))? {
            break;
        }
    }
    Ok(())
}
