//! What the execution tests share: a site of simulated miners on their own loopback
//! addresses, registered in the store as discovery would register them.

#![allow(dead_code)] // each test file uses its part

use hcp_domain::catalogue::asic_model;
use hcp_domain::ids::{ResourceId, SiteId};
use hcp_domain::resource::{Resource, ResourceCommand, ResourceKind, ResourceSpec};
use hcp_domain::units::Timestamp;
use hcp_eventstore::sqlite::SqliteStore;
use hcp_runtime::{EventContext, Repository};
use hcp_simulator::{Fleet, FleetSpec, SimFirmware, SiteSpec};
use std::sync::Arc;

/// The site every test uses.
pub const SITE: &str = "tx-south-1";

/// A site of `miners` miners at 127.<octet>, cycling through `mix`, at `time_factor`.
pub async fn fleet(octet: u8, miners: usize, mix: &[(&str, SimFirmware)], time_factor: f64) -> Fleet {
    let mut spec = FleetSpec::uniform(1, miners, octet);
    spec.time_factor = time_factor;
    spec.sites[0] = SiteSpec {
        id: SITE.into(),
        octet,
        miners,
        power_cap_w: 1_000_000,
        settlement_point: "HB_SOUTH".into(),
        mix: mix.iter().map(|(m, f)| (asic_model(m).expect("model"), *f)).collect(),
    };
    Fleet::start(spec).await.unwrap_or_else(|e| panic!("fleet on 127.{octet}/16: {e}"))
}

/// Miner `i`'s resource id.
pub fn id_of(fleet: &Fleet, i: usize) -> String {
    format!("asic-{}", fleet.miners[i].addr.ip())
}

/// Now, as an event instant.
pub fn at() -> Timestamp {
    Timestamp::from_unix_micros(hcp_runtime::clock::now_micros())
}

/// Registers `spec` as resource `id`, as discovery or an agent would.
pub async fn register_resource(store: &Arc<SqliteStore>, id: &str, kind: ResourceKind) {
    let resources: Repository<Resource, SqliteStore> = Repository::new(Arc::clone(store));
    let rid = ResourceId::new(id).expect("id");
    let spec = ResourceSpec { site: SiteId::new(SITE).expect("site"), rack: None, kind };
    let command = ResourceCommand::Register { id: rid, spec, at: at() };
    resources.execute(id, command, &EventContext::new("discovery")).await.expect("register");
}

/// Registers every miner of `fleet` at [`SITE`].
pub async fn register(store: &Arc<SqliteStore>, fleet: &Fleet) {
    for (i, m) in fleet.miners.iter().enumerate() {
        let kind = ResourceKind::AsicMiner {
            model: m.model.name.into(),
            nominal_hashrate: m.model.nominal_hashrate(),
            nominal_power: m.model.nominal_power(),
        };
        register_resource(store, &id_of(fleet, i), kind).await;
    }
}
