//! From an append to the handler running in another process over JetStream, at 1,000
//! events/s; beside the raw async-nats latency from a publish to a subscriber in
//! another process at the same rate. Each child prints its latencies as it ends.

use crate::report::percentiles;
use hcp_eventstore::{AnyStore, EventStore, ExpectedVersion, RecordedEvent};
use hcp_runtime::{Durability, EventContext, Handler, HandlerError, Host, Metrics};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Events per measurement.
const EVENTS: usize = 3_000;
/// One event a millisecond.
const EVERY: Duration = Duration::from_millis(1);

use hcp_runtime::clock::now_micros;

/// Starts this bench as a child with `args`; returns it once it printed `ready`.
fn child(args: &[&str]) -> anyhow::Result<(std::process::Child, std::io::Lines<BufReader<std::process::ChildStdout>>)> {
    let mut child = Command::new(std::env::current_exe()?).args(args).stdout(Stdio::piped()).spawn()?;
    let mut lines = BufReader::new(child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?).lines();
    match lines.next() {
        Some(Ok(l)) if l == "ready" => Ok((child, lines)),
        other => anyhow::bail!("child did not start: {other:?}"),
    }
}

/// Reads the child's latencies (µs, one a line) until it ends.
fn latencies(
    mut child: std::process::Child,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
) -> anyhow::Result<Vec<Duration>> {
    let samples =
        lines.map_while(Result::ok).filter_map(|l| l.parse::<u64>().ok()).map(Duration::from_micros).collect();
    child.wait()?;
    Ok(samples)
}

/// Prints both latencies.
pub async fn run() -> anyhow::Result<()> {
    let server = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let url = format!("{server}?namespace=benchreactor{}", uuid::Uuid::new_v4().simple());
    let store = AnyStore::open(&url).await?;
    let (reactor, lines) = child(&["reactor-child", &url, &EVENTS.to_string()])?;
    let waiter = tokio::task::spawn_blocking(move || latencies(reactor, lines));
    let mut tick = tokio::time::interval(EVERY);
    let context = EventContext::new("bench");
    let mut sends = Vec::with_capacity(EVENTS);
    for n in 0..EVENTS {
        tick.tick().await;
        let store = store.clone();
        let event = context.event(n, "bench.ticked", vec![0u8; 64], now_micros());
        sends.push(tokio::spawn(async move {
            store.append(&format!("ticks-{}", n % 64), ExpectedVersion::Any, vec![event]).await
        }));
    }
    for s in sends {
        s.await??;
    }
    percentiles("reactor_latency_jetstream_1000_per_s", waiter.await??);
    if let AnyStore::JetStream(js) = store {
        js.destroy().await?;
    }

    let client = async_nats::connect(&server).await?;
    let subject = format!("bench.raw.{}", uuid::Uuid::new_v4().simple());
    let (raw, lines) = child(&["raw-child", &server, &subject, &EVENTS.to_string()])?;
    let waiter = tokio::task::spawn_blocking(move || latencies(raw, lines));
    let mut tick = tokio::time::interval(EVERY);
    for _ in 0..EVENTS {
        tick.tick().await;
        client.publish(subject.clone(), now_micros().to_le_bytes().to_vec().into()).await?;
    }
    client.flush().await?;
    percentiles("raw_nats_latency_1000_per_s", waiter.await??);
    Ok(())
}

/// Records each tick's latency.
struct Ticks {
    samples: Mutex<Vec<i64>>,
    done: tokio::sync::Notify,
    wanted: usize,
}

impl Handler for Ticks {
    fn name(&self) -> &str {
        "bench-ticks"
    }
    fn wants(&self, event: &RecordedEvent) -> bool {
        event.event_type == "bench.ticked"
    }
    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandlerError> {
        let latency = now_micros() - event.metadata.time_unix_micros;
        let mut samples = self.samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        samples.push(latency);
        if samples.len() == self.wanted {
            self.done.notify_one();
        }
        Ok(())
    }
}

/// The child: a reactor on the store at `url`, printing each latency once `n` arrived.
pub async fn reactor_child(url: &str, n: usize) -> anyhow::Result<()> {
    let store = Arc::new(AnyStore::open(url).await?);
    let host = Host::new(store, Metrics::new(), "bench");
    let ticks = Arc::new(Ticks { samples: Mutex::default(), done: tokio::sync::Notify::new(), wanted: n });
    let watch = host.reactor("bench", Arc::clone(&ticks), Durability::InMemory);
    watch.caught_up(0).await;
    println!("ready");
    ticks.done.notified().await;
    for s in ticks.samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter() {
        println!("{s}");
    }
    host.shutdown(Duration::from_secs(5)).await.map_err(anyhow::Error::msg)?;
    Ok(())
}

/// The raw child: a core NATS subscriber printing each latency once `n` arrived.
pub async fn raw_child(server: &str, subject: &str, n: usize) -> anyhow::Result<()> {
    use futures_util::StreamExt;
    let client = async_nats::connect(server).await?;
    let mut sub = client.subscribe(subject.to_owned()).await?;
    client.flush().await?;
    println!("ready");
    let mut samples = Vec::with_capacity(n);
    while samples.len() < n {
        let Some(msg) = sub.next().await else { break };
        let sent = i64::from_le_bytes(msg.payload.as_ref().try_into().unwrap_or([0; 8]));
        samples.push(now_micros() - sent);
    }
    for s in samples {
        println!("{s}");
    }
    Ok(())
}
