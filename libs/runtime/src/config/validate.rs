//! Checks on a decoded [`Config`]: ranges, formats, unique ids and listening addresses, and
//! files that must exist. Each failure names the dotted key and the layer that set it.

use std::collections::HashSet;
use std::fmt::Display;
use std::net::SocketAddr;

use crate::config::Config;
use crate::config::error::{ConfigError, ErrorKind};
use crate::config::origins::Origins;
use crate::config::secret::REDACTED;

type Checked = Result<(), ConfigError>;

/// Builds validation errors with the origin of each key.
struct Check<'a>(&'a Origins);

impl Check<'_> {
    fn fail(&self, key: &str, value: impl Display, message: impl Into<String>) -> ConfigError {
        ConfigError::new(ErrorKind::Invalid, key, self.0.get(key), message).with_value(value.to_string())
    }

    fn that(&self, ok: bool, key: &str, value: impl Display, message: &str) -> Checked {
        if ok { Ok(()) } else { Err(self.fail(key, value, message)) }
    }

    fn positive(&self, key: &str, value: f64) -> Checked {
        self.that(value.is_finite() && value > 0.0, key, value, "must be a positive number")
    }

    fn non_negative(&self, key: &str, value: f64) -> Checked {
        self.that(value.is_finite() && value >= 0.0, key, value, "must be zero or a positive number")
    }

    fn range<T: PartialOrd + Display + Copy>(&self, key: &str, value: T, low: T, high: T) -> Checked {
        self.that(low <= value && value <= high, key, value, &format!("must be from {low} to {high}"))
    }

    fn prefixed(&self, key: &str, value: &str, prefixes: &[&str]) -> Checked {
        let ok = prefixes.iter().any(|p| value.len() > p.len() && value.starts_with(p));
        self.that(ok, key, quoted(value), &format!("must start with {}", prefixes.join(" or ")))
    }
}

fn quoted(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// Checks every rule of the schema; returns the first failure.
pub(crate) fn validate(config: &Config, origins: &Origins) -> Checked {
    let check = Check(origins);
    let dir = config.data.dir.to_string_lossy();
    check.that(!dir.trim().is_empty(), "data.dir", quoted(&dir), "must not be empty")?;
    if let Some(url) = &config.store.url {
        check.prefixed("store.url", url, &["sqlite:", "nats://", "tls://"])?;
    }
    let telemetry = &config.telemetry;
    check.that(!telemetry.log.trim().is_empty(), "telemetry.log", quoted(&telemetry.log), "must not be empty")?;
    if let Some(endpoint) = &telemetry.otlp_endpoint {
        check.prefixed("telemetry.otlp_endpoint", endpoint, &["http://", "https://"])?;
    }
    if let Some(token) = &telemetry.otlp_token {
        let ok = token.expose() != REDACTED;
        check.that(
            ok,
            "telemetry.otlp_token",
            REDACTED,
            "is the placeholder printed for secrets; set the real value",
        )?;
    }
    let grace = config.shutdown.grace_seconds;
    let ok = grace.is_finite() && grace > 0.0 && grace <= 600.0;
    check.that(ok, "shutdown.grace_seconds", grace, "must be a positive number of seconds, at most 600")?;
    addresses(config, &check)?;
    discovery(config, &check)?;
    pricing(config, &check)?;
    simulator(config, &check)?;
    workloads(config, &check)?;
    sites(config, &check)
}

fn workloads(config: &Config, check: &Check<'_>) -> Checked {
    let r = &config.routing;
    check.range("routing.preemption_grace_seconds", r.preemption_grace_seconds, 0.0, 3600.0)?;
    check.range("routing.max_attempts", r.max_attempts, 1, 100)?;
    check.range("routing.aging_seconds", r.aging_seconds, 0.0, f64::MAX)?;
    check.positive("routing.cycle_seconds", r.cycle_seconds)?;
    let e = &config.execution;
    if let Some(token) = &e.enrolment_token {
        let ok = token.expose().len() >= 16 && token.expose() != REDACTED;
        check.that(
            ok,
            "execution.enrolment_token",
            REDACTED,
            "must be at least 16 characters (and not the placeholder)",
        )?;
    }
    check.positive("execution.agent_lost_seconds", e.agent_lost_seconds)?;
    let ok = ["requeue", "fail"].contains(&e.lost_agent.as_str());
    check.that(ok, "execution.lost_agent", &e.lost_agent, "must be \"requeue\" or \"fail\"")?;
    check.positive("execution.command_deadline_seconds", e.command_deadline_seconds)?;
    check.range("execution.command_attempts", e.command_attempts, 1, 10)?;
    check.positive("execution.ramp_kw_per_second", e.ramp_kw_per_second)?;
    check.positive("execution.max_curtailment_seconds", e.max_curtailment_seconds)?;
    check.positive("gateway.requests_per_second", config.gateway.requests_per_second)?;
    check.range("gateway.burst", config.gateway.burst, 1, u32::MAX)?;
    check.positive("gateway.tenant_requests_per_second", config.gateway.tenant_requests_per_second)?;
    check.range("gateway.tenant_burst", config.gateway.tenant_burst, 1, u32::MAX)?;
    check.positive("gateway.request_timeout_seconds", config.gateway.request_timeout_seconds)?;
    if let Some(jwt) = &config.gateway.jwt {
        let http = jwt.jwks_url.starts_with("http://") || jwt.jwks_url.starts_with("https://");
        check.that(http, "gateway.jwt.jwks_url", quoted(&jwt.jwks_url), "must be an http(s):// URL")?;
        check.that(!jwt.issuer.is_empty(), "gateway.jwt.issuer", "\"\"", "must name the issuer")?;
        check.positive("gateway.jwt.refresh_seconds", jwt.refresh_seconds)?;
    }
    let n = &config.notifications;
    check.positive("notifications.timeout_seconds", n.timeout_seconds)?;
    check.range("notifications.max_in_flight_per_endpoint", n.max_in_flight_per_endpoint, 1, 10_000)?;
    check.non_negative("notifications.repeat_seconds", n.repeat_seconds)?;
    check.positive("notifications.schedule_speed", n.schedule_speed)?;
    check.non_negative("notifications.rotation_overlap_seconds", n.rotation_overlap_seconds)?;
    if let Some(smtp) = &n.smtp {
        check.that(!smtp.host.is_empty(), "notifications.smtp.host", "\"\"", "must name the relay")?;
        check.that(smtp.from.contains('@'), "notifications.smtp.from", quoted(&smtp.from), "must be an address")?;
    }
    if let Some(sms) = &n.sms {
        let http = sms.base_url.starts_with("http://") || sms.base_url.starts_with("https://");
        check.that(http, "notifications.sms.base_url", quoted(&sms.base_url), "must be an http(s):// URL")?;
        check.that(!sms.account_sid.is_empty(), "notifications.sms.account_sid", "\"\"", "must name the account")?;
    }
    let m = &config.metering;
    let period_ok = crate::config::billing::valid_period(&m.period);
    check.that(period_ok, "metering.period", quoted(&m.period), "must be \"month\", \"day\", \"hour\" or \"<n>s\"")?;
    check.non_negative("metering.invoice_grace_seconds", m.invoice_grace_seconds)?;
    check.positive("metering.issue_every_seconds", m.issue_every_seconds)?;
    check.non_negative("metering.list_usd_per_gpu_hour", m.list_usd_per_gpu_hour)?;
    check.range("metering.tax_bps", m.tax_bps, 0, 10_000)?;
    if let Some(kafka) = &m.kafka {
        let ok = kafka
            .brokers
            .split(',')
            .all(|b| b.rsplit_once(':').is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok()));
        check.that(ok, "metering.kafka.brokers", quoted(&kafka.brokers), "must be HOST:PORT[,HOST:PORT...]")?;
        check.that(
            !kafka.topic.trim().is_empty(),
            "metering.kafka.topic",
            quoted(&kafka.topic),
            "must not be empty",
        )?;
        check.range("metering.kafka.partitions", kafka.partitions, 1, 10_000)?;
    }
    for (n, dr) in e.demand_response.iter().enumerate() {
        let key = |k: &str| format!("execution.demand_response[{n}].{k}");
        let known = config.sites.iter().any(|s| s.id == dr.site);
        check.that(known, &key("site"), quoted(&dr.site), "must be one of [[sites]]")?;
        let mqtt = dr
            .broker
            .strip_prefix("mqtt://")
            .is_some_and(|hp| hp.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()));
        check.that(mqtt, &key("broker"), quoted(&dr.broker), "must be mqtt://HOST:PORT")?;
        check.that(!dr.topic.trim().is_empty(), &key("topic"), quoted(&dr.topic), "must not be empty")?;
        check.range(&key("contracted_kw"), dr.contracted_kw, 0.0, f64::MAX)?;
        check.positive(&key("stale_seconds"), dr.stale_seconds)?;
        check.positive(&key("comply_seconds"), dr.comply_seconds)?;
    }
    Ok(())
}

/// No two listening addresses may overlap (port 0, "any free port", excepted).
fn addresses(config: &Config, check: &Check<'_>) -> Checked {
    let mut all: Vec<(String, SocketAddr)> = Vec::new();
    for (name, addrs) in config.services.iter() {
        all.push((format!("services.{name}.grpc"), addrs.grpc));
        all.push((format!("services.{name}.http"), addrs.http));
        if let Some(dial) = &addrs.dial {
            let port = dial.rsplit_once(':').filter(|(host, _)| !host.is_empty()).map(|(_, p)| p.parse::<u16>());
            if !matches!(port, Some(Ok(p)) if p > 0) {
                return Err(check.fail(&format!("services.{name}.dial"), dial, "must be HOST:PORT (discovery:50051)"));
            }
        }
    }
    all.push(("up.metrics".to_owned(), config.up.metrics));
    for (index, (key, addr)) in all.iter().enumerate() {
        let earlier = all.iter().take(index).find(|(_, other)| overlaps(addr, other));
        if let Some((other_key, other)) = earlier {
            // Blame the key set by the later layer: that is the one the user just changed.
            let (key, addr, other_key, other) = if check.0.get(other_key).rank() > check.0.get(key).rank() {
                (other_key, other, key, addr)
            } else {
                (key, addr, other_key, other)
            };
            return Err(check.fail(key, addr, format!("collides with {other_key} = {other}")));
        }
    }
    Ok(())
}

/// Same port (not 0) and the same IP, or either IP unspecified (which binds every interface).
fn overlaps(a: &SocketAddr, b: &SocketAddr) -> bool {
    a.port() != 0 && a.port() == b.port() && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

fn discovery(config: &Config, check: &Check<'_>) -> Checked {
    let d = &config.discovery;
    check.positive("discovery.poll_seconds", d.poll_seconds)?;
    check.positive("discovery.rescan_seconds", d.rescan_seconds)?;
    check.range("discovery.scan_timeout_ms", d.scan_timeout_ms, 1, u64::MAX)?;
    check.range("discovery.scan_concurrency", d.scan_concurrency, 1, 65536)?;
    check.positive("discovery.agent_timeout_seconds", d.agent_timeout_seconds)?;
    check.positive("discovery.summary_seconds", d.summary_seconds)?;
    check.positive("discovery.samples_hours", d.samples_hours)?;
    for (index, target) in d.targets.iter().enumerate() {
        let key = format!("discovery.targets[{index}]");
        let known = config.sites.iter().any(|site| site.id == target.site);
        let ids: Vec<&str> = config.sites.iter().map(|site| site.id.as_str()).collect();
        let message = format!("names no configured site (sites: {})", ids.join(", "));
        check.that(known, &format!("{key}.site"), quoted(&target.site), &message)?;
        let message = format!("must not be below first = {}", target.first);
        check.that(target.first <= target.last, &format!("{key}.last"), target.last, &message)?;
    }
    Ok(())
}

fn pricing(config: &Config, check: &Check<'_>) -> Checked {
    let p = &config.pricing;
    let source = p.source.as_str();
    if !matches!(source, "replay" | "simulated") {
        check.prefixed("pricing.source", source, &["http://", "https://"]).map_err(|mut err| {
            err.message = r#"must be "replay", "simulated", or an http:// or https:// URL"#.to_owned();
            err
        })?;
    }
    if let Some(btc) = &p.btc {
        let shown = quoted(&btc.to_string_lossy());
        match std::fs::metadata(btc) {
            Ok(meta) => check.that(!meta.is_dir(), "pricing.btc", shown, "is a directory, not a file")?,
            Err(err) => return Err(check.fail("pricing.btc", shown, format!("cannot read: {err}"))),
        }
    }
    check.positive("pricing.speed", p.speed)?;
    check.positive("pricing.poll_seconds", p.poll_seconds)
}

fn simulator(config: &Config, check: &Check<'_>) -> Checked {
    let s = &config.simulator;
    check.range("simulator.sites", s.sites, 0, 200)?;
    check.range("simulator.miners_per_site", s.miners_per_site, 0, 65025)?;
    check.range("simulator.first_octet", s.first_octet, 1, 255)?;
    check.range("simulator.gpus_per_host", s.gpus_per_host, 1, 16)?;
    check.positive("simulator.time_factor", s.time_factor)?;
    check.non_negative("simulator.board_failures_per_hour", s.board_failures_per_hour)
}

fn sites(config: &Config, check: &Check<'_>) -> Checked {
    let mut seen = HashSet::new();
    for (index, site) in config.sites.iter().enumerate() {
        let key = |name: &str| format!("sites[{index}].{name}");
        let id = site.id.as_str();
        let ok = (1..=64).contains(&id.len()) && id.bytes().all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-'));
        check.that(ok, &key("id"), quoted(id), "must be 1 to 64 characters of a-z, 0-9 and -")?;
        check.that(seen.insert(id), &key("id"), quoted(id), "is the id of an earlier site; ids must be unique")?;
        let point = &site.settlement_point;
        check.that(!point.trim().is_empty(), &key("settlement_point"), quoted(point), "must not be empty")?;
        check.positive(&key("cap_kw"), site.cap_kw)?;
        check.non_negative(&key("min_dwell_seconds"), site.min_dwell_seconds)?;
        check.non_negative(&key("hysteresis_usd_mwh"), site.hysteresis_usd_mwh)?;
        if let Some(wake) = site.max_wake_kw {
            check.positive(&key("max_wake_kw"), wake)?;
        }
        check.non_negative(&key("gpu_usd_per_hour"), site.gpu_usd_per_hour)?;
        check.non_negative(&key("switch_cost_usd"), site.switch_cost_usd)?;
    }
    Ok(())
}
