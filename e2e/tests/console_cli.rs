//! The web console in Debian's Chromium against one `hcp up` (console/tests/browser.mjs
//! drives it with playwright-core): sign in, the fleet, devices searched, sorted and paged,
//! a device's charts and history, a curtailment previewed, the command palette, a phone's
//! width, a customer's key kept from the operator's pages, a workload submitted (a bad one
//! first) and followed to running, paused, resumed and cancelled without a reload.
//! Screenshots of every page are kept in target/console-screenshots.

use hcp_e2e::console::{Up, prepare, root};

#[test]
fn the_console_works_in_a_real_browser() {
    prepare();
    let up = Up::start(246, 600);
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
