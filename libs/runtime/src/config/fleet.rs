//! Section types for the fleet: device discovery, price feeds, the simulator and the sites,
//! with their defaults (including the per-field defaults of a `[[sites]]` entry).

use std::net::Ipv4Addr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[discovery]`: how miners and GPU hosts are found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoveryConfig {
    /// Seconds between polls of known devices; above 0. Default 10.
    pub poll_seconds: f64,
    /// Seconds between full rescans of the target ranges; above 0. Default 300.
    pub rescan_seconds: f64,
    /// Milliseconds to wait for one address to answer a scan; above 0. Default 2000.
    pub scan_timeout_ms: u64,
    /// Addresses probed at once during a scan; 1 to 65536. Default 512.
    pub scan_concurrency: usize,
    /// Seconds after which a silent agent counts as gone; above 0. Default 15.
    pub agent_timeout_seconds: f64,
    /// Seconds of each device's telemetry summary (`telemetry.summarized` on `telemetry-<id>`: energy, hashes, mean and peak power, peak temperature); the market interval; above 0. Default 900.
    pub summary_seconds: f64,
    /// Hours of raw readings kept for charts in `<data dir>/telemetry.db`; above 0. Default 24.
    pub samples_hours: f64,
    /// Address ranges to scan (`[[discovery.targets]]`). Default: none.
    #[serde(default)]
    pub targets: Vec<DiscoveryTarget>,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        DiscoveryConfig {
            poll_seconds: 10.0,
            rescan_seconds: 300.0,
            scan_timeout_ms: 2000,
            scan_concurrency: 512,
            agent_timeout_seconds: 15.0,
            summary_seconds: 900.0,
            samples_hours: 24.0,
            targets: Vec::new(),
        }
    }
}

/// One `[[discovery.targets]]` entry: an IPv4 range at a site.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoveryTarget {
    /// The `id` of the site the range belongs to (one of `[[sites]]`).
    pub site: String,
    /// First address of the range.
    pub first: Ipv4Addr,
    /// Last address of the range (inclusive); not below `first`.
    pub last: Ipv4Addr,
    /// Miner API port. Default 4028.
    #[serde(default = "default_agent_port")]
    pub port: u16,
}

fn default_agent_port() -> u16 {
    4028
}

/// `[pricing]`: where electricity prices come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricingConfig {
    /// `replay`, `simulated`, or an `http://` / `https://` feed URL. Default `replay`.
    pub source: String,
    /// Price file to replay. Default: unset (the built-in sample).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prices: Option<PathBuf>,
    /// Bitcoin hashprice file; must be readable when set. Default: unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub btc: Option<PathBuf>,
    /// Replay speed, simulated seconds per real second; above 0. Default 60.
    pub speed: f64,
    /// Seconds between polls of an HTTP source; above 0. Default 15.
    pub poll_seconds: f64,
}

impl Default for PricingConfig {
    fn default() -> Self {
        PricingConfig { source: "replay".to_owned(), prices: None, btc: None, speed: 60.0, poll_seconds: 15.0 }
    }
}

/// `[simulator]`: the simulated fleet used when no real devices are configured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatorConfig {
    /// Whether to run the simulator. Default true.
    pub enabled: bool,
    /// Simulated sites; 0 to 200. Default 2.
    pub sites: u32,
    /// Miners per simulated site; 0 to 65025. Default 500.
    pub miners_per_site: u32,
    /// First octet of simulated miner addresses; 1 to 255. Default 11.
    pub first_octet: u32,
    /// Simulated GPU hosts. Default 8.
    pub gpu_hosts: u32,
    /// GPUs per simulated host; 1 to 16. Default 8.
    pub gpus_per_host: u32,
    /// Simulated seconds per real second; above 0. Default 1.
    pub time_factor: f64,
    /// Hash-board failures per miner per hour; 0 or more. Default 0.01.
    pub board_failures_per_hour: f64,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig {
            enabled: true,
            sites: 2,
            miners_per_site: 500,
            first_octet: 11,
            gpu_hosts: 8,
            gpus_per_host: 8,
            time_factor: 1.0,
            board_failures_per_hour: 0.01,
        }
    }
}

/// One `[[sites]]` entry. Every key but `id` has a default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// Site id: 1 to 64 characters of `a-z`, `0-9` and `-`; unique.
    pub id: String,
    /// ERCOT settlement point whose prices apply. Default `HB_SOUTH`.
    #[serde(default = "default_settlement_point")]
    pub settlement_point: String,
    /// Power cap, kW; above 0. Default 1900.
    #[serde(default = "default_cap_kw")]
    pub cap_kw: f64,
    /// Least seconds between two switches of the site; 0 or more. Default 900.
    #[serde(default = "default_min_dwell_seconds")]
    pub min_dwell_seconds: f64,
    /// Price band, USD/MWh, that must be crossed before switching; 0 or more. Default 5.
    #[serde(default = "default_hysteresis_usd_mwh")]
    pub hysteresis_usd_mwh: f64,
    /// Most kW to wake at once; above 0. Default: unset, meaning `cap_kw`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_wake_kw: Option<f64>,
    /// GPU rental revenue, USD per GPU-hour; 0 or more. Default 2.
    #[serde(default = "default_gpu_usd_per_hour")]
    pub gpu_usd_per_hour: f64,
    /// Cost of one switch, USD; 0 or more. Default 0.05.
    #[serde(default = "default_switch_cost_usd")]
    pub switch_cost_usd: f64,
}

impl SiteConfig {
    /// A site with this id and every other key at its default.
    pub fn with_id(id: impl Into<String>) -> Self {
        SiteConfig {
            id: id.into(),
            settlement_point: default_settlement_point(),
            cap_kw: default_cap_kw(),
            min_dwell_seconds: default_min_dwell_seconds(),
            hysteresis_usd_mwh: default_hysteresis_usd_mwh(),
            max_wake_kw: None,
            gpu_usd_per_hour: default_gpu_usd_per_hour(),
            switch_cost_usd: default_switch_cost_usd(),
        }
    }

    /// The default site list: `tx-south-1` and `tx-south-2`.
    pub fn defaults() -> Vec<SiteConfig> {
        vec![SiteConfig::with_id("tx-south-1"), SiteConfig::with_id("tx-south-2")]
    }

    /// `max_wake_kw`, or `cap_kw` when it is unset.
    pub fn effective_max_wake_kw(&self) -> f64 {
        self.max_wake_kw.unwrap_or(self.cap_kw)
    }
}

fn default_settlement_point() -> String {
    "HB_SOUTH".to_owned()
}
fn default_cap_kw() -> f64 {
    1900.0
}
fn default_min_dwell_seconds() -> f64 {
    900.0
}
fn default_hysteresis_usd_mwh() -> f64 {
    5.0
}
fn default_gpu_usd_per_hour() -> f64 {
    2.0
}
fn default_switch_cost_usd() -> f64 {
    0.05
}
