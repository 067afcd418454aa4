//! The gateway's view of API keys, folded from `apikey-<id>` streams, and how a presented
//! key is checked: `hcp_<id>_<secret>`, the id looked up, the secret's SHA-256 compared in
//! constant time with the recorded one, expiry and revocation at the request's instant.

use crate::folded::ById;
use hcp_domain::apikey::{ApiKey, Role};
use hcp_domain::ids::TenantId;
use hcp_domain::units::Timestamp;
use hcp_eventstore::EventStore;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Who a request acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Who: `key:<id>` for an API key, `user:<subject>` for a token; the actor its events
    /// name, and what its rate and quota count.
    pub id: String,
    /// The tenant it acts for (none for the platform's roles).
    pub tenant: Option<TenantId>,
    /// What it may do (a key has one role; a token may carry several).
    pub roles: Vec<Role>,
}

/// Why a presented key is refused (each answers 401, with the reason).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not `hcp_<id>_<secret>`.
    #[error("the key is not of the form hcp_<id>_<secret>")]
    Malformed,
    /// No key has that id, or the secret does not match (told apart to no one).
    #[error("unknown key")]
    Unknown,
    /// It expired.
    #[error("the key expired")]
    Expired,
    /// It was revoked.
    #[error("the key was revoked")]
    Revoked,
}

/// SHA-256 of a secret, lowercase hex.
pub fn sha256_hex(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A new key: (id, secret, the whole key as shown once).
pub fn generate() -> (String, String, String) {
    let id: String = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
    let secret = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let key = format!("hcp_{id}_{secret}");
    (id, secret, key)
}

/// Every key, by id.
pub type Keys = ById<ApiKey>;

impl ById<ApiKey> {
    /// Every recorded key, by id.
    pub fn all(&self) -> Vec<ApiKey> {
        let keys = self.read();
        let mut all: Vec<ApiKey> = keys.values().filter(|k| k.id.is_some()).cloned().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    /// A recorded key.
    pub fn get(&self, id: &str) -> Option<ApiKey> {
        self.read().get(id).filter(|k| k.id.is_some()).cloned()
    }

    /// Whether a key with this id is recorded (working or not).
    pub fn knows(&self, presented: &str) -> bool {
        let id = presented.strip_prefix("hcp_").and_then(|r| r.split_once('_')).map(|(id, _)| id);
        id.is_some_and(|id| self.read().contains_key(id))
    }

    /// Checks a presented key at `now`.
    pub fn check(&self, presented: &str, now: Timestamp) -> Result<Principal, KeyError> {
        let (id, secret) = presented
            .strip_prefix("hcp_")
            .and_then(|rest| rest.split_once('_'))
            .filter(|(id, secret)| !id.is_empty() && !secret.is_empty())
            .ok_or(KeyError::Malformed)?;
        let keys = self.read();
        let key = keys.get(id).filter(|k| k.id.is_some()).ok_or(KeyError::Unknown)?;
        let hash = sha256_hex(secret);
        let same = hash.len() == key.secret_sha256.len()
            && hash.bytes().zip(key.secret_sha256.bytes()).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0;
        if !same {
            return Err(KeyError::Unknown);
        }
        if key.revoked_from.is_some_and(|r| now >= r) {
            return Err(KeyError::Revoked);
        }
        if key.expires_at.is_some_and(|e| now >= e) {
            return Err(KeyError::Expired);
        }
        let role = key.role.ok_or(KeyError::Unknown)?;
        Ok(Principal { id: format!("key:{id}"), tenant: key.tenant.clone(), roles: vec![role] })
    }
}

/// A new key for `tenant` in `role`: its id, the whole key (shown once) and the command
/// that records it (its hash, never the secret).
pub fn new_key(
    tenant: Option<TenantId>,
    role: Role,
    name: &str,
    expires_at: Option<Timestamp>,
) -> (String, String, hcp_domain::apikey::ApiKeyCommand) {
    let (id, secret, key) = generate();
    let command = hcp_domain::apikey::ApiKeyCommand::Create {
        id: id.clone(),
        tenant,
        role,
        name: name.to_owned(),
        prefix: key[..12].to_owned(),
        secret_sha256: sha256_hex(&secret),
        expires_at,
        at: Timestamp::from_unix_micros(hcp_runtime::clock::now_micros()),
    };
    (id, key, command)
}

/// Records a new key for `tenant` in `role` on `store`; returns the whole key (shown once).
pub async fn create<S: EventStore>(
    store: &Arc<S>,
    tenant: Option<TenantId>,
    role: Role,
    name: &str,
    expires_at: Option<Timestamp>,
    context: &hcp_runtime::EventContext,
) -> Result<String, String> {
    let (id, key, command) = new_key(tenant, role, name, expires_at);
    let repository: hcp_runtime::Repository<ApiKey, S> = hcp_runtime::Repository::new(Arc::clone(store));
    repository.execute(&id, command, context).await.map_err(|e| e.to_string())?;
    Ok(key)
}
