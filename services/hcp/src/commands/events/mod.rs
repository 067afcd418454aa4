//! `hcp events`: read, tail and replay the event log on either backend.

pub(crate) mod fold;
mod read;
mod replay;
mod tail;

use crate::cli::EventsCommand;
use hcp_eventstore::AnyStore;

/// Runs the command on an opened store.
pub async fn run(store: &AnyStore, command: EventsCommand) -> anyhow::Result<()> {
    match command {
        EventsCommand::Read(args) => read::run(store, args).await,
        EventsCommand::Tail(args) => tail::run(store, args).await,
        EventsCommand::Replay(args) => replay::run(store, args).await,
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
