//! Fleet benchmarks (`make bench`): one `bench: <name> = <value> <unit>` line per figure.
//!
//! The simulator runs as its own process (`hcp-simulator`), so that what is measured
//! here, discovery's scan and polls, is this process alone.
//! - Discover 10,000 miners (probe, identify, register, in the store), beside a raw
//!   TCP connect scan of the same range in the same run.
//! - Health-poll 10,000 miners every 10 s: CPU of this process, in % of one core.
//! - Inventory list p99 over gRPC with 10,000 resources.
//!
//! `HCP_BENCH_MINERS` (default 10,000) and `HCP_BENCH_POLL_CYCLES` (default 3) size it.

use futures_util::StreamExt;
use hcp_discovery::grpc::InventoryService;
use hcp_discovery::inventory::{Inventory, InventoryFeed};
use hcp_discovery::poller::{PollSet, poll_once};
use hcp_discovery::recorder::Recorder;
use hcp_discovery::scan::scan;
use hcp_discovery::service::register_found;
use hcp_discovery::{DiscoveryConfig, ScanTarget};
use hcp_domain::ids::SiteId;
use hcp_eventstore::EventStore;
use hcp_eventstore::sqlite::SqliteStore;
use hcp_proto::v1 as pb;
use hcp_proto::v1::inventory_client::InventoryClient;
use hcp_proto::v1::inventory_server::InventoryServer;
use hcp_runtime::grpc::{GrpcListener, GrpcServices};
use hcp_runtime::{Durability, Host, Metrics};
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const OCTET: u8 = 240;
const CONCURRENCY: usize = 512;
const TIMEOUT: Duration = Duration::from_secs(2);

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Simulator(Child);

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn simulator_bin() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "-q", "-p", "hcp-simulator", "--bin", "hcp-simulator"])
        .current_dir(&root)
        .status()
        .expect("cargo build hcp-simulator");
    assert!(status.success(), "building hcp-simulator failed");
    root.join("target/release/hcp-simulator")
}

fn start_simulator(miners: usize) -> Simulator {
    let mut child = Command::new(simulator_bin())
        .args(["--sites", "1", "--miners-per-site", &miners.to_string(), "--first-octet", &OCTET.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn hcp-simulator");
    let stdout = child.stdout.take().expect("stdout");
    let sim = Simulator(child);
    for line in BufReader::new(stdout).lines() {
        if line.expect("simulator output").starts_with("ready:") {
            return sim;
        }
    }
    panic!("hcp-simulator exited before it was ready");
}

/// CPU seconds this process has used (user + system), from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().expect("utime") + fields[12].parse::<f64>().expect("stime");
    ticks / 100.0
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

async fn raw_connect_scan(addrs: Vec<SocketAddr>) -> usize {
    let connects = addrs.into_iter().map(|a| async move {
        matches!(tokio::time::timeout(TIMEOUT, tokio::net::TcpStream::connect(a)).await, Ok(Ok(_)))
    });
    let open: Vec<bool> = futures_util::stream::iter(connects).buffer_unordered(CONCURRENCY).collect().await;
    open.into_iter().filter(|o| *o).count()
}

#[tokio::main]
async fn main() {
    let miners = env_usize("HCP_BENCH_MINERS", 10_000);
    let cycles = env_usize("HCP_BENCH_POLL_CYCLES", 3);
    let _sim = start_simulator(miners);
    let last_container = ((miners.max(1) - 1) / 250) as u8;
    let target = ScanTarget {
        site: SiteId::new("bench").expect("site"),
        first: Ipv4Addr::new(127, OCTET, 0, 1),
        last: Ipv4Addr::new(127, OCTET, last_container, 254),
        port: hcp_minerapi::API_PORT,
    };

    // Raw: TCP connect to every address, nothing else.
    let t = Instant::now();
    let open = raw_connect_scan(target.addresses().collect()).await;
    let raw_s = t.elapsed().as_secs_f64();
    assert_eq!(open, miners, "raw scan should find every simulated miner");

    // Ours: probe, identify, register in a fresh store, ready to poll.
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open_path(dir.path().join("events.db")).await.expect("store"));
    let inventory = Arc::new(Inventory::default());
    let host = Host::new(Arc::clone(&store), Metrics::new(), "bench");
    host.reactor("bench", Arc::new(InventoryFeed(Arc::clone(&inventory))), Durability::InMemory);
    let recorder = Recorder::new(Arc::clone(&store), "bench");
    let polled = PollSet::default();
    let t = Instant::now();
    let outcome = scan(std::slice::from_ref(&target), CONCURRENCY, TIMEOUT).await;
    let identified_s = t.elapsed().as_secs_f64();
    let registered = register_found(&outcome, &recorder, &inventory, &polled).await;
    let discover_s = t.elapsed().as_secs_f64();
    assert_eq!((outcome.found.len(), registered), (miners, miners), "every miner found and registered");
    println!("bench: raw_connect_scan_rate = {:.0} addresses/s", target.len() as f64 / raw_s);
    println!("bench: raw_connect_scan_{miners}_miners = {raw_s:.3} s");
    println!("bench: discover_identify_{miners}_miners = {identified_s:.3} s");
    println!("bench: discover_identify_rate = {:.0} miners/s", miners as f64 / identified_s);
    println!("bench: discover_identify_over_raw_connect = {:.2} x", raw_s / identified_s);
    println!("bench: discover_and_register_{miners}_miners = {discover_s:.3} s");

    // Health polls: every miner every 10 s, CPU of this process.
    let config = DiscoveryConfig { concurrency: CONCURRENCY, timeout: TIMEOUT, ..DiscoveryConfig::default() };
    let interval = Duration::from_secs(10);
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let mut longest = Duration::ZERO;
    for _ in 0..cycles {
        let started = Instant::now();
        poll_once(&polled, &inventory, &recorder, &config).await;
        longest = longest.max(started.elapsed());
        tokio::time::sleep(interval.saturating_sub(started.elapsed())).await;
    }
    let (cpu, wall) = (cpu_seconds() - cpu0, t0.elapsed().as_secs_f64());
    println!("bench: health_poll_{miners}_every_10s_cpu = {:.1} % of one core", cpu / wall * 100.0);
    println!("bench: health_poll_{miners}_longest_cycle = {:.3} s", longest.as_secs_f64());

    // Inventory list p99 over gRPC: the inventory a restarted discovery rebuilds from
    // the store, served alone (no polls running beside it; see BENCHMARKS.md).
    host.shutdown(Duration::from_secs(5)).await.expect("stops");
    let rebuilt = Arc::new(Inventory::default());
    let head = store.head().await.expect("head");
    let host = Host::new(Arc::clone(&store), Metrics::new(), "bench");
    host.reactor("bench", Arc::new(InventoryFeed(Arc::clone(&rebuilt))), Durability::InMemory);
    rebuilt.caught_up(head).await;
    host.shutdown(Duration::from_secs(5)).await.expect("stops");
    assert_eq!(rebuilt.len(), miners);
    for (id, entry) in inventory.snapshot() {
        if let Some(t) = entry.telemetry {
            rebuilt.observe(&id, &entry.address, t);
        }
    }
    let listener = GrpcListener::bind("127.0.0.1:0".parse().expect("addr")).await.expect("bind");
    let addr = listener.local_addr();
    let mut services = GrpcServices::default();
    services.add(InventoryServer::new(InventoryService(Arc::clone(&rebuilt))));
    tokio::spawn(listener.serve("test", services, hcp_runtime::Metrics::new(), std::future::pending()));
    let channel = hcp_proto::client::connect(&format!("http://{addr}")).await.expect("connect");
    let mut client = InventoryClient::new(channel);
    let ids: Vec<String> = rebuilt.snapshot().into_iter().map(|(id, _)| id).collect();
    let mut latencies = Vec::with_capacity(5_000);
    for i in 0..5_000usize {
        let token = if i % 4 == 0 { String::new() } else { ids[(i * 7919) % ids.len()].clone() };
        let health = if i % 3 == 0 { pb::ResourceHealth::Healthy as i32 } else { 0 };
        let req = pb::ListResourcesRequest { page_size: 100, page_token: token, health, ..Default::default() };
        let t = Instant::now();
        let page = client.list_resources(req).await.expect("list").into_inner();
        latencies.push(t.elapsed());
        assert!(!page.resources.is_empty() || i % 4 != 0);
    }
    latencies.sort();
    let (p50, p99) = (quantile(&latencies, 0.5), quantile(&latencies, 0.99));
    println!("bench: inventory_list_p50_{miners}_resources = {:.3} ms", p50.as_secs_f64() * 1e3);
    println!("bench: inventory_list_p99_{miners}_resources = {:.3} ms", p99.as_secs_f64() * 1e3);
}
