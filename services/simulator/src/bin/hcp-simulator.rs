//! `hcp-simulator`: runs a simulated fleet until interrupted.

use clap::Parser;
use hcp_simulator::{Behaviour, Fleet, FleetSpec};
use std::time::Duration;

/// Serve a simulated mining fleet on loopback addresses, port 4028.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Number of sites; site k uses 127.<first-octet + k>.0.0/16.
    #[arg(long, default_value_t = 2)]
    sites: usize,
    /// Miners per site.
    #[arg(long, default_value_t = 500)]
    miners_per_site: usize,
    /// Second octet of the first site's subnet.
    #[arg(long, default_value_t = 11)]
    first_octet: u8,
    /// Simulated seconds per real second.
    #[arg(long, default_value_t = 1.0)]
    time_factor: f64,
    /// Hashboard failures per board per simulated hour.
    #[arg(long, default_value_t = 0.0)]
    board_failures_per_hour: f64,
    /// Miners (of the first site, from the end) that answer malformed JSON.
    #[arg(long, default_value_t = 0)]
    malformed: usize,
    /// Miners (of the first site, before the malformed ones) that hang.
    #[arg(long, default_value_t = 0)]
    hanging: usize,
    /// The port stock Antminers serve their web interface on (80 as real ones; 0 for none).
    #[arg(long, default_value_t = 80)]
    http_port: u16,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let args = Args::parse();
    let mut spec = FleetSpec::uniform(args.sites, args.miners_per_site, args.first_octet);
    spec.http_port = (args.http_port != 0).then_some(args.http_port);
    spec.time_factor = args.time_factor;
    spec.board_failures_per_hour = args.board_failures_per_hour;
    let fleet = Fleet::start(spec).await?;
    let per_site = args.miners_per_site;
    for (n, m) in fleet.miners[..per_site].iter().rev().enumerate() {
        if n < args.malformed {
            m.set_behaviour(Behaviour::Malformed);
        } else if n < args.malformed + args.hanging {
            m.set_behaviour(Behaviour::Hang);
        }
    }
    for site in &fleet.spec.sites {
        let (first, last) = site.range();
        println!(
            "site {} ({}): {} miners, {first}-{last}:{}",
            site.id, site.settlement_point, site.miners, fleet.spec.port
        );
    }
    println!("ready: {} miners", fleet.miners.len());
    tokio::signal::ctrl_c().await?;
    fleet.shutdown();
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok(())
}
