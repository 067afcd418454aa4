//! `hcp`: the HCP launcher and operator CLI. Thin: parse and run (the configuration,
//! logging and telemetry are set up by [`hcp::run`], once the configuration is valid).

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = hcp::cli::Cli::parse();
    match hcp::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
