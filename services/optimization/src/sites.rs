//! Optimization's view of the sites, folded from their `site-*` streams: the cap and
//! policy each plan uses. Optimization also writes these streams (it seeds them from
//! the configuration and records `hcp sites set-cap`), through the runtime's repository.

use hcp_domain::Aggregate;
use hcp_domain::codec::decode_site_event;
use hcp_domain::site::Site;
use hcp_domain::units::Timestamp;
use hcp_eventstore::RecordedEvent;
use std::collections::HashMap;
use std::sync::RwLock;

/// The projection.
#[derive(Default)]
pub struct Sites {
    sites: RwLock<HashMap<String, Site>>,
}

impl Sites {
    /// Folds one event of the global log (others are skipped).
    pub fn apply(&self, recorded: &RecordedEvent) -> Result<(), String> {
        let Some(id) = recorded.stream.strip_prefix("site-") else { return Ok(()) };
        let at = Timestamp::from_unix_micros(recorded.metadata.time_unix_micros);
        let event = decode_site_event(&recorded.event_type, &recorded.payload, at)
            .map_err(|e| format!("{} v{}: {e}", recorded.stream, recorded.version))?;
        let mut sites = self.sites.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let site = sites.entry(id.to_owned()).or_default();
        // An event the writer already applied (see `keep`) is not applied twice.
        if site.version < recorded.version {
            *site = std::mem::take(site).evolve(&event);
        }
        Ok(())
    }

    /// Keeps a state the writer just recorded, unless a newer one is known.
    pub fn keep(&self, id: &str, site: Site) {
        let mut sites = self.sites.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if sites.get(id).is_none_or(|s| s.version < site.version) {
            sites.insert(id.to_owned(), site);
        }
    }

    /// A site as recorded.
    pub fn get(&self, id: &str) -> Option<Site> {
        self.sites.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(id).filter(|s| s.id.is_some()).cloned()
    }
}
