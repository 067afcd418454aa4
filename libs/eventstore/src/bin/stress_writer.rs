//! Test helper for the crash-safety conformance test: appends large batches, one
//! stream per batch (`batch-<run>-<n>`, `run` unique per process), and prints `committed <n>` after each, until it
//! is killed or has written `max` batches.
//!
//! Usage: `hcp-store-stress-writer <sqlite:PATH | nats://HOST:PORT> <namespace|-> <batch size> <max batches>`

use hcp_eventstore::jetstream::{JetStreamConfig, JetStreamStore};
use hcp_eventstore::sqlite::SqliteStore;
use hcp_eventstore::{AnyStore, EventStore, ExpectedVersion, NewEvent};
use std::io::Write;

fn usage() -> ! {
    eprintln!(
        "usage: hcp-store-stress-writer <sqlite:PATH | nats://HOST:PORT> <namespace|-> <batch size> <max batches>"
    );
    std::process::exit(2)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, ns, size, max] = args.as_slice() else { usage() };
    let (Ok(size), Ok(max)) = (size.parse::<usize>(), max.parse::<u64>()) else { usage() };
    let store = match (url.strip_prefix("sqlite:"), ns.as_str()) {
        (Some(path), _) => SqliteStore::open_path(path).await.map(AnyStore::Sqlite),
        (None, "-") => JetStreamStore::connect(JetStreamConfig::new(url)).await.map(AnyStore::JetStream),
        (None, ns) => JetStreamStore::connect(JetStreamConfig::namespaced(url, ns)).await.map(AnyStore::JetStream),
    };
    let store = store.unwrap_or_else(|e| {
        eprintln!("cannot open {url}: {e}");
        std::process::exit(1)
    });
    let payload = [0x5a_u8; 180];
    let run = uuid::Uuid::new_v4().simple().to_string();
    let mut out = std::io::stdout();
    for n in 0..max {
        let events = (0..size)
            .map(|i| {
                NewEvent::new(
                    "test.bulk_loaded",
                    1,
                    format!("{n}:{i}:").into_bytes().into_iter().chain(payload.iter().copied()).collect::<Vec<u8>>(),
                )
            })
            .collect();
        if let Err(e) = store.append(&format!("batch-{run}-{n}"), ExpectedVersion::NoStream, events).await {
            eprintln!("append {n} failed: {e}");
            std::process::exit(1);
        }
        let _ = writeln!(out, "committed {n}");
        let _ = out.flush();
    }
}
