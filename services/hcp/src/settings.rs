//! The configuration of one `hcp` invocation: the file named by `--config`, the
//! environment, then the global flags and those of `hcp up`, validated before any
//! command opens or binds anything. And the store it names, opened for reading (it
//! must exist) or for serving (created if missing).

use crate::cli::{Cli, Command};
use anyhow::Context;
use hcp_eventstore::AnyStore;
use hcp_runtime::config::{Config, LoadOptions};

/// Loads and validates the configuration for `cli`.
pub fn load(cli: &Cli) -> anyhow::Result<Config> {
    let mut flags = Vec::new();
    if let Some(store) = &cli.store {
        flags.push(("store.url".to_owned(), store.clone()));
    }
    if let Some(dir) = &cli.data_dir {
        flags.push(("data.dir".to_owned(), dir.display().to_string()));
    }
    if let Command::Up(args) = &cli.command {
        flags.extend(args.overrides());
    }
    let options = LoadOptions { file: cli.config.clone(), env: std::env::vars().collect(), flags };
    Ok(Config::load(&options)?)
}

/// The SQLite file a store URL names, if it names one.
fn sqlite_path(url: &str) -> Option<&str> {
    url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))
}

/// Opens the configured store for reading: a SQLite file must exist already (only
/// `hcp up` and `hcp serve` create one).
pub async fn open_existing(config: &Config) -> anyhow::Result<AnyStore> {
    let url = config.store_url();
    if let Some(path) = sqlite_path(&url)
        && !path.is_empty()
        && !std::path::Path::new(path).exists()
    {
        anyhow::bail!(
            "no event store at {path}: `hcp up` or `hcp serve` creates one; point at another with --store, \
             HCP_STORE or HCP_DATA_DIR"
        );
    }
    AnyStore::open(&url).await.with_context(|| format!("opening the event store {url}"))
}

/// Opens the configured store for serving, creating a SQLite file (and its directory)
/// if missing.
pub async fn open_or_create(config: &Config) -> anyhow::Result<AnyStore> {
    let url = config.store_url();
    if let Some(dir) = sqlite_path(&url).and_then(|p| std::path::Path::new(p).parent())
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).with_context(|| format!("creating the data directory {}", dir.display()))?;
    }
    AnyStore::open(&url).await.with_context(|| format!("opening the event store {url}"))
}
