//! `hcp up` as a real process, and `hcp resources` and `hcp events` against it.

use hcp_e2e::{hcp, hcp_bin, stdout_ok};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn up_finds_the_fleet_and_resources_list_shows_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = format!("sqlite:{}", dir.path().join("events.db").display());
    let grpc = "127.0.0.1:20093";
    let api = "127.0.0.1:20094";
    let data = |rel: &str| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(rel);
    let mut child = Command::new(hcp_bin())
        .env("HCP_STORE", &store)
        .env("HCP_DATA_DIR", dir.path())
        // Ports no other test uses: the ones given, or any free one (0).
        .env("HCP_SERVICES__PRICING__GRPC", "127.0.0.1:0")
        .env("HCP_SERVICES__ROUTING__GRPC", "127.0.0.1:0")
        .env("HCP_SERVICES__EXECUTION__GRPC", "127.0.0.1:0")
        .env("HCP_SERVICES__METERING__GRPC", "127.0.0.1:20095")
        .env("HCP_SERVICES__NOTIFICATIONS__GRPC", "127.0.0.1:0")
        .env("HCP_SERVICES__GATEWAY__HTTP", "127.0.0.1:0")
        .env("HCP_SERVICES__GATEWAY__GRPC", "127.0.0.1:0")
        .env("HCP_UP__METRICS", "127.0.0.1:0")
        // Telemetry summarized every second, so metering records energy and mining soon.
        .env("HCP_DISCOVERY__SUMMARY_SECONDS", "1")
        .args(["up", "--sites", "2", "--miners-per-site", "30", "--first-octet", "230", "--gpu-hosts", "2"])
        .args(["--gpus-per-host", "4", "--grpc", grpc, "--poll-seconds", "0.5", "--api", api, "--price-speed", "9000"])
        .arg("--prices")
        .arg(data("data/ercot/hb_south_15min_2024-06_2024-12.csv"))
        .arg("--btc")
        .arg(data("data/bitcoin/btc_daily_2020-04_2024-12.csv"))
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hcp up");
    let stderr = child.stderr.take().expect("stderr");
    let _up = Killed(child);
    let mut lines = BufReader::new(stderr).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    loop {
        let Some(line) = lines.next() else { panic!("hcp up ended early: {seen:#?}") };
        let line = line.expect("read");
        seen.push(line.clone());
        if line.starts_with("ready:") {
            break;
        }
        assert!(Instant::now() < deadline, "not ready in time: {seen:#?}");
    }
    std::thread::spawn(move || lines.for_each(drop));
    let metrics = seen
        .iter()
        .find_map(|l| l.strip_prefix("metrics: http://").and_then(|rest| rest.split('/').next()))
        .expect("the metrics address is printed")
        .to_owned();

    // The gateway answers with the demo tenant's key it printed (and kept in the data directory).
    let gateway = seen
        .iter()
        .find_map(|l| l.strip_prefix("gateway: REST on http://").and_then(|rest| rest.split('/').next()))
        .expect("the gateway address is printed")
        .to_owned();
    let key = seen
        .iter()
        .find_map(|l| l.strip_prefix("api key: ").and_then(|rest| rest.split_whitespace().next()))
        .expect("the demo key is printed")
        .to_owned();
    let kept = std::fs::read_to_string(dir.path().join("credentials")).expect("the credentials file");
    assert!(kept.contains(&format!("HCP_API_KEY={key}")), "{kept}");
    let admin = seen
        .iter()
        .find_map(|l| l.strip_prefix("admin key: ").and_then(|rest| rest.split_whitespace().next()))
        .expect("the admin key is printed")
        .to_owned();
    assert!(kept.contains(&format!("HCP_ADMIN_KEY={admin}")), "{kept}");
    let rest = |path: &str, key: &str| {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&gateway).expect("connect to the gateway");
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).expect("write");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        answer
    };
    let get = |key: &str| rest("/v1/workloads", key);
    assert!(get(&key).starts_with("HTTP/1.1 200"), "{}", get(&key));
    assert!(get("hcp_not_a_key").starts_with("HTTP/1.1 401"));
    assert!(rest("/v1/ready", "").starts_with("HTTP/1.1 200"), "{}", rest("/v1/ready", ""));
    assert!(rest("/v1/resources", &key).starts_with("HTTP/1.1 403"), "the fleet is the platform's");
    let page = rest("/v1/resources?site=tx-south-2&page_size=5", &admin);
    assert!(page.starts_with("HTTP/1.1 200") && page.matches("\"id\":\"asic-127.231.").count() == 5, "{page}");

    let discovery = format!("http://{grpc}");
    let wait_for = |what: &str, check: &dyn Fn(&str) -> bool, args: &[&str]| {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = stdout_ok(&hcp(&store, args));
            if check(&out) {
                return out;
            }
            assert!(Instant::now() < deadline, "{what}: {out}");
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let all = ["resources", "list", "--discovery", &discovery];
    let listed = wait_for("60 miners and 8 GPUs", &|o| o.lines().count() == 1 + 60 + 8, &all);
    assert!(listed.starts_with("ID"), "{listed}");
    assert_eq!(listed.lines().filter(|l| l.starts_with("asic-127.231.")).count(), 30);

    let json =
        stdout_ok(&hcp(&store, &["resources", "list", "--discovery", &discovery, "--site", "tx-south-2", "--json"]));
    let first: serde_json::Value = serde_json::from_str(json.lines().next().expect("a line")).expect("json");
    assert_eq!(first["spec"]["site"], "tx-south-2");
    assert_eq!(first["mode"], "RESOURCE_MODE_MINING");

    let got = stdout_ok(&hcp(&store, &["resources", "get", "asic-127.230.0.1", "--discovery", &discovery, "--json"]));
    let got: serde_json::Value = serde_json::from_str(got.trim()).expect("json");
    assert!(got["telemetry"]["hashrateThs"].as_f64().is_some_and(|h| h > 150.0), "{got}");

    let missing = hcp(&store, &["resources", "get", "asic-10.9.9.9", "--discovery", &discovery]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no resource \"asic-10.9.9.9\""));

    let tail = stdout_ok(&hcp(&store, &["events", "tail", "-n", "5000", "--json"]));
    assert!(tail.lines().filter(|l| l.contains("\"resource.registered\"")).count() >= 60, "{tail}");

    // The optimizer plans a site on demand, records the plan and explains it.
    let api_url = format!("http://{api}");
    let planned = wait_for("a plan", &|o| o.starts_with("plan "), &["plan", "--site", "tx-south-2", "--api", &api_url]);
    assert!(planned.contains("Antminer S21") && planned.contains("/MWh"), "{planned}");
    let plan_id = planned.split_whitespace().nth(1).expect("plan id").to_owned();
    let explained = stdout_ok(&hcp(&store, &["explain", &plan_id, "--api", &api_url, "--json"]));
    let explained: serde_json::Value = serde_json::from_str(explained.trim()).expect("json");
    assert_eq!(explained["planId"], plan_id.as_str());
    let offline = hcp(&store, &["explain", &plan_id, "--api", "http://127.0.0.1:1", "--json"]);
    assert!(String::from_utf8_lossy(&offline.stderr).contains("read from the log"), "{offline:?}");
    let offline: serde_json::Value = serde_json::from_str(stdout_ok(&offline).trim()).expect("json");
    assert_eq!(offline, explained, "the log holds what optimization explained");
    // The same over REST: the site's latest plan, its plans, the plan with its reasons.
    let sites = rest("/v1/sites", &admin);
    assert!(sites.starts_with("HTTP/1.1 200") && sites.contains("\"capKw\""), "{sites}");
    let plans = rest("/v1/plans?site=tx-south-2&page_size=50", &admin);
    assert!(plans.contains(&plan_id), "{plans}");
    let one = rest(&format!("/v1/plans/{plan_id}"), &admin);
    assert!(one.starts_with("HTTP/1.1 200") && one.contains("\"groups\""), "{one}");
    let unknown = hcp(&store, &["plan", "--site", "mars-1", "--api", &api_url]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown site \"mars-1\""), "{unknown:?}");

    // One /metrics for the process: gRPC calls by method and code, projection lag, store latency.
    let scrape = wait_for_metrics(&metrics, "hcp_projection_lag_events{projection=\"optimization-planner\"}");
    assert!(
        scrape.contains(
            "hcp_grpc_server_requests_total{service=\"optimization\",method=\"/hcp.v1.Optimization/Plan\",code=\"Ok\"}"
        ),
        "{scrape}"
    );
    assert!(scrape.contains("hcp_grpc_server_requests_total{service=\"optimization\",method=\"/hcp.v1.Optimization/Plan\",code=\"NotFound\"}"), "{scrape}");
    assert!(scrape.contains("hcp_store_operation_duration_seconds_bucket"), "{scrape}");

    // `hcp status` finds the seven services (metering with its recorder and view, the gateway with its key and
    // user projections), serving, and the planner's checkpoint.
    let status = stdout_ok(&hcp(&store, &["status", "--json"]));
    let status: serde_json::Value = serde_json::from_str(status.trim()).expect("json");
    let services = status["services"].as_array().expect("services");
    let names: Vec<&str> = services.iter().filter_map(|s| s["service"].as_str()).collect();
    assert_eq!(
        names,
        ["discovery", "pricing", "optimization", "routing", "execution", "metering", "notifications", "gateway"],
        "{status}"
    );
    assert!(services.iter().all(|s| s["state"] == "serving"), "{status}");
    let consumers = services[2]["consumers"].as_array().expect("consumers");
    let planner = &consumers[0];
    assert_eq!(
        (&planner["name"], &planner["kind"]),
        (&"optimization-planner".into(), &"checkpointed".into()),
        "{status}"
    );
    assert!(planner["position"].as_u64().is_some_and(|c| c > 0), "{status}");
    let view = &consumers[1];
    assert_eq!((&view["name"], &view["kind"]), (&"optimization-view".into(), &"in-memory".into()), "{status}");
    assert!(view["position"].as_u64().is_some_and(|c| c > 0), "{status}");

    // Sites are seeded from the configuration; a cap changes at run time by a recorded command.
    let sites = stdout_ok(&hcp(&store, &["sites", "list"]));
    assert!(sites.lines().any(|l| l.starts_with("tx-south-2") && l.contains("1900.0")), "{sites}");
    let set = stdout_ok(&hcp(
        &store,
        &["sites", "set-cap", "tx-south-2", "40", "--reason", "utility request", "--api", &api_url],
    ));
    assert!(set.starts_with("tx-south-2: cap 40.0 kW"), "{set}");
    let changed = stdout_ok(&hcp(&store, &["events", "read", "site-tx-south-2", "--json"]));
    let changed: serde_json::Value = serde_json::from_str(changed.lines().last().expect("an event")).expect("json");
    assert_eq!(changed["type"], "site.cap_changed", "{changed}");
    assert!(changed["actor"].as_str().is_some_and(|a| a.starts_with("operator:")), "{changed}");
    let planned = wait_for(
        "a plan under the new cap",
        &|o| o.contains("of 40 kW"),
        &["plan", "--site", "tx-south-2", "--api", &api_url],
    );
    assert!(planned.starts_with("plan "), "{planned}");
    for (args, error) in [
        (["sites", "set-cap", "tx-south-2", "-5"], "must be a positive number of kW"),
        (["sites", "set-cap", "mars-1", "10"], "no such site"),
    ] {
        let mut args: Vec<&str> = args.to_vec();
        args.extend(["--reason", "x", "--api", &api_url]);
        let out = hcp(&store, &args);
        assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains(error), "{args:?}: {out:?}");
    }

    // Metering records the miners' energy and mining: each site's margin has hashes, BTC
    // and dollars from them.
    let mining = |o: &str| {
        let sites: Vec<serde_json::Value> = o.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
        let micros = |v: &serde_json::Value| v.as_str().and_then(|m| m.parse::<i64>().ok()).unwrap_or(0);
        sites.len() >= 2
            && sites
                .iter()
                .all(|s| s["terahashes"].as_f64().is_some_and(|t| t > 0.0) && micros(&s["miningUsdMicros"]) > 0)
    };
    let margins = wait_for("mining at both sites", &mining, &["margins", "--json", "--api", "http://127.0.0.1:20095"]);
    assert!(margins.contains("tx-south-1") && margins.contains("tx-south-2"), "{margins}");

    // With discovery unreachable, the inventory is folded from the log instead, and said so.
    let nowhere = hcp(&store, &["resources", "list", "--discovery", "http://127.0.0.1:1"]);
    assert!(String::from_utf8_lossy(&nowhere.stderr).contains("cannot reach http://127.0.0.1:1"), "{nowhere:?}");
    assert!(String::from_utf8_lossy(&nowhere.stderr).contains("read from the log"), "{nowhere:?}");
    assert_eq!(stdout_ok(&nowhere).lines().count(), 1 + 60 + 8);
    let dir2 = tempfile::tempdir().expect("tempdir");
    let no_store = format!("sqlite:{}", dir2.path().join("none.db").display());
    let neither = hcp(&no_store, &["resources", "list", "--discovery", "http://127.0.0.1:1"]);
    let err = String::from_utf8_lossy(&neither.stderr);
    assert!(!neither.status.success() && err.contains("cannot reach") && err.contains("no event store at"), "{err}");
}

/// GETs `/metrics` until it contains `series` (projections report lag once a second).
fn wait_for_metrics(addr: &str, series: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let body = http_get(addr, "/metrics");
        if body.contains(series) {
            return body;
        }
        assert!(Instant::now() < deadline, "no {series} in {body}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A plain HTTP/1.1 GET, the body as text.
fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(addr).expect("connect");
    write!(conn, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("send");
    let mut response = String::new();
    conn.read_to_string(&mut response).expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default()
}
