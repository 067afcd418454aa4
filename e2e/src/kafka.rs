//! A Kafka-protocol broker for tests: tansu (installed once by `scripts/ensure-tansu.sh`)
//! on its own port, its SQLite store in a directory of its own that outlives a restart.

use crate::Proc;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// A running tansu broker.
pub struct Broker {
    /// `127.0.0.1:<port>`.
    pub addr: String,
    data: tempfile::TempDir,
    proc: Option<Proc>,
}

fn tansu_bin() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let status = Command::new(root.join("scripts/ensure-tansu.sh")).arg("--install-only").status().expect("script");
    assert!(status.success(), "scripts/ensure-tansu.sh failed ({status}): the broker is required");
    // Where the script installs it (`cargo install`), or on PATH.
    let cargo_home = std::env::var("CARGO_HOME")
        .map_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo"), PathBuf::from);
    let installed = cargo_home.join("bin/tansu");
    if installed.exists() { installed } else { PathBuf::from("tansu") }
}

impl Broker {
    /// Installs tansu if needed and starts it on 127.0.0.1:`port`; waits until it listens.
    pub fn start(port: u16) -> Broker {
        let mut broker =
            Broker { addr: format!("127.0.0.1:{port}"), data: tempfile::tempdir().expect("tempdir"), proc: None };
        broker.run();
        broker
    }

    fn run(&mut self) {
        let url = format!("tcp://{}", self.addr);
        let mut command = Command::new(tansu_bin());
        command
            .current_dir(self.data.path())
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &url])
            .args(["--storage-engine", "sqlite://tansu.db"]);
        let proc = Proc::spawn("tansu", command);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(&self.addr).is_err() {
            assert!(Instant::now() < deadline, "tansu did not listen on {}:\n{}", self.addr, proc.output());
            std::thread::sleep(Duration::from_millis(50));
        }
        self.proc = Some(proc);
    }

    /// Stops it (SIGTERM); its store stays.
    pub fn stop(&mut self) {
        if let Some(mut proc) = self.proc.take() {
            proc.terminate();
        }
    }

    /// Starts it again on the same port and store.
    pub fn resume(&mut self) {
        self.stop();
        self.run();
    }

    /// What it printed.
    pub fn output(&self) -> String {
        self.proc.as_ref().map(Proc::output).unwrap_or_default()
    }
}
