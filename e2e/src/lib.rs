//! Helpers for end-to-end tests and benches: find (or build) the `hcp` binaries, run
//! them as an operator would, and watch the processes they start.

#![forbid(unsafe_code)]

pub mod console;
pub mod kafka;
pub mod platform;
mod proc;
pub mod tools;

pub use platform::Platform;
pub use proc::{Proc, eventually};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The `hcp` binary of this workspace's target directory (`make test` builds it first; built here if missing).
pub fn hcp_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| workspace_bin("hcp", "hcp")).clone()
}

/// The `hcp-simulator` binary (built here if missing).
pub fn simulator_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| workspace_bin("hcp-simulator", "hcp-simulator")).clone()
}

/// The `hcp-agent` binary (built here if missing).
pub fn agent_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| workspace_bin("hcp-agent", "hcp-agent")).clone()
}

/// A binary of this workspace's target directory, built if missing.
fn workspace_bin(package: &str, name: &str) -> PathBuf {
    // target/<profile>/deps/<test-exe> -> target/<profile>/<name>
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe.parent().and_then(|d| d.parent()).expect("target/<profile>");
    let bin = profile_dir.join(name);
    // A bench (target/release) always builds, so that it never times a stale binary; tests
    // rely on `make test` building first.
    if !bin.exists() || profile_dir.ends_with("release") {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        build.args(["build", "-p", package, "--bin", name]);
        // A bench runs from target/release: its binaries are built alike.
        if profile_dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build");
        assert!(status.success(), "cargo build -p {package} failed");
    }
    bin
}

/// Runs `hcp <args>` with `HCP_STORE` set, and returns its output.
pub fn hcp(store: &str, args: &[&str]) -> Output {
    Command::new(hcp_bin()).env("HCP_STORE", store).args(args).output().expect("run hcp")
}

/// Stdout as text, asserting success.
pub fn stdout_ok(out: &Output) -> String {
    assert!(out.status.success(), "hcp failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).expect("utf-8 output")
}
