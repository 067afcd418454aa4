//! From what a device said to a resource: its id, site, rack and stock specification.
//!
//! A miner's id is `asic-<ip>`: discovery reaches it by address, and sites assign
//! miners fixed addresses per slot. The rack is the container: the third octet.

use crate::scan::Found;
use hcp_domain::catalogue::asic_model;
use hcp_domain::ids::{InvalidId, RackId, ResourceId};
use hcp_domain::resource::{ResourceKind, ResourceSpec};
use hcp_domain::units::{Hashrate, Power};
use std::net::SocketAddr;

/// The resource id of the miner at `addr`.
pub fn miner_id(addr: SocketAddr) -> Result<ResourceId, InvalidId> {
    ResourceId::new(format!("asic-{}", addr.ip()))
}

/// The resource a found miner is: the catalogue's stock figures for a known model,
/// what it reports for an unknown one.
pub fn miner_spec(found: &Found) -> Result<ResourceSpec, InvalidId> {
    let reported = found.version.model.clone().unwrap_or_else(|| "unknown".into());
    let kind = match asic_model(&reported) {
        Some(m) => ResourceKind::AsicMiner {
            model: m.name.to_owned(),
            nominal_hashrate: m.nominal_hashrate(),
            nominal_power: m.nominal_power(),
        },
        None => ResourceKind::AsicMiner {
            model: reported,
            nominal_hashrate: Hashrate::from_hashes_per_second(
                (found.summary.hashrate_ths.unwrap_or(0.0).max(0.0) * 1e12) as u64,
            ),
            nominal_power: Power::from_watts(found.summary.power_w.unwrap_or(0.0).max(0.0) as u64),
        },
    };
    let rack = match found.addr.ip() {
        std::net::IpAddr::V4(v4) => Some(RackId::new(format!("c{}", v4.octets()[2]))?),
        std::net::IpAddr::V6(_) => None,
    };
    Ok(ResourceSpec { site: found.site.clone(), rack, kind })
}
