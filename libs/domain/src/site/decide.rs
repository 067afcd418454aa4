//! The site's decider and its fold.

use super::{Site, SiteCommand, SiteError, SiteEvent, SitePolicy};
use crate::Aggregate;

fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn check_cap(cap_kw: f64) -> Result<(), SiteError> {
    if cap_kw.is_finite() && cap_kw > 0.0 { Ok(()) } else { Err(SiteError::InvalidCap(cap_kw)) }
}

fn check_policy(p: &SitePolicy) -> Result<(), SiteError> {
    let non_negative = [
        ("min_dwell_seconds", p.min_dwell_seconds),
        ("hysteresis_usd_mwh", p.hysteresis_usd_mwh),
        ("gpu_usd_per_hour", p.gpu_usd_per_hour),
        ("switch_cost_usd", p.switch_cost_usd),
    ];
    for (field, value) in non_negative {
        if !(value.is_finite() && value >= 0.0) {
            return Err(SiteError::InvalidPolicy { field, value, reason: "must be a number >= 0" });
        }
    }
    if !(p.max_wake_kw.is_finite() && p.max_wake_kw > 0.0) {
        return Err(SiteError::InvalidPolicy { field: "max_wake_kw", value: p.max_wake_kw, reason: "must be > 0" });
    }
    Ok(())
}

impl Aggregate for Site {
    type Command = SiteCommand;
    type Event = SiteEvent;
    type Error = SiteError;

    fn decide(&self, command: SiteCommand) -> Result<Vec<SiteEvent>, SiteError> {
        match command {
            SiteCommand::Configure { id, cap_kw, policy, at } => {
                if self.id.is_some() {
                    return Ok(Vec::new());
                }
                if !valid_id(&id) {
                    return Err(SiteError::InvalidId(id));
                }
                check_cap(cap_kw)?;
                check_policy(&policy)?;
                Ok(vec![SiteEvent::Configured { id, cap_kw, policy, at }])
            }
            SiteCommand::SetCap { cap_kw, reason, at } => {
                if self.id.is_none() {
                    return Err(SiteError::NotConfigured);
                }
                check_cap(cap_kw)?;
                if reason.trim().is_empty() {
                    return Err(SiteError::ReasonRequired);
                }
                if cap_kw == self.cap_kw {
                    return Ok(Vec::new());
                }
                Ok(vec![SiteEvent::CapChanged { from_kw: self.cap_kw, to_kw: cap_kw, reason, at }])
            }
        }
    }

    fn evolve(mut self, event: &SiteEvent) -> Site {
        match event {
            SiteEvent::Configured { id, cap_kw, policy, .. } => {
                self.id = Some(id.clone());
                self.cap_kw = *cap_kw;
                self.policy = policy.clone();
            }
            SiteEvent::CapChanged { to_kw, .. } => self.cap_kw = *to_kw,
        }
        self.version += 1;
        self
    }
}
