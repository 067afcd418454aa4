//! Section types for customers' workloads: how routing queues and places them
//! (`[routing]`) and how execution runs them on the agents (`[execution]`).

use serde::{Deserialize, Serialize};

use crate::config::secret::Secret;

/// `[routing]`: the queue and the scheduler.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfig {
    /// Seconds a preempted workload has to stop (SIGTERM, then SIGKILL) before its GPUs are given to another; 0 to 3600. Default 30.
    pub preemption_grace_seconds: f64,
    /// Times a workload may be queued (first admission and each re-queue after a preemption) before it fails; 1 to 100. Default 5.
    pub max_attempts: u32,
    /// Seconds of waiting that raise a workload one class in the queue's order; 0 turns aging off. Default 3600.
    pub aging_seconds: f64,
    /// Seconds between scheduling cycles when nothing changes (a change starts one at once); above 0. Default 1.
    pub cycle_seconds: f64,
}

impl Default for RoutingConfig {
    fn default() -> Self {
        RoutingConfig { preemption_grace_seconds: 30.0, max_attempts: 5, aging_seconds: 3600.0, cycle_seconds: 1.0 }
    }
}

/// `[execution]`: the agents and what happens when one is lost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutionConfig {
    /// The token agents enrol with (`hcp-agent --token`); at least 16 characters. Default: unset, which `hcp up` replaces with a random one for its own agents and `hcp serve execution` refuses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrolment_token: Option<Secret>,
    /// Seconds an agent may be disconnected before its workloads are handled by `lost_agent`; above 0. Default 30.
    pub agent_lost_seconds: f64,
    /// What happens to the workloads of a lost agent: "requeue" (as a preemption) or "fail". Default "requeue".
    pub lost_agent: String,
    /// The miners' API port (their address is the one in their resource id). Default 4028.
    pub miner_port: u16,
    /// Seconds a miner has to be seen doing what it was told (LuxOS sleeps in ~6 s, wakes in ~10 s); above 0. Default 30.
    pub command_deadline_seconds: f64,
    /// Tries per command (sent again when the deadline passes or the miner drifts) before the miner is marked failed; 1 to 10. Default 3.
    pub command_attempts: u32,
    /// Most miner load woken per second at a site, kW (a staggered ramp; sleeping is not limited); above 0. Default 1000.
    pub ramp_kw_per_second: f64,
    /// The web password of stock Antminers (user root), which sleep only through their web interface. Default: unset, the firmware's own default (root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub miner_web_password: Option<Secret>,
    /// Demand-response programs: a site follows a utility's or aggregator's signal over MQTT (`[[execution.demand_response]]`). Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub demand_response: Vec<DemandResponseConfig>,
    /// The longest an operator's curtailment lasts (`hcp fleet curtail --until`), seconds; above 0. Default 14400 (4 h).
    pub max_curtailment_seconds: f64,
}

impl Default for ExecutionConfig {
    fn default() -> Self {
        ExecutionConfig {
            enrolment_token: None,
            agent_lost_seconds: 30.0,
            lost_agent: "requeue".to_owned(),
            miner_port: 4028,
            command_deadline_seconds: 30.0,
            command_attempts: 3,
            ramp_kw_per_second: 1000.0,
            max_curtailment_seconds: 14_400.0,
            miner_web_password: None,
            demand_response: Vec::new(),
        }
    }
}

/// `[[execution.demand_response]]`: a site follows an OpenADR-style continuous target
/// (`{"target":0|100,"timestamp":...}`) published on an MQTT topic: at 0 it curtails
/// miners until its draw is under `contracted_kw`, at 100 it runs by plan; a signal silent
/// for `stale_seconds` counts as 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemandResponseConfig {
    /// The site. Required.
    pub site: String,
    /// The MQTT broker, `mqtt://HOST:PORT`. Default `mqtt://127.0.0.1:1883`.
    #[serde(default = "default_broker")]
    pub broker: String,
    /// The topic the signal is published on. Required.
    pub topic: String,
    /// The most the site may draw while curtailed, kW; 0 or more. Required.
    pub contracted_kw: f64,
    /// Seconds without a message after which the site curtails itself; above 0. Default 240.
    #[serde(default = "default_stale_seconds")]
    pub stale_seconds: f64,
    /// Seconds after a curtailing signal by which the site must be under its contracted kW; above 0. Default 180.
    #[serde(default = "default_comply_seconds")]
    pub comply_seconds: f64,
}

fn default_broker() -> String {
    "mqtt://127.0.0.1:1883".to_owned()
}

fn default_stale_seconds() -> f64 {
    240.0
}

fn default_comply_seconds() -> f64 {
    180.0
}

/// `[gateway]`: the public REST API's limits (GCRA: a steady rate with a burst), per API
/// key and per tenant, a daily quota per key, and JWT bearer tokens from an issuer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    /// Requests per second a key may make, steadily; above 0. Default 20.
    pub requests_per_second: f64,
    /// Requests a key may make at once before the rate applies; 1 or more. Default 40.
    pub burst: u32,
    /// Requests per second all of a tenant's keys and tokens may make together; above 0. Default 100.
    pub tenant_requests_per_second: f64,
    /// A tenant's burst; 1 or more. Default 200.
    pub tenant_burst: u32,
    /// Requests a key may make in a UTC day (0: no quota). Default 100,000.
    pub daily_requests: u64,
    /// Seconds a request may take before it is answered 504. Default 30.
    pub request_timeout_seconds: f64,
    /// JWT bearer tokens from an OpenID Connect issuer, beside API keys (none: keys only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt: Option<JwtConfig>,
    /// The web console's built files (`npm run build` in console/), served at `/`; a
    /// relative path is from the working directory. Default "console/dist".
    pub console_dir: String,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            requests_per_second: 20.0,
            burst: 40,
            tenant_requests_per_second: 100.0,
            tenant_burst: 200,
            daily_requests: 100_000,
            request_timeout_seconds: 30.0,
            jwt: None,
            console_dir: "console/dist".to_owned(),
        }
    }
}

/// `[gateway.jwt]`: which tokens are taken: signed by a key in the issuer's JWKS (RS256,
/// ES256 or EdDSA; never `none`), with this issuer, audience and an unexpired `exp`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtConfig {
    /// The `iss` a token must carry.
    pub issuer: String,
    /// Where the issuer publishes its keys (an OIDC provider's `jwks_uri`), `http(s)://...`.
    pub jwks_url: String,
    /// The `aud` a token must carry (none: any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// The claim naming the tenant a token acts for (absent: a platform token). Default `tenant`.
    #[serde(default = "default_tenant_claim")]
    pub tenant_claim: String,
    /// The claim listing the token's roles (a string or an array). Default `roles`.
    #[serde(default = "default_roles_claim")]
    pub roles_claim: String,
    /// Seconds between fetches of the keys (a token signed by an unknown key fetches them at once). Default 300.
    #[serde(default = "default_jwks_refresh")]
    pub refresh_seconds: f64,
}

fn default_tenant_claim() -> String {
    "tenant".to_owned()
}

fn default_roles_claim() -> String {
    "roles".to_owned()
}

fn default_jwks_refresh() -> f64 {
    300.0
}
