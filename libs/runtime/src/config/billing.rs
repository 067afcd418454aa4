//! `[metering]`: billing periods, when invoices are issued, the default rate card, and
//! the Kafka topic usage records are published to.

use serde::{Deserialize, Serialize};

/// `[metering]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MeteringConfig {
    /// The billing period: "month", "day", "hour" (UTC) or "<n>s" (runs of n seconds, for
    /// demos on a scaled clock). Default "month".
    pub period: String,
    /// Seconds after a period ends before its invoices are issued, with the pieces in it
    /// of workloads still running (late usage after that is an adjustment on the next
    /// invoice). Events are expected timed no earlier than this before they are recorded:
    /// a workload's end timed further back than that, after its period was invoiced with
    /// it running, is corrected by an amendment (a credit on the next invoice). 0 or more.
    /// Default 3600.
    pub invoice_grace_seconds: f64,
    /// Seconds between looks for periods to invoice; above 0. Default 60.
    pub issue_every_seconds: f64,
    /// The default rate card's price of a GPU-hour of any model, for tenants with no card
    /// of their own; 0 or more. Default 2.50.
    pub list_usd_per_gpu_hour: f64,
    /// The default rate card's tax, basis points (825 = 8.25%); at most 10000. Default 0.
    pub tax_bps: u32,
    /// Where usage records are published for downstream billing and analytics (absent:
    /// nowhere).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kafka: Option<KafkaConfig>,
}

impl Default for MeteringConfig {
    fn default() -> Self {
        MeteringConfig {
            period: "month".into(),
            invoice_grace_seconds: 3600.0,
            issue_every_seconds: 60.0,
            list_usd_per_gpu_hour: 2.5,
            tax_bps: 0,
            kafka: None,
        }
    }
}

/// `[metering.kafka]`: a Kafka-protocol broker (Kafka, Redpanda, tansu).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// Bootstrap servers, `HOST:PORT[,HOST:PORT...]`.
    pub brokers: String,
    /// The topic. Default "hcp.usage".
    #[serde(default = "default_topic")]
    pub topic: String,
    /// Its partitions, when metering creates it (a tenant's records stay on one). Default 3.
    #[serde(default = "default_partitions")]
    pub partitions: u32,
}

fn default_partitions() -> u32 {
    3
}

fn default_topic() -> String {
    "hcp.usage".into()
}

/// Whether `text` is a billing period metering takes.
pub fn valid_period(text: &str) -> bool {
    matches!(text, "month" | "day" | "hour")
        || text.strip_suffix('s').and_then(|n| n.parse::<u32>().ok()).is_some_and(|n| n > 0)
}

/// `[notifications]`: how webhooks are delivered and alerts repeat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationsConfig {
    /// Seconds an endpoint has to answer a delivery; above 0. Default 10.
    pub timeout_seconds: f64,
    /// Deliveries in flight to one endpoint at once; at least 1. Default 8.
    pub max_in_flight_per_endpoint: u32,
    /// Seconds before the same alert (tenant, type, subject) is raised again; 0 or more.
    /// Default 14400 (Alertmanager's repeat interval, 4 h).
    pub repeat_seconds: f64,
    /// How many times faster than real time the retry schedule runs (a demo or a test on
    /// a scaled clock); above 0. Default 1.
    pub schedule_speed: f64,
    /// Seconds a rotated secret keeps signing beside the new one; 0 or more. Default 86400.
    pub rotation_overlap_seconds: f64,
    /// Alert the operators when a site's real-time price is above this, $/MWh (absent: never).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_alert_usd_mwh: Option<f64>,
    /// Alert the operators when a site's plan expects a margin below this, $/h (absent: never).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub margin_alert_usd_per_hour: Option<f64>,
    /// Where email notifications are sent from (absent: no email).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp: Option<SmtpConfig>,
    /// The SMS provider (absent: no SMS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms: Option<SmsConfig>,
}

/// `[notifications.smtp]`: an SMTP relay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Its host.
    pub host: String,
    /// Its port. Default 25.
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    /// The sender, `HCP Alerts <alerts@example.com>`.
    pub from: String,
    /// A login, if the relay wants one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Its password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<crate::config::Secret>,
}

fn default_smtp_port() -> u16 {
    25
}

/// `[notifications.sms]`: an SMS provider with Twilio's message API
/// (`POST {base_url}/2010-04-01/Accounts/{account_sid}/Messages.json`, form fields To,
/// From and Body, basic auth with the account and token).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    /// `https://api.twilio.com`, or a compatible provider's.
    pub base_url: String,
    /// The account.
    pub account_sid: String,
    /// Its token.
    pub auth_token: crate::config::Secret,
    /// The sending number, E.164.
    pub from: String,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        NotificationsConfig {
            timeout_seconds: 10.0,
            max_in_flight_per_endpoint: 8,
            repeat_seconds: 14_400.0,
            schedule_speed: 1.0,
            rotation_overlap_seconds: 86_400.0,
            price_alert_usd_mwh: None,
            margin_alert_usd_per_hour: None,
            smtp: None,
            sms: None,
        }
    }
}
