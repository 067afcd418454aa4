//! What the commands that call a service share: dialling its configured address, naming
//! the caller in `x-hcp-actor`, and printing a reply as JSON.

use crate::cli::Output;
use anyhow::Context;
use hcp_runtime::config::Config;

/// A list command's arguments: the service's address and the output format.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// The service's gRPC address (default: the configuration's).
    #[arg(long)]
    pub api: Option<String>,
    /// Output format.
    #[command(flatten)]
    pub output: Output,
}

/// A workload kind's name as users type it (`training`, `batch-inference`,
/// `realtime-inference`), from its message enum.
pub fn kind_name(kind: i32) -> String {
    hcp_domain::codec::kind_from_pb("", "kind", kind).map_or_else(|_| "?".to_owned(), |k| k.to_string())
}

/// A channel to `service`'s gRPC API (`--api` overrides the configuration's address).
pub async fn channel(config: &Config, service: &str, api: Option<&str>) -> anyhow::Result<tonic::transport::Channel> {
    let addrs = config.service(service).with_context(|| format!("no addresses for {service}"))?;
    let url = api.map_or_else(|| format!("http://{}", addrs.dial_addr()), ToOwned::to_owned);
    hcp_proto::client::connect(&url)
        .await
        .with_context(|| format!("{service} answers this (is `hcp up` or `hcp serve {service}` running?)"))
}

/// A request that names the person at the keyboard as its actor (`<role>:$USER`).
pub fn request<T>(message: T, role: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    if let Ok(actor) = format!("{role}:{user}").parse() {
        request.metadata_mut().insert("x-hcp-actor", actor);
    }
    request
}

/// A reply as one line of JSON (`full_name` is its message, e.g. `hcp.v1.WorkloadView`).
pub fn json(full_name: &str, message: &impl prost::Message) -> String {
    hcp_proto::descriptors::message_to_json(full_name, &message.encode_to_vec())
        .map(|v| v.to_string())
        .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()))
}

/// A refused call as an error that says what was refused and why.
pub fn refused(what: &str, status: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{what}: {} ({:?})", status.message(), status.code())
}
