//! Customers' workloads end to end, with every service a separate process on the
//! machine's JetStream (a private namespace): `hcp serve discovery|routing|execution`
//! and `hcp-agent`s on simulated GPUs (two hosts of 4 H100s at 60x, and one host at
//! another site that runs real processes).
//!
//! Two tenants: acme borrows globex's idle quota for an 8-GPU gang and gives it back
//! when globex needs it (acme's gang is preempted, re-queued, waits with its reason,
//! and resumes from its checkpoint when capacity frees); a realtime workload preempts
//! training and reports its endpoint; execution is killed (SIGKILL) mid-run and started
//! again, and the agents' own journals show no run started twice; a real process gets
//! `CUDA_VISIBLE_DEVICES` and its output comes back through `hcp workloads logs`; every
//! invalid submit is refused with the right code, naming the field, and records nothing;
//! an agent with a wrong token is refused.

use hcp_e2e::platform::jetstream_url;
use hcp_e2e::{Platform, eventually};
use hcp_eventstore::{AnyStore, EventStore};
use std::time::Duration;

/// A command line's words.
fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tenants_borrow_preempt_resume_and_survive_a_killed_execution() {
    let (url, server) = jetstream_url("e2ework");
    let store = AnyStore::open(&url)
        .await
        .unwrap_or_else(|e| panic!("NATS JetStream is required at {server} ({e}); `make nats` starts one"));
    let p = Platform::new(
        &url,
        21151,
        &[
            ("routing", "preemption_grace_seconds = 1.0\ncycle_seconds = 0.5"),
            ("execution", "agent_lost_seconds = 60.0"),
            ("discovery", "agent_timeout_seconds = 60.0"),
        ],
    );

    let _discovery = p.serve("discovery");
    let _routing = p.serve("routing");
    let mut execution = p.serve("execution");
    let _a1 = p.agent("a1", "tx-south-1", 4, "simulated", &p.token);
    let _a2 = p.agent("a2", "tx-south-1", 4, "simulated", &p.token);
    let _a3 = p.agent("p1", "lab", 2, "process", &p.token);
    let mut stray = p.agent("stray", "tx-south-1", 4, "simulated", "not-the-token-at-all");
    let status = tokio::task::spawn_blocking(move || {
        let s = stray.child.wait().expect("wait");
        // Its last lines are still being read.
        std::thread::sleep(Duration::from_millis(300));
        (s, stray.output())
    })
    .await
    .expect("join");
    assert!(!status.0.success(), "an agent with a wrong token is refused");
    assert!(status.1.contains("Unauthenticated"), "{}", status.1);

    p.ok(&["tenants", "create", "acme", "--nominal-gpus", "4", "--borrowing-limit-gpus", "4"]);
    p.ok(&["tenants", "create", "globex", "--nominal-gpus", "4", "--weight", "2"]);
    p.ok(&["tenants", "grant", "globex", "realtime-inference"]);
    eventually("10 GPUs registered", Duration::from_secs(30), || async {
        p.ok(&["hosts", "list"])
            .lines()
            .filter(|l| l.starts_with("a1 ") || l.starts_with("a2 ") || l.starts_with("p1 "))
            .count()
            == 3
    })
    .await;

    // Bad input: the right code, the field named, nothing recorded.
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: &[Case] = &[
        (&[("--gpus", "0")], "InvalidArgument", "spec.gpu_count"),
        (&[("--gpu-model", "B200")], "InvalidArgument", "spec.gpu_model"),
        (&[("--gpus", "5"), ("--locality", "host")], "InvalidArgument", "one host has (4)"),
        (&[("--gpus", "11")], "InvalidArgument", "the fleet has (10)"),
        (&[("--tenant", "nobody")], "InvalidArgument", "spec.tenant"),
        (
            &[("--kind", "realtime-inference"), ("--max-latency-ms", "50"), ("--port", "80")],
            "PermissionDenied",
            "spec.kind",
        ),
        (&[("--env", "1X=y")], "InvalidArgument", "spec.env"),
        (&[("--port", "70000")], "InvalidArgument", "spec.port"),
        (&[("--memory-mib", "900000")], "InvalidArgument", "spec.memory_mib"),
    ];
    for (overrides, code, field) in cases {
        let mut flags: Vec<(&str, &str)> = vec![
            ("--tenant", "acme"),
            ("--kind", "training"),
            ("--gpu-model", "H100"),
            ("--gpus", "1"),
            ("--duration", "1h"),
        ];
        for (flag, value) in *overrides {
            match flags.iter_mut().find(|(f, _)| f == flag) {
                Some(entry) => entry.1 = value,
                None => flags.push((flag, value)),
            }
        }
        let mut args = vec!["workloads", "submit"];
        args.extend(flags.iter().flat_map(|(f, v)| [*f, *v]));
        let out = p.hcp(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(code) && err.contains(field), "{overrides:?}: {err}");
    }
    let out = p.hcp(&words("workloads submit --tenant acme --kind training --gpu-model H100 --gpus 1 --duration 5x"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--duration"), "a bad duration names its flag");
    let log = store.read_all(0, usize::MAX).await.expect("log");
    assert!(!log.iter().any(|e| e.stream.starts_with("workload-")), "a refused submit records nothing");

    // acme's gang borrows globex's idle quota.
    let t1_flags = "--tenant acme --kind training --gpu-model H100 --gpus 8 --duration 20m --checkpointing --site tx-south-1 --key t1";
    let t1 = p.submit(t1_flags);
    assert_eq!(p.submit(t1_flags), t1, "the same key answers the same workload");
    let out = p.hcp(&words(
        "workloads submit --tenant acme --kind training --gpu-model H100 --gpus 4 --duration 20m --key t1",
    ));
    assert!(String::from_utf8_lossy(&out.stderr).contains("AlreadyExists"), "a reused key with another spec");
    p.until(&t1, "running", Duration::from_secs(20)).await;
    assert!(
        p.ok(&["tenants", "list"]).lines().any(|l| l.starts_with("acme") && l.split_whitespace().nth(4) == Some("8"))
    );
    // Long enough for a checkpoint (every 120 s of its run, 2 s here).
    eventually("t1 checkpointed", Duration::from_secs(20), || async { p.get(&t1)["progressMs"].as_str().is_some() })
        .await;

    // globex needs its quota back: acme's gang is preempted and waits with its reason.
    let g1 = p.submit("--tenant globex --kind training --gpu-model H100 --gpus 4 --duration 2m --site tx-south-1");
    p.until(&g1, "running", Duration::from_secs(20)).await;
    let waiting = p.until(&t1, "queued", Duration::from_secs(10)).await;
    assert_eq!(waiting["attempts"], 2, "{waiting}");
    let why = p.ok(&["workloads", "why", &t1]);
    assert!(why.contains("waits:") && why.contains("#1"), "{why}");
    // When globex's work ends, acme's gang starts again from its checkpoint.
    p.until(&g1, "completed", Duration::from_secs(30)).await;
    let resumed = p.until(&t1, "running", Duration::from_secs(20)).await;
    assert_eq!(resumed["attempts"], 2, "{resumed}");
    assert!(resumed["progressMs"].as_str().and_then(|s| s.parse::<u64>().ok()).unwrap_or(0) >= 120_000, "{resumed}");

    // Realtime inference preempts training, and its endpoint is reported.
    let r1 = p.submit("--tenant globex --kind realtime-inference --gpu-model H100 --gpus 4 --duration 1m --max-latency-ms 50 --port 8000 --site tx-south-1");
    let serving = p.until(&r1, "running", Duration::from_secs(20)).await;
    assert!(serving["endpoint"].as_str().is_some_and(|e| e.ends_with(":8000")), "{serving}");
    p.until(&t1, "queued", Duration::from_secs(10)).await;
    p.until(&r1, "completed", Duration::from_secs(30)).await;
    p.until(&t1, "running", Duration::from_secs(20)).await;

    // A real process: CUDA_VISIBLE_DEVICES set to its GPUs, its output kept.
    let proc = p.submit_command(
        "--tenant acme --kind batch-inference --gpu-model H100 --gpus 2 --duration 1m --site lab",
        &["sh", "-c", "echo gpus=$CUDA_VISIBLE_DEVICES"],
    );
    p.until(&proc, "completed", Duration::from_secs(20)).await;
    let logs = p.ok(&["workloads", "logs", &proc]);
    assert!(logs.contains("gpus=0,1"), "{logs}");

    // SIGKILL execution mid-run; a new one resumes from the log.
    execution.child.kill().expect("kill");
    execution.child.wait().expect("wait");
    let late = p.submit("--tenant globex --kind batch-inference --gpu-model H100 --gpus 2 --duration 5s --site lab");
    let _execution = p.serve("execution");
    p.until(&late, "completed", Duration::from_secs(30)).await;
    let done = p.until(&t1, "completed", Duration::from_secs(60)).await;
    assert_eq!(done["attempts"], 3, "{done}");

    // The agents' own journals: every run of t1 started once on each of its hosts.
    for host in ["a1", "a2"] {
        let journal = p.journal(host);
        assert!(journal.values().all(|n| *n == 1), "{host} started a run twice: {journal:?}");
        assert_eq!((1..=3).filter(|a| journal.contains_key(&(t1.clone(), *a))).count(), 3, "{host}: {journal:?}");
    }
    let history = p.ok(&["workloads", "history", &t1]);
    assert_eq!(history.matches("workload.preempted").count(), 2, "{history}");
    assert_eq!(history.matches("workload.completed").count(), 1, "{history}");
}
