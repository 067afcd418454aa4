//! Configuration as an operator meets it: every bad input stops `hcp` before anything is
//! opened or bound, with the key and where it came from named; `hcp config dump` shows
//! the effective configuration without secrets; read commands never create a store.

use hcp_e2e::hcp_bin;
use std::process::{Command, Output};

/// Runs `hcp` with a private data directory and only the given `HCP_*` variables.
fn run(data: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(hcp_bin());
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("HCP_")) {
        command.env_remove(k);
    }
    command.arg("--data-dir").arg(data).args(args).envs(env.iter().copied()).output().expect("run hcp")
}

#[test]
fn bad_configuration_names_the_key_and_its_origin_and_starts_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path.display().to_string()
    };
    let unknown = file("unknown.toml", "[pricing]\nsped = 1\n");
    let wrong_type = file("type.toml", "[pricing]\nspeed = \"fast\"\n");
    let negative = file("cap.toml", "[[sites]]\nid = \"tx-west-1\"\ncap_kw = -5.0\n");
    let bad_toml = file("broken.toml", "[pricing\n");
    type Case<'a> = (&'a str, Vec<&'a str>, Vec<(&'a str, &'a str)>, Vec<&'a str>);
    let cases: Vec<Case> = vec![
        ("unknown key", vec!["--config", &unknown, "serve", "discovery"], vec![], vec!["pricing.sped", &unknown]),
        ("wrong type", vec!["--config", &wrong_type, "up"], vec![], vec!["pricing.speed", &wrong_type]),
        (
            "negative cap",
            vec!["--config", &negative, "serve", "optimization"],
            vec![],
            vec!["sites[0].cap_kw", &negative],
        ),
        (
            "unreadable file",
            vec!["--config", "/nonexistent/hcp.toml", "up"],
            vec![],
            vec!["cannot read /nonexistent/hcp.toml"],
        ),
        ("invalid TOML", vec!["--config", &bad_toml, "up"], vec![], vec![&bad_toml, "not valid TOML"]),
        (
            "bad env value",
            vec!["serve", "pricing"],
            vec![("HCP_PRICING__SPEED", "fast")],
            vec!["pricing.speed", "HCP_PRICING__SPEED"],
        ),
        ("unknown env key", vec!["up"], vec![("HCP_DISCOVERY__POLL", "1")], vec!["HCP_DISCOVERY__POLL"]),
        ("bad flag", vec!["up", "--poll-seconds=-1"], vec![], vec!["discovery.poll_seconds", "flag"]),
        (
            "colliding ports",
            vec!["serve", "pricing"],
            vec![("HCP_SERVICES__PRICING__GRPC", "127.0.0.1:50051")],
            vec!["services.pricing.grpc", "services.discovery.grpc"],
        ),
        (
            "unreadable prices",
            vec!["up", "--prices", "/nonexistent/prices.csv"],
            vec![],
            vec!["/nonexistent/prices.csv"],
        ),
        ("unknown service", vec!["serve", "billing"], vec![], vec!["unknown service \"billing\""]),
    ];
    for (what, args, env, named) in cases {
        let data = dir.path().join(format!("data-{}", what.replace(' ', "-")));
        let out = run(&data, &env, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{what}: succeeded: {err}");
        for n in named {
            assert!(err.contains(n), "{what}: {n:?} not named in: {err}");
        }
        assert!(!data.exists(), "{what}: the data directory was created: nothing may start");
    }
}

#[test]
fn config_dump_shows_every_layer_and_never_a_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("hcp.toml");
    std::fs::write(&file, "[pricing]\nspeed = 120.0\n[discovery]\npoll_seconds = 2.0\n").expect("write");
    let env = [("HCP_PRICING__SPEED", "900"), ("HCP_TELEMETRY__OTLP_TOKEN", "s3cret-token")];
    let out = run(&dir.path().join("data"), &env, &["--config", &file.display().to_string(), "config", "dump"]);
    let dump = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dump.contains("speed = 900.0"), "the environment beats the file: {dump}");
    assert!(dump.contains("poll_seconds = 2.0"), "the file beats the default: {dump}");
    assert!(!dump.contains("s3cret") && dump.contains("[redacted]"), "{dump}");
    // The dump is itself a valid configuration file.
    let again = dir.path().join("dumped.toml");
    std::fs::write(&again, dump.replace("otlp_token = \"[redacted]\"\n", "")).expect("write");
    let out = run(&dir.path().join("data"), &[], &["--config", &again.display().to_string(), "config", "dump"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn read_commands_do_not_create_a_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    for args in [&["events", "tail"][..], &["events", "read", "bitcoin"], &["status"]] {
        let out = run(&data, &[], args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("no event store at"), "{args:?}: {err}");
        assert!(!data.exists(), "{args:?} created the data directory");
    }
}
