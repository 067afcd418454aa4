//! A fleet: sites of miners, each miner on its own loopback address at port 4028.
//!
//! Site `k` owns `127.<base+k>.0.0/16`; its miner `i` is `127.<base+k>.<i / 250>.<i % 250 + 1>`,
//! so a container (third octet) holds 250 miners. Linux routes all of 127/8 to loopback,
//! so scanning a site looks exactly like scanning a real subnet.

use crate::dialect::SimFirmware;
use crate::miner::SimMiner;
use crate::physics::Physics;
use crate::server;
use hcp_domain::catalogue::{AsicModel, asic_model};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Miners per container (third octet).
pub const MINERS_PER_CONTAINER: usize = 250;

/// A site to simulate.
#[derive(Debug, Clone)]
pub struct SiteSpec {
    /// Its id, e.g. `tx-south-1`.
    pub id: String,
    /// The second octet of its loopback subnet.
    pub octet: u8,
    /// How many miners.
    pub miners: usize,
    /// Its grid interconnection limit, W.
    pub power_cap_w: u64,
    /// The ERCOT settlement point it buys power at.
    pub settlement_point: String,
    /// Models and firmware, assigned to miners in rotation.
    pub mix: Vec<(&'static AsicModel, SimFirmware)>,
}

impl SiteSpec {
    /// Miner `i`'s address.
    pub fn address(&self, i: usize) -> Ipv4Addr {
        Ipv4Addr::new(127, self.octet, (i / MINERS_PER_CONTAINER) as u8, (i % MINERS_PER_CONTAINER + 1) as u8)
    }

    /// The first and last address a scan of this site should cover.
    pub fn range(&self) -> (Ipv4Addr, Ipv4Addr) {
        let last_container = (self.miners.max(1) - 1) / MINERS_PER_CONTAINER;
        (Ipv4Addr::new(127, self.octet, 0, 1), Ipv4Addr::new(127, self.octet, last_container as u8, 254))
    }
}

/// The usual mix: LuxOS S21s, stock S19j Pros, Whatsminer M60Ss and LuxOS S21 Pros.
pub fn default_mix() -> Vec<(&'static AsicModel, SimFirmware)> {
    [
        ("Antminer S21", SimFirmware::Luxos),
        ("Antminer S19j Pro", SimFirmware::Bmminer),
        ("Whatsminer M60S", SimFirmware::Btminer),
        ("Antminer S21 Pro", SimFirmware::Luxos),
    ]
    .into_iter()
    .filter_map(|(name, fw)| asic_model(name).map(|m| (m, fw)))
    .collect()
}

/// What to simulate.
#[derive(Debug, Clone)]
pub struct FleetSpec {
    /// The sites.
    pub sites: Vec<SiteSpec>,
    /// Simulated seconds per real second.
    pub time_factor: f64,
    /// Seed for every miner's randomness.
    pub seed: u64,
    /// Port every miner listens on.
    pub port: u16,
    /// Hashboard failures per board per simulated hour.
    pub board_failures_per_hour: f64,
    /// The port stock Antminers serve their web interface on (80 as real ones; binding
    /// it needs the right to; `None` serves none).
    pub http_port: Option<u16>,
}

impl FleetSpec {
    /// `sites` sites of `miners` miners each, at `127.<first_octet + k>`, HB_SOUTH prices,
    /// a power cap 10% above the fleet's stock draw.
    pub fn uniform(sites: usize, miners: usize, first_octet: u8) -> Self {
        let mix = default_mix();
        let avg_watts = mix.iter().map(|(m, _)| m.watts).sum::<u64>() / mix.len().max(1) as u64;
        FleetSpec {
            sites: (0..sites)
                .map(|k| SiteSpec {
                    id: format!("tx-south-{}", k + 1),
                    octet: first_octet.saturating_add(k as u8),
                    miners,
                    power_cap_w: avg_watts * miners as u64 * 11 / 10,
                    settlement_point: "HB_SOUTH".into(),
                    mix: mix.clone(),
                })
                .collect(),
            time_factor: 1.0,
            seed: 42,
            port: hcp_minerapi::API_PORT,
            board_failures_per_hour: 0.0,
            http_port: Some(80),
        }
    }
}

/// A running fleet.
#[derive(Debug)]
pub struct Fleet {
    /// What it was built from.
    pub spec: FleetSpec,
    /// Every miner, site by site.
    pub miners: Vec<Arc<SimMiner>>,
}

impl Fleet {
    /// Builds every miner and starts its listener.
    pub async fn start(spec: FleetSpec) -> std::io::Result<Fleet> {
        let now = Instant::now();
        let mut miners = Vec::new();
        let mut web_warned = false;
        for (k, site) in spec.sites.iter().enumerate() {
            for i in 0..site.miners {
                let (model, firmware) = site.mix[i % site.mix.len()];
                let seed = spec.seed ^ ((k as u64) << 32) ^ i as u64;
                let mut physics = Physics::new(model, spec.time_factor, seed, now);
                physics.board_failures_per_hour = spec.board_failures_per_hour;
                let addr = SocketAddr::new(IpAddr::V4(site.address(i)), spec.port);
                let miner = Arc::new(SimMiner::new(addr, k, model, firmware, physics));
                server::start(&miner).await.map_err(|e| std::io::Error::new(e.kind(), format!("bind {addr}: {e}")))?;
                if firmware == SimFirmware::Bmminer
                    && let Some(port) = spec.http_port
                {
                    match crate::web::start(&miner, port).await {
                        Ok(task) => *miner.web.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(task),
                        Err(e) if !web_warned => {
                            tracing::warn!(%addr, port, error = %e, "stock Antminers serve no web interface (cannot bind)");
                            web_warned = true;
                        }
                        Err(_) => {}
                    }
                }
                miners.push(miner);
            }
        }
        Ok(Fleet { spec, miners })
    }

    /// Stops a miner: connections to it are refused until [`Fleet::restart`].
    pub fn stop(&self, miner: &SimMiner) {
        server::stop(miner);
    }

    /// Starts a stopped miner again, as after a power cycle.
    pub async fn restart(&self, miner: &Arc<SimMiner>) -> std::io::Result<()> {
        miner.rebooted();
        server::start(miner).await
    }

    /// Reboots a miner: off for `down` (real time), then back with a fresh process.
    pub fn reboot(&self, miner: &Arc<SimMiner>, down: Duration) {
        server::stop(miner);
        let m = Arc::clone(miner);
        tokio::spawn(async move {
            tokio::time::sleep(down).await;
            m.rebooted();
            if let Err(e) = server::start(&m).await {
                tracing::warn!(miner = %m.addr, error = %e, "could not come back after reboot");
            }
        });
    }

    /// The miner at an address.
    pub fn miner(&self, addr: SocketAddr) -> Option<&Arc<SimMiner>> {
        self.miners.iter().find(|m| m.addr == addr)
    }

    /// Stops every listener.
    pub fn shutdown(&self) {
        for m in &self.miners {
            server::stop(m);
            if let Some(web) = m.web.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
                web.abort();
            }
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.shutdown();
    }
}
