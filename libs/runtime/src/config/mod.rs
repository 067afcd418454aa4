//! Layered configuration for every HCP service: one schema for the whole deployment.
//!
//! [`Config::load`] starts from the defaults, then applies the TOML file (`--config FILE`),
//! the environment (`HCP_SECTION__KEY`, plus the aliases `HCP_STORE`, `HCP_DATA_DIR`,
//! `HCP_API`, `HCP_LOG`) and the command-line flags, each over the one before, and validates
//! the result. Any bad value fails the load with a [`ConfigError`] naming the dotted key and
//! the file, variable or flag it came from, before the program opens or binds anything.
//! `hcp.example.toml` at the crate root documents every key.

mod billing;
mod decode;
mod dump;
mod error;
mod fleet;
mod layers;
mod origins;
mod schema;
mod secret;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_errors;
mod validate;
mod workloads;

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use crate::config::billing::{KafkaConfig, MeteringConfig, NotificationsConfig, SmsConfig, SmtpConfig};
pub use crate::config::error::{ConfigError, ErrorKind, Origin};
pub use crate::config::fleet::{DiscoveryConfig, DiscoveryTarget, PricingConfig, SimulatorConfig, SiteConfig};
pub use crate::config::origins::Origins;
pub use crate::config::schema::{
    DataConfig, FIRST_GRPC_PORT, FIRST_HTTP_PORT, SERVICE_NAMES, ServiceAddrs, ServicesConfig, ShutdownConfig,
    StoreConfig, TelemetryConfig, UpConfig,
};
pub use crate::config::secret::{REDACTED, Secret};
pub use crate::config::workloads::{DemandResponseConfig, ExecutionConfig, GatewayConfig, JwtConfig, RoutingConfig};

/// Where [`Config::load`] reads its layers from.
#[derive(Clone, Default)]
pub struct LoadOptions {
    /// The TOML file given with `--config FILE`, if any.
    pub file: Option<PathBuf>,
    /// The process environment; pass `std::env::vars().collect()`.
    pub env: Vec<(String, String)>,
    /// Command-line settings as `(dotted key, raw value)`, e.g. `("store.url", "nats://...")`.
    pub flags: Vec<(String, String)>,
}

impl fmt::Debug for LoadOptions {
    /// Shows the file and flag keys only: environment and flag values may hold secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flags: Vec<&str> = self.flags.iter().map(|(key, _)| key.as_str()).collect();
        f.debug_struct("LoadOptions")
            .field("file", &self.file)
            .field("env", &format_args!("[{} variables]", self.env.len()))
            .field("flags", &flags)
            .finish()
    }
}

/// The whole deployment's configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[data]`: the data directory.
    pub data: DataConfig,
    /// `[store]`: the shared event store.
    pub store: StoreConfig,
    /// `[telemetry]`: logging and trace export.
    pub telemetry: TelemetryConfig,
    /// `[shutdown]`: graceful stop.
    pub shutdown: ShutdownConfig,
    /// `[services.<name>]`: listening addresses of every service.
    pub services: ServicesConfig,
    /// `[up]`: the all-in-one `hcp up` process.
    pub up: UpConfig,
    /// `[discovery]`: finding devices.
    pub discovery: DiscoveryConfig,
    /// `[pricing]`: electricity price feeds.
    pub pricing: PricingConfig,
    /// `[simulator]`: the simulated fleet.
    pub simulator: SimulatorConfig,
    /// `[routing]`: the workload queue and scheduler.
    pub routing: RoutingConfig,
    /// `[execution]`: running workloads on the agents.
    pub execution: ExecutionConfig,
    /// `[gateway]`: the public REST API's limits.
    pub gateway: GatewayConfig,
    /// `[metering]`: billing periods, invoices, the default rate card, the Kafka usage stream.
    #[serde(default)]
    pub metering: MeteringConfig,
    /// `[notifications]`: webhook deliveries and how alerts repeat.
    #[serde(default)]
    pub notifications: NotificationsConfig,
    /// `[[sites]]`: the sites; a file that lists any replaces the default two.
    pub sites: Vec<SiteConfig>,
}

impl Config {
    /// The built-in defaults; `data.dir` is computed from `env` (`XDG_DATA_HOME`, `HOME`).
    pub fn defaults(env: &[(String, String)]) -> Config {
        Config {
            data: DataConfig::default_for_env(env),
            store: StoreConfig::default(),
            telemetry: TelemetryConfig::default(),
            shutdown: ShutdownConfig::default(),
            services: ServicesConfig::default(),
            up: UpConfig::default(),
            discovery: DiscoveryConfig::default(),
            pricing: PricingConfig::default(),
            simulator: SimulatorConfig::default(),
            routing: RoutingConfig::default(),
            execution: ExecutionConfig::default(),
            gateway: GatewayConfig::default(),
            metering: MeteringConfig::default(),
            notifications: NotificationsConfig::default(),
            sites: SiteConfig::defaults(),
        }
    }

    /// Loads defaults, file, environment and flags, in that order of precedence, and validates.
    pub fn load(options: &LoadOptions) -> Result<Config, ConfigError> {
        Config::load_traced(options).map(|(config, _)| config)
    }

    /// Like [`Config::load`], also returning which layer set each key.
    pub fn load_traced(options: &LoadOptions) -> Result<(Config, Origins), ConfigError> {
        let defaults = toml::Table::try_from(Config::defaults(&options.env)).map_err(|err| {
            ConfigError::new(ErrorKind::Invalid, "", Origin::Default, format!("cannot encode the defaults: {err}"))
        })?;
        let mut tree = defaults.clone();
        let mut origins = Origins::default();
        if let Some(path) = &options.file {
            let file = layers::read_file(path)?;
            layers::merge_file(&mut tree, file, "", &Origin::File(path.clone()), &mut origins);
        }
        layers::apply_env(&mut tree, &defaults, &options.env, &mut origins)?;
        layers::apply_flags(&mut tree, &defaults, &options.flags, &mut origins)?;
        let config = decode::decode(tree, &origins)?;
        validate::validate(&config, &origins)?;
        Ok((config, origins))
    }

    /// The event store URL: `store.url` if set, else `sqlite:<data.dir>/events.db`.
    pub fn store_url(&self) -> String {
        match &self.store.url {
            Some(url) => url.clone(),
            None => format!("sqlite:{}/events.db", self.data.dir.display()),
        }
    }

    /// The addresses of the service called `name` (one of [`SERVICE_NAMES`]).
    pub fn service(&self, name: &str) -> Option<&ServiceAddrs> {
        self.services.get(name)
    }
}
