//! The platform as separate processes on the machine's JetStream (a private namespace
//! per test): `hcp serve <service>` and `hcp-agent`s on simulated or real-process GPUs,
//! driven through the `hcp` CLI as an operator and a customer would.

use crate::{Proc, agent_bin, hcp_bin, simulator_bin};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The services every platform config gives ports, in port order from the base.
const SERVICES: [&str; 8] =
    ["discovery", "pricing", "optimization", "routing", "execution", "metering", "notifications", "gateway"];

/// A platform's config, data directory and enrolment token.
pub struct Platform {
    /// Its `hcp.toml`.
    pub config: PathBuf,
    /// Agents' data directories and the config live here.
    pub dir: tempfile::TempDir,
    /// The operator's enrolment token.
    pub token: String,
    /// The first gRPC port (HTTP ports are 20 above).
    pub base_port: u16,
    /// The simulated agents' time factor.
    pub time_factor: f64,
}

/// A JetStream URL with a private namespace on `NATS_URL` (default the machine's), and the server.
pub fn jetstream_url(prefix: &str) -> (String, String) {
    let server = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    (format!("{server}?namespace={prefix}{}", uuid::Uuid::new_v4().simple()), server)
}

/// Starts `hcp-simulator` with one site of `miners` miners on 127.<octet>/16 at
/// `time_factor`, and waits until it serves them.
pub fn simulator(miners: usize, octet: u8, time_factor: f64) -> Proc {
    let mut command = Command::new(simulator_bin());
    command.args(["--sites", "1", "--miners-per-site", &miners.to_string(), "--first-octet", &octet.to_string()]);
    command.args(["--time-factor", &time_factor.to_string()]);
    let mut simulator = Proc::spawn("simulator", command);
    simulator.wait_for_line("ready:");
    simulator
}

impl Platform {
    /// A platform on `url` with gRPC ports from `base_port` and HTTP ports 20 above (below
    /// 32768, so that no outgoing connection's ephemeral port takes one);
    /// `tables` are (table, TOML lines) settings, e.g. `("routing", "cycle_seconds = 0.5")`
    /// (the execution table gets the enrolment token).
    pub fn new(url: &str, base_port: u16, tables: &[(&str, &str)]) -> Platform {
        let dir = tempfile::tempdir().expect("tempdir");
        let token = "e2e-enrolment-token-0123456789".to_owned();
        let mut text = format!("[store]\nurl = \"{url}\"\n[shutdown]\ngrace_seconds = 5.0\n");
        text.push_str(&format!("[execution]\nenrolment_token = \"{token}\"\n"));
        text.push_str(tables.iter().find(|(t, _)| *t == "execution").map_or("", |(_, body)| body));
        for (table, body) in tables.iter().filter(|(t, _)| *t != "execution") {
            text.push_str(&format!("\n[{table}]\n{body}\n"));
        }
        text.push('\n');
        for (n, service) in SERVICES.iter().enumerate() {
            let grpc = base_port + n as u16;
            text.push_str(&format!(
                "[services.{service}]\ngrpc = \"127.0.0.1:{grpc}\"\nhttp = \"127.0.0.1:{}\"\n",
                grpc + 20
            ));
        }
        let config = dir.path().join("hcp.toml");
        std::fs::write(&config, text).expect("write config");
        Platform { config, dir, token, base_port, time_factor: 60.0 }
    }

    fn port(&self, service: &str) -> u16 {
        self.base_port + SERVICES.iter().position(|s| *s == service).expect("a service") as u16
    }

    /// The gRPC address of `service`.
    pub fn addr(&self, service: &str) -> String {
        format!("http://127.0.0.1:{}", self.port(service))
    }

    /// Runs `hcp <args>` on this platform's config.
    pub fn hcp(&self, args: &[&str]) -> Output {
        Command::new(hcp_bin()).arg("--config").arg(&self.config).args(args).output().expect("run hcp")
    }

    /// Runs `hcp <args>`, asserting success; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.hcp(args);
        assert!(out.status.success(), "hcp {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// Starts `hcp serve <service>` and waits until it is ready.
    pub fn serve(&self, service: &str) -> Proc {
        let mut command = Command::new(hcp_bin());
        command.arg("--config").arg(&self.config).args(["serve", service]).env("HCP_LOG", "warn");
        let mut proc = Proc::spawn(service, command);
        proc.wait_for_line(&format!("ready: {service}"));
        proc
    }

    /// Starts an agent for `host` at `site` (rack r1) with `gpus` H100s and `runner`
    /// (`simulated` or `process`), enrolling with `token`.
    pub fn agent(&self, host: &str, site: &str, gpus: u32, runner: &str, token: &str) -> Proc {
        let mut command = Command::new(agent_bin());
        command
            .args(["--host", host, "--site", site, "--rack", "r1", "--gpus", &gpus.to_string(), "--runner", runner])
            .args(["--time-factor", &self.time_factor.to_string()])
            .args(["--discovery", &self.addr("discovery"), "--execution", &self.addr("execution")])
            .arg("--data-dir")
            .arg(self.dir.path().join(host))
            .env("HCP_AGENT_TOKEN", token)
            .env("RUST_LOG", "warn");
        Proc::spawn(host, command)
    }

    /// Submits with `flags` (separated by spaces); returns the workload's id.
    pub fn submit(&self, flags: &str) -> String {
        self.submit_command(flags, &[])
    }

    /// Submits with `flags` and a command to run; returns the workload's id.
    pub fn submit_command(&self, flags: &str, command: &[&str]) -> String {
        let mut all = vec!["workloads", "submit", "--json"];
        all.extend(flags.split_whitespace());
        if !command.is_empty() {
            all.push("--");
            all.extend_from_slice(command);
        }
        let view: Value = serde_json::from_str(&self.ok(&all)).expect("a view");
        view["workloadId"].as_str().expect("an id").to_owned()
    }

    /// `hcp workloads get <id> --json`.
    pub fn get(&self, id: &str) -> Value {
        serde_json::from_str(&self.ok(&["workloads", "get", id, "--json"])).expect("a view")
    }

    /// Waits until workload `id` has `status`; panics with its history after `within`.
    pub async fn until(&self, id: &str, status: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let view = self.get(id);
            if view["status"] == status {
                return view;
            }
            if Instant::now() > deadline {
                panic!("{id} not {status} within {within:?}: {view}\n{}", self.ok(&["workloads", "history", id]));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `host`'s line of `hcp hosts list --json`.
    pub fn host(&self, host: &str) -> Value {
        self.ok(&["hosts", "list", "--json"])
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("a host"))
            .find(|h| h["host"] == host)
            .unwrap_or(Value::Null)
    }

    /// The lines of `host`'s agent journal (`starts.jsonl`), parsed.
    pub fn journal_lines(&self, host: &str) -> Vec<Value> {
        let text = std::fs::read_to_string(self.dir.path().join(host).join("starts.jsonl")).unwrap_or_default();
        text.lines().map(|l| serde_json::from_str(l).expect("a journal line")).collect()
    }

    /// Every (workload, attempt) `host`'s agent journal holds, with how many times.
    pub fn journal(&self, host: &str) -> HashMap<(String, u64), usize> {
        let mut seen = HashMap::new();
        for v in self.journal_lines(host) {
            let key = (v["workload"].as_str().unwrap_or_default().to_owned(), v["attempt"].as_u64().unwrap_or(0));
            *seen.entry(key).or_default() += 1;
        }
        seen
    }
}
