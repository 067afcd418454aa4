//! `hcp-agent`: registers this host's GPUs with discovery and keeps them alive.

use clap::Parser;
use hcp_agent::{AgentConfig, backend};

/// Register this host's GPUs with HCP discovery and send heartbeats.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Discovery's gRPC address.
    #[arg(long, env = "HCP_DISCOVERY", default_value = "http://127.0.0.1:50051")]
    discovery: String,
    /// This host's name.
    #[arg(long)]
    host: String,
    /// The site it is at.
    #[arg(long, default_value = "tx-south-1")]
    site: String,
    /// Its rack.
    #[arg(long, default_value = "")]
    rack: String,
    /// Where GPUs come from: `nvml` (needs the nvml feature) or `simulated`.
    #[arg(long, default_value = "simulated")]
    backend: String,
    /// Simulated GPUs on this host.
    #[arg(long, default_value_t = 8)]
    gpus: u32,
    /// Only list the GPUs found, then exit.
    #[arg(long)]
    list: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let args = Args::parse();
    let config = AgentConfig { discovery: args.discovery, host: args.host.clone(), site: args.site, rack: args.rack };
    match args.backend.as_str() {
        "simulated" => {
            let model = &hcp_domain::catalogue::GPU_MODELS[0];
            let host = hcp_sim::gpu::SimGpuHost::new(&args.host, model, args.gpus);
            go(backend::Simulated(host), config, args.list).await
        }
        #[cfg(feature = "nvml")]
        "nvml" => go(backend::nvml::NvmlBackend::init()?, config, args.list).await,
        other => anyhow::bail!("unknown backend {other:?} (this build has: simulated{})", nvml_note()),
    }
}

fn nvml_note() -> &'static str {
    if cfg!(feature = "nvml") { ", nvml" } else { "; rebuild with --features nvml for nvml" }
}

async fn go(mut backend: impl backend::GpuBackend, config: AgentConfig, list: bool) -> anyhow::Result<()> {
    if list {
        for g in backend.gpus()? {
            println!("{}\t{}\t{}\t{} MiB\t{} W", g.index, g.uuid, g.model, g.memory_mib, g.power_limit_w);
        }
        for r in backend.readings()? {
            println!(
                "{}\t{}%\t{} W\t{} °C\t{} MiB used",
                r.uuid, r.utilization_pct, r.power_w, r.temp_c, r.memory_used_mib
            );
        }
        return Ok(());
    }
    tokio::select! {
        r = hcp_agent::run(backend, config) => r,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}
