//! One `hcp up` for the black-box checks of what operators look at:
//! - the web console in Debian's Chromium (console/tests/browser.mjs drives it with
//!   playwright-core): sign in, the fleet, devices searched, sorted and paged, a device's
//!   charts and history, a curtailment previewed, the command palette, a phone's width, a
//!   customer's key kept from the operator's pages, a workload submitted (a bad one first) and
//!   followed to running, paused, resumed and cancelled without a reload; screenshots of every
//!   page kept in target/console-screenshots;
//! - every metric a Grafana dashboard (infra/grafana/dashboards) or an alert rule
//!   (infra/prometheus/rules) uses is one the services export.

use hcp_e2e::console::{Up, prepare, root};
use std::collections::BTreeSet;
use std::io::{Read, Write};

#[test]
fn the_console_in_a_browser_and_the_metrics_dashboards_and_alerts_use() {
    prepare();
    let up = Up::start(246, 600);
    browser(&up);
    metrics(&up);
}

fn browser(up: &Up) {
    let shots = root().join("target/console-screenshots");
    let (ok, out) = up.node("browser.mjs", &[&shots.display().to_string()]);
    assert!(ok, "{out}\n--- hcp up ---\n{}", up.proc.output());
    for page in
        ["overview", "overview-phone", "resources", "resource", "energy", "submit", "workload", "workloads", "billing"]
    {
        let shot = shots.join(format!("{page}.png"));
        assert!(
            std::fs::metadata(&shot).is_ok_and(|m| m.len() > 10_000),
            "no screenshot of {page} at {}",
            shot.display()
        );
    }
}

/// One plain HTTP/1.1 exchange; the body.
fn http(addr: &str, method: &str, path: &str, key: &str, body: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default()
}

/// The `hcp_...` names in `text`.
fn names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("hcp_") {
        let name: String =
            rest[at..].chars().take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_').collect();
        rest = &rest[at + name.len()..];
        out.insert(name);
    }
    out
}

fn metrics(up: &Up) {
    // Two workloads that each want every L40S the fleet has: the second waits, so the pending
    // reasons have a series.
    let spec = r#"{"kind":"WORKLOAD_KIND_TRAINING","gpu_model":"l40s-48gb","gpu_count":4,"memory_mib":1024,"max_run_time_seconds":600}"#;
    for _ in 0..2 {
        let submitted = http(&up.url.replace("http://", ""), "POST", "/v1/workloads", &up.key, spec);
        assert!(submitted.contains("\"workloadId\""), "{submitted}");
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let exported = loop {
        let text = http(&up.metrics, "GET", "/metrics", "", "");
        let samples: BTreeSet<String> =
            text.lines().filter(|l| !l.starts_with('#')).flat_map(names).filter(|n| !n.is_empty()).collect();
        if samples.contains("hcp_workloads_pending") || std::time::Instant::now() > deadline {
            break samples;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    let mut used: Vec<(String, String)> = Vec::new();
    for dir in ["infra/grafana/dashboards", "infra/prometheus/rules"] {
        for entry in std::fs::read_dir(root().join(dir)).expect("read dir") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("read");
            if path.extension().is_some_and(|e| e == "json") {
                dashboard(&path, &text);
            }
            used.extend(names(&text).into_iter().map(|n| (n, path.display().to_string())));
        }
    }
    assert!(used.len() > 20, "the dashboards and rules use HCP's metrics: {used:?}");
    let missing: Vec<_> = used.iter().filter(|(name, _)| !exported.contains(name)).collect();
    assert!(missing.is_empty(), "used but not exported: {missing:#?}\nexported: {exported:#?}");
}

/// A dashboard is Grafana's JSON model: a uid, a title, panels with unique ids and a place on
/// the grid, each query with an expression.
fn dashboard(path: &std::path::Path, text: &str) {
    let d: serde_json::Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(d["uid"].as_str().is_some_and(|u| !u.is_empty() && u.len() <= 40), "{}: uid", path.display());
    assert!(d["title"].as_str().is_some_and(|t| t.starts_with("HCP / ")), "{}: title", path.display());
    let panels = d["panels"].as_array().unwrap_or_else(|| panic!("{}: panels", path.display()));
    let ids: BTreeSet<u64> = panels.iter().filter_map(|p| p["id"].as_u64()).collect();
    assert_eq!(ids.len(), panels.len(), "{}: every panel has its own id", path.display());
    for p in panels {
        assert!(p["gridPos"]["w"].as_u64().is_some_and(|w| w > 0 && w <= 24), "{}: {}", path.display(), p["title"]);
        let targets =
            p["targets"].as_array().unwrap_or_else(|| panic!("{}: {} has no queries", path.display(), p["title"]));
        assert!(targets.iter().all(|t| t["expr"].as_str().is_some_and(|e| !e.is_empty())), "{}", p["title"]);
    }
}
