//! The web console against a real `hcp up`: its build (`scripts/ensure-console.sh`), Debian's
//! Chromium (`scripts/ensure-chromium.sh`), a small platform whose gateway serves the build,
//! and the Node.js scripts in `console/tests/` that drive the browser with playwright-core.

use crate::{Proc, hcp_bin};
use std::path::PathBuf;
use std::process::Command;

/// The repository's root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Builds the console (once; again only when its sources changed) and makes sure Chromium is
/// installed: the browser tests need both, and fail here, saying which, when one cannot be had.
pub fn prepare() {
    for script in ["ensure-console.sh", "ensure-chromium.sh"] {
        let status = Command::new(root().join("scripts").join(script)).status().expect("run the script");
        assert!(status.success(), "scripts/{script} failed ({status}): the console's browser tests need it");
    }
}

/// `hcp up` serving the console: its process, the gateway's URL, the demo tenant's developer
/// key and the platform's admin key.
pub struct Up {
    /// The process (killed when dropped).
    pub proc: Proc,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// The demo tenant's developer key.
    pub key: String,
    /// The platform admin's key.
    pub admin: String,
    /// Where every service's metrics are, `127.0.0.1:<port>`.
    pub metrics: String,
    _data: tempfile::TempDir,
}

impl Up {
    /// A small platform (`first_octet`: the simulated miners' addresses, distinct per test)
    /// on free ports, prices replayed `price_speed` times faster than real time.
    pub fn start(first_octet: u8, price_speed: u32) -> Up {
        let data = tempfile::tempdir().expect("tempdir");
        let mut command = Command::new(hcp_bin());
        command
            .env("HCP_STORE", format!("sqlite:{}", data.path().join("events.db").display()))
            .env("HCP_DATA_DIR", data.path())
            .env("HCP_GATEWAY__CONSOLE_DIR", root().join("console/dist"))
            .env("HCP_UP__METRICS", "127.0.0.1:0");
        for service in
            ["DISCOVERY", "PRICING", "OPTIMIZATION", "ROUTING", "EXECUTION", "METERING", "NOTIFICATIONS", "GATEWAY"]
        {
            command.env(format!("HCP_SERVICES__{service}__GRPC"), "127.0.0.1:0");
        }
        command.env("HCP_SERVICES__GATEWAY__HTTP", "127.0.0.1:0").env("HCP_DISCOVERY__SUMMARY_SECONDS", "2");
        command
            .args(["up", "--sites", "2", "--miners-per-site", "40", "--gpu-hosts", "3", "--gpus-per-host", "4"])
            .args(["--first-octet", &first_octet.to_string(), "--grpc", "127.0.0.1:0", "--api", "127.0.0.1:0"])
            .args(["--poll-seconds", "1", "--price-speed", &price_speed.to_string()])
            .arg("--prices")
            .arg(root().join("data/ercot/hb_south_15min_2024-06_2024-12.csv"))
            .arg("--btc")
            .arg(root().join("data/bitcoin/btc_daily_2020-04_2024-12.csv"));
        let mut proc = Proc::spawn("hcp up", command);
        proc.wait_for_line("ready:");
        let out = proc.output();
        let after = |prefix: &str| {
            out.lines()
                .find_map(|l| l.strip_prefix(prefix).and_then(|rest| rest.split(['/', ' ']).next()))
                .unwrap_or_else(|| panic!("hcp up printed no {prefix:?}:\n{out}"))
                .to_owned()
        };
        let url = format!("http://{}", after("gateway: REST on http://"));
        let (key, admin, metrics) = (after("api key: "), after("admin key: "), after("metrics: http://"));
        Up { proc, url, key, admin, metrics, _data: data }
    }

    /// Runs `node console/tests/<script> <url> <admin key> <developer key> <extra...>`;
    /// answers its output, and whether it succeeded.
    pub fn node(&self, script: &str, extra: &[&str]) -> (bool, String) {
        let out = Command::new("node")
            .current_dir(root().join("console"))
            .arg(format!("tests/{script}"))
            .args([&self.url, &self.admin, &self.key])
            .args(extra)
            .output()
            .expect("run node (Node.js 20 or later is required)");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    }
}
