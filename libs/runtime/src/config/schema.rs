//! Section types for the process-wide settings: data directory, event store, telemetry,
//! shutdown, service addresses and the `hcp up` metrics listener, with their defaults.
//!
//! The fleet-facing sections (discovery, pricing, simulator, sites) live in
//! [`crate::config::fleet`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::secret::Secret;

/// The services that every deployment has, in the order their default ports are assigned.
pub const SERVICE_NAMES: [&str; 8] =
    ["discovery", "pricing", "optimization", "routing", "execution", "metering", "notifications", "gateway"];

/// First default gRPC port (`discovery`); the others follow in [`SERVICE_NAMES`] order.
pub const FIRST_GRPC_PORT: u16 = 50051;
/// First default HTTP port (`discovery`); the others follow in [`SERVICE_NAMES`] order.
pub const FIRST_HTTP_PORT: u16 = 9471;

/// `[data]`: where services keep their state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Data directory. Default: `$XDG_DATA_HOME/hcp`, else `$HOME/.local/share/hcp`, else `/var/lib/hcp`.
    pub dir: PathBuf,
}

impl DataConfig {
    /// The default data directory, computed from the given environment (not the process's).
    pub fn default_for_env(env: &[(String, String)]) -> Self {
        let var = |name: &str| env.iter().find(|(key, value)| key == name && !value.is_empty()).map(|(_, v)| v);
        let dir = if let Some(xdg) = var("XDG_DATA_HOME") {
            PathBuf::from(xdg).join("hcp")
        } else if let Some(home) = var("HOME") {
            PathBuf::from(home).join(".local/share/hcp")
        } else {
            PathBuf::from("/var/lib/hcp")
        };
        DataConfig { dir }
    }
}

/// `[store]`: the event store every service shares.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// Store URL (`sqlite:PATH`, `nats://HOST:PORT` or `tls://HOST:PORT`). Default: unset, meaning
    /// `sqlite:<data.dir>/events.db` (see `Config::store_url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// `[telemetry]`: logging and OpenTelemetry export.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Log filter, an `EnvFilter` directive such as `info,hcp_pricing=debug`. Default `warn`.
    pub log: String,
    /// OTLP collector endpoint (`http://` or `https://`). Default: unset, no export.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otlp_endpoint: Option<String>,
    /// Bearer token for the OTLP endpoint. Default: unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otlp_token: Option<Secret>,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig { log: "warn".to_owned(), otlp_endpoint: None, otlp_token: None }
    }
}

/// `[shutdown]`: how a stopping process winds down.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShutdownConfig {
    /// Seconds in-flight work may take to finish after a stop signal; above 0, at most 600. Default 10.
    pub grace_seconds: f64,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        ShutdownConfig { grace_seconds: 10.0 }
    }
}

/// The two listening addresses of one service, and where the others reach it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAddrs {
    /// gRPC listen address, `IP:PORT` (also where the others dial, unless `dial` says).
    pub grpc: SocketAddr,
    /// HTTP listen address (health, admin), `IP:PORT`.
    pub http: SocketAddr,
    /// Where the other services dial its gRPC, `HOST:PORT`, when that is not `grpc`: a
    /// container's or a Kubernetes Service's name (`discovery:50051`), for a service that
    /// listens on 0.0.0.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dial: Option<String>,
}

impl ServiceAddrs {
    /// The default addresses of the service at `index` in [`SERVICE_NAMES`].
    pub fn default_for_index(index: u16) -> Self {
        let local = |port: u16| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port);
        ServiceAddrs { grpc: local(FIRST_GRPC_PORT + index), http: local(FIRST_HTTP_PORT + index), dial: None }
    }

    /// Where the others dial its gRPC: `dial`, else `grpc`.
    pub fn dial_addr(&self) -> String {
        self.dial.clone().unwrap_or_else(|| self.grpc.to_string())
    }
}

/// `[services.<name>]`: the addresses of each service, one table per name in [`SERVICE_NAMES`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServicesConfig {
    /// Device discovery. Default gRPC 127.0.0.1:50051, HTTP 127.0.0.1:9471.
    pub discovery: ServiceAddrs,
    /// Price feeds. Default gRPC 127.0.0.1:50052, HTTP 127.0.0.1:9472.
    pub pricing: ServiceAddrs,
    /// Planning (the API `hcp` talks to). Default gRPC 127.0.0.1:50053, HTTP 127.0.0.1:9473.
    pub optimization: ServiceAddrs,
    /// Work routing. Default gRPC 127.0.0.1:50054, HTTP 127.0.0.1:9474.
    pub routing: ServiceAddrs,
    /// Plan execution. Default gRPC 127.0.0.1:50055, HTTP 127.0.0.1:9475.
    pub execution: ServiceAddrs,
    /// Metering and billing. Default gRPC 127.0.0.1:50056, HTTP 127.0.0.1:9476.
    pub metering: ServiceAddrs,
    /// Notifications. Default gRPC 127.0.0.1:50057, HTTP 127.0.0.1:9477.
    pub notifications: ServiceAddrs,
    /// External gateway. Default gRPC 127.0.0.1:50058, HTTP 127.0.0.1:9478.
    pub gateway: ServiceAddrs,
}

impl ServicesConfig {
    /// The addresses of the service called `name`, if it is one of [`SERVICE_NAMES`].
    pub fn get(&self, name: &str) -> Option<&ServiceAddrs> {
        self.iter().into_iter().find(|(n, _)| *n == name).map(|(_, addrs)| addrs)
    }

    /// Every service with its addresses, in [`SERVICE_NAMES`] order.
    pub fn iter(&self) -> [(&'static str, &ServiceAddrs); 8] {
        let s = self;
        let all = [
            &s.discovery,
            &s.pricing,
            &s.optimization,
            &s.routing,
            &s.execution,
            &s.metering,
            &s.notifications,
            &s.gateway,
        ];
        std::array::from_fn(|i| (SERVICE_NAMES[i], all[i]))
    }
}

impl Default for ServicesConfig {
    fn default() -> Self {
        let at = ServiceAddrs::default_for_index;
        ServicesConfig {
            discovery: at(0),
            pricing: at(1),
            optimization: at(2),
            routing: at(3),
            execution: at(4),
            metering: at(5),
            notifications: at(6),
            gateway: at(7),
        }
    }
}

/// `[up]`: settings of `hcp up`, which runs every service in one process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpConfig {
    /// Where `hcp up` serves `/metrics` for the whole process. Default 127.0.0.1:9464.
    pub metrics: SocketAddr,
}

impl Default for UpConfig {
    fn default() -> Self {
        UpConfig { metrics: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9464) }
    }
}
