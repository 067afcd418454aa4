//! Properties of a scheduling cycle over random fleets, running sets, queues and quotas:
//! no GPU given twice or while held, every gang whole and where it asked, every placed
//! GPU of the asked kind, no tenant past its nominal quota and borrowing limit, every
//! queued workload placed or given a reason exactly once, only allowed victims, and the
//! same decision whatever order the queue arrives in.

use hcp_placement::{Class, Gpu, Input, Locality, Pending, Running, Shape, TenantQuota, schedule};
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};

const MODELS: [&str; 2] = ["h100-sxm-80gb", "l40s-48gb"];

fn class(n: u8) -> Class {
    [Class::Training, Class::BatchInference, Class::RealtimeInference][usize::from(n % 3)]
}

prop_compose! {
    fn fleet()(hosts in proptest::collection::vec((0usize..2, 1usize..9, any::<bool>(), 0u8..10), 1..8)) -> Vec<Gpu> {
        let mut gpus = Vec::new();
        for (h, (model, n, site, health)) in hosts.into_iter().enumerate() {
            for g in 0..n {
                gpus.push(Gpu {
                    id: format!("g{h}-{g}"),
                    model: MODELS[model].into(),
                    memory_mib: if model == 0 { 81_920 } else { 49_152 },
                    site: if site { "a".into() } else { "b".into() },
                    rack: format!("r{}", h / 2),
                    host: format!("h{h}"),
                    healthy: health != 0,
                    cordoned: health == 1,
                });
            }
        }
        gpus
    }
}

fn shape() -> impl Strategy<Value = Shape> {
    (proptest::option::of(0usize..3), 1u32..10, 0u8..3, proptest::option::of(any::<bool>()), any::<bool>()).prop_map(
        |(model, count, locality, site, big)| Shape {
            model: model.map(|m| MODELS.get(m).copied().unwrap_or("a100-sxm-80gb").to_owned()),
            count,
            min_memory_mib: if big { 60_000 } else { 0 },
            site: site.map(|s| if s { "a".to_owned() } else { "b".to_owned() }),
            locality: [Locality::Any, Locality::Rack, Locality::Host][usize::from(locality)],
        },
    )
}

prop_compose! {
    fn input()(
        gpus in fleet(),
        queue in proptest::collection::vec((shape(), 0u8..3, 0u8..4, 0i64..100), 0..30),
        held in proptest::collection::vec((0u8..4, 0u8..3, any::<bool>(), 1usize..5), 0..6),
        quotas in proptest::collection::vec((0u32..20, 0u32..10, 1u32..4), 3),
    ) -> Input {
        let queue = queue
            .into_iter()
            .enumerate()
            .map(|(i, (shape, c, t, at))| Pending {
                id: format!("w{i}").into(),
                tenant: format!("t{t}"),
                class: class(c),
                shape,
                submitted_unix_micros: at,
            })
            .collect();
        // Running work holds consecutive GPUs of the fleet.
        let mut running = Vec::new();
        let mut next = 0;
        for (k, (t, c, preemptible, n)) in held.into_iter().enumerate() {
            if next + n > gpus.len() {
                break;
            }
            running.push(Running {
                id: format!("r{k}"),
                tenant: format!("t{t}"),
                class: class(c),
                preemptible,
                gpus: gpus[next..next + n].iter().map(|g| g.id.clone()).collect(),
                started_unix_micros: k as i64,
                preempting: false,
            });
            next += n;
        }
        // t3 has no quota.
        let tenants = quotas
            .into_iter()
            .enumerate()
            .map(|(t, (nominal, borrow, weight))| {
                (format!("t{t}"), TenantQuota { nominal_gpus: nominal, borrowing_limit_gpus: borrow, weight })
            })
            .collect();
        Input { gpus, running, queue, tenants, now_unix_micros: 1_000, aging_micros: 0 }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_cycle_keeps_every_invariant(input in input()) {
        let d = schedule(&input);
        let by_id: HashMap<&str, &Gpu> = input.gpus.iter().map(|g| (g.id.as_str(), g)).collect();
        let held: HashSet<&str> = input.running.iter().flat_map(|r| r.gpus.iter().map(String::as_str)).collect();
        let queued: HashMap<&str, &Pending> = input.queue.iter().map(|p| (&*p.id, p)).collect();
        let mut given = HashSet::new();
        let mut placed: BTreeMap<&str, u32> = BTreeMap::new();
        for p in &d.placements {
            let w = queued[&*p.workload];
            prop_assert_eq!(p.gpus.len() as u32, w.shape.count, "a gang whole or absent");
            for g in &p.gpus {
                prop_assert!(given.insert(g.as_str()), "GPU {} given twice", g);
                prop_assert!(!held.contains(g.as_str()), "GPU {} is held by running work", g);
                let gpu = by_id[g.as_str()];
                prop_assert!(gpu.healthy && !gpu.cordoned);
                prop_assert!(w.shape.model.as_ref().is_none_or(|m| *m == gpu.model));
                prop_assert!(gpu.memory_mib >= w.shape.min_memory_mib);
                prop_assert!(w.shape.site.as_ref().is_none_or(|s| *s == gpu.site));
            }
            let hosts: HashSet<&str> = p.gpus.iter().map(|g| by_id[g.as_str()].host.as_str()).collect();
            let racks: HashSet<&str> = p.gpus.iter().map(|g| by_id[g.as_str()].rack.as_str()).collect();
            match w.shape.locality {
                Locality::Host => prop_assert_eq!(hosts.len(), 1),
                Locality::Rack => prop_assert_eq!(racks.len(), 1),
                Locality::Any => {}
            }
            *placed.entry(w.tenant.as_str()).or_insert(0) += w.shape.count;
        }
        // Quotas: nobody past nominal plus its borrowing limit; no quota, no placement.
        for (tenant, n) in &placed {
            let q = input.tenants.get(*tenant);
            prop_assert!(q.is_some(), "tenant {} has no quota", tenant);
            let q = q.expect("checked");
            let before: u32 = input.running.iter().filter(|r| r.tenant == *tenant).map(|r| r.gpus.len() as u32).sum();
            prop_assert!(before + n <= q.nominal_gpus.max(before) + q.borrowing_limit_gpus);
        }
        // Every queued workload is placed or waits, once; positions count up from 1.
        let mut seen = HashSet::new();
        for w in d.placements.iter().map(|p| &*p.workload).chain(d.pending.iter().map(|p| &*p.workload)) {
            prop_assert!(seen.insert(w), "{} decided twice", w);
        }
        prop_assert_eq!(seen.len(), input.queue.len());
        for (k, p) in d.pending.iter().enumerate() {
            prop_assert_eq!(p.position, k + 1);
        }
        // Victims may be preempted, and are of a lower class or borrowing.
        for v in &d.preemptions {
            let r = input.running.iter().find(|r| r.id == v.victim).expect("a running victim");
            let w = queued[&*v.for_workload];
            prop_assert!(r.preemptible);
            prop_assert!(r.class < w.class || r.tenant != w.tenant, "{:?} for {:?}", r, w);
        }
        // The same input in another order: the same decision.
        let mut reversed = input.clone();
        reversed.queue.reverse();
        prop_assert_eq!(schedule(&reversed), d);
    }
}
