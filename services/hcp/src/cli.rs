//! The command line.

use clap::{Args, Parser, Subcommand};

/// The embedded store a fresh checkout uses.
pub const DEFAULT_STORE: &str = "sqlite:data/local/events.db";

/// HCP: hybrid compute platform for Bitcoin-mining ASIC fleets and GPU servers.
#[derive(Debug, Parser)]
#[command(name = "hcp", version, about)]
pub struct Cli {
    /// The event store: `sqlite:PATH` (embedded) or `nats://HOST:PORT` (JetStream).
    #[arg(long, global = true, env = "HCP_STORE", default_value = DEFAULT_STORE)]
    pub store: String,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read, tail and replay the event log.
    #[command(subcommand)]
    Events(EventsCommand),
}

/// `hcp events ...`
#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Print one stream's events, e.g. `workload-<uuid>` or `resource-<id>`.
    Read(ReadArgs),
    /// Print the newest events of the global log, and with --follow every new one.
    Tail(TailArgs),
    /// Replay the global log from a position through the domain, printing each event
    /// and, at the end, the state it folds into.
    Replay(ReplayArgs),
}

/// Output options shared by every events command.
#[derive(Debug, Args, Clone, Copy)]
pub struct Output {
    /// One JSON object per line instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `hcp events read`
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// The stream.
    pub stream: String,
    /// First version to print (1 = the first event).
    #[arg(long, default_value_t = 1)]
    pub from_version: u64,
    /// Newest first.
    #[arg(long)]
    pub backwards: bool,
    /// At most this many events.
    #[arg(long, default_value_t = 10_000)]
    pub limit: usize,
    /// Output format.
    #[command(flatten)]
    pub output: Output,
}

/// `hcp events tail`
#[derive(Debug, Args)]
pub struct TailArgs {
    /// How many of the newest events to print first.
    #[arg(short = 'n', long, default_value_t = 20)]
    pub lines: usize,
    /// Keep printing new events until interrupted.
    #[arg(short, long)]
    pub follow: bool,
    /// Output format.
    #[command(flatten)]
    pub output: Output,
}

/// `hcp events replay`
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Global position to start from (inclusive).
    #[arg(long, default_value_t = 0)]
    pub from: u64,
    /// Stop after this many events.
    #[arg(long)]
    pub limit: Option<u64>,
    /// Print only the summary, not each event.
    #[arg(long)]
    pub quiet: bool,
    /// Output format.
    #[command(flatten)]
    pub output: Output,
}
