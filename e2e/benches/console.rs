//! The web console's figures (console/tests/bench.mjs in Debian's Chromium against `hcp up`
//! built in release): first load to interactive against a bare page, the JavaScript and CSS
//! it transfers, and the delay from an event to the page showing it.

use hcp_e2e::console::{Up, prepare};

fn main() {
    prepare();
    let up = Up::start(248, 60);
    let (ok, out) = up.node("bench.mjs", &[]);
    print!("{}", out.lines().filter(|l| l.starts_with("bench: ")).map(|l| format!("{l}\n")).collect::<String>());
    assert!(ok, "{out}");
}
