//! Typed readings of `version`, `summary` and `stats`/`devs`, across dialects.
//!
//! Every field is optional or defaulted: firmware omits fields, writes numbers as
//! strings (`"GHS 5s":"104,012.3"`) and, after repair, `null` for `inf`/`nan`.

use crate::reply::{Reply, ReplyError};
use serde_json::{Map, Value};

/// The firmware family, from the keys of `VERSION`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Firmware {
    /// Stock Antminer.
    Bmminer,
    /// LuxOS (supports curtailment and power profiles).
    Luxminer,
    /// Whatsminer.
    Btminer,
    /// cgminer itself.
    Cgminer,
    /// Something else that speaks the API; the key it reported.
    Other(String),
}

impl Firmware {
    /// The name as operators know it.
    pub fn name(&self) -> &str {
        match self {
            Firmware::Bmminer => "bmminer",
            Firmware::Luxminer => "luxos",
            Firmware::Btminer => "btminer",
            Firmware::Cgminer => "cgminer",
            Firmware::Other(s) => s,
        }
    }

    /// Which command lists hashboards: `stats` (Antminer dialects) or `devs` (btminer).
    pub fn boards_command(&self) -> &'static str {
        match self {
            Firmware::Btminer => "devs",
            _ => "stats",
        }
    }
}

/// What `version` says.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionReport {
    /// Firmware family.
    pub firmware: Firmware,
    /// Firmware version text.
    pub firmware_version: String,
    /// API version, where given.
    pub api_version: Option<String>,
    /// The model (`Type`), e.g. `Antminer S21`.
    pub model: Option<String>,
}

impl VersionReport {
    /// Reads a `version` reply.
    pub fn from_reply(reply: &Reply) -> Result<Self, ReplyError> {
        let v = reply.first("VERSION").ok_or(ReplyError::MissingSection("VERSION"))?;
        let (firmware, key) = [
            (Firmware::Luxminer, "LUXminer"),
            (Firmware::Bmminer, "BMMiner"),
            (Firmware::Btminer, "BTMiner"),
            (Firmware::Cgminer, "CGMiner"),
        ]
        .into_iter()
        .find(|(_, k)| v.contains_key(*k))
        .map(|(f, k)| (f, k.to_owned()))
        .or_else(|| {
            let other = v.keys().find(|k| !matches!(k.as_str(), "API" | "Type" | "Miner" | "CompileTime"))?;
            Some((Firmware::Other(other.clone()), other.clone()))
        })
        .ok_or(ReplyError::MissingSection("VERSION"))?;
        Ok(VersionReport {
            firmware,
            firmware_version: text(v, &key).unwrap_or_default(),
            api_version: text(v, "API"),
            model: text(v, "Type").or_else(|| text(v, "Model")),
        })
    }
}

/// What `summary` says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SummaryReport {
    /// Seconds since the mining process started.
    pub elapsed_s: Option<u64>,
    /// Recent hashrate in TH/s (the 5-second figure, else the average).
    pub hashrate_ths: Option<f64>,
    /// Wall power in watts, where the firmware reports it.
    pub power_w: Option<f64>,
    /// Fan speeds, where summary carries them (btminer).
    pub fans_rpm: Vec<u32>,
    /// A temperature, where summary carries one (btminer).
    pub temperature_c: Option<f64>,
}

impl SummaryReport {
    /// Reads a `summary` reply.
    pub fn from_reply(reply: &Reply) -> Result<Self, ReplyError> {
        let s = reply.first("SUMMARY").ok_or(ReplyError::MissingSection("SUMMARY"))?;
        Ok(SummaryReport {
            elapsed_s: number(s, "Elapsed").map(|e| e.max(0.0) as u64),
            hashrate_ths: hashrate_ths(s),
            power_w: number(s, "Power").or_else(|| number(s, "power")),
            fans_rpm: ["Fan Speed In", "Fan Speed Out"].iter().filter_map(|k| number(s, k)).map(rpm).collect(),
            temperature_c: number(s, "Temperature"),
        })
    }
}

/// One hashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct Board {
    /// Its index as the firmware numbers it.
    pub index: u32,
    /// Chips that answer.
    pub chips: Option<u32>,
    /// Its hashrate in TH/s.
    pub hashrate_ths: Option<f64>,
    /// Whether it hashes.
    pub alive: bool,
}

/// Hashboards, temperatures and fans, from `stats` (Antminer dialects) or `devs` (btminer).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsReport {
    /// Hashboards.
    pub boards: Vec<Board>,
    /// Temperatures in °C (boards, chips).
    pub temps_c: Vec<f64>,
    /// Fan speeds.
    pub fans_rpm: Vec<u32>,
    /// Wall power in watts, where reported.
    pub power_w: Option<f64>,
}

impl StatsReport {
    /// Reads a `stats` or a `devs` reply, whichever it is.
    pub fn from_reply(reply: &Reply) -> Result<Self, ReplyError> {
        if let Some(devs) = reply.section("DEVS") {
            return Ok(Self::from_devs(devs));
        }
        let stats = reply.section("STATS").ok_or(ReplyError::MissingSection("STATS"))?;
        let s = stats
            .iter()
            .filter_map(Value::as_object)
            .find(|o| o.contains_key("fan_num") || o.contains_key("chain_acn1") || o.contains_key("temp_num"))
            .ok_or(ReplyError::MissingSection("STATS"))?;
        let boards = (1..=16)
            .filter_map(|i| {
                let chips = number(s, &format!("chain_acn{i}"))?;
                let rate = number(s, &format!("chain_rate{i}")).map(|gh| gh / 1000.0);
                let all_ok = text(s, &format!("chain_acs{i}")).is_none_or(|acs| !acs.contains('x'));
                Some(Board {
                    index: i,
                    chips: Some(chips.max(0.0) as u32),
                    hashrate_ths: rate,
                    alive: chips > 0.0 && rate.is_some_and(|r| r > 0.0) && all_ok,
                })
            })
            .collect();
        let temps_c = (1..=16).filter_map(|i| number(s, &format!("temp{i}"))).collect();
        let fans_rpm = (1..=8).filter_map(|i| number(s, &format!("fan{i}"))).map(rpm).collect();
        let power_w = ["chain_power", "Power", "power"].iter().find_map(|k| number(s, k));
        Ok(StatsReport { boards, temps_c, fans_rpm, power_w })
    }

    fn from_devs(devs: &[Value]) -> Self {
        let mut report = StatsReport::default();
        for (i, d) in devs.iter().filter_map(Value::as_object).enumerate() {
            let hashrate = hashrate_ths(d);
            let alive = text(d, "Status").is_none_or(|s| s.eq_ignore_ascii_case("alive"))
                && text(d, "Enabled").is_none_or(|e| e == "Y")
                && hashrate.is_some_and(|h| h > 0.0);
            let index = number(d, "ASC").or_else(|| number(d, "Slot")).map_or(i as u32, |n| n as u32);
            report.boards.push(Board {
                index,
                chips: number(d, "Effective Chips").map(|c| c.max(0.0) as u32),
                hashrate_ths: hashrate,
                alive,
            });
            report.temps_c.extend(number(d, "Temperature"));
        }
        report
    }

    /// Boards that hash.
    pub fn alive_boards(&self) -> usize {
        self.boards.iter().filter(|b| b.alive).count()
    }

    /// The hottest temperature reported.
    pub fn max_temp_c(&self) -> Option<f64> {
        self.temps_c.iter().copied().fold(None, |m, t| Some(m.map_or(t, |m: f64| m.max(t))))
    }
}

/// Hashrate in TH/s from whichever unit the firmware uses.
fn hashrate_ths(m: &Map<String, Value>) -> Option<f64> {
    [("THS 5s", 1.0), ("GHS 5s", 1e-3), ("MHS 5s", 1e-6), ("THS av", 1.0), ("GHS av", 1e-3), ("MHS av", 1e-6)]
        .iter()
        .find_map(|(k, scale)| number(m, k).map(|v| v * scale))
}

/// A number, also from a string such as `"104,012.30"`; `None` for null, NaN or junk.
fn number(m: &Map<String, Value>, key: &str) -> Option<f64> {
    let n = match m.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().replace(',', "").parse::<f64>().ok(),
        _ => None,
    }?;
    n.is_finite().then_some(n)
}

fn text(m: &Map<String, Value>, key: &str) -> Option<String> {
    match m.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn rpm(v: f64) -> u32 {
    v.clamp(0.0, u32::MAX as f64) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_of_each_family() {
        let lux = Reply::parse(br#"{"STATUS":[{"STATUS":"S","Code":22,"Msg":"LUXminer versions"}],"VERSION":[{"API":"3.7","LUXminer":"2024.5.1","Type":"Antminer S21"}],"id":1}"#).expect("lux");
        let v = VersionReport::from_reply(&lux).expect("version");
        assert_eq!((v.firmware, v.model.as_deref()), (Firmware::Luxminer, Some("Antminer S21")));
        let bm = Reply::parse(
            br#"{"STATUS":[{"STATUS":"S"}],"VERSION":[{"BMMiner":"1.0.0","API":"3.1","Type":"Antminer S19j Pro"}]}"#,
        )
        .expect("bm");
        assert_eq!(VersionReport::from_reply(&bm).expect("v").firmware, Firmware::Bmminer);
    }

    #[test]
    fn summary_units_and_string_numbers() {
        let r = Reply::parse(
            br#"{"STATUS":[{"STATUS":"S"}],"SUMMARY":[{"Elapsed":60,"GHS 5s":"104,012.30","Power":inf}]}"#,
        )
        .expect("r");
        let s = SummaryReport::from_reply(&r).expect("summary");
        assert!((s.hashrate_ths.expect("hashrate") - 104.0123).abs() < 1e-9);
        assert_eq!(s.power_w, None);
        let w = Reply::parse(br#"{"STATUS":[{"STATUS":"S"}],"SUMMARY":[{"MHS av":186000000.0,"Power":3441,"Fan Speed In":4200,"Fan Speed Out":4250}]}"#).expect("w");
        let s = SummaryReport::from_reply(&w).expect("summary");
        assert_eq!((s.hashrate_ths, s.power_w, s.fans_rpm), (Some(186.0), Some(3441.0), vec![4200, 4250]));
    }

    #[test]
    fn stats_with_a_dead_board_and_the_missing_comma() {
        let r = Reply::parse(br#"{"STATUS":[{"STATUS":"S"}],"STATS":[{"BMMiner":"1.0.0"}{"STATS":0,"fan_num":4,"fan1":5400,"fan2":5460,"fan3":5400,"fan4":5520,"temp1":62,"temp2":64,"temp3":0,"chain_acn1":126,"chain_rate1":"34700.10","chain_acn2":126,"chain_rate2":"34650.00","chain_acn3":0,"chain_rate3":"0.00","chain_acs3":" xxxx"}]}"#).expect("stats");
        let s = StatsReport::from_reply(&r).expect("stats");
        assert_eq!(s.boards.len(), 3);
        assert_eq!(s.alive_boards(), 2);
        assert_eq!(s.fans_rpm.len(), 4);
        assert_eq!(s.max_temp_c(), Some(64.0));
    }

    #[test]
    fn devs_from_btminer() {
        let r = Reply::parse(br#"{"STATUS":[{"STATUS":"S"}],"DEVS":[{"ASC":0,"Enabled":"Y","Status":"Alive","Temperature":70.5,"MHS av":62000000},{"ASC":1,"Enabled":"Y","Status":"Dead","Temperature":0,"MHS av":0}]}"#).expect("devs");
        let s = StatsReport::from_reply(&r).expect("devs");
        assert_eq!((s.boards.len(), s.alive_boards()), (2, 1));
    }
}
