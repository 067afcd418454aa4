//! `hcp backtest` on the shipped seven months of ERCOT prices.

use hcp_e2e::{hcp, stdout_ok};
use std::path::PathBuf;

fn data(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(rel).display().to_string()
}

fn backtest(extra: &[&str]) -> std::process::Output {
    let prices = data("data/ercot/hb_south_15min_2024-06_2024-12.csv");
    let btc = data("data/bitcoin/btc_daily_2020-04_2024-12.csv");
    let mut args = vec!["backtest", "--prices", &prices, "--btc", &btc];
    args.extend_from_slice(extra);
    hcp("sqlite::memory:", &args)
}

#[test]
fn prints_every_strategy_and_writes_the_chart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chart = dir.path().join("chart.svg");
    let site = data("infra/sites/tx-south-1.json");
    let out = stdout_ok(&backtest(&["--site", &site, "--json", "--chart", &chart.display().to_string()]));
    let rows: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
    let names: Vec<&str> = rows.iter().map(|r| r["strategy"].as_str().expect("name")).collect();
    assert_eq!(names, ["always-on", "strike-rt", "strike-da", "hcp", "hcp-forecast", "hindsight"]);
    let share = |name: &str| {
        rows.iter().find(|r| r["strategy"] == name).and_then(|r| r["share_of_flexibility"].as_f64()).expect("share")
    };
    assert_eq!(share("hindsight"), 1.0);
    assert_eq!(share("always-on"), 0.0);
    assert!(share("hcp") > share("strike-rt"), "with dwell, ramp and switching costs: {out}");
    let svg = std::fs::read_to_string(&chart).expect("chart written");
    assert!(svg.starts_with("<svg") && svg.contains("<path"), "an SVG chart");

    let text = stdout_ok(&backtest(&[
        "--model",
        "Antminer S19j Pro",
        "--count",
        "100",
        "--strategy",
        "strike-rt",
        "--chart",
        &chart.display().to_string(),
    ]));
    assert!(text.lines().nth(2).is_some_and(|l| l.starts_with("strike-rt")), "{text}");
}

#[test]
fn bad_input_is_named() {
    let bad = backtest(&["--strategy", "yolo"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown strategy \"yolo\""));
    let bad = backtest(&["--model", "Antminer S9"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown miner model \"Antminer S9\""));
    let dir = tempfile::tempdir().expect("tempdir");
    let site = dir.path().join("site.json");
    std::fs::write(&site, r#"{"name":"x","power_cap_mw":1,"miners":[],"colour":"red"}"#).expect("write");
    let bad = backtest(&["--site", &site.display().to_string()]);
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("is not a valid site config") && err.contains("colour"), "{err}");
    let bad = hcp("sqlite::memory:", &["backtest", "--prices", "/nonexistent.csv"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("cannot read /nonexistent.csv"), "{bad:?}");
}
