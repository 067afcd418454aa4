//! The command line.

use clap::{Args, Parser, Subcommand};

/// HCP: hybrid compute platform for Bitcoin-mining ASIC fleets and GPU servers.
#[derive(Debug, Parser)]
#[command(name = "hcp", version, about)]
pub struct Cli {
    /// The configuration file (TOML; see infra/hcp.example.toml). Environment variables
    /// `HCP_<SECTION>__<KEY>` and flags override it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// The event store: `sqlite:PATH` (embedded) or `nats://HOST:PORT` (JetStream; add
    /// `?namespace=NAME` for a private set of streams on a shared server). Also
    /// `HCP_STORE`; default `sqlite:<data dir>/events.db`.
    #[arg(long, global = true)]
    pub store: Option<String>,
    /// The data directory (also `HCP_DATA_DIR`; default `$XDG_DATA_HOME/hcp` or
    /// `~/.local/share/hcp`).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<std::path::PathBuf>,
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
    /// The services' projections: list them, or fold one again from the whole log.
    #[command(subcommand)]
    Projections(crate::commands::projections::ProjectionsCommand),
    /// Run strategies over historical prices and compare their margins.
    Backtest(BacktestArgs),
    /// Plan a site's coming interval now (recorded as an event), with the reasons.
    Plan(PlanArgs),
    /// Show a recorded plan and its reasons.
    Explain(ExplainArgs),
    /// Run one service as its own process: discovery, pricing, optimization, routing or
    /// execution.
    Serve(ServeArgs),
    /// Show each running service's health, its consumers' checkpoints and lag, and the
    /// store's head.
    Status(StatusArgs),
    /// The configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Sites: their caps as recorded, and changing a cap at run time.
    #[command(subcommand)]
    Sites(SitesCommand),
    /// Customers' workloads: submit, list, get, history, why, logs, pause, resume, cancel.
    #[command(subcommand)]
    Workloads(crate::commands::workloads::WorkloadsCommand),
    /// Tenants: quotas, weights and granted classes (operators).
    #[command(subcommand)]
    Tenants(crate::commands::tenants::TenantsCommand),
    /// A tenant's metered GPU time: by model from its usage records, or grouped (--group-by).
    Usage(crate::commands::usage::UsageArgs),
    /// Invoices: a tenant's issued ones, the current period's preview, issuing those due, estimates.
    #[command(subcommand)]
    Invoices(crate::commands::billing::InvoicesCommand),
    /// Rate cards: a tenant's prices per GPU-hour by model, with tiers and discounts.
    #[command(subcommand)]
    Ratecards(crate::commands::billing::RatecardsCommand),
    /// Budgets: a tenant's budget per period and its spend against it.
    #[command(subcommand)]
    Budgets(crate::commands::billing::BudgetsCommand),
    /// Each site's margin: mining revenue + AI revenue - power cost (operators).
    Margins(crate::commands::billing::MarginsArgs),
    /// Webhook endpoints: create, list, rotate, disable, enable, deliveries, replay, test.
    #[command(subcommand)]
    Webhooks(crate::commands::webhooks::WebhooksCommand),
    /// API keys: create (the first admin key of a deployment comes from here), list, revoke.
    #[command(subcommand)]
    Keys(crate::commands::keys::KeysCommand),
    /// GPU hosts: list, cordon, drain, uncordon (operators).
    #[command(subcommand)]
    Hosts(crate::commands::hosts::HostsCommand),
    /// Miners: curtail and wake (with a preview), status, maintenance (operators).
    #[command(subcommand)]
    Fleet(crate::commands::fleet::FleetCommand),
}

/// `hcp sites ...`
#[derive(Debug, Subcommand)]
pub enum SitesCommand {
    /// The configured sites as the log records them.
    List(Output),
    /// Change a site's grid cap now (recorded as an event with you as the actor; the
    /// next plan uses it).
    SetCap(SetCapArgs),
}

/// `hcp sites set-cap`
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct SetCapArgs {
    /// The site.
    pub site: String,
    /// The new cap, kW.
    pub cap_kw: f64,
    /// Why (recorded with the change).
    #[arg(long)]
    pub reason: String,
    /// The optimization gRPC address (default: the configuration's).
    #[arg(long)]
    pub api: Option<String>,
}

/// `hcp serve`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The service: discovery, pricing, optimization, routing, execution, metering,
    /// notifications or gateway.
    pub service: String,
}

/// `hcp status`
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Output format.
    #[command(flatten)]
    pub output: Output,
}

/// `hcp config ...`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration as TOML, secrets redacted.
    Dump,
}

/// Where the optimization API is.
#[derive(Debug, Args, Clone)]
pub struct ApiAddr {
    /// The optimization gRPC address (default: `services.optimization.grpc` of the
    /// configuration; `HCP_API` sets it too).
    #[arg(long)]
    pub api: Option<String>,
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

/// `hcp up`: each flag overrides one configuration key.
#[derive(Debug, Args, Default)]
pub struct UpArgs {
    /// Simulated sites (`simulator.sites`); site k serves its miners on 127.<first-octet + k>.0.0/16.
    #[arg(long)]
    pub sites: Option<u32>,
    /// Simulated miners per site (`simulator.miners_per_site`).
    #[arg(long)]
    pub miners_per_site: Option<u32>,
    /// Second octet of the first site's loopback subnet (`simulator.first_octet`).
    #[arg(long)]
    pub first_octet: Option<u32>,
    /// Simulated GPU hosts (`simulator.gpu_hosts`).
    #[arg(long)]
    pub gpu_hosts: Option<u32>,
    /// GPUs per simulated host (`simulator.gpus_per_host`).
    #[arg(long)]
    pub gpus_per_host: Option<u32>,
    /// Where discovery's gRPC API listens (`services.discovery.grpc`).
    #[arg(long)]
    pub grpc: Option<String>,
    /// Seconds between health polls of each miner (`discovery.poll_seconds`).
    #[arg(long)]
    pub poll_seconds: Option<f64>,
    /// Simulated seconds per real second (`simulator.time_factor`).
    #[arg(long)]
    pub time_factor: Option<f64>,
    /// Hashboard failures per board per simulated hour (`simulator.board_failures_per_hour`).
    #[arg(long)]
    pub board_failures_per_hour: Option<f64>,
    /// Run without a simulated fleet (`simulator.enabled = false`).
    #[arg(long)]
    pub no_simulator: bool,
    /// ERCOT prices to replay for every site (`pricing.prices`; default: the shipped series).
    #[arg(long)]
    pub prices: Option<std::path::PathBuf>,
    /// Daily Bitcoin price and difficulty (`pricing.btc`; default: the shipped series).
    #[arg(long)]
    pub btc: Option<std::path::PathBuf>,
    /// `replay`, `simulated` or `http://...` (`pricing.source`).
    #[arg(long)]
    pub price_source: Option<String>,
    /// Simulated market seconds per real second (`pricing.speed`).
    #[arg(long)]
    pub price_speed: Option<f64>,
    /// Where the optimization gRPC API listens (`services.optimization.grpc`).
    #[arg(long)]
    pub api: Option<String>,
    /// Where the process serves /metrics, /health and /status (`up.metrics`).
    #[arg(long)]
    pub metrics: Option<String>,
}

impl UpArgs {
    /// The flags given, as configuration overrides.
    pub fn overrides(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut set = |key: &str, value: Option<String>| {
            if let Some(v) = value {
                out.push((key.to_owned(), v));
            }
        };
        let s = |v: &Option<String>| v.clone();
        let n = |v: Option<u32>| v.map(|v| v.to_string());
        let f = |v: Option<f64>| v.map(|v| v.to_string());
        let p = |v: &Option<std::path::PathBuf>| v.as_ref().map(|p| p.display().to_string());
        set("simulator.sites", n(self.sites));
        set("simulator.miners_per_site", n(self.miners_per_site));
        set("simulator.first_octet", n(self.first_octet));
        set("simulator.gpu_hosts", n(self.gpu_hosts));
        set("simulator.gpus_per_host", n(self.gpus_per_host));
        set("services.discovery.grpc", s(&self.grpc));
        set("discovery.poll_seconds", f(self.poll_seconds));
        set("simulator.time_factor", f(self.time_factor));
        set("simulator.board_failures_per_hour", f(self.board_failures_per_hour));
        set("simulator.enabled", self.no_simulator.then(|| "false".to_owned()));
        set("pricing.prices", p(&self.prices));
        set("pricing.btc", p(&self.btc));
        set("pricing.source", s(&self.price_source));
        set("pricing.speed", f(self.price_speed));
        set("services.optimization.grpc", s(&self.api));
        set("up.metrics", s(&self.metrics));
        out
    }
}

/// `hcp resources ...`
#[derive(Debug, Subcommand)]
pub enum ResourcesCommand {
    /// List resources from discovery's inventory, in id order.
    List(ListArgs),
    /// Show one resource.
    Get(GetArgs),
    /// A device's raw readings (the last 24 hours are kept), oldest first.
    Samples(SamplesArgs),
    /// A resource as it stood at a past instant (`--at`), folded from its events.
    State(crate::commands::state::StateArgs),
}

/// `hcp resources samples`
#[derive(Debug, Args)]
pub struct SamplesArgs {
    /// The resource id, e.g. `asic-127.11.0.1`.
    pub id: String,
    /// How far back, e.g. 15m or 2h (default: all that is kept).
    #[arg(long, value_parser = crate::commands::workloads::duration::parse)]
    pub since: Option<std::time::Duration>,
    /// At most this many readings (default and most: 10,000).
    #[arg(long, default_value_t = 0)]
    pub limit: u32,
    /// Where discovery is.
    #[command(flatten)]
    pub at: DiscoveryAddr,
    /// Output format.
    #[command(flatten)]
    pub output: Output,
}

/// Where discovery is.
#[derive(Debug, Args, Clone)]
pub struct DiscoveryAddr {
    /// Discovery's gRPC address (default: `services.discovery.grpc` of the
    /// configuration; `HCP_DISCOVERY` sets it too).
    #[arg(long, env = "HCP_DISCOVERY")]
    pub discovery: Option<String>,
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
    /// Only devices whose id, model, address, rack, host, firmware or workload contains it.
    #[arg(long)]
    pub query: Option<String>,
    /// Order by id (default), model, site, mode, health, hashrate, power or temperature;
    /// `-power` for descending.
    #[arg(long, allow_hyphen_values = true)]
    pub order_by: Option<String>,
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
    /// ERCOT 15-minute prices: `interval_start,<day-ahead>,<real-time>` CSV (default:
    /// the shipped HB_SOUTH series, built into the binary).
    #[arg(long)]
    pub prices: Option<std::path::PathBuf>,
    /// Daily Bitcoin series: `date,btc_usd_close,difficulty,block_height` CSV (default:
    /// the shipped series).
    #[arg(long)]
    pub btc: Option<std::path::PathBuf>,
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
