//! Execution's book of miners, folded from the log: what plans want of each miner (its
//! target, from `allocation.targeted`), the commands execution recorded for it and how
//! they ended (`control-<id>`), and what discovery last observed it doing
//! (`resource.mode_changed`). [`Book::due`] says what a miner needs now.

use hcp_domain::resource::{Mode, ResourceEvent, ResourceKind};
use hcp_minerapi::control::Action;
use hcp_proto::v1 as pb;
use prost::Message;
use std::collections::{BTreeMap, HashMap};

pub use hcp_domain::control::{
    CONTROL_PREFIX, CURTAILMENT_LIFTED, CURTAILMENT_PREFIX, CURTAILMENT_STARTED, MINER_COMMAND_FAILED, MINER_COMMANDED,
    MINER_CONFIRMED, MINER_MAINTENANCE,
};

/// What a plan last wanted of a miner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Sleep or wake.
    pub action: Action,
    /// The plan's id.
    pub cause: String,
    /// When it was planned, µs since the epoch.
    pub at_unix_micros: i64,
}

/// How the latest command stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Sent; confirmation due by then.
    Pending {
        /// µs since the epoch.
        deadline_unix_micros: i64,
    },
    /// Seen done, at that instant (µs since the epoch).
    Confirmed {
        /// When.
        at_unix_micros: i64,
    },
    /// Not done within its tries.
    Failed,
}

/// The latest command recorded for a miner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// What it was told.
    pub action: Action,
    /// Which try (1 for the first).
    pub attempt: u32,
    /// How it stands.
    pub outcome: Outcome,
}

/// One miner.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Miner {
    /// Its site.
    pub site: String,
    /// Its model.
    pub model: String,
    /// Its stock draw, kW (what waking it adds).
    pub nominal_kw: f64,
    /// Its stock hashrate, TH/s.
    pub nominal_ths: f64,
    /// Out of plans and commands for maintenance.
    pub maintenance: bool,
    /// Whether its firmware can sleep over its API, once execution has asked it (`version`).
    pub can_sleep: Option<bool>,
    /// What discovery last observed, and when (µs since the epoch).
    pub observed: (Mode, i64),
    /// What the latest plan wants.
    pub target: Option<Target>,
    /// The latest command.
    pub command: Option<Command>,
    /// The version of its `control-` stream.
    pub version: u64,
}

/// What a miner needs now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// Send `action` as try `attempt`.
    Send {
        /// What.
        action: Action,
        /// Which try.
        attempt: u32,
    },
    /// A recorded command awaits confirmation (after a restart): watch, do not resend.
    Watch {
        /// What.
        action: Action,
        /// Which try.
        attempt: u32,
        /// µs since the epoch.
        deadline_unix_micros: i64,
    },
    /// It drifted once too often: mark it failed.
    Fail {
        /// What.
        action: Action,
        /// The last try.
        attempt: u32,
        /// Why.
        reason: String,
    },
}

impl Miner {
    /// Joules per terahash at stock settings (higher is less efficient).
    pub fn joules_per_terahash(&self) -> f64 {
        if self.nominal_ths > 0.0 { self.nominal_kw * 1000.0 / self.nominal_ths } else { f64::INFINITY }
    }
}

/// An operator's curtailment in force (until lifted or `until_unix_micros`).
#[derive(Debug, Clone, PartialEq)]
pub struct Curtailment {
    /// As recorded.
    pub record: pb::CurtailmentStarted,
    /// When it was recorded, µs since the epoch.
    pub at_unix_micros: i64,
}

/// Every miner execution knows, and the curtailments in force.
#[derive(Debug, Default)]
pub struct Book {
    /// By resource id.
    pub miners: HashMap<String, Miner>,
    /// By id.
    pub curtailments: BTreeMap<String, Curtailment>,
    /// Each `curtailment-<site>` stream's version.
    pub curtailment_versions: HashMap<String, u64>,
}

fn action_of(mode: i32) -> Option<Action> {
    match pb::ResourceMode::try_from(mode).ok()? {
        pb::ResourceMode::Curtailed => Some(Action::Sleep),
        pb::ResourceMode::Mining => Some(Action::Wake),
        _ => None,
    }
}

impl Book {
    /// Folds a miner's resource event (registration, observed mode).
    pub fn apply_resource(&mut self, id: &str, event: &ResourceEvent) {
        match event {
            ResourceEvent::Registered { spec, .. } => {
                if let ResourceKind::AsicMiner { model, nominal_power, nominal_hashrate } = &spec.kind {
                    let m = self.miners.entry(id.to_owned()).or_default();
                    m.site = spec.site.as_str().to_owned();
                    m.model = model.clone();
                    m.nominal_kw = nominal_power.watts() as f64 / 1000.0;
                    m.nominal_ths = nominal_hashrate.terahashes();
                }
            }
            ResourceEvent::ModeChanged { to, at, .. } => {
                if let Some(m) = self.miners.get_mut(id) {
                    m.observed = (*to, at.unix_micros());
                }
            }
            _ => {}
        }
    }

    /// Folds a plan's targets (GPUs' are not execution's to act on here); returns the miners it changed.
    pub fn apply_targets(&mut self, targeted: &pb::AllocationTargeted, at_unix_micros: i64) -> Vec<String> {
        let mut changed = Vec::new();
        for t in &targeted.targets {
            let (Some(action), Some(m)) = (action_of(t.mode), self.miners.get_mut(&t.resource_id)) else { continue };
            if m.target.as_ref().is_some_and(|old| old.at_unix_micros > at_unix_micros) {
                continue;
            }
            m.target = Some(Target { action, cause: targeted.plan_id.clone(), at_unix_micros });
            changed.push(t.resource_id.clone());
        }
        changed
    }

    /// Folds a `curtailment-<site>` event at `version` (one already folded is skipped).
    /// A lifted curtailment's miners go back to what plans want, and wake where no plan
    /// since wants them asleep.
    pub fn apply_curtailment(&mut self, site: &str, version: u64, event_type: &str, payload: &[u8], at: i64) {
        let seen = self.curtailment_versions.entry(site.to_owned()).or_default();
        if version <= *seen {
            return;
        }
        *seen = version;
        match event_type {
            CURTAILMENT_STARTED => {
                if let Ok(record) = pb::CurtailmentStarted::decode(payload) {
                    let c = Curtailment { record, at_unix_micros: at };
                    self.curtailments.insert(c.record.curtailment_id.clone(), c);
                }
            }
            CURTAILMENT_LIFTED => {
                let Ok(lifted) = pb::CurtailmentLifted::decode(payload) else { return };
                let Some(c) = self.curtailments.remove(&lifted.curtailment_id) else { return };
                for id in &c.record.miners {
                    let Some(m) = self.miners.get_mut(id) else { continue };
                    // A plan made since, or one that wanted it asleep anyway, still holds.
                    let planned = m
                        .target
                        .as_ref()
                        .is_some_and(|t| t.at_unix_micros > c.at_unix_micros || t.action == Action::Sleep);
                    if !planned {
                        let cause = format!("lifted {}", lifted.curtailment_id);
                        m.target = Some(Target { action: Action::Wake, cause, at_unix_micros: at });
                    }
                }
            }
            _ => {}
        }
    }

    /// The curtailment in force on miner `id` at `now`, if any.
    pub fn curtailed_by(&self, id: &str, now: i64) -> Option<&Curtailment> {
        self.curtailments.values().find(|c| c.record.until_unix_micros > now && c.record.miners.iter().any(|m| m == id))
    }

    /// What miner `id` should be doing at `now`, by precedence: nothing while in
    /// maintenance; asleep while an operator's curtailment is in force; else what the
    /// latest plan (or a lifted curtailment) wants.
    pub fn desired(&self, id: &str, now: i64) -> Option<Target> {
        let m = self.miners.get(id)?;
        if m.maintenance {
            return None;
        }
        if let Some(c) = self.curtailed_by(id, now) {
            let cause = c.record.curtailment_id.clone();
            return Some(Target { action: Action::Sleep, cause, at_unix_micros: c.at_unix_micros });
        }
        m.target.clone()
    }

    /// Curtailments whose time has passed at `now`.
    pub fn expired(&self, now: i64) -> Vec<pb::CurtailmentStarted> {
        self.curtailments.values().filter(|c| c.record.until_unix_micros <= now).map(|c| c.record.clone()).collect()
    }

    /// The miners a curtailment of `kw` at `site` would put to sleep at `now`: awake ones
    /// that can sleep over their API, not in maintenance nor another curtailment, least
    /// efficient first, until their stock draw reaches `kw`; every such miner for `None`.
    pub fn select(&self, site: &str, kw: Option<f64>, now: i64) -> Vec<(String, Miner)> {
        let mut candidates: Vec<(&String, &Miner)> = self
            .miners
            .iter()
            .filter(|(id, m)| {
                m.site == site && !m.maintenance && m.can_sleep != Some(false) && self.curtailed_by(id, now).is_none()
            })
            .filter(|(id, m)| {
                kw.is_none()
                    || self.desired(id, now).map_or(m.observed.0 != Mode::Curtailed, |t| t.action == Action::Wake)
            })
            .collect();
        candidates.sort_by(|a, b| b.1.joules_per_terahash().total_cmp(&a.1.joules_per_terahash()).then(a.0.cmp(b.0)));
        let mut chosen = Vec::new();
        let mut total = 0.0;
        for (id, m) in candidates {
            if kw.is_some_and(|kw| total >= kw) {
                break;
            }
            total += m.nominal_kw;
            chosen.push((id.clone(), m.clone()));
        }
        chosen
    }

    /// Folds a `control-` event at `version` (one already folded is skipped).
    pub fn apply_control(&mut self, id: &str, version: u64, event_type: &str, payload: &[u8], at: i64) {
        let m = self.miners.entry(id.to_owned()).or_default();
        if version <= m.version {
            return;
        }
        m.version = version;
        let parse = |a: &str| if a == "wake" { Action::Wake } else { Action::Sleep };
        match event_type {
            MINER_COMMANDED => {
                if let Ok(c) = pb::MinerCommanded::decode(payload) {
                    m.command = Some(Command {
                        action: parse(&c.action),
                        attempt: c.attempt,
                        outcome: Outcome::Pending { deadline_unix_micros: c.deadline_unix_micros },
                    });
                }
            }
            MINER_CONFIRMED => {
                if let Some(c) = &mut m.command {
                    c.outcome = Outcome::Confirmed { at_unix_micros: at };
                }
            }
            MINER_COMMAND_FAILED => {
                if let Some(c) = &mut m.command {
                    c.outcome = Outcome::Failed;
                }
            }
            MINER_MAINTENANCE => {
                if let Ok(e) = pb::MinerMaintenance::decode(payload) {
                    m.maintenance = e.on;
                    // Back from maintenance: what it does now is what it is; plans move it next.
                    if !e.on {
                        m.target = None;
                        m.command = None;
                    }
                }
            }
            _ => {}
        }
    }

    /// What miner `id` needs at `now`, if anything, allowing `attempts` tries per command.
    pub fn due(&self, id: &str, attempts: u32, now: i64) -> Option<Due> {
        let m = self.miners.get(id)?;
        let action = self.desired(id, now)?.action;
        let Some(c) = m.command.as_ref().filter(|c| c.action == action) else {
            return Some(Due::Send { action, attempt: 1 });
        };
        match c.outcome {
            Outcome::Pending { deadline_unix_micros } => {
                Some(Due::Watch { action, attempt: c.attempt, deadline_unix_micros })
            }
            Outcome::Failed => None,
            Outcome::Confirmed { at_unix_micros } => {
                let (observed, seen_at) = m.observed;
                let drifted = seen_at > at_unix_micros
                    && match action {
                        Action::Sleep => observed == Mode::Mining,
                        Action::Wake => observed == Mode::Curtailed,
                        Action::Profile(_) => false,
                    };
                if !drifted {
                    None
                } else if c.attempt < attempts {
                    Some(Due::Send { action, attempt: c.attempt + 1 })
                } else {
                    let reason = format!("observed {observed:?} after {} tries to {}", c.attempt, action.name());
                    Some(Due::Fail { action, attempt: c.attempt, reason })
                }
            }
        }
    }

    /// Every miner with something due at `now`.
    pub fn all_due(&self, attempts: u32, now: i64) -> Vec<(String, Due)> {
        let mut due: Vec<(String, Due)> =
            self.miners.keys().filter_map(|id| Some((id.clone(), self.due(id, attempts, now)?))).collect();
        due.sort_by(|a, b| a.0.cmp(&b.0));
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book() -> Book {
        let mut b = Book::default();
        b.miners.insert("asic-1".into(), Miner { site: "s".into(), nominal_kw: 3.5, ..Miner::default() });
        b
    }

    fn targets(mode: pb::ResourceMode) -> pb::AllocationTargeted {
        pb::AllocationTargeted {
            plan_id: "p1".into(),
            site: "s".into(),
            targets: vec![pb::Assignment { resource_id: "asic-1".into(), mode: mode as i32 }],
        }
    }

    fn commanded(b: &mut Book, version: u64, action: &str, attempt: u32) {
        let c = pb::MinerCommanded {
            resource_id: "asic-1".into(),
            action: action.into(),
            attempt,
            deadline_unix_micros: 99,
            ..Default::default()
        };
        b.apply_control("asic-1", version, MINER_COMMANDED, &c.encode_to_vec(), 10);
    }

    #[test]
    fn a_target_is_sent_then_watched_then_done() {
        let mut b = book();
        assert_eq!(b.due("asic-1", 3, 0), None, "no target, nothing to do");
        b.apply_targets(&targets(pb::ResourceMode::Curtailed), 5);
        assert_eq!(b.due("asic-1", 3, 0), Some(Due::Send { action: Action::Sleep, attempt: 1 }));
        commanded(&mut b, 1, "sleep", 1);
        assert_eq!(
            b.due("asic-1", 3, 0),
            Some(Due::Watch { action: Action::Sleep, attempt: 1, deadline_unix_micros: 99 }),
            "a restarted execution watches a recorded command instead of sending it again"
        );
        b.apply_control("asic-1", 2, MINER_CONFIRMED, &[], 20);
        assert_eq!(b.due("asic-1", 3, 0), None);
        b.apply_control("asic-1", 2, MINER_COMMAND_FAILED, &[], 30);
        assert_eq!(b.due("asic-1", 3, 0), None, "an event folded twice changes nothing");
    }

    #[test]
    fn drift_is_resent_then_failed() {
        let mut b = book();
        b.apply_targets(&targets(pb::ResourceMode::Curtailed), 5);
        commanded(&mut b, 1, "sleep", 1);
        b.apply_control("asic-1", 2, MINER_CONFIRMED, &[], 20);
        let at = |t| hcp_domain::units::Timestamp::from_unix_micros(t);
        let woke = ResourceEvent::ModeChanged { from: Mode::Curtailed, to: Mode::Mining, at: at(15) };
        b.apply_resource("asic-1", &woke);
        assert_eq!(b.due("asic-1", 3, 0), None, "an observation older than the confirmation is not drift");
        let woke = ResourceEvent::ModeChanged { from: Mode::Curtailed, to: Mode::Mining, at: at(25) };
        b.apply_resource("asic-1", &woke);
        assert_eq!(b.due("asic-1", 3, 0), Some(Due::Send { action: Action::Sleep, attempt: 2 }));
        commanded(&mut b, 3, "sleep", 3);
        b.apply_control("asic-1", 4, MINER_CONFIRMED, &[], 20);
        assert!(matches!(b.due("asic-1", 3, 0), Some(Due::Fail { attempt: 3, .. })));
    }

    #[test]
    fn a_new_target_starts_over_and_an_older_one_is_ignored() {
        let mut b = book();
        b.apply_targets(&targets(pb::ResourceMode::Curtailed), 5);
        commanded(&mut b, 1, "sleep", 1);
        b.apply_control("asic-1", 2, MINER_COMMAND_FAILED, &[], 20);
        assert_eq!(b.due("asic-1", 3, 0), None);
        b.apply_targets(&targets(pb::ResourceMode::Mining), 30);
        assert_eq!(b.due("asic-1", 3, 0), Some(Due::Send { action: Action::Wake, attempt: 1 }));
        assert!(b.apply_targets(&targets(pb::ResourceMode::Curtailed), 6).is_empty());
        assert!(b.apply_targets(&targets(pb::ResourceMode::ServingAi), 40).is_empty(), "not a miner's mode");
    }
}
