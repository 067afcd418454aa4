//! What discovery scans, how often it polls, and how patient it is.

use hcp_domain::ids::SiteId;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// An address range at one site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanTarget {
    /// The site these addresses belong to.
    pub site: SiteId,
    /// First address (inclusive).
    pub first: Ipv4Addr,
    /// Last address (inclusive).
    pub last: Ipv4Addr,
    /// The API port (4028).
    pub port: u16,
}

impl ScanTarget {
    /// Every address in the range.
    pub fn addresses(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        (u32::from(self.first)..=u32::from(self.last)).map(|a| SocketAddr::from((Ipv4Addr::from(a), self.port)))
    }

    /// How many addresses.
    pub fn len(&self) -> usize {
        (u32::from(self.last).saturating_sub(u32::from(self.first)) as usize) + usize::from(self.first <= self.last)
    }

    /// Whether the range is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Discovery's settings.
#[derive(Debug, Clone)]
pub struct DiscoveryConfig {
    /// What to scan.
    pub targets: Vec<ScanTarget>,
    /// Deadline for one probe or poll (connect, request, reply).
    pub timeout: Duration,
    /// Probes or polls in flight at once.
    pub concurrency: usize,
    /// Time between health polls of a miner.
    pub poll_interval: Duration,
    /// Time between rescans for new devices.
    pub rescan_interval: Duration,
    /// Missed polls in a row before a device is recorded offline.
    pub offline_after: u32,
    /// Good polls in a row before a changed health (back to healthy, or degraded) is recorded.
    pub confirm_after: u32,
    /// An agent silent this long has its GPUs recorded offline.
    pub agent_timeout: Duration,
    /// Length of the intervals readings are summarized over (the market interval).
    pub summary_interval: Duration,
    /// Where raw readings are kept and for how long (none: not kept).
    pub samples: Option<(std::path::PathBuf, Duration)>,
    /// The heartbeat interval agents are told to keep.
    pub heartbeat_interval: Duration,
    /// Where the gRPC API listens.
    pub grpc_addr: SocketAddr,
    /// The token agents must register with (execution's enrolment token); none: any agent.
    pub agent_token: Option<hcp_runtime::config::Secret>,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        DiscoveryConfig {
            targets: Vec::new(),
            timeout: Duration::from_secs(2),
            concurrency: 512,
            poll_interval: Duration::from_secs(10),
            rescan_interval: Duration::from_secs(300),
            offline_after: 3,
            confirm_after: 2,
            agent_timeout: Duration::from_secs(15),
            summary_interval: Duration::from_secs(900),
            samples: None,
            heartbeat_interval: Duration::from_secs(5),
            grpc_addr: SocketAddr::from(([127, 0, 0, 1], 50051)),
            agent_token: None,
        }
    }
}

impl DiscoveryConfig {
    /// Discovery's settings from the deployment's configuration: its targets, timings
    /// and gRPC address. Heartbeats are a quarter of the agent timeout (at most 5 s).
    pub fn from_config(config: &hcp_runtime::config::Config) -> Result<Self, hcp_domain::ids::InvalidId> {
        let d = &config.discovery;
        let targets = d
            .targets
            .iter()
            .map(|t| Ok(ScanTarget { site: SiteId::new(t.site.clone())?, first: t.first, last: t.last, port: t.port }))
            .collect::<Result<Vec<_>, hcp_domain::ids::InvalidId>>()?;
        let agent_timeout = Duration::from_secs_f64(d.agent_timeout_seconds);
        Ok(DiscoveryConfig {
            targets,
            timeout: Duration::from_millis(d.scan_timeout_ms),
            concurrency: d.scan_concurrency,
            poll_interval: Duration::from_secs_f64(d.poll_seconds),
            rescan_interval: Duration::from_secs_f64(d.rescan_seconds),
            agent_timeout,
            summary_interval: Duration::from_secs_f64(d.summary_seconds),
            samples: Some((config.data.dir.join("telemetry.db"), Duration::from_secs_f64(d.samples_hours * 3600.0))),
            heartbeat_interval: (agent_timeout / 3).min(Duration::from_secs(5)),
            grpc_addr: config.services.discovery.grpc,
            agent_token: config.execution.enrolment_token.clone(),
            ..DiscoveryConfig::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_inclusive() {
        let t = ScanTarget {
            site: SiteId::new("s").expect("id"),
            first: Ipv4Addr::new(10, 0, 0, 254),
            last: Ipv4Addr::new(10, 0, 1, 1),
            port: 4028,
        };
        assert_eq!(t.len(), 4);
        assert_eq!(t.addresses().last(), Some("10.0.1.1:4028".parse().expect("addr")));
    }
}
