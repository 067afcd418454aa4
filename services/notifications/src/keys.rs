//! Tenants' keys, kept outside the log (one file each, `<dir>/<tenant>.key`, readable by
//! the owner only). A key is made when its tenant's first secret is sealed; erasing it
//! makes every value sealed under it unreadable for ever, while the events stay.

use hcp_notify::vault::TenantKey;
use std::path::PathBuf;

/// The key store.
#[derive(Debug, Clone)]
pub struct Keys {
    dir: PathBuf,
}

/// Why a key cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file system.
    #[error("tenant key {path}: {source}")]
    Io {
        /// The key's file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file that is not a key.
    #[error("tenant key {0}: not a key ({1})")]
    Corrupt(String, hcp_notify::vault::VaultError),
    /// A tenant name that cannot be a file name.
    #[error("tenant {0:?}: not a tenant id")]
    BadTenant(String),
}

impl Keys {
    /// Keys in `dir` (made when first needed).
    pub fn new(dir: impl Into<PathBuf>) -> Keys {
        Keys { dir: dir.into() }
    }

    fn path(&self, tenant: &str) -> Result<PathBuf, KeyError> {
        let ok = !tenant.is_empty() && tenant.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            return Err(KeyError::BadTenant(tenant.to_owned()));
        }
        Ok(self.dir.join(format!("{tenant}.key")))
    }

    /// `tenant`'s key, if it has one (none: never made, or erased).
    pub fn get(&self, tenant: &str) -> Result<Option<TenantKey>, KeyError> {
        let path = self.path(tenant)?;
        match std::fs::read(&path) {
            Ok(bytes) => {
                TenantKey::from_bytes(&bytes).map(Some).map_err(|e| KeyError::Corrupt(path.display().to_string(), e))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(KeyError::Io { path: path.display().to_string(), source }),
        }
    }

    /// `tenant`'s key, made now if it has none.
    pub fn get_or_make(&self, tenant: &str) -> Result<TenantKey, KeyError> {
        if let Some(key) = self.get(tenant)? {
            return Ok(key);
        }
        let path = self.path(tenant)?;
        let io = |source| KeyError::Io { path: path.display().to_string(), source };
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let key = TenantKey::generate();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&path) {
            Ok(mut file) => std::io::Write::write_all(&mut file, key.bytes()).map_err(io)?,
            // Made meanwhile by another caller: that one is the key.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(e)),
        }
        self.get(tenant)?.ok_or_else(|| io(std::io::Error::other("the key vanished as it was made")))
    }

    /// Erases `tenant`'s key: what was sealed under it can no longer be read.
    pub fn erase(&self, tenant: &str) -> Result<bool, KeyError> {
        let path = self.path(tenant)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(KeyError::Io { path: path.display().to_string(), source }),
        }
    }
}

impl hcp_runtime::HasErrorCode for KeyError {
    fn code(&self) -> hcp_runtime::ErrorCode {
        match self {
            KeyError::BadTenant(_) => hcp_runtime::ErrorCode::InvalidArgument,
            _ => hcp_runtime::ErrorCode::Internal,
        }
    }
}
