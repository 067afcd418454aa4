//! `hcp events`: read, tail and replay the event log on either backend.

mod read;
mod replay;
mod tail;

use crate::cli::EventsCommand;
use anyhow::Context;
use hcp_eventstore::AnyStore;

/// Opens the store and runs the command.
pub async fn run(store_url: &str, command: EventsCommand) -> anyhow::Result<()> {
    let store = AnyStore::open(store_url).await.with_context(|| format!("opening the event store {store_url}"))?;
    match command {
        EventsCommand::Read(args) => read::run(&store, args).await,
        EventsCommand::Tail(args) => tail::run(&store, args).await,
        EventsCommand::Replay(args) => replay::run(&store, args).await,
    }
}

/// Writes a line to stdout; a closed pipe (`| head`) ends the command quietly.
pub(crate) fn emit(out: &mut impl std::io::Write, line: &str) -> anyhow::Result<bool> {
    match writeln!(out, "{line}") {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e.into()),
    }
}
