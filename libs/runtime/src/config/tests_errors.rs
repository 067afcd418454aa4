//! Table-driven tests of bad input: each must fail the load with an error that names the
//! dotted key and the file, variable or flag the bad value came from.

use std::path::Path;

use crate::config::tests::{vars, write};
use crate::config::{Config, ConfigError, ErrorKind, LoadOptions, Origin};

/// Where a case expects the bad value to have come from.
enum From {
    File,
    Env(&'static str),
    Flag(&'static str),
}

struct Case {
    name: &'static str,
    file: Option<&'static str>,
    env: &'static [(&'static str, &'static str)],
    flags: &'static [(&'static str, &'static str)],
    key: &'static str,
    from: From,
    kind: ErrorKind,
}

const fn file(name: &'static str, text: &'static str, key: &'static str, kind: ErrorKind) -> Case {
    Case { name, file: Some(text), env: &[], flags: &[], key, from: From::File, kind }
}

const CASES: &[Case] = &[
    file("unknown key in file", "[pricing]\nsped = 1\n", "pricing.sped", ErrorKind::UnknownKey),
    file("unknown section in file", "[pricng]\nspeed = 1\n", "pricng.speed", ErrorKind::UnknownKey),
    file(
        "unknown service",
        "[services.billing]\ngrpc = \"127.0.0.1:1\"\n",
        "services.billing.grpc",
        ErrorKind::UnknownKey,
    ),
    file("wrong type in file", "[pricing]\nspeed = \"fast\"\n", "pricing.speed", ErrorKind::Type),
    file("bad address in file", "[up]\nmetrics = \"localhost\"\n", "up.metrics", ErrorKind::Type),
    file("negative cap", "[[sites]]\nid = \"a\"\ncap_kw = -5\n", "sites[0].cap_kw", ErrorKind::Invalid),
    file("site without id", "[[sites]]\ncap_kw = 5\n", "sites[0].id", ErrorKind::Type),
    file("unknown site key", "[[sites]]\nid = \"a\"\ncapkw = 5\n", "sites[0].capkw", ErrorKind::UnknownKey),
    file("duplicate site ids", "[[sites]]\nid = \"a\"\n[[sites]]\nid = \"a\"\n", "sites[1].id", ErrorKind::Invalid),
    file("bad site id", "[[sites]]\nid = \"Tx_1\"\n", "sites[0].id", ErrorKind::Invalid),
    file("bad store url", "[store]\nurl = \"mysql://db\"\n", "store.url", ErrorKind::Invalid),
    file(
        "demand response at unknown site",
        "[[execution.demand_response]]\nsite = \"nowhere\"\ntopic = \"t\"\ncontracted_kw = 1\n",
        "execution.demand_response[0].site",
        ErrorKind::Invalid,
    ),
    file(
        "demand response broker not mqtt",
        "[[execution.demand_response]]\nsite = \"tx-south-1\"\nbroker = \"http://x\"\ntopic = \"t\"\ncontracted_kw = 1\n",
        "execution.demand_response[0].broker",
        ErrorKind::Invalid,
    ),
    file(
        "demand response without a topic",
        "[[execution.demand_response]]\nsite = \"tx-south-1\"\ncontracted_kw = 1\n",
        "execution.demand_response[0].topic",
        ErrorKind::Type,
    ),
    file("zero grace period", "[shutdown]\ngrace_seconds = 0\n", "shutdown.grace_seconds", ErrorKind::Invalid),
    file("missing btc file", "[pricing]\nbtc = \"/nonexistent/btc.csv\"\n", "pricing.btc", ErrorKind::Invalid),
    file("bad price source", "[pricing]\nsource = \"ftp://x\"\n", "pricing.source", ErrorKind::Invalid),
    file(
        "target at unknown site",
        "[[discovery.targets]]\nsite = \"nowhere\"\nfirst = \"10.0.0.1\"\nlast = \"10.0.0.2\"\n",
        "discovery.targets[0].site",
        ErrorKind::Invalid,
    ),
    file(
        "target range reversed",
        "[[discovery.targets]]\nsite = \"tx-south-1\"\nfirst = \"10.0.0.9\"\nlast = \"10.0.0.2\"\n",
        "discovery.targets[0].last",
        ErrorKind::Invalid,
    ),
    file(
        "port out of range",
        "[[discovery.targets]]\nsite = \"tx-south-1\"\nfirst = \"10.0.0.1\"\nlast = \"10.0.0.2\"\nport = 70000\n",
        "discovery.targets[0].port",
        ErrorKind::Type,
    ),
    file("simulator out of range", "[simulator]\ngpus_per_host = 17\n", "simulator.gpus_per_host", ErrorKind::Invalid),
    Case {
        name: "unknown key in env",
        file: None,
        env: &[("HCP_PRICING__SPED", "1")],
        flags: &[],
        key: "pricing.sped",
        from: From::Env("HCP_PRICING__SPED"),
        kind: ErrorKind::UnknownKey,
    },
    Case {
        name: "dial without a port",
        file: None,
        env: &[("HCP_SERVICES__DISCOVERY__DIAL", "discovery")],
        flags: &[],
        key: "services.discovery.dial",
        from: From::Env("HCP_SERVICES__DISCOVERY__DIAL"),
        kind: ErrorKind::Invalid,
    },
    Case {
        name: "bad env value",
        file: None,
        env: &[("HCP_PRICING__SPEED", "fast")],
        flags: &[],
        key: "pricing.speed",
        from: From::Env("HCP_PRICING__SPEED"),
        kind: ErrorKind::Type,
    },
    Case {
        name: "negative env value",
        file: None,
        env: &[("HCP_PRICING__SPEED", "-1")],
        flags: &[],
        key: "pricing.speed",
        from: From::Env("HCP_PRICING__SPEED"),
        kind: ErrorKind::Invalid,
    },
    Case {
        name: "array from env",
        file: None,
        env: &[("HCP_DISCOVERY__TARGETS", "x")],
        flags: &[],
        key: "discovery.targets",
        from: From::Env("HCP_DISCOVERY__TARGETS"),
        kind: ErrorKind::Type,
    },
    Case {
        name: "env overrides a file value badly",
        file: Some("[pricing]\nspeed = 5\n"),
        env: &[("HCP_PRICING__SPEED", "0")],
        flags: &[],
        key: "pricing.speed",
        from: From::Env("HCP_PRICING__SPEED"),
        kind: ErrorKind::Invalid,
    },
    Case {
        name: "bad alias value",
        file: None,
        env: &[("HCP_API", "https://h:1")],
        flags: &[],
        key: "services.optimization.grpc",
        from: From::Env("HCP_API"),
        kind: ErrorKind::Type,
    },
    Case {
        name: "colliding ports",
        file: None,
        env: &[],
        flags: &[("services.pricing.grpc", "127.0.0.1:50051")],
        key: "services.pricing.grpc",
        from: From::Flag("services.pricing.grpc"),
        kind: ErrorKind::Invalid,
    },
    Case {
        name: "earlier key collides",
        file: None,
        env: &[],
        flags: &[("services.discovery.http", "0.0.0.0:9464")],
        key: "services.discovery.http",
        from: From::Flag("services.discovery.http"),
        kind: ErrorKind::Invalid,
    },
    Case {
        name: "unknown flag",
        file: None,
        env: &[],
        flags: &[("store.uri", "x")],
        key: "store.uri",
        from: From::Flag("store.uri"),
        kind: ErrorKind::UnknownKey,
    },
];

fn load(case: &Case, dir: &Path) -> Result<Config, ConfigError> {
    let mut env = vars(case.env);
    env.push(("HOME".to_owned(), "/home/op".to_owned()));
    let file = case.file.map(|text| write(dir, text));
    Config::load(&LoadOptions { file, env, flags: vars(case.flags) })
}

#[test]
fn bad_inputs_name_the_key_and_the_origin() {
    for case in CASES {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = load(case, dir.path()).expect_err(case.name);
        let expected = match case.from {
            From::File => Origin::File(dir.path().join("hcp.toml")),
            From::Env(name) => Origin::Env(name.to_owned()),
            From::Flag(name) => Origin::Flag(name.to_owned()),
        };
        let shown = err.to_string();
        assert_eq!(
            (err.key.as_str(), &err.origin, err.kind),
            (case.key, &expected, case.kind),
            "{}: {shown}",
            case.name
        );
        assert!(shown.contains(case.key) && shown.contains(&expected.to_string()), "{}: {shown}", case.name);
    }
}

#[test]
fn messages_read_as_documented() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shown = |i: usize| load(&CASES[i], dir.path()).expect_err("fails").to_string();
    let path = dir.path().join("hcp.toml");
    let path = path.display();
    assert_eq!(shown(0), format!("config: unknown key pricing.sped (in {path})"));
    assert_eq!(shown(3), format!("config: pricing.speed (in {path}): expected a number, found a string"));
    let negative = CASES.iter().position(|c| c.name == "negative env value").expect("case");
    assert_eq!(
        shown(negative),
        "config: pricing.speed = -1 (from environment variable HCP_PRICING__SPEED): must be a positive number"
    );
    let collide = CASES.iter().position(|c| c.name == "colliding ports").expect("case");
    assert_eq!(
        shown(collide),
        "config: services.pricing.grpc = 127.0.0.1:50051 (from flag services.pricing.grpc): \
         collides with services.discovery.grpc = 127.0.0.1:50051"
    );
}

#[test]
fn unreadable_and_invalid_files_name_the_file() {
    let missing = LoadOptions { file: Some("/nonexistent/hcp.toml".into()), ..Default::default() };
    let err = Config::load(&missing).expect_err("missing file");
    assert_eq!(err.to_string(), "config: cannot read /nonexistent/hcp.toml: No such file or directory (os error 2)");
    assert_eq!((err.kind, err.origin), (ErrorKind::Read, Origin::File("/nonexistent/hcp.toml".into())));

    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "[pricing\nspeed = 1\n");
    let err = Config::load(&LoadOptions { file: Some(path.clone()), ..Default::default() }).expect_err("bad TOML");
    assert!(err.to_string().starts_with(&format!("config: {} is not valid TOML: ", path.display())), "{err}");
    assert_eq!((err.kind, err.origin), (ErrorKind::Syntax, Origin::File(path)));
}
