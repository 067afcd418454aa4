//! All of the resource's rules.

use super::{Health, Mode, Resource, ResourceCommand, ResourceError, ResourceEvent, ResourceKind, ResourceSpec};

type Decision = Result<Vec<ResourceEvent>, ResourceError>;

pub(super) fn decide(r: &Resource, command: ResourceCommand) -> Decision {
    use ResourceCommand as C;
    use ResourceEvent as E;

    let kind = command.kind();
    if !matches!(command, C::Register { .. }) {
        if r.spec.is_none() {
            return Err(ResourceError::NotRegistered);
        }
        if r.health == Health::Retired {
            return Err(ResourceError::Retired(kind));
        }
    }
    let is_gpu = r.spec.as_ref().is_some_and(|s| s.kind.is_gpu());

    match command {
        C::Register { id, spec, at } => {
            if let Some(existing) = &r.id {
                return Err(ResourceError::AlreadyRegistered(existing.clone()));
            }
            validate(&spec)?;
            Ok(vec![E::Registered { id, spec, at }])
        }
        C::SetMode { mode, at } => {
            if mode == r.mode {
                return Ok(vec![]);
            }
            match (mode, is_gpu) {
                (Mode::Mining, true) => {
                    return Err(ResourceError::ModeNotSupported { kind: "GPU", mode });
                }
                (Mode::ServingAi, false) => {
                    return Err(ResourceError::ModeNotSupported { kind: "ASIC miner", mode });
                }
                _ => {}
            }
            if matches!(mode, Mode::Mining | Mode::ServingAi) && r.health == Health::Offline {
                return Err(ResourceError::Unhealthy { command: kind, health: r.health });
            }
            if let Some(w) = r.assignment {
                return Err(ResourceError::AssignedTo(w));
            }
            Ok(vec![E::ModeChanged { from: r.mode, to: mode, at }])
        }
        C::ReportHealth { health, reason, at } => {
            if health == Health::Retired {
                return Err(ResourceError::HealthNotReportable(health));
            }
            if health == r.health {
                return Ok(vec![]);
            }
            Ok(vec![E::HealthChanged { from: r.health, to: health, reason, at }])
        }
        C::Assign { workload, at } => {
            if !is_gpu {
                return Err(ResourceError::NotAGpu);
            }
            match r.assignment {
                Some(w) if w == workload => return Ok(vec![]),
                Some(w) => return Err(ResourceError::AssignedTo(w)),
                None => {}
            }
            if r.mode != Mode::ServingAi {
                return Err(ResourceError::NotServing(r.mode));
            }
            if r.health == Health::Offline {
                return Err(ResourceError::Unhealthy { command: kind, health: r.health });
            }
            Ok(vec![E::Assigned { workload, at }])
        }
        C::Release { workload, at } => match r.assignment {
            Some(w) if w == workload => Ok(vec![E::Released { workload, at }]),
            _ => Err(ResourceError::NotAssignedTo(workload)),
        },
        C::Retire { reason, at } => {
            if reason.trim().is_empty() {
                return Err(ResourceError::ReasonRequired(kind));
            }
            if let Some(w) = r.assignment {
                return Err(ResourceError::AssignedTo(w));
            }
            Ok(vec![E::Retired { reason, at }])
        }
    }
}

fn validate(spec: &ResourceSpec) -> Result<(), ResourceError> {
    let invalid = |field, reason| Err(ResourceError::InvalidSpec { field, reason });
    match &spec.kind {
        ResourceKind::AsicMiner { model, nominal_hashrate, nominal_power } => {
            if model.trim().is_empty() {
                return invalid("model", "must not be empty");
            }
            if nominal_hashrate.hashes_per_second() == 0 {
                return invalid("nominal_hashrate", "must be greater than zero");
            }
            if nominal_power.watts() == 0 {
                return invalid("nominal_power", "must be greater than zero");
            }
        }
        ResourceKind::Gpu { model, host, memory_mib, power_limit, .. } => {
            if model.trim().is_empty() {
                return invalid("model", "must not be empty");
            }
            if host.trim().is_empty() {
                return invalid("host", "must not be empty");
            }
            if *memory_mib == 0 {
                return invalid("memory_mib", "must be greater than zero");
            }
            if power_limit.watts() == 0 {
                return invalid("power_limit", "must be greater than zero");
            }
        }
    }
    Ok(())
}
