//! Scenarios a scheduler's users know: best fit keeps whole hosts free, a gang waits
//! whole, realtime preempts training, borrowing and its limits, and every wait has the
//! reason and counts users expect.

use hcp_placement::{Class, Gpu, Input, Locality, Pending, Reason, Running, Shape, TenantQuota, schedule};
use std::collections::BTreeMap;

fn host(h: usize, n: usize, model: &str) -> Vec<Gpu> {
    (0..n)
        .map(|g| Gpu {
            id: format!("{model}-h{h}-{g}"),
            model: model.into(),
            memory_mib: 81_920,
            site: "tx".into(),
            rack: format!("r{}", h / 2),
            host: format!("h{h}"),
            healthy: true,
            cordoned: false,
        })
        .collect()
}

fn job(id: &str, tenant: &str, class: Class, count: u32, locality: Locality) -> Pending {
    let shape = Shape { model: Some("h100".into()), count, min_memory_mib: 0, site: None, locality };
    Pending { id: id.into(), tenant: tenant.into(), class, shape, submitted_unix_micros: 0 }
}

fn quotas(entries: &[(&str, u32, u32)]) -> BTreeMap<String, TenantQuota> {
    entries
        .iter()
        .map(|&(t, nominal, borrow)| {
            (t.to_owned(), TenantQuota { nominal_gpus: nominal, borrowing_limit_gpus: borrow, weight: 1 })
        })
        .collect()
}

fn running(id: &str, tenant: &str, class: Class, gpus: &[Gpu]) -> Running {
    Running {
        id: id.into(),
        tenant: tenant.into(),
        class,
        preemptible: true,
        gpus: gpus.iter().map(|g| g.id.clone()).collect(),
        started_unix_micros: 0,
        preempting: false,
    }
}

#[test]
fn best_fit_keeps_a_whole_host_free_for_a_large_gang() {
    // h0 has 2 free GPUs (6 held), h1 is empty: a 2-GPU job goes to h0, an 8-GPU job to h1.
    let (h0, h1) = (host(0, 8, "h100"), host(1, 8, "h100"));
    let input = Input {
        gpus: [h0.clone(), h1].concat(),
        running: vec![running("old", "a", Class::Training, &h0[..6])],
        queue: vec![
            job("small", "a", Class::Training, 2, Locality::Any),
            job("big", "a", Class::Training, 8, Locality::Host),
        ],
        tenants: quotas(&[("a", 100, 0)]),
        ..Input::default()
    };
    let d = schedule(&input);
    assert_eq!(d.placements.len(), 2, "{d:#?}");
    let small = d.placements.iter().find(|p| &*p.workload == "small").expect("small placed");
    assert!(small.gpus.iter().all(|g| g.contains("-h0-")), "{small:?}");
}

#[test]
fn a_gang_that_cannot_fit_waits_whole_with_counts_per_filter() {
    let gpus = [host(0, 4, "h100"), host(1, 4, "l40s")].concat();
    let input = Input {
        gpus,
        queue: vec![job("gang", "a", Class::Training, 8, Locality::Host)],
        tenants: quotas(&[("a", 100, 0)]),
        ..Input::default()
    };
    let d = schedule(&input);
    assert!(d.placements.is_empty());
    let why = &d.pending[0];
    assert_eq!(why.reason, Reason::NoMatchingResources, "no host has 8 H100s: {why:?}");
    assert!(why.message.contains("4/8 GPUs free for 8 x h100 on one host: 4 wrong model"), "{}", why.message);
}

#[test]
fn realtime_preempts_the_newest_training_and_waits_for_it() {
    let h0 = host(0, 8, "h100");
    let mut old = running("old", "a", Class::Training, &h0[..4]);
    old.started_unix_micros = 1;
    let mut new = running("new", "a", Class::Training, &h0[4..]);
    new.started_unix_micros = 2;
    let input = Input {
        gpus: h0,
        running: vec![old, new],
        queue: vec![
            job("chat", "b", Class::RealtimeInference, 4, Locality::Host),
            job("train", "b", Class::Training, 4, Locality::Host),
        ],
        tenants: quotas(&[("a", 8, 0), ("b", 8, 0)]),
        ..Input::default()
    };
    let d = schedule(&input);
    assert_eq!(d.preemptions.len(), 1, "{d:#?}");
    assert_eq!((d.preemptions[0].victim.as_str(), &*d.preemptions[0].for_workload), ("new", "chat"));
    assert_eq!(d.pending[0].reason, Reason::WaitingForPreemptedWorkloads);
    // Training does not preempt training of the same class.
    assert_eq!(&*d.pending[1].workload, "train");
    assert_ne!(d.pending[1].reason, Reason::WaitingForPreemptedWorkloads);
}

#[test]
fn a_tenant_borrows_idle_quota_up_to_its_limit_and_the_owner_reclaims_it() {
    let gpus = [host(0, 8, "h100"), host(1, 8, "h100")].concat();
    let input = Input {
        gpus: gpus.clone(),
        queue: vec![
            job("a1", "a", Class::Training, 8, Locality::Any),
            job("a2", "a", Class::Training, 4, Locality::Any),
            job("a3", "a", Class::Training, 4, Locality::Any),
        ],
        tenants: quotas(&[("a", 8, 4), ("b", 8, 0)]),
        ..Input::default()
    };
    let d = schedule(&input);
    let placed: Vec<(&str, u32)> = d.placements.iter().map(|p| (&*p.workload, p.borrowed)).collect();
    assert_eq!(placed, [("a1", 0), ("a2", 4)], "{d:#?}");
    assert_eq!(d.pending[0].reason, Reason::BorrowingLimitReached, "{}", d.pending[0].message);

    // b comes for its quota: it preempts what a runs on borrowed GPUs.
    let input = Input {
        gpus: gpus.clone(),
        running: vec![
            running("a1", "a", Class::Training, &gpus[..8]),
            running("a2", "a", Class::Training, &gpus[8..12]),
        ],
        queue: vec![job("b1", "b", Class::Training, 8, Locality::Any)],
        tenants: quotas(&[("a", 8, 4), ("b", 8, 0)]),
        ..Input::default()
    };
    let d = schedule(&input);
    assert_eq!(d.preemptions.iter().map(|p| p.victim.as_str()).collect::<Vec<_>>(), ["a2"], "{d:#?}");
}

#[test]
fn every_wait_has_the_reason_users_know() {
    let gpus = host(0, 8, "h100");
    // a holds 6 GPUs, all its nominal quota: nothing idle to lend.
    let input = Input {
        gpus: gpus.clone(),
        running: vec![running("r", "a", Class::RealtimeInference, &gpus[..6])],
        queue: vec![
            job("nobody", "ghost", Class::Training, 1, Locality::Any),
            job("nothing-to-borrow", "b", Class::Training, 4, Locality::Any),
            job("over-limit", "a", Class::Training, 1, Locality::Any),
        ],
        tenants: quotas(&[("a", 6, 0), ("b", 2, 8)]),
        ..Input::default()
    };
    let d = schedule(&input);
    let reasons: BTreeMap<&str, &Reason> = d.pending.iter().map(|p| (&*p.workload, &p.reason)).collect();
    assert_eq!(reasons["nobody"], &Reason::Misconfigured);
    assert_eq!(reasons["nothing-to-borrow"], &Reason::WaitingForQuota);
    assert_eq!(reasons["over-limit"], &Reason::BorrowingLimitReached);

    // Within quota but not enough free: Resources, with the counts.
    let input = Input {
        running: vec![running("r", "a", Class::RealtimeInference, &gpus[..6])],
        gpus,
        queue: vec![job("too-busy", "c", Class::Training, 4, Locality::Any)],
        tenants: quotas(&[("a", 6, 0), ("c", 8, 0)]),
        ..Input::default()
    };
    let d = schedule(&input);
    assert_eq!(d.pending[0].reason, Reason::Resources);
    assert!(d.pending[0].message.starts_with("2/8 GPUs free for 4 x h100: 6 busy"), "{}", d.pending[0].message);
}

#[test]
fn a_long_wait_climbs_a_class_so_nothing_starves() {
    let gpus = host(0, 4, "h100");
    let mut old = job("old-training", "a", Class::Training, 4, Locality::Any);
    old.submitted_unix_micros = 0;
    let mut fresh = job("fresh-batch", "a", Class::BatchInference, 4, Locality::Any);
    fresh.submitted_unix_micros = 9_000;
    let input = Input {
        gpus,
        queue: vec![fresh, old],
        tenants: quotas(&[("a", 8, 0)]),
        now_unix_micros: 10_000,
        aging_micros: 5_000,
        ..Input::default()
    };
    let d = schedule(&input);
    assert_eq!(&*d.placements[0].workload, "old-training", "{d:#?}");
    assert_eq!(d.pending[0].reason, Reason::Priority);
}

#[test]
fn quota_whose_owner_waits_is_not_lent() {
    // 8 GPUs free; a (4 nominal, may borrow 4) was preempted for b (4 nominal) and waits
    // ahead of b's work: lending b's quota now would be taken back at once.
    let gpus = [host(0, 4, "h100"), host(1, 4, "h100")].concat();
    let input = Input {
        gpus,
        running: vec![],
        queue: vec![
            job("a-gang", "a", Class::Training, 8, Locality::Any),
            job("b-job", "b", Class::Training, 4, Locality::Any),
        ],
        tenants: quotas(&[("a", 4, 4), ("b", 4, 0)]),
        ..Input::default()
    };
    let decision = schedule(&input);
    let placed: Vec<&str> = decision.placements.iter().map(|p| p.workload.as_ref()).collect();
    assert_eq!(placed, ["b-job"], "{decision:?}");
    let waiting = decision.pending.iter().find(|p| p.workload.as_ref() == "a-gang").expect("a waits");
    assert_eq!(waiting.reason, Reason::WaitingForQuota, "{waiting:?}");
    // With b's queue empty, a borrows b's idle quota.
    let alone = Input { queue: vec![job("a-gang", "a", Class::Training, 8, Locality::Any)], ..input };
    assert_eq!(schedule(&alone).placements.len(), 1);
}
