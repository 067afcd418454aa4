//! The site aggregate: a power-constrained site, its grid cap and how it is run. Its
//! stream is `site-<id>`.
//!
//! A site is configured once (seeded from the deployment's configuration); from then on
//! its cap changes only by a recorded command (`hcp sites set-cap`), so the log says
//! who changed it, when and why. Configuring an existing site again changes nothing:
//! a cap set at run time is not undone by a restart with the old file.

mod decide;
#[cfg(test)]
mod tests;

use crate::units::Timestamp;

/// How a site is run (everything but the cap, which has its own command).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SitePolicy {
    /// The ERCOT settlement point it buys power at.
    pub settlement_point: String,
    /// Minimum time between a device's mode changes, market seconds.
    pub min_dwell_seconds: f64,
    /// Hysteresis, $/MWh.
    pub hysteresis_usd_mwh: f64,
    /// Most load that may wake per plan, kW.
    pub max_wake_kw: f64,
    /// What a GPU-hour earns serving AI, $.
    pub gpu_usd_per_hour: f64,
    /// Cost of one device switching mode, $.
    pub switch_cost_usd: f64,
}

/// A site's state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Site {
    /// Its id, once configured.
    pub id: Option<String>,
    /// Its grid cap, kW.
    pub cap_kw: f64,
    /// How it is run.
    pub policy: SitePolicy,
    /// How many events it has.
    pub version: u64,
}

/// What may be asked of a site.
#[derive(Debug, Clone, PartialEq)]
pub enum SiteCommand {
    /// Creates the site (nothing if it exists).
    Configure {
        /// Its id.
        id: String,
        /// Its cap, kW.
        cap_kw: f64,
        /// How it is run.
        policy: SitePolicy,
        /// When.
        at: Timestamp,
    },
    /// Changes the cap.
    SetCap {
        /// The new cap, kW.
        cap_kw: f64,
        /// Why (recorded).
        reason: String,
        /// When.
        at: Timestamp,
    },
}

/// What a site records.
#[derive(Debug, Clone, PartialEq)]
pub enum SiteEvent {
    /// The site was configured.
    Configured {
        /// Its id.
        id: String,
        /// Its cap, kW.
        cap_kw: f64,
        /// How it is run.
        policy: SitePolicy,
        /// When.
        at: Timestamp,
    },
    /// Its cap changed.
    CapChanged {
        /// The cap before, kW.
        from_kw: f64,
        /// The cap after, kW.
        to_kw: f64,
        /// Why.
        reason: String,
        /// When.
        at: Timestamp,
    },
}

impl SiteEvent {
    /// When it happened.
    pub fn at(&self) -> Timestamp {
        match self {
            SiteEvent::Configured { at, .. } | SiteEvent::CapChanged { at, .. } => *at,
        }
    }

    /// Its type name.
    pub fn event_type(&self) -> &'static str {
        match self {
            SiteEvent::Configured { .. } => "site.configured",
            SiteEvent::CapChanged { .. } => "site.cap_changed",
        }
    }
}

/// Why a site command was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SiteError {
    /// The site has not been configured.
    #[error("no such site")]
    NotConfigured,
    /// A cap must be a positive, finite number of kW.
    #[error("cap {0} kW: must be a positive number of kW")]
    InvalidCap(f64),
    /// A policy value is out of range.
    #[error("{field} = {value}: {reason}")]
    InvalidPolicy {
        /// The field.
        field: &'static str,
        /// Its value.
        value: f64,
        /// What is wrong.
        reason: &'static str,
    },
    /// A cap change must say why.
    #[error("a cap change needs a reason")]
    ReasonRequired,
    /// A site id is 1-64 lowercase letters, digits or '-'.
    #[error("site id {0:?}: use 1-64 lowercase letters, digits or '-'")]
    InvalidId(String),
}
