//! The command line.

use clap::{Args, Parser, Subcommand};

/// The embedded store a fresh checkout uses.
pub const DEFAULT_STORE: &str = "sqlite:data/local/events.db";

/// HCP: hybrid compute platform for Bitcoin-mining ASIC fleets and GPU servers.
#[derive(Debug, Parser)]
#[command(name = "hcp", version, about)]
pub struct Cli {
    /// The event store: `sqlite:PATH` (embedded) or `nats://HOST:PORT` (JetStream; add
    /// `?namespace=NAME` for a private set of streams on a shared server).
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
    /// Start the platform on its embedded defaults: the event store, a simulated fleet
    /// (miners and GPU hosts with their agents) and discovery, until interrupted.
    Up(UpArgs),
    /// List and show the resources discovery has found.
    #[command(subcommand)]
    Resources(ResourcesCommand),
    /// Run strategies over historical prices and compare their margins.
    Backtest(BacktestArgs),
    /// Plan a site's coming interval now (recorded as an event), with the reasons.
    Plan(PlanArgs),
    /// Show a recorded plan and its reasons.
    Explain(ExplainArgs),
}

/// Where the optimization API is.
#[derive(Debug, Args, Clone)]
pub struct ApiAddr {
    /// The pricing and optimization gRPC address.
    #[arg(long, env = "HCP_API", default_value = "http://127.0.0.1:50052")]
    pub api: String,
}

/// `hcp plan`
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The site.
    #[arg(long, default_value = "tx-south-1")]
    pub site: String,
    /// Where the API is.
    #[command(flatten)]
    pub at: ApiAddr,
    /// Output format.
    #[command(flatten)]
    pub output: Output,
}

/// `hcp explain`
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The plan's id.
    pub plan_id: String,
    /// Where the API is.
    #[command(flatten)]
    pub at: ApiAddr,
    /// Output format.
    #[command(flatten)]
    pub output: Output,
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

/// `hcp up`
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Simulated sites; site k serves its miners on 127.<first-octet + k>.0.0/16.
    #[arg(long, default_value_t = 2)]
    pub sites: usize,
    /// Simulated miners per site.
    #[arg(long, default_value_t = 500)]
    pub miners_per_site: usize,
    /// Second octet of the first site's loopback subnet.
    #[arg(long, default_value_t = 11)]
    pub first_octet: u8,
    /// Simulated GPU hosts.
    #[arg(long, default_value_t = 8)]
    pub gpu_hosts: usize,
    /// GPUs per simulated host.
    #[arg(long, default_value_t = 8)]
    pub gpus_per_host: u32,
    /// Where discovery's gRPC API listens.
    #[arg(long, default_value = "127.0.0.1:50051")]
    pub grpc: std::net::SocketAddr,
    /// Seconds between health polls of each miner.
    #[arg(long, default_value_t = 10.0)]
    pub poll_seconds: f64,
    /// Simulated seconds per real second (physics: ramps, heat, failures).
    #[arg(long, default_value_t = 1.0)]
    pub time_factor: f64,
    /// Hashboard failures per board per simulated hour, so that health changes show.
    #[arg(long, default_value_t = 0.01)]
    pub board_failures_per_hour: f64,
    /// Run without a simulated fleet (discovery only; scan nothing).
    #[arg(long)]
    pub no_simulator: bool,
    /// ERCOT prices to replay for every site (skipped, with a warning, if absent).
    #[arg(long, default_value = "data/ercot/hb_south_15min_2024-06_2024-12.csv")]
    pub prices: std::path::PathBuf,
    /// Daily Bitcoin price and difficulty to replay.
    #[arg(long, default_value = "data/bitcoin/btc_daily_2020-04_2024-12.csv")]
    pub btc: std::path::PathBuf,
    /// Where prices come from: `replay` (the --prices series), `simulated` (a stochastic
    /// series calibrated to it, continuing where it ends) or `http://...` (a feed polled
    /// every 15 s that serves the same CSV).
    #[arg(long, default_value = "replay")]
    pub price_source: String,
    /// Simulated market seconds per real second (60: a 15-minute interval every 15 s).
    #[arg(long, default_value_t = 60.0)]
    pub price_speed: f64,
    /// Where the pricing and optimization gRPC APIs listen.
    #[arg(long, default_value = "127.0.0.1:50052")]
    pub api: std::net::SocketAddr,
}

/// `hcp resources ...`
#[derive(Debug, Subcommand)]
pub enum ResourcesCommand {
    /// List resources from discovery's inventory, in id order.
    List(ListArgs),
    /// Show one resource.
    Get(GetArgs),
}

/// Where discovery is.
#[derive(Debug, Args, Clone)]
pub struct DiscoveryAddr {
    /// Discovery's gRPC address.
    #[arg(long, env = "HCP_DISCOVERY", default_value = "http://127.0.0.1:50051")]
    pub discovery: String,
}

/// `hcp resources list`
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this site.
    #[arg(long)]
    pub site: Option<String>,
    /// Only this health: healthy, degraded, offline, retired.
    #[arg(long)]
    pub health: Option<String>,
    /// Only this mode: idle, mining, serving-ai, curtailed.
    #[arg(long)]
    pub mode: Option<String>,
    /// At most this many (all when omitted).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Where discovery is.
    #[command(flatten)]
    pub at: DiscoveryAddr,
    /// Output format.
    #[command(flatten)]
    pub output: Output,
}

/// `hcp resources get`
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The resource id, e.g. `asic-127.11.0.1` or `gpu-<uuid>`.
    pub id: String,
    /// Where discovery is.
    #[command(flatten)]
    pub at: DiscoveryAddr,
    /// Output format.
    #[command(flatten)]
    pub output: Output,
}

/// `hcp backtest`
#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// ERCOT 15-minute prices: `interval_start,<day-ahead>,<real-time>` CSV.
    #[arg(long, default_value = "data/ercot/hb_south_15min_2024-06_2024-12.csv")]
    pub prices: std::path::PathBuf,
    /// Daily Bitcoin series: `date,btc_usd_close,difficulty,block_height` CSV.
    #[arg(long, default_value = "data/bitcoin/btc_daily_2020-04_2024-12.csv")]
    pub btc: std::path::PathBuf,
    /// The site, as JSON (see infra/sites/); without it, `--count` miners of `--model`.
    #[arg(long)]
    pub site: Option<std::path::PathBuf>,
    /// The model, without --site.
    #[arg(long, default_value = "Antminer S21")]
    pub model: String,
    /// How many, without --site.
    #[arg(long, default_value_t = 10_000)]
    pub count: u32,
    /// `all`, or one of always-on, strike-rt, strike-da, hcp, hcp-forecast, hindsight.
    #[arg(long, default_value = "all")]
    pub strategy: String,
    /// Where to write the chart of price against allocation (SVG).
    #[arg(long, default_value = "backtest.svg")]
    pub chart: std::path::PathBuf,
    /// Output format.
    #[command(flatten)]
    pub output: Output,
}
