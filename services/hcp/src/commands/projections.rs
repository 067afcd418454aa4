//! `hcp projections list`: every projection and durable consumer of the running services,
//! with its position and lag behind the store's head. `hcp projections rebuild <name>`:
//! the read model folded again from the whole log through the domain, offline, with a
//! progress bar (rate and ETA) on stderr and what it folded into on stdout: that the log
//! still folds cleanly, and how fast a service rebuilding it at start would be.

use crate::cli::Output;
use crate::commands::events::emit;
use crate::commands::events::fold::Fold;
use crate::commands::status;
use crate::settings;
use hcp_eventstore::EventStore;
use hcp_runtime::config::{Config, SERVICE_NAMES};
use std::time::Instant;

/// The read models `rebuild` knows.
const MODELS: [&str; 3] = ["workloads", "resources", "all"];

/// `hcp projections`
#[derive(Debug, clap::Subcommand)]
pub enum ProjectionsCommand {
    /// Every running service's projections and durable consumers, with position and lag.
    List(ListArgs),
    /// Fold a read model again from the whole log (workloads, resources or all), offline.
    Rebuild(RebuildArgs),
}

/// `hcp projections list`
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Output format.
    #[command(flatten)]
    pub output: Output,
}

/// `hcp projections rebuild`
#[derive(Debug, clap::Args)]
pub struct RebuildArgs {
    /// workloads, resources or all.
    pub name: String,
    /// Output format.
    #[command(flatten)]
    pub output: Output,
}

/// Runs the command.
pub async fn run(command: ProjectionsCommand, config: &Config) -> anyhow::Result<()> {
    match command {
        ProjectionsCommand::List(args) => list(config, &args.output).await,
        ProjectionsCommand::Rebuild(args) => rebuild(config, args).await,
    }
}

async fn list(config: &Config, output: &Output) -> anyhow::Result<()> {
    let store = settings::open_existing(config).await?;
    let head = store.head().await?;
    let mut out = std::io::stdout().lock();
    if !output.json {
        emit(
            &mut out,
            &format!("{:<14} {:<28} {:<13} {:>10} {:>8}", "SERVICE", "PROJECTION", "KIND", "POSITION", "LAG"),
        )?;
    }
    for name in SERVICE_NAMES {
        let Some(row) = status::service(&store, name, head).await? else { continue };
        for c in &row.consumers {
            let line = if output.json {
                serde_json::json!({"service": row.service, "state": row.state, "projection": c}).to_string()
            } else {
                let show = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
                format!("{:<14} {:<28} {:<13} {:>10} {:>8}", row.service, c.name, c.kind, show(c.position), show(c.lag))
            };
            emit(&mut out, &line)?;
        }
    }
    Ok(())
}

async fn rebuild(config: &Config, args: RebuildArgs) -> anyhow::Result<()> {
    anyhow::ensure!(MODELS.contains(&args.name.as_str()), "{:?}: rebuild one of {}", args.name, MODELS.join(", "));
    let store = settings::open_existing(config).await?;
    let head = store.head().await?;
    let bar = indicatif::ProgressBar::with_draw_target(Some(head), indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} positions, {per_sec}, ETA {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(format!("rebuilding {}", args.name));
    let started = Instant::now();
    let mut fold = Fold::default();
    let (mut from, mut events, mut last) = (1, 0u64, None);
    while from <= head {
        let page = store.read_all(from, 4096).await?;
        let Some(tail) = page.last() else { break };
        from = tail.position + 1;
        for e in page.iter().take_while(|e| e.position <= head) {
            let wanted = match args.name.as_str() {
                "workloads" => e.event_type.starts_with("workload."),
                "resources" => e.event_type.starts_with("resource."),
                _ => true,
            };
            if wanted {
                fold.apply(e);
                events += 1;
            }
            last = Some(e.position);
        }
        bar.set_position(last.unwrap_or(0));
    }
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let rate = events as f64 / seconds.max(1e-9);
    let mut out = std::io::stdout().lock();
    if args.output.json {
        let mut json = fold.counts();
        json["projection"] = serde_json::json!(args.name);
        json["events"] = serde_json::json!(events);
        json["seconds"] = serde_json::json!(seconds);
        json["events_per_second"] = serde_json::json!(rate.round());
        emit(&mut out, &json.to_string())?;
    } else {
        emit(&mut out, &format!("{} in {seconds:.2} s ({rate:.0} events/s)", fold.summary(events, last)))?;
    }
    Ok(())
}
