//! What LuxOS answers beyond cgminer's commands, as its API documentation shows: sessions
//! (`logon`, `logoff`), curtailment (`curtail <session>,sleep|wakeup`), power profiles
//! (`profiles`, `profileset <session>,<name>`), `power`, `fans`, `tempctrl`, `groups`
//! and a `config` with its MAC address, LED and profile.

use super::{Firmware, PROFILES, error, ok};
use crate::physics::Physics;
use serde_json::{Value, json};
use std::time::Instant;

/// LuxOS's answer to `command`, or `None` for the commands every family shares.
pub(super) fn answer(
    fw: &mut Firmware,
    p: &mut Physics,
    command: &str,
    parameter: Option<&str>,
    when: i64,
    now: Instant,
) -> Option<Value> {
    let desc = fw.description();
    let ok = |code: i64, msg: &str| ok(when, code, msg, &desc);
    let err = |code: i64, msg: &str| error(when, code, msg, &desc);
    Some(match command {
        "logon" => {
            let sid = fw.session.get_or_insert_with(|| format!("{:08x}", when as u64 ^ fw.requests)).clone();
            json!({"STATUS": ok(305, "Session created"), "SESSION": [{"SessionID": sid}], "id": 1})
        }
        "logoff" => {
            fw.session = None;
            json!({"STATUS": ok(306, "Session closed"), "id": 1})
        }
        "power" => {
            let r = p.read(now);
            json!({"STATUS": ok(340, "Power"), "POWER": [{"PSU": true, "Watts": r.watts.round()}], "id": 1})
        }
        "profiles" => {
            let list: Vec<Value> = PROFILES
                .iter()
                .map(|(n, f)| {
                    json!({"Profile Name": n, "Step": 0, "Frequency": (490.0 * f).round(), "Voltage": 13.0,
                        "Hashrate": (p.model.terahashes as f64 * f).round(), "Watts": (p.model.watts as f64 * f).round(),
                        "IsDynamic": false, "IsTuned": true})
                })
                .collect();
            json!({"STATUS": ok(341, "Profiles"), "PROFILES": list, "id": 1})
        }
        "config" => {
            json!({"STATUS": ok(33, "LUXminer config"), "CONFIG": [{"ASC Count": p.model.boards, "PGA Count": 0,
                "Pool Count": 1, "Strategy": "Failover", "Log Interval": 5, "OS": "Linux", "MACAddr": fw.mac.to_lowercase(),
                "RedLed": "off", "GreenLed": "on", "Profile": fw.profile, "IsTuning": false, "IsPowerTuning": false,
                "CurtailMode": if p.target == 0.0 { "sleep" } else { "none" }}], "id": 1})
        }
        "fans" => {
            let r = p.read(now);
            let fans: Vec<Value> = r
                .fans_rpm
                .iter()
                .enumerate()
                .map(|(i, rpm)| json!({"ID": i, "RPM": rpm, "Speed": (f64::from(*rpm) / 60.0).round()}))
                .collect();
            json!({"STATUS": ok(202, &format!("{} Fan(s)", fans.len())), "FANS": fans,
                "FANCTRL": [{"MinFans": 1, "PowerOffSpeed": 0}], "id": 1})
        }
        "tempctrl" => json!({"STATUS": ok(201, "Temperature control"), "TEMPCTRL": [{"Mode": "auto",
            "Target": 75, "Hot": 85, "Dangerous": 95}], "id": 1}),
        "groups" => json!({"STATUS": ok(200, "1 Group(s)"), "GROUPS": [{"GROUP": 0, "Name": "Default",
            "Quota": 1, "Strategy": "Failover"}], "id": 1}),
        "curtail" | "profileset" => {
            let Some((sid, arg)) = parameter.and_then(|p| p.split_once(',')) else {
                return Some(err(8, "Missing parameter: expected <session_id>,<value>"));
            };
            if fw.session.as_deref() != Some(sid.trim()) {
                return Some(err(300, "Invalid session id"));
            }
            p.advance(now);
            let obeys = fw.obeys;
            match (command, arg.trim()) {
                ("curtail", "sleep") if obeys => p.target = 0.0,
                ("curtail", "wakeup") if obeys => p.target = 1.0,
                ("curtail", "sleep" | "wakeup") => {}
                ("profileset", name) => match PROFILES.iter().find(|(n, _)| *n == name) {
                    Some((n, f)) => {
                        fw.profile = n;
                        p.profile_factor = *f;
                    }
                    None => return Some(err(301, &format!("Unknown profile {name}"))),
                },
                (_, other) => return Some(err(8, &format!("Unknown curtail mode {other}"))),
            }
            json!({"STATUS": ok(if command == "curtail" { 345 } else { 342 }, "OK"), "id": 1})
        }
        _ => return None,
    })
}
