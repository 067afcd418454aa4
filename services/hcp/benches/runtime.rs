//! `make bench` for the service runtime: prints `bench: <name> = <value> <unit>` lines,
//! each beside its raw engine measured in the same run.
//!
//! - gRPC overhead: unary calls through the runtime's server (health, metrics layer,
//!   tracing on, no exporter) against a bare tonic server serving the same service.
//! - Reactor latency: from an append to the handler running in another process over
//!   JetStream at 1,000 events/s, beside a raw async-nats publish-to-subscriber latency.
//! - Projection rebuild: discovery's inventory folded from a store of
//!   `HCP_BENCH_EVENTS` (default 1,000,000) resource events through a reactor, beside a
//!   raw subscription read of the same log.
//!
//! The bench runs itself as the child process of the latency figures
//! (`runtime reactor-child URL N`, `runtime raw-child SERVER SUBJECT N`).

#[path = "runtime/latency.rs"]
mod latency;
#[path = "runtime/overhead.rs"]
mod overhead;
#[path = "runtime/rebuild.rs"]
mod rebuild;
#[path = "store/report.rs"]
mod report;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    match args.first().map(String::as_str) {
        Some("reactor-child") => return latency::reactor_child(&args[1], args[2].parse()?).await,
        Some("raw-child") => return latency::raw_child(&args[1], &args[2], args[3].parse()?).await,
        _ => {}
    }
    let only = args.first().map(String::as_str);
    if only.is_none_or(|o| o == "overhead") {
        overhead::run().await?;
    }
    if only.is_none_or(|o| o == "latency") {
        latency::run().await?;
    }
    if only.is_none_or(|o| o == "rebuild") {
        let events: usize = std::env::var("HCP_BENCH_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
        rebuild::run(events).await?;
    }
    Ok(())
}
