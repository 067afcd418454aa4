//! `hcp workloads ...` arguments.

use crate::cli::Output;
use clap::{Args, Subcommand};

/// `hcp workloads ...`
#[derive(Debug, Subcommand)]
pub enum WorkloadsCommand {
    /// Submit a workload (queued at once; runs when placed).
    Submit(Box<SubmitArgs>),
    /// List workloads, oldest first.
    List(ListArgs),
    /// Show one workload.
    Get(IdArgs),
    /// Every event of a workload: a timeline, with the time between steps.
    History(IdArgs),
    /// A workload as it stood at a past instant (`--at`), folded from its events.
    State(crate::commands::state::StateArgs),
    /// Why a queued workload waits, and its place in the queue.
    Why(IdArgs),
    /// The output of a workload's process, from the agent that ran it.
    Logs(LogsArgs),
    /// Pause a running workload (it keeps its GPUs).
    Pause(ActionArgs),
    /// Resume a paused workload.
    Resume(ActionArgs),
    /// Cancel a workload.
    Cancel(ActionArgs),
}

/// `hcp workloads submit`
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The tenant that pays.
    #[arg(long)]
    pub tenant: String,
    /// training, batch-inference or realtime-inference.
    #[arg(long)]
    pub kind: String,
    /// The GPU model: its id (h100-sxm-80gb), NVML name or an alias (H100).
    #[arg(long)]
    pub gpu_model: String,
    /// How many GPUs, all at once.
    #[arg(long, default_value_t = 1)]
    pub gpus: u32,
    /// Maximum run time, e.g. 90s, 30m, 2h, 1h30m (as Slurm's --time).
    #[arg(long)]
    pub duration: String,
    /// Memory per GPU, MiB (default: any).
    #[arg(long, default_value_t = 1)]
    pub memory_mib: u64,
    /// Largest acceptable latency, ms (required for realtime inference).
    #[arg(long)]
    pub max_latency_ms: Option<u64>,
    /// The port a realtime inference server listens on.
    #[arg(long)]
    pub port: Option<u32>,
    /// Priority within the class, 0-9.
    #[arg(long, default_value_t = 0)]
    pub priority: u32,
    /// Whether a higher class may preempt it (default: yes, except realtime inference).
    #[arg(long)]
    pub preemptible: Option<bool>,
    /// It checkpoints: preempted, it resumes from its last checkpoint.
    #[arg(long)]
    pub checkpointing: bool,
    /// Only at this site.
    #[arg(long)]
    pub site: Option<String>,
    /// Where its GPUs must be: any, rack or host.
    #[arg(long, default_value = "any")]
    pub locality: String,
    /// A container image.
    #[arg(long)]
    pub image: Option<String>,
    /// Environment, KEY=VALUE (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Idempotency key: submitting again with the same key answers the same workload.
    #[arg(long)]
    pub key: Option<String>,
    /// The routing gRPC address (default: the configuration's).
    #[arg(long)]
    pub api: Option<String>,
    /// Output format.
    #[command(flatten)]
    pub output: Output,
    /// The command and its arguments, after `--`.
    #[arg(last = true)]
    pub command: Vec<String>,
}

/// `hcp workloads list`
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this tenant's.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Only in this status (queued, running, ...).
    #[arg(long)]
    pub status: Option<String>,
    /// The routing gRPC address.
    #[arg(long)]
    pub api: Option<String>,
    /// Output format.
    #[command(flatten)]
    pub output: Output,
}

/// A workload by id.
#[derive(Debug, Args)]
pub struct IdArgs {
    /// The workload's id.
    pub id: String,
    /// The routing gRPC address.
    #[arg(long)]
    pub api: Option<String>,
    /// Output format.
    #[command(flatten)]
    pub output: Output,
}

/// `hcp workloads logs`
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The workload's id.
    pub id: String,
    /// At most this many bytes from the end.
    #[arg(long, default_value_t = 65536)]
    pub max_bytes: u32,
    /// The execution gRPC address.
    #[arg(long)]
    pub api: Option<String>,
}

/// Pause, resume, cancel.
#[derive(Debug, Args)]
pub struct ActionArgs {
    /// The workload's id.
    pub id: String,
    /// Why (recorded).
    #[arg(long, default_value = "")]
    pub reason: String,
    /// The routing gRPC address.
    #[arg(long)]
    pub api: Option<String>,
    /// Output format.
    #[command(flatten)]
    pub output: Output,
}
