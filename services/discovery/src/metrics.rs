//! Discovery's own metrics, refreshed from the inventory every few seconds: devices by site,
//! kind, mode and health (`hcp_fleet_devices`: the device-offline alert leaves out those
//! curtailed on purpose by their mode), and each site's power now, the latest readings of the
//! devices not offline summed (`hcp_site_power_watts`: the over-cap alert).

use crate::inventory::Inventory;
use hcp_domain::codec::{health_to_pb, mode_to_pb};
use hcp_eventstore::EventStore;
use hcp_runtime::Host;
use hcp_runtime::metrics::{Labels, Series, SnapshotGauges, labels};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How often the gauges are refreshed.
pub const EVERY: Duration = Duration::from_secs(5);

/// An enum's proto name without its prefix, lowercase: `RESOURCE_MODE_SERVING_AI` → `serving_ai`.
fn short(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix).unwrap_or(name).to_ascii_lowercase()
}

/// The gauges' values now: (devices by site, kind, mode and health; power by site).
pub fn tally(inventory: &Inventory) -> (Series, Series) {
    let mut devices: HashMap<Labels, f64> = HashMap::new();
    let mut power: HashMap<String, f64> = HashMap::new();
    inventory.each(|_, entry| {
        let r = &entry.resource;
        let Some(spec) = &r.spec else { return };
        let kind = if spec.kind.is_gpu() { "gpu" } else { "asic" };
        let mode = short(mode_to_pb(r.mode).as_str_name(), "RESOURCE_MODE_");
        let health = short(health_to_pb(r.health).as_str_name(), "RESOURCE_HEALTH_");
        let key = labels(&[("site", spec.site.as_str()), ("kind", kind), ("mode", &mode), ("health", &health)]);
        *devices.entry(key).or_default() += 1.0;
        *power.entry(spec.site.as_str().to_owned()).or_default() += crate::listing::drawing(entry);
    });
    let power = power.into_iter().map(|(site, w)| (labels(&[("site", &site)]), w)).collect();
    (devices.into_iter().collect(), power)
}

/// Registers the gauges in `host` and keeps them fresh from `inventory`.
pub fn export<S: EventStore>(host: &Host<S>, inventory: Arc<Inventory>) {
    let devices = SnapshotGauges::register(&host.metrics, "fleet_devices", "devices by site, kind, mode and health");
    let power =
        SnapshotGauges::register(&host.metrics, "site_power_watts", "a site's latest power readings summed, watts");
    host.every("discovery-metrics", EVERY, move || {
        let (d, p) = tally(&inventory);
        devices.set(d);
        power.set(p);
    });
}
