//! The demo tenant's key for a newcomer: made on `hcp up`'s first start, written to a
//! credentials file only its user can read (`<data dir>/credentials`, `HCP_API_KEY=...`),
//! and read from there on later starts; the store keeps only its hash.

use crate::keys::Keys;
use hcp_domain::apikey::Role;
use hcp_domain::ids::TenantId;
use hcp_eventstore::EventStore;
use std::path::Path;
use std::sync::Arc;

/// The key in `path`, if the file holds one the store knows; else a new developer key
/// for `tenant`, recorded and written to `path` (mode 0600).
pub async fn demo_key<S: EventStore>(
    store: &Arc<S>,
    keys: &Keys,
    tenant: &TenantId,
    path: &Path,
) -> Result<String, String> {
    if let Ok(text) = std::fs::read_to_string(path)
        && let Some(key) = text.lines().find_map(|l| l.strip_prefix("HCP_API_KEY=")).map(str::trim)
        && keys.knows(key)
    {
        return Ok(key.to_owned());
    }
    let context = hcp_runtime::EventContext::new("hcp-up");
    let key = crate::keys::create(store, Some(tenant.clone()), Role::Developer, "demo", None, &context).await?;
    write_private(
        path,
        &format!("# The demo tenant's API key (Authorization: Bearer ...). Keep it secret.\nHCP_API_KEY={key}\n"),
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(key)
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
