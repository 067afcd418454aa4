//! gRPC unary calls per second through the runtime's server against a bare tonic
//! server, both serving `grpc.health.v1` (the one service both have), alternating.

use crate::report::{Rounds, figure, rate};
use hcp_runtime::Metrics;
use hcp_runtime::grpc::{GrpcListener, GrpcServices};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

/// Calls in flight at once.
const CONCURRENCY: usize = 32;
/// How long each measurement runs.
const WINDOW: Duration = Duration::from_secs(3);

async fn bare() -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (_reporter, health) = tonic_health::server::health_reporter();
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    tokio::spawn(async move {
        // Keep the reporter alive with the server: the service reads its statuses.
        let _reporter = _reporter;
        let _ = tonic::transport::Server::builder().add_service(health).serve_with_incoming(incoming).await;
    });
    Ok(addr)
}

async fn ours(metrics: Metrics) -> anyhow::Result<SocketAddr> {
    let listener = GrpcListener::bind("127.0.0.1:0".parse()?).await?;
    let addr = listener.local_addr();
    tokio::spawn(listener.serve("bench", GrpcServices::default(), metrics, std::future::pending()));
    Ok(addr)
}

async fn calls_per_second(addr: SocketAddr) -> anyhow::Result<f64> {
    let channel = hcp_proto::client::connect(&format!("http://{addr}")).await?;
    let deadline = Instant::now() + WINDOW;
    let started = Instant::now();
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let mut client = HealthClient::new(channel.clone());
            tokio::spawn(async move {
                let mut n = 0usize;
                while Instant::now() < deadline {
                    if client.check(HealthCheckRequest { service: String::new() }).await.is_ok() {
                        n += 1;
                    }
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await?;
    }
    Ok(rate(total, started.elapsed()))
}

/// Prints the runtime's rate, the bare rate and their ratio (medians of 3 alternating rounds).
pub async fn run() -> anyhow::Result<()> {
    // Tracing on (a subscriber that records, as the services run), no exporter.
    let _ = tracing_subscriber::fmt().with_env_filter("info").with_writer(std::io::sink).try_init();
    let (bare_addr, ours_addr) = (bare().await?, ours(Metrics::new()).await?);
    calls_per_second(bare_addr).await?;
    let mut rounds = Rounds::<2>::new();
    for _ in 0..crate::report::ROUNDS {
        let b = calls_per_second(bare_addr).await?;
        let o = calls_per_second(ours_addr).await?;
        rounds.push([o, b]);
    }
    let [o, b] = rounds.medians();
    figure("runtime_grpc_unary_calls_per_s", o, "calls/s");
    figure("bare_tonic_grpc_unary_calls_per_s", b, "calls/s");
    figure("runtime_grpc_vs_bare", o / b, "x");
    Ok(())
}
