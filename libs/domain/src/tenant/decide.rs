//! The tenant's decider and its fold.

use super::{ClassName, Tenant, TenantCommand, TenantError, TenantEvent};
use crate::Aggregate;

impl Aggregate for Tenant {
    type Command = TenantCommand;
    type Event = TenantEvent;
    type Error = TenantError;

    fn decide(&self, command: TenantCommand) -> Result<Vec<TenantEvent>, TenantError> {
        let exists = self.id.is_some();
        match command {
            TenantCommand::Create { id, name, quota, at } => {
                if let Some(existing) = &self.id {
                    return Err(TenantError::AlreadyExists(existing.clone()));
                }
                if name.trim().is_empty() || name.chars().count() > 100 {
                    return Err(TenantError::InvalidName);
                }
                if quota.weight == 0 {
                    return Err(TenantError::ZeroWeight);
                }
                Ok(vec![TenantEvent::Created { id, name, quota, at }])
            }
            _ if !exists => Err(TenantError::NotFound),
            TenantCommand::SetQuota { quota, at } => {
                if quota.weight == 0 {
                    return Err(TenantError::ZeroWeight);
                }
                Ok(if quota == self.quota { Vec::new() } else { vec![TenantEvent::QuotaSet { quota, at }] })
            }
            TenantCommand::Grant { class, at } => Ok(if self.classes.contains(&class.into()) {
                Vec::new()
            } else {
                vec![TenantEvent::ClassGranted { class, at }]
            }),
            TenantCommand::Revoke { class, at } => Ok(if self.classes.contains(&class.into()) {
                vec![TenantEvent::ClassRevoked { class, at }]
            } else {
                Vec::new()
            }),
        }
    }

    fn evolve(mut self, event: &TenantEvent) -> Tenant {
        match event {
            TenantEvent::Created { id, name, quota, .. } => {
                self.id = Some(id.clone());
                self.name.clone_from(name);
                self.quota = *quota;
                // Every tenant may train and run batch inference; realtime is granted.
                self.classes = [ClassName::Training, ClassName::BatchInference].into();
            }
            TenantEvent::QuotaSet { quota, .. } => self.quota = *quota,
            TenantEvent::ClassGranted { class, .. } => {
                self.classes.insert((*class).into());
            }
            TenantEvent::ClassRevoked { class, .. } => {
                self.classes.remove(&(*class).into());
            }
        }
        self.version += 1;
        self
    }
}
