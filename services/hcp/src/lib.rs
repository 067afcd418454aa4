//! The `hcp` binary's library: command-line parsing, the configuration, and one module
//! per command (`commands/<noun>/<verb>.rs`). Data goes to stdout, diagnostics to stderr.

#![forbid(unsafe_code)]

pub mod cli;
pub mod commands;
pub mod render;
pub mod settings;

use cli::{Command, ConfigCommand};

/// Runs a parsed command line; the configuration is loaded and validated first.
pub async fn run(cli: cli::Cli) -> anyhow::Result<()> {
    let config = settings::load(&cli)?;
    // Spans are exported by the processes that serve; operator commands only log.
    let (name, export) = match &cli.command {
        Command::Serve(args) => (format!("hcp-{}", args.service), true),
        Command::Up(_) => ("hcp".to_owned(), true),
        _ => ("hcp-cli".to_owned(), false),
    };
    let mut telemetry_config = config.telemetry.clone();
    if !export {
        telemetry_config.otlp_endpoint = None;
    }
    let telemetry = hcp_runtime::telemetry::init(&telemetry_config, &name)?;
    let result = command(cli, &config).await;
    telemetry.shutdown().await;
    result
}

async fn command(cli: cli::Cli, config: &hcp_runtime::config::Config) -> anyhow::Result<()> {
    let config = config.clone();
    match cli.command {
        Command::Events(events) => commands::events::run(&settings::open_existing(&config).await?, events).await,
        Command::Up(_) => commands::up::run(&config).await,
        Command::Resources(resources) => commands::resources::run(resources, &config).await,
        Command::Projections(projections) => commands::projections::run(projections, &config).await,
        Command::Backtest(args) => commands::backtest::run(args),
        Command::Plan(args) => commands::plan::plan(args, &config).await,
        Command::Explain(args) => commands::plan::explain(args, &config).await,
        Command::Serve(args) => commands::serve::run(&config, &args.service).await,
        Command::Status(args) => commands::status::run(&config, args).await,
        Command::Sites(sites) => commands::sites::run(sites, &config).await,
        Command::Workloads(c) => commands::workloads::run(c, &config).await,
        Command::Tenants(c) => commands::tenants::run(c, &config).await,
        Command::Hosts(c) => commands::hosts::run(c, &config).await,
        Command::Keys(c) => commands::keys::run(c, &config).await,
        Command::Usage(args) => commands::usage::run(args, &config).await,
        Command::Invoices(c) => commands::billing::invoices(c, &config).await,
        Command::Ratecards(c) => commands::billing::ratecards(c, &config).await,
        Command::Budgets(c) => commands::billing::budgets(c, &config).await,
        Command::Margins(args) => commands::billing::margins(args, &config).await,
        Command::Webhooks(c) => commands::webhooks::run(c, &config).await,
        Command::Fleet(c) => commands::fleet::run(c, &config).await,
        Command::Config(ConfigCommand::Dump) => {
            print!("{}", config.to_toml());
            Ok(())
        }
    }
}
