//! `hcp-agent`: registers this host's GPUs with discovery and keeps them alive, and,
//! given execution's address and an enrolment token, runs the workloads placed on them.

use clap::Parser;
use hcp_agent::executor::ExecutorConfig;
use hcp_agent::runner::Runner;
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
    /// Execution's gRPC address; without it the agent runs no workloads.
    #[arg(long, env = "HCP_EXECUTION")]
    execution: Option<String>,
    /// The enrolment token an operator issued (execution.enrolment_token).
    #[arg(long, env = "HCP_AGENT_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// How workloads run: `process` (the command, with CUDA_VISIBLE_DEVICES) or
    /// `simulated` (for its run time at --time-factor). Default: process with nvml,
    /// simulated with simulated GPUs.
    #[arg(long)]
    runner: Option<String>,
    /// Where the start journal and workload logs are kept.
    #[arg(long, default_value = "hcp-agent-data")]
    data_dir: std::path::PathBuf,
    /// Simulated seconds per real second for simulated runs.
    #[arg(long, default_value_t = 1.0)]
    time_factor: f64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let args = Args::parse();
    let config = AgentConfig {
        discovery: args.discovery.clone(),
        host: args.host.clone(),
        site: args.site.clone(),
        rack: args.rack.clone(),
        token: args.token.clone().unwrap_or_default(),
    };
    match args.backend.as_str() {
        "simulated" => {
            let model = &hcp_domain::catalogue::GPU_MODELS[0];
            let host = hcp_sim::gpu::SimGpuHost::new(&args.host, model, args.gpus);
            go(backend::Simulated(host), config, &args).await
        }
        #[cfg(feature = "nvml")]
        "nvml" => go(backend::nvml::NvmlBackend::init()?, config, &args).await,
        other => anyhow::bail!("unknown backend {other:?} (this build has: simulated{})", nvml_note()),
    }
}

/// The executor's configuration, when execution's address is given.
fn executor(args: &Args, gpus: &[hcp_proto::v1::AgentGpu], backend: &str) -> anyhow::Result<Option<ExecutorConfig>> {
    let Some(execution) = args.execution.clone() else { return Ok(None) };
    let token = args
        .token
        .clone()
        .ok_or_else(|| anyhow::anyhow!("--token (or HCP_AGENT_TOKEN) is required with --execution"))?;
    let default = if backend == "nvml" { "process" } else { "simulated" };
    let runner = match args.runner.as_deref().unwrap_or(default) {
        "process" => Runner::Process { logs: args.data_dir.join("logs") },
        "simulated" => Runner::Simulated { time_factor: args.time_factor },
        other => anyhow::bail!("--runner: {other:?} is not process or simulated"),
    };
    Ok(Some(ExecutorConfig {
        execution,
        token,
        host: args.host.clone(),
        gpus: gpus.iter().map(|g| (g.uuid.clone(), g.index)).collect(),
        data_dir: args.data_dir.clone(),
        runner,
    }))
}

fn nvml_note() -> &'static str {
    if cfg!(feature = "nvml") { ", nvml" } else { "; rebuild with --features nvml for nvml" }
}

async fn go(mut backend: impl backend::GpuBackend, config: AgentConfig, args: &Args) -> anyhow::Result<()> {
    if args.list {
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
    let executor = executor(args, &backend.gpus()?, backend.name())?;
    let work = async {
        match executor {
            Some(e) => hcp_agent::executor::run(e).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        r = hcp_agent::run(backend, config) => r,
        r = work => r,
        _ = tokio::signal::ctrl_c() => Ok(()),
        () = terminated() => Ok(()),
    }
}

/// SIGTERM.
async fn terminated() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}
