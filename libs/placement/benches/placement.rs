//! `make bench` for the placement core: prints `bench: <name> = <value> <unit>`.
//!
//! 10,000 GPUs (1,250 hosts of 8, three models, two sites, four hosts a rack) and
//! 100,000 queued workloads of mixed shapes, classes and tenants:
//! - placements/s: one cycle on an empty fleet, placements made over the cycle's time
//!   (the cycle also gives every workload left waiting its reason);
//! - one full cycle with the fleet full (every GPU held by preemptible training of the
//!   same tenants, so each waiting workload gets its reason and higher classes look for
//!   victims), ms.

use hcp_placement::{Class, Gpu, Input, Locality, Pending, Running, Shape, TenantQuota, schedule};
use std::time::Instant;

const MODELS: [(&str, u64); 3] = [("h100-sxm-80gb", 81_920), ("a100-sxm-80gb", 81_920), ("l40s-48gb", 49_152)];

/// A small deterministic generator (same run, same numbers).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

fn fleet() -> Vec<Gpu> {
    let mut gpus = Vec::with_capacity(10_000);
    for h in 0..1_250 {
        let (model, memory) = MODELS[if h % 10 < 6 {
            0
        } else if h % 10 < 9 {
            1
        } else {
            2
        }];
        for g in 0..8 {
            gpus.push(Gpu {
                id: format!("gpu-{h}-{g}"),
                model: model.into(),
                memory_mib: memory,
                site: format!("site-{}", h % 2),
                rack: format!("rack-{}", h / 4),
                host: format!("host-{h}"),
                healthy: true,
                cordoned: false,
            });
        }
    }
    gpus
}

fn queue(rng: &mut Lcg) -> Vec<Pending> {
    (0..100_000)
        .map(|i| {
            let count = [1, 1, 2, 4, 8, 16][rng.next(6) as usize];
            let locality = if count <= 8 && rng.next(2) == 0 { Locality::Host } else { Locality::Any };
            let model = match rng.next(4) {
                3 => None,
                m => Some(MODELS[m as usize].0.to_owned()),
            };
            let class = [Class::Training, Class::BatchInference, Class::RealtimeInference][rng.next(3) as usize];
            Pending {
                id: format!("w-{i}").into(),
                tenant: format!("t-{}", rng.next(10)),
                class,
                shape: Shape { model, count, min_memory_mib: 0, site: None, locality },
                submitted_unix_micros: i as i64,
            }
        })
        .collect()
}

fn tenants() -> std::collections::BTreeMap<String, TenantQuota> {
    (0..10)
        .map(|t| (format!("t-{t}"), TenantQuota { nominal_gpus: 2_000, borrowing_limit_gpus: 500, weight: 1 + t % 3 }))
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut rng = Lcg(42);
    let gpus = fleet();
    let queue = queue(&mut rng);
    let input = Input {
        gpus: gpus.clone(),
        running: Vec::new(),
        queue: queue.clone(),
        tenants: tenants(),
        now_unix_micros: 200_000,
        aging_micros: 0,
    };
    let mut rates = Vec::new();
    let mut placed = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let d = schedule(&input);
        let s = t.elapsed().as_secs_f64();
        placed = d.placements.len();
        rates.push(placed as f64 / s);
    }
    println!(
        "bench: placement_whole_cycle_placements_{placed}_of_100000_queued_10000_gpus = {:.0} placements/s",
        median(rates)
    );

    // While free capacity lasts: the same cycle over the queue up to the last workload it
    // places, in the cycle's own order (the decisions on that prefix are the same ones).
    let d = schedule(&input);
    let placed_ids: std::collections::HashSet<&str> = d.placements.iter().map(|p| &*p.workload).collect();
    let ordered = hcp_placement::order::order(&input, &hcp_placement::order::usage(&input));
    let last = ordered.iter().rposition(|&i| placed_ids.contains(&*input.queue[i].id)).unwrap_or(0);
    let prefix = Input { queue: ordered[..=last].iter().map(|&i| input.queue[i].clone()).collect(), ..input.clone() };
    let mut rates = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let d = schedule(&prefix);
        rates.push(d.placements.len() as f64 / t.elapsed().as_secs_f64());
        assert_eq!(d.placements.len(), placed, "the prefix places the same workloads");
    }
    println!(
        "bench: placement_rate_while_capacity_lasts_{placed}_placements_{}_considered = {:.0} placements/s",
        last + 1,
        median(rates)
    );

    // The fleet full: each host's 8 GPUs held by one preemptible training job of a tenant.
    let running: Vec<Running> = (0..1_250)
        .map(|h| Running {
            id: format!("r-{h}"),
            tenant: format!("t-{}", h % 10),
            class: Class::Training,
            preemptible: true,
            gpus: (0..8).map(|g| format!("gpu-{h}-{g}")).collect(),
            started_unix_micros: h as i64,
            preempting: false,
        })
        .collect();
    let full = Input { running, ..input };
    let mut times = Vec::new();
    let mut decision = None;
    for _ in 0..5 {
        let t = Instant::now();
        let d = schedule(&full);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        decision = Some(d);
    }
    let d = decision.unwrap_or_default();
    assert_eq!(d.pending.len() + d.placements.len(), 100_000, "every workload placed or given a reason");
    println!("bench: placement_full_cycle_100000_queued_fleet_full = {:.1} ms", median(times));
    println!("bench: placement_full_cycle_preemptions = {} victims", d.preemptions.len());
}
