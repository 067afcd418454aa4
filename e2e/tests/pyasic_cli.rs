//! A real miner client reads the simulated miners: pyasic (pinned, in a venv that
//! `scripts/ensure-pyasic.sh` installs) identifies each dialect and reads its model,
//! hashrate, power, temperatures, fans and hashboards, from `hcp-simulator` as a separate
//! process; the stock Antminer through its web interface too (port 80, digest auth), which
//! also puts it to sleep and wakes it.

use hcp_e2e::platform::simulator;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

const OCTET: u8 = 245;

/// The venv's python, installed (idempotently) if it is not.
fn python() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let status = Command::new(root.join("scripts/ensure-pyasic.sh")).status().expect("run ensure-pyasic.sh");
    assert!(status.success(), "pyasic is required (scripts/ensure-pyasic.sh failed: {status})");
    let venv = std::env::var_os("PYASIC_VENV").map_or_else(|| root.join(".venv-pyasic"), PathBuf::from);
    venv.join("bin/python")
}

fn read(ips: &[String]) -> Vec<Value> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("pyasic/read.py");
    let out = Command::new(python()).arg(script).args(ips).output().expect("run pyasic");
    assert!(out.status.success(), "pyasic: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8").lines().map(|l| serde_json::from_str(l).expect("json")).collect()
}

#[test]
fn pyasic_reads_every_dialect() {
    let _simulator = simulator(4, OCTET, 1.0);
    // The simulator's mix: LuxOS S21, stock S19j Pro, Whatsminer M60S, LuxOS S21 Pro.
    let ips: Vec<String> = (1..=4).map(|i| format!("127.{OCTET}.0.{i}")).collect();
    let miners = read(&ips);
    // Stock Antminer firmware reports no power, and pyasic reads none for it (`None`).
    let expected = [
        ("LUXMinerS21", "S21", 200.0, Some(3500.0), 4),
        ("BMMinerS19jPro", "S19j Pro", 104.0, None, 4),
        ("BTMinerM60SVK30", "M60S VK30", 186.0, Some(3441.0), 2),
        ("LUXMinerS21Pro", "S21 Pro", 234.0, Some(3510.0), 4),
    ];
    for (m, (class, model, ths, watts, fans)) in miners.iter().zip(expected) {
        let what = format!("{class}: {m}");
        assert!(m.get("error").is_none(), "{what}");
        assert_eq!(m["class"], class, "{what}");
        assert_eq!(m["model"], model, "{what}");
        let hashrate = m["hashrate_ths"].as_f64().unwrap_or(0.0);
        assert!((hashrate - ths).abs() < ths * 0.05, "hashrate {hashrate}: {what}");
        match watts {
            Some(watts) => {
                let wattage = m["wattage"].as_f64().unwrap_or(0.0);
                assert!((wattage - watts).abs() < watts * 0.05, "wattage {wattage}: {what}");
            }
            None => assert!(m["wattage"].is_null(), "{what}"),
        }
        assert!(m["temperature_avg"].as_f64().is_some_and(|t| (30.0..90.0).contains(&t)), "temperature: {what}");
        let speeds = m["fans"].as_array().expect("fans");
        assert!(speeds.len() == fans && speeds.iter().all(|f| f.as_u64().is_some_and(|rpm| rpm > 1000)), "{what}");
        let boards = m["boards"].as_array().expect("boards");
        assert_eq!(boards.len(), 3, "{what}");
        for b in boards {
            assert!(b["hashrate_ths"].as_f64().is_some_and(|h| h > ths / 4.0), "board hashrate: {what}");
            assert!(b["chips"].as_u64().is_some_and(|c| c > 0), "board chips: {what}");
            assert!(b["temp"].as_f64().is_some(), "board temperature: {what}");
        }
        assert_eq!(m["is_mining"], true, "{what}");
    }

    // pyasic puts the stock Antminer to sleep and wakes it through its web interface.
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("pyasic/sleep.py");
    let out = Command::new(python()).arg(script).arg(&ips[1]).output().expect("run pyasic");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "pyasic: {text}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(text.lines().collect::<Vec<_>>(), ["asleep False 0.0", "awake True"], "{text}");
}
