//! What a Whatsminer (btminer) answers, as its API documentation shows: `summary` with
//! power, fans and `MHS 1m`; `devs` with each board's chips and temperatures;
//! `devdetails` with the model; and the `get_*` and `status` commands, which answer in
//! btminer's own form (`"STATUS":"S"`, `"Msg"` an object). `power_off` / `power_on`
//! answer `API command OK` (real firmware with API 2.x also wants them encrypted with
//! the admin token; the simulator takes them plain).

use super::{Firmware, error, ok, round2};
use crate::physics::Physics;
use serde_json::{Value, json};
use std::time::Instant;

/// The firmware version it reports.
const FW_VER: &str = "20240529.17.Rel";

/// btminer's answer to `command`, or `None` for the commands every family shares.
pub(super) fn answer(fw: &mut Firmware, p: &mut Physics, command: &str, when: i64, now: Instant) -> Option<Value> {
    let desc = fw.description();
    let ok = |code: i64, msg: &str| ok(when, code, msg, &desc);
    // btminer's own form for `get_*`, `status` and writes.
    let own = |msg: Value| json!({"STATUS": "S", "When": when, "Code": 131, "Msg": msg, "Description": ""});
    Some(match command {
        "summary" => {
            let r = p.read(now);
            let mhs = r.board_ghs.iter().sum::<f64>() * 1000.0;
            let hottest = r.board_temp_c.iter().copied().fold(0.0, f64::max);
            let s = json!({"Elapsed": r.elapsed_s, "MHS av": round2(mhs), "MHS 5s": round2(mhs), "MHS 1m": round2(mhs),
                "MHS 5m": round2(mhs), "MHS 15m": round2(mhs), "Accepted": fw.requests * 3, "Rejected": fw.requests / 50,
                "Temperature": round2(hottest), "Power": r.watts.round(), "Power Limit": p.model.watts,
                "Fan Speed In": r.fans_rpm.first(), "Fan Speed Out": r.fans_rpm.get(1), "Power Fanspeed": 7200,
                "Power Mode": "Normal", "Chip Temp Avg": round2(p.temp_c), "Env Temp": 25.0,
                "Factory GHS": p.model.terahashes * 1000, "Error Code Count": 0, "MAC": fw.mac,
                "Firmware Version": format!("'{FW_VER}'"), "Uptime": r.elapsed_s});
            json!({"STATUS": ok(11, "Summary"), "SUMMARY": [s], "id": 1})
        }
        "devs" => {
            let r = p.read(now);
            let devs: Vec<Value> = r.board_ghs.iter().zip(&r.board_temp_c).enumerate().map(|(i, (ghs, t))| {
                let chips = if *ghs > 0.0 || r.sleeping { 108 } else { 0 };
                json!({"ASC": i, "Slot": i, "Name": "SM", "ID": i, "Enabled": "Y",
                    "Status": if chips > 0 { "Alive" } else { "Dead" }, "Temperature": round2(*t),
                    "Chip Temp Avg": round2(t + 8.0), "Chip Temp Max": round2(t + 12.0), "Chip Temp Min": round2(t + 4.0),
                    "MHS av": round2(ghs * 1000.0), "MHS 5s": round2(ghs * 1000.0), "MHS 1m": round2(ghs * 1000.0),
                    "Effective Chips": chips, "PCB SN": format!("SIM{}{i}", fw.mac.replace(':', ""))})
            }).collect();
            json!({"STATUS": ok(9, &format!("{} ASC(s)", devs.len())), "DEVS": devs, "id": 1})
        }
        "devdetails" => {
            let model = p.model.name.trim_start_matches("Whatsminer ").replace(' ', "");
            let details: Vec<Value> = (0..p.model.boards)
                .map(|i| {
                    json!({"DEVDETAILS": i, "Name": "SM", "ID": i, "Driver": "bitmicro", "Kernel": "",
                    "Model": format!("{model}_VK30")})
                })
                .collect();
            json!({"STATUS": ok(69, "Device Details"), "DEVDETAILS": details, "id": 1})
        }
        "get_version" => own(json!({"api_ver": "2.0.5", "fw_ver": FW_VER, "platform": "H616", "chip": "K88"})),
        "get_miner_info" => own(json!({"ip": "", "proto": "dhcp", "netmask": "255.255.255.0", "dns": "",
            "mac": fw.mac, "ledstat": "auto", "gateway": "", "hostname": "WhatsMiner",
            "minersn": format!("SIM{}", fw.mac.replace(':', ""))})),
        "status" => {
            let off = p.target == 0.0;
            own(json!({"mineroff": off.to_string(), "mineroff_reason": "", "mineroff_time": "",
                "FirmwareVersion": format!("'{FW_VER}'"), "power_mode": "", "hash_percent": ""}))
        }
        "get_psu" => own(json!({"name": "P222B", "hw_version": "V01.00", "sw_version": "V01.00.V01.03",
            "model": "P222B", "iin": "14.5", "vin": "230", "fan_speed": "7200", "version": "4",
            "serial_no": "SIMPSU", "vender": "1"})),
        "get_error_code" => own(json!({"error_code": []})),
        "power_off" | "power_on" => {
            p.advance(now);
            if fw.obeys {
                p.target = if command == "power_off" { 0.0 } else { 1.0 };
            }
            json!({"STATUS": "S", "When": when, "Code": 131, "Msg": "API command OK", "Description": ""})
        }
        "stats" => error(when, 14, "Invalid command", &desc),
        _ => return None,
    })
}
