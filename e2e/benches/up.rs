//! `hcp up` ready: seconds from starting the (release) binary on a fresh data directory,
//! with its default fleet (2 sites × 500 miners, 8 GPU hosts × 8 GPUs), to the gateway
//! answering `/v1/ready` with every service serving and the fleet discovered (its
//! `ready:` line); and the same for a second start on the same data directory. Aim ≤ 10 s.

use hcp_e2e::{Proc, hcp_bin};
use std::process::Command;
use std::time::{Duration, Instant};

const GATEWAY: &str = "127.0.0.1:21951";

fn ready(gateway: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(gateway) else { return false };
    let request = "GET /v1/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let mut answer = String::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_string(&mut answer).is_ok()
        && answer.starts_with("HTTP/1.1 200")
}

/// Seconds until both the gateway is ready and the fleet is discovered.
fn start(data: &std::path::Path) -> f64 {
    let mut up = Command::new(hcp_bin());
    up.env("HCP_DATA_DIR", data)
        .env("HCP_STORE", format!("sqlite:{}", data.join("events.db").display()))
        .env("HCP_SERVICES__GATEWAY__HTTP", GATEWAY)
        .env("HCP_UP__METRICS", "127.0.0.1:0")
        .arg("up");
    for service in ["DISCOVERY", "PRICING", "OPTIMIZATION", "ROUTING", "EXECUTION", "GATEWAY"] {
        up.env(format!("HCP_SERVICES__{service}__GRPC"), "127.0.0.1:0");
    }
    let started = Instant::now();
    let mut up = Proc::spawn("hcp up", up);
    up.wait_for_line("ready:");
    while !ready(GATEWAY) {
        assert!(started.elapsed() < Duration::from_secs(60), "not ready:\n{}", up.output());
        std::thread::sleep(Duration::from_millis(20));
    }
    let seconds = started.elapsed().as_secs_f64();
    let (status, _) = up.terminate();
    assert!(status.success(), "hcp up stopped badly ({status}):\n{}", up.output());
    seconds
}

fn main() {
    let mut fresh = Vec::new();
    let mut again = Vec::new();
    for _ in 0..3 {
        let dir = tempfile::tempdir().expect("tempdir");
        fresh.push(start(dir.path()));
        again.push(start(dir.path()));
    }
    fresh.sort_by(f64::total_cmp);
    again.sort_by(f64::total_cmp);
    println!("bench: hcp_up_ready_fresh = {:.2} s (median of 3; {:.2}-{:.2})", fresh[1], fresh[0], fresh[2]);
    println!("bench: hcp_up_ready_restart = {:.2} s (median of 3; {:.2}-{:.2})", again[1], again[0], again[2]);
}
