//! The resource's state and how each event changes it.

use super::ResourceEvent;
use crate::aggregate::Aggregate;
use crate::ids::{RackId, ResourceId, SiteId, WorkloadId};
use crate::units::{Hashrate, Power, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What the device is, fixed when it is registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResourceKind {
    /// A Bitcoin-mining ASIC.
    AsicMiner {
        /// Model, e.g. `Antminer S21`.
        model: String,
        /// Hashrate at stock settings.
        nominal_hashrate: Hashrate,
        /// Wall power at stock settings.
        nominal_power: Power,
    },
    /// A GPU in a host.
    Gpu {
        /// Model, e.g. `H100-SXM-80GB`.
        model: String,
        /// The host it sits in.
        host: String,
        /// Device memory in MiB.
        memory_mib: u64,
        /// Board power limit.
        power_limit: Power,
        /// NVML UUID where known.
        uuid: Option<String>,
    },
}

impl ResourceKind {
    /// Whether it is a GPU.
    pub fn is_gpu(&self) -> bool {
        matches!(self, ResourceKind::Gpu { .. })
    }

    /// Its model name.
    pub fn model(&self) -> &str {
        match self {
            ResourceKind::AsicMiner { model, .. } | ResourceKind::Gpu { model, .. } => model,
        }
    }

    /// The power it draws when working.
    pub fn working_power(&self) -> Power {
        match self {
            ResourceKind::AsicMiner { nominal_power, .. } => *nominal_power,
            ResourceKind::Gpu { power_limit, .. } => *power_limit,
        }
    }
}

/// Where a device is and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceSpec {
    /// The site whose power it draws.
    pub site: SiteId,
    /// The rack, where known.
    pub rack: Option<RackId>,
    /// What it is.
    pub kind: ResourceKind,
}

/// How a device spends its power.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Mode {
    /// Powered, doing nothing.
    #[default]
    Idle,
    /// Hashing (ASICs only).
    Mining,
    /// Available for or running customer AI work (GPUs only).
    ServingAi,
    /// Powered down to shed load.
    Curtailed,
}

/// How a device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Health {
    /// Working as specified.
    #[default]
    Healthy,
    /// Working below spec (a failed hashboard, throttling).
    Degraded,
    /// Not answering.
    Offline,
    /// Taken out of service for good (terminal).
    Retired,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Idle => "idle",
            Mode::Mining => "mining",
            Mode::ServingAi => "serving-ai",
            Mode::Curtailed => "curtailed",
        })
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Health::Healthy => "healthy",
            Health::Degraded => "degraded",
            Health::Offline => "offline",
            Health::Retired => "retired",
        })
    }
}

/// A resource as its events leave it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Resource {
    /// Its id (set by `Registered`).
    pub id: Option<ResourceId>,
    /// What and where it is (set by `Registered`).
    pub spec: Option<ResourceSpec>,
    /// How it spends power.
    pub mode: Mode,
    /// How it is.
    pub health: Health,
    /// The workload it serves, if any (GPUs only).
    pub assignment: Option<WorkloadId>,
    /// When it was registered.
    pub registered_at: Timestamp,
    /// When its last event happened.
    pub updated_at: Timestamp,
    /// How many events it has.
    pub version: u64,
}

impl Aggregate for Resource {
    type Command = super::ResourceCommand;
    type Event = ResourceEvent;
    type Error = super::ResourceError;

    fn decide(&self, command: Self::Command) -> Result<Vec<ResourceEvent>, Self::Error> {
        super::decide::decide(self, command)
    }

    fn evolve(mut self, event: &ResourceEvent) -> Self {
        use ResourceEvent as E;
        self.version += 1;
        self.updated_at = event.at();
        match event {
            E::Registered { id, spec, at } => {
                self.id = Some(id.clone());
                self.spec = Some(spec.clone());
                self.registered_at = *at;
            }
            E::ModeChanged { to, .. } => self.mode = *to,
            E::HealthChanged { to, .. } => self.health = *to,
            E::Assigned { workload, .. } => self.assignment = Some(*workload),
            E::Released { .. } => self.assignment = None,
            E::Retired { .. } => {
                self.health = Health::Retired;
                self.mode = Mode::Curtailed;
            }
        }
        self
    }
}
