//! Tests of loading, layering, aliases, secrets, the TOML dump and the example file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::config::{Config, LoadOptions, Origin, Secret};

pub(crate) fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

pub(crate) fn write(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("hcp.toml");
    std::fs::write(&path, text).expect("write config file");
    path
}

const HOME: (&str, &str) = ("HOME", "/home/op");

fn home_defaults() -> Config {
    Config::defaults(&vars(&[HOME]))
}

#[test]
fn defaults_load_and_validate() {
    let options = LoadOptions { env: vars(&[HOME, ("PATH", "/bin"), ("HCP_IGNORED", "x")]), ..Default::default() };
    let config = Config::load(&options).expect("defaults load");
    assert_eq!(config, home_defaults());
    assert_eq!(config.data.dir, PathBuf::from("/home/op/.local/share/hcp"));
    assert_eq!(config.store_url(), "sqlite:/home/op/.local/share/hcp/events.db");
    assert_eq!(config.service("discovery").map(|s| s.grpc.to_string()), Some("127.0.0.1:50051".to_owned()));
    assert_eq!(config.service("gateway").map(|s| s.http.to_string()), Some("127.0.0.1:9478".to_owned()));
    assert!(config.service("nope").is_none());
    assert_eq!(config.sites.len(), 2);
    assert_eq!(config.sites[1].id, "tx-south-2");
    assert_eq!(config.sites[0].effective_max_wake_kw(), 1900.0);
}

#[test]
fn data_dir_default_follows_xdg_then_home() {
    let xdg = Config::defaults(&vars(&[HOME, ("XDG_DATA_HOME", "/xdg")]));
    assert_eq!(xdg.data.dir, PathBuf::from("/xdg/hcp"));
    assert_eq!(Config::defaults(&[]).data.dir, PathBuf::from("/var/lib/hcp"));
}

#[test]
fn to_toml_round_trips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = home_defaults();
    config.store.url = Some("nats://10.0.0.5:4222".to_owned());
    config.pricing.speed = 900.5;
    config.sites[1].max_wake_kw = Some(250.0);
    config.discovery.targets.push(crate::config::DiscoveryTarget {
        site: "tx-south-2".to_owned(),
        first: [10, 1, 0, 1].into(),
        last: [10, 1, 0, 9].into(),
        port: 4029,
    });
    for original in [home_defaults(), config] {
        let path = write(dir.path(), &original.to_toml());
        let loaded = Config::load(&LoadOptions { file: Some(path), ..Default::default() });
        assert_eq!(loaded.expect("dump loads back"), original);
    }
}

#[test]
fn later_layers_win_and_origins_follow() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "[pricing]\nspeed = 100\n");
    let env = vars(&[HOME, ("HCP_PRICING__SPEED", "200")]);
    let flags = vars(&[("pricing.speed", "300")]);
    let load = |file: Option<PathBuf>, env: &[(String, String)], flags: &[(String, String)]| {
        let options = LoadOptions { file, env: env.to_vec(), flags: flags.to_vec() };
        let (config, origins) = Config::load_traced(&options).expect("load");
        (config.pricing.speed, origins.get("pricing.speed"))
    };
    let home = vars(&[HOME]);
    assert_eq!(load(None, &home, &[]), (60.0, Origin::Default));
    assert_eq!(load(Some(file.clone()), &home, &[]), (100.0, Origin::File(file.clone())));
    assert_eq!(load(Some(file.clone()), &env, &[]), (200.0, Origin::Env("HCP_PRICING__SPEED".to_owned())));
    assert_eq!(load(Some(file), &env, &flags), (300.0, Origin::Flag("pricing.speed".to_owned())));
}

#[test]
fn environment_sets_nested_keys_any_case() {
    let env = vars(&[HOME, ("HCP_SERVICES__DISCOVERY__GRPC", "127.0.0.1:6000"), ("hcp_simulator__enabled", "FALSE")]);
    let config = Config::load(&LoadOptions { env, ..Default::default() }).expect("load");
    assert_eq!(config.services.discovery.grpc.to_string(), "127.0.0.1:6000");
    assert!(!config.simulator.enabled);
}

#[test]
fn aliases_set_their_keys() {
    let env = vars(&[
        HOME,
        ("HCP_STORE", "nats://nats:4222"),
        ("HCP_DATA_DIR", "/srv/hcp"),
        ("HCP_API", "http://127.0.0.1:7000"),
        ("HCP_LOG", "info,hcp_pricing=debug"),
    ]);
    let (config, origins) = Config::load_traced(&LoadOptions { env, ..Default::default() }).expect("load");
    assert_eq!(config.store_url(), "nats://nats:4222");
    assert_eq!(config.data.dir, PathBuf::from("/srv/hcp"));
    assert_eq!(config.services.optimization.grpc.to_string(), "127.0.0.1:7000");
    assert_eq!(config.telemetry.log, "info,hcp_pricing=debug");
    assert_eq!(origins.get("data.dir"), Origin::Env("HCP_DATA_DIR".to_owned()));
    let bare = vars(&[HOME, ("HCP_API", "127.0.0.1:7001")]);
    let config = Config::load(&LoadOptions { env: bare, ..Default::default() }).expect("load");
    assert_eq!(config.services.optimization.grpc.to_string(), "127.0.0.1:7001");
    let both = vars(&[HOME, ("HCP_STORE__URL", "tls://b:1"), ("HCP_STORE", "nats://a:1")]);
    let config = Config::load(&LoadOptions { env: both, ..Default::default() }).expect("load");
    assert_eq!(config.store_url(), "tls://b:1", "the explicit form beats the alias");
}

#[test]
fn a_file_site_list_replaces_the_defaults_and_fills_in_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "[[sites]]\nid = \"west-1\"\ncap_kw = 750\n\n[[discovery.targets]]\nsite = \"west-1\"\n\
                first = \"10.0.0.1\"\nlast = \"10.0.0.20\"\n";
    let options = LoadOptions { file: Some(write(dir.path(), text)), env: vars(&[HOME]), ..Default::default() };
    let config = Config::load(&options).expect("load");
    let mut expected = crate::config::SiteConfig::with_id("west-1");
    expected.cap_kw = 750.0;
    assert_eq!(config.sites, vec![expected]);
    assert_eq!(config.sites[0].effective_max_wake_kw(), 750.0);
    assert_eq!(config.discovery.targets[0].port, 4028);
}

#[test]
fn secrets_never_print() {
    let flags = vars(&[("telemetry.otlp_token", "s3cr3t-t0ken")]);
    let options = LoadOptions { env: vars(&[HOME]), flags, ..Default::default() };
    let config = Config::load(&options).expect("load");
    assert_eq!(config.telemetry.otlp_token, Some(Secret::new("s3cr3t-t0ken")));
    assert!(!format!("{config:?}").contains("s3cr3t"));
    assert!(!format!("{options:?}").contains("s3cr3t"));
    let dump = config.to_toml();
    assert!(!dump.contains("s3cr3t"));
    assert!(dump.contains("otlp_token = \"[redacted]\""));
    let dir = tempfile::tempdir().expect("tempdir");
    let reload = LoadOptions { file: Some(write(dir.path(), &dump)), ..Default::default() };
    let err = Config::load(&reload).expect_err("the placeholder is not a token");
    assert_eq!(err.key, "telemetry.otlp_token");
}

fn example_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/hcp.example.toml")
}

#[test]
fn example_file_loads_to_the_defaults() {
    let options = LoadOptions { file: Some(example_path()), env: vars(&[HOME]), ..Default::default() };
    assert_eq!(Config::load(&options).expect("example loads"), home_defaults());
}

/// `section.key` for every key line in the example, commented out or not.
fn documented_keys(text: &str) -> BTreeSet<String> {
    let mut section = String::new();
    let mut keys = BTreeSet::new();
    for line in text.lines().map(|line| line.trim().trim_start_matches('#').trim()) {
        if let Some(header) = line.strip_prefix('[') {
            section = header.trim_matches(['[', ']']).to_owned();
        } else if let Some((key, _)) = line.split_once(" = ")
            && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            keys.insert(format!("{section}.{key}"));
        }
    }
    keys
}

/// `section.key` for every leaf of `value`; array items are described by their first item.
fn schema_keys(prefix: &str, value: &toml::Value, keys: &mut BTreeSet<String>) {
    match value {
        toml::Value::Table(table) => {
            table.iter().for_each(|(k, v)| schema_keys(&crate::config::origins::join(prefix, k), v, keys))
        }
        toml::Value::Array(items) if items.first().is_some_and(toml::Value::is_table) => {
            schema_keys(prefix, &items[0], keys)
        }
        _ => {
            keys.insert(prefix.to_owned());
        }
    }
}

#[test]
fn example_file_documents_every_key() {
    let mut full = home_defaults();
    full.store.url = Some("sqlite:x".to_owned());
    full.telemetry.otlp_endpoint = Some("http://x".to_owned());
    full.telemetry.otlp_token = Some(Secret::new("x"));
    full.execution.enrolment_token = Some(Secret::new("x"));
    full.execution.miner_web_password = Some(Secret::new("x"));
    full.execution.demand_response.push(crate::config::DemandResponseConfig {
        site: "tx-south-1".to_owned(),
        broker: "mqtt://127.0.0.1:1883".to_owned(),
        topic: "t".to_owned(),
        contracted_kw: 1.0,
        stale_seconds: 1.0,
        comply_seconds: 1.0,
    });
    full.gateway.jwt = Some(crate::config::JwtConfig {
        issuer: "i".to_owned(),
        jwks_url: "http://x".to_owned(),
        audience: Some("a".to_owned()),
        tenant_claim: "t".to_owned(),
        roles_claim: "r".to_owned(),
        refresh_seconds: 1.0,
    });
    full.metering.kafka =
        Some(crate::config::KafkaConfig { brokers: "b:1".to_owned(), topic: "t".to_owned(), partitions: 1 });
    full.notifications.price_alert_usd_mwh = Some(1.0);
    full.notifications.margin_alert_usd_per_hour = Some(1.0);
    full.notifications.smtp = Some(crate::config::SmtpConfig {
        host: "h".to_owned(),
        port: 25,
        from: "a@b".to_owned(),
        username: Some("u".to_owned()),
        password: Some(crate::config::Secret::new("p".to_owned())),
    });
    full.notifications.sms = Some(crate::config::SmsConfig {
        base_url: "http://x".to_owned(),
        account_sid: "AC1".to_owned(),
        auth_token: crate::config::Secret::new("t".to_owned()),
        from: "+1".to_owned(),
    });
    full.pricing.prices = Some("p".into());
    full.pricing.btc = Some("b".into());
    full.sites[0].max_wake_kw = Some(1.0);
    full.discovery.targets.push(crate::config::DiscoveryTarget {
        site: "tx-south-1".to_owned(),
        first: [10, 0, 0, 1].into(),
        last: [10, 0, 0, 1].into(),
        port: 1,
    });
    let mut expected = BTreeSet::new();
    schema_keys("", &toml::Value::try_from(&full).expect("encode"), &mut expected);
    let text = std::fs::read_to_string(example_path()).expect("read example");
    assert_eq!(documented_keys(&text), expected);
}
