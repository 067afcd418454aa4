//! The demo tenant's key for a newcomer: made on `hcp up`'s first start, written to a
//! credentials file only its user can read (`<data dir>/credentials`, `HCP_API_KEY=...`),
//! and read from there on later starts; the store keeps only its hash.

use crate::keys::Keys;
use hcp_domain::apikey::Role;
use hcp_domain::ids::TenantId;
use hcp_eventstore::EventStore;
use std::path::Path;
use std::sync::Arc;

/// The keys a newcomer starts with.
#[derive(Debug, Clone)]
pub struct DemoKeys {
    /// A developer key of the demo tenant: submit and watch its workloads.
    pub tenant: String,
    /// An admin key of the platform: the fleet, sites, plans, tenants and keys.
    pub admin: String,
}

/// The keys in `path`, where the file holds ones the store knows; else new ones (a
/// developer key for `tenant`, an admin key), recorded and written to `path` (mode 0600).
pub async fn demo_keys<S: EventStore>(
    store: &Arc<S>,
    keys: &Keys,
    tenant: &TenantId,
    path: &Path,
) -> Result<DemoKeys, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let known = |var: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(var).and_then(|r| r.strip_prefix('=')))
            .map(str::trim)
            .filter(|key| keys.knows(key))
            .map(ToOwned::to_owned)
    };
    let (old_tenant, old_admin) = (known("HCP_API_KEY"), known("HCP_ADMIN_KEY"));
    if let (Some(tenant), Some(admin)) = (&old_tenant, &old_admin) {
        return Ok(DemoKeys { tenant: tenant.clone(), admin: admin.clone() });
    }
    let context = hcp_runtime::EventContext::new("hcp-up");
    let tenant = match old_tenant {
        Some(key) => key,
        None => crate::keys::create(store, Some(tenant.clone()), Role::Developer, "demo", None, &context).await?,
    };
    let admin = match old_admin {
        Some(key) => key,
        None => crate::keys::create(store, None, Role::Admin, "demo admin", None, &context).await?,
    };
    write_private(
        path,
        &format!(
            "# hcp up's API keys (Authorization: Bearer ...). Keep them secret.\n\
             # The demo tenant's developer key:\nHCP_API_KEY={tenant}\n\
             # The platform's admin key:\nHCP_ADMIN_KEY={admin}\n"
        ),
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(DemoKeys { tenant, admin })
}

/// Writes `text` to `path`, readable and writable by its owner alone.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new().create(true).write(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())
}
