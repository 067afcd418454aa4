//! The public tools tests run against HCP, each installed once, pinned, by a project
//! script; and the webhook receiver that checks deliveries with the Standard Webhooks
//! reference implementation.

use crate::Proc;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `scripts/<script>` (installs a pinned tool in its venv, once) and answers the
/// venv: `$var` if set, else `<repository>/<dir>`.
pub fn tool(script: &str, var: &str, dir: &str) -> PathBuf {
    let status = Command::new(root().join("scripts").join(script)).status().expect("run the install script");
    assert!(status.success(), "scripts/{script} failed ({status}): the tool is required");
    std::env::var_os(var).map_or_else(|| root().join(dir), PathBuf::from)
}

/// Starts `services/notifications/tests/receiver.py` under the Standard Webhooks
/// reference implementation's venv, verifying with the secrets in `secrets`; answers it
/// and the port it listens on.
pub fn webhook_receiver(name: &str, secrets: &Path) -> (Proc, u16) {
    let venv = tool("ensure-standardwebhooks.sh", "STANDARDWEBHOOKS_VENV", ".venv-standardwebhooks");
    let mut command = Command::new(venv.join("bin/python"));
    command.arg(root().join("services/notifications/tests/receiver.py")).arg(secrets);
    let mut receiver = Proc::spawn(name, command);
    receiver.wait_for_line("port ");
    let port = receiver.output().lines().find_map(|l| l.strip_prefix("port ")?.parse().ok()).expect("port");
    (receiver, port)
}
