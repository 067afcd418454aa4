//! What each firmware family answers, byte for byte as far as its public API shows:
//! stock Antminer (bmminer), LuxOS (LUXminer, with `logon`/`curtail`/`profileset`) and
//! Whatsminer (btminer, which reports power and fans in `summary` and boards in `devs`,
//! and sleeps on `power_off`, wakes on `power_on`).
//!
//! cgminer's habits are kept: a NUL after every reply and, on bmminer, `}{` between the
//! objects of `STATS`. Joined requests (`summary+devs`) get one key per command.

mod luxos;
mod whatsminer;

use crate::physics::{Physics, Reading};
use hcp_minerapi::Request;
use serde_json::{Value, json};
use std::time::Instant;

/// The firmware a simulated miner runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimFirmware {
    /// Stock Antminer.
    Bmminer,
    /// LuxOS on an Antminer.
    Luxos,
    /// Whatsminer.
    Btminer,
}

/// LuxOS power profiles: name and factor on stock hashrate and power.
pub const PROFILES: &[(&str, f64)] = &[("-2", 0.8), ("-1", 0.9), ("default", 1.0), ("+1", 1.08), ("+2", 1.15)];

/// A miner's API-visible state beyond its physics.
#[derive(Debug, Clone)]
pub struct Firmware {
    /// Which family.
    pub kind: SimFirmware,
    /// LuxOS session, after `logon`.
    pub session: Option<String>,
    /// The active LuxOS profile.
    pub profile: &'static str,
    /// Counts requests, for share counters and session ids.
    pub requests: u64,
    /// Whether it does what it is told (some real firmware accepts commands and ignores them).
    pub obeys: bool,
    /// Its MAC address (derived from its IP address, locally administered).
    pub mac: String,
}

impl Firmware {
    /// Fresh firmware of a family, on the miner at `ip`.
    pub fn new(kind: SimFirmware, ip: std::net::IpAddr) -> Self {
        let octets = match ip {
            std::net::IpAddr::V4(v4) => v4.octets(),
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or([0; 4], |v| v.octets()),
        };
        let mac = format!("02:00:{:02X}:{:02X}:{:02X}:{:02X}", octets[0], octets[1], octets[2], octets[3]);
        Firmware { kind, session: None, profile: "default", requests: 0, obeys: true, mac }
    }

    /// What every reply's status says of the firmware.
    pub(crate) fn description(&self) -> String {
        let (fw, version) = self.name_version();
        format!("{} {version}", fw.to_lowercase())
    }

    fn name_version(&self) -> (&'static str, &'static str) {
        match self.kind {
            SimFirmware::Bmminer => ("BMMiner", "1.0.0"),
            SimFirmware::Luxos => ("LUXminer", "2024.11.14.203401-8c2e1b0"),
            SimFirmware::Btminer => ("BTMiner", "20240529.17.Rel"),
        }
    }

    /// The reply to a request, without the trailing NUL.
    pub fn respond(&mut self, physics: &mut Physics, request: &Request, epoch_s: i64, now: Instant) -> String {
        self.requests += 1;
        let text = if request.commands.len() == 1 {
            self.one(physics, &request.commands[0], request.parameter.as_deref(), epoch_s, now).to_string()
        } else {
            let mut joined = serde_json::Map::new();
            for c in &request.commands {
                let part = self.one(physics, c, request.parameter.as_deref(), epoch_s, now);
                joined.insert(c.clone(), Value::Array(vec![part]));
            }
            joined.insert("id".into(), json!(1));
            Value::Object(joined).to_string()
        };
        if self.kind == SimFirmware::Bmminer { missing_stats_comma(text) } else { text }
    }

    fn one(&mut self, p: &mut Physics, command: &str, parameter: Option<&str>, when: i64, now: Instant) -> Value {
        let family = match self.kind {
            SimFirmware::Luxos => luxos::answer(self, p, command, parameter, when, now),
            SimFirmware::Btminer => whatsminer::answer(self, p, command, when, now),
            SimFirmware::Bmminer => None,
        };
        if let Some(answer) = family {
            return answer;
        }
        let (fw, version) = self.name_version();
        let desc = self.description();
        let ok = |code: i64, msg: &str| ok(when, code, msg, &desc);
        let lux = self.kind == SimFirmware::Luxos;
        match command {
            "version" => json!({"STATUS": ok(22, &format!("{fw} versions")), "VERSION": [{
                fw: version, "API": if lux { "3.7" } else { "3.1" }, "Miner": version,
                "CompileTime": "Thu May 30 10:12:41 CST 2024", "Type": p.model.name}], "id": 1}),
            "summary" => {
                let r = p.read(now);
                let ghs: f64 = r.board_ghs.iter().sum();
                let s = json!({"Elapsed": r.elapsed_s, "GHS 5s": round2(ghs), "GHS av": round2(ghs),
                    "Found Blocks": 0, "Accepted": self.requests * 3, "Rejected": self.requests / 50,
                    "Hardware Errors": 0, "Device Hardware%": 0.0, "Best Share": 1_263_741_252u64});
                json!({"STATUS": ok(11, "Summary"), "SUMMARY": [s], "id": 1})
            }
            "stats" => {
                let r = p.read(now);
                json!({"STATUS": ok(70, &format!("{fw} stats")), "STATS": [
                    {fw: version, "Miner": version, "CompileTime": "Thu May 30 10:12:41 CST 2024", "Type": p.model.name},
                    stats_body(&r, p, lux)], "id": 1})
            }
            "devs" => {
                let r = p.read(now);
                let devs: Vec<Value> = r.board_ghs.iter().zip(&r.board_temp_c).enumerate().map(|(i, (ghs, t))| json!({
                    "ASC": i, "Slot": i, "Enabled": "Y", "Status": if *ghs > 0.0 || r.sleeping { "Alive" } else { "Dead" },
                    "Temperature": round2(*t), "MHS av": round2(ghs * 1000.0), "MHS 5s": round2(ghs * 1000.0),
                    "Effective Chips": if *ghs > 0.0 { 108 } else { 0 }})).collect();
                json!({"STATUS": ok(9, &format!("{} ASC(s)", devs.len())), "DEVS": devs, "id": 1})
            }
            "pools" => {
                json!({"STATUS": ok(7, "1 Pool(s)"), "POOLS": [{"POOL": 0, "URL": "stratum+tcp://btc.pool.example:3333",
                "Status": "Alive", "Priority": 0, "User": "hcp.worker", "GROUP": 0, "Accepted": self.requests * 3,
                "Rejected": self.requests / 50, "Stratum Active": true}], "id": 1})
            }
            "config" => json!({"STATUS": ok(33, &format!("{fw} config")), "CONFIG": [{"ASC Count": p.model.boards,
                "PGA Count": 0, "Pool Count": 1, "Strategy": "Failover", "Log Interval": 5, "OS": "Linux"}], "id": 1}),
            _ => error(when, 14, "Invalid command", &desc),
        }
    }
}

/// A cgminer-style success status.
pub(crate) fn ok(when: i64, code: i64, msg: &str, desc: &str) -> Value {
    json!([{"STATUS":"S","When":when,"Code":code,"Msg":msg,"Description":desc}])
}

/// A cgminer-style refusal.
pub(crate) fn error(when: i64, code: i64, msg: &str, desc: &str) -> Value {
    json!({"STATUS":[{"STATUS":"E","When":when,"Code":code,"Msg":msg,"Description":desc}],"id":1})
}

fn stats_body(r: &Reading, p: &Physics, lux: bool) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("STATS".into(), json!(0));
    m.insert("ID".into(), json!("BC50"));
    m.insert("Elapsed".into(), json!(r.elapsed_s));
    let ghs: f64 = r.board_ghs.iter().sum();
    m.insert("GHS 5s".into(), json!(round2(ghs)));
    m.insert("GHS av".into(), json!(round2(ghs)));
    m.insert("miner_count".into(), json!(r.board_ghs.len()));
    m.insert("fan_num".into(), json!(r.fans_rpm.len()));
    for (i, f) in r.fans_rpm.iter().enumerate() {
        m.insert(format!("fan{}", i + 1), json!(f));
    }
    m.insert("temp_num".into(), json!(r.board_temp_c.len()));
    for (i, t) in r.board_temp_c.iter().enumerate() {
        m.insert(format!("temp{}", i + 1), json!(t.round()));
        m.insert(format!("temp2_{}", i + 1), json!((t + 8.0).round()));
    }
    for (i, g) in r.board_ghs.iter().enumerate() {
        let dead = *g <= 0.0 && !r.sleeping;
        m.insert(format!("chain_acn{}", i + 1), json!(if dead { 0 } else { 108 }));
        m.insert(format!("chain_rate{}", i + 1), json!(format!("{g:.2}")));
        m.insert(format!("chain_acs{}", i + 1), json!(if dead { " xxxxxxxx" } else { " oooooooo" }));
    }
    m.insert("total_rateideal".into(), json!(p.model.terahashes as f64 * 1000.0 * p.profile_factor));
    m.insert("rate_unit".into(), json!("GH"));
    if lux {
        m.insert("Power".into(), json!(r.watts.round()));
        // LuxOS also gives four chip and four PCB temperatures per chain.
        for (i, t) in r.board_temp_c.iter().enumerate() {
            let (chip, pcb) = ((t + 8.0).round() as i64, t.round() as i64);
            m.insert(format!("temp_chip{}", i + 1), json!(format!("{chip}-{}-{}-{chip}", chip + 2, chip + 1)));
            m.insert(format!("temp_pcb{}", i + 1), json!(format!("{pcb}-{}-{}-{pcb}", pcb + 1, pcb + 1)));
        }
    }
    Value::Object(m)
}

/// bmminer writes `}{` between the objects of `STATS`; so does the simulator.
fn missing_stats_comma(text: String) -> String {
    match text.find("\"STATS\":[{") {
        Some(at) => {
            let (head, tail) = text.split_at(at);
            format!("{head}{}", tail.replacen("},{", "}{", 1))
        }
        None => text,
    }
}

pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcp_domain::catalogue::asic_model;
    use hcp_minerapi::{Reply, StatsReport, SummaryReport, VersionReport};

    fn miner(kind: SimFirmware, model: &str) -> (Firmware, Physics, Instant) {
        let now = Instant::now();
        let ip = "127.0.0.1".parse().expect("ip");
        (Firmware::new(kind, ip), Physics::new(asic_model(model).expect("model"), 1.0, 1, now), now)
    }

    #[test]
    fn bmminer_stats_has_the_missing_comma_and_still_reads() {
        let (mut fw, mut p, now) = miner(SimFirmware::Bmminer, "Antminer S19j Pro");
        let text = fw.respond(&mut p, &Request::new("stats"), 1_700_000_000, now);
        assert!(text.contains("}{\"GHS 5s\"") || text.contains("}{"), "{text}");
        let stats = StatsReport::from_reply(&Reply::parse(text.as_bytes()).expect("reply")).expect("stats");
        assert_eq!(stats.alive_boards(), 3);
        assert_eq!(stats.fans_rpm.len(), 4);
    }

    #[test]
    fn each_dialect_identifies_and_reports_its_hashrate() {
        for (kind, model, th) in [
            (SimFirmware::Bmminer, "Antminer S19j Pro", 104.0),
            (SimFirmware::Luxos, "Antminer S21", 200.0),
            (SimFirmware::Btminer, "Whatsminer M60S", 186.0),
        ] {
            let (mut fw, mut p, now) = miner(kind, model);
            let req = Request::new("version+summary");
            let text = fw.respond(&mut p, &req, 1, now);
            let parts = Reply::parse_joined(text.as_bytes(), &req.commands).expect("joined");
            assert_eq!(VersionReport::from_reply(&parts[0]).expect("version").model.as_deref(), Some(model));
            let s = SummaryReport::from_reply(&parts[1]).expect("summary");
            assert!((s.hashrate_ths.expect("hashrate") - th).abs() < th * 0.02, "{model}: {s:?}");
        }
    }

    #[test]
    fn luxos_curtail_needs_a_session() {
        let (mut fw, mut p, now) = miner(SimFirmware::Luxos, "Antminer S21");
        let refused = fw.respond(&mut p, &Request::new("curtail").with_parameter("nope,sleep"), 1, now);
        assert!(Reply::parse(refused.as_bytes()).is_err());
        let logon = Reply::parse(fw.respond(&mut p, &Request::new("logon"), 1, now).as_bytes()).expect("logon");
        let sid = logon.first("SESSION").and_then(|s| s["SessionID"].as_str()).expect("sid").to_owned();
        let ok = fw.respond(&mut p, &Request::new("curtail").with_parameter(format!("{sid},sleep")), 1, now);
        assert!(Reply::parse(ok.as_bytes()).is_ok(), "{ok}");
        assert_eq!(p.target, 0.0);
    }

    #[test]
    fn unknown_commands_are_refused_like_cgminer() {
        let (mut fw, mut p, now) = miner(SimFirmware::Bmminer, "Antminer S19");
        let text = fw.respond(&mut p, &Request::new("curtail"), 1, now);
        assert!(text.contains("\"Code\":14") && text.contains("Invalid command"), "{text}");
    }
}
