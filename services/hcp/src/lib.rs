//! The `hcp` binary's library: command-line parsing and one module per command
//! (`commands/<noun>/<verb>.rs`). Data goes to stdout, diagnostics to stderr.

#![forbid(unsafe_code)]

pub mod cli;
pub mod commands;
pub mod render;

/// Runs a parsed command line.
pub async fn run(cli: cli::Cli) -> anyhow::Result<()> {
    match cli.command {
        cli::Command::Events(events) => commands::events::run(&cli.store, events).await,
        cli::Command::Up(args) => commands::up::run(&cli.store, args).await,
        cli::Command::Resources(resources) => commands::resources::run(resources).await,
        cli::Command::Backtest(args) => commands::backtest::run(args),
        cli::Command::Plan(args) => commands::plan::plan(args).await,
        cli::Command::Explain(args) => commands::plan::explain(args).await,
    }
}
