//! `make bench` for the event store: prints `bench: <name> = <value> <unit>` lines,
//! measuring each backend beside its raw engine in the same run (these machines
//! are noisy; the ratios are what to compare).
//!
//! Environment: `HCP_BENCH_EVENTS` (default 1,000,000) sizes the stores the
//! replay and load figures use; `NATS_URL` (default nats://127.0.0.1:4222).

#[path = "store/jetstream.rs"]
mod jetstream;
#[path = "store/report.rs"]
mod report;
#[path = "store/sqlite.rs"]
mod sqlite;
#[path = "store/workload.rs"]
mod workload;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let events: usize = std::env::var("HCP_BENCH_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let only = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    if only.as_deref().is_none_or(|o| o == "sqlite") {
        sqlite::run(events).await?;
        // The SQLite part leaves a gigabyte of dirty pages behind; have them written
        // out before JetStream (whose server writes to the same disk) is measured.
        std::process::Command::new("sync").status()?;
    }
    if only.as_deref().is_none_or(|o| o == "jetstream") {
        jetstream::run(events).await?;
    }
    Ok(())
}
