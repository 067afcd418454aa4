//! The order a cycle considers the queue in: the higher class first (a workload that
//! has waited `aging` climbs one class per period, up to realtime, so nothing starves),
//! then the tenant furthest below its fair share (GPUs held per unit of weight, as at the
//! start of the cycle), then the earlier submission, then the id: a total order, so the
//! same queue always gives the same order.

use crate::fnv::FnvMap;
use crate::model::{Class, Input, Pending};
use std::collections::BTreeMap;

/// A class's rank, 0 = lowest.
pub fn rank(class: Class) -> u64 {
    match class {
        Class::Training => 0,
        Class::BatchInference => 1,
        Class::RealtimeInference => 2,
    }
}

/// The rank a workload is ordered by, with aging.
pub fn effective_rank(p: &Pending, now: i64, aging: i64) -> u64 {
    let aged = if aging > 0 { ((now - p.submitted_unix_micros).max(0) / aging) as u64 } else { 0 };
    (rank(p.class) + aged).min(rank(Class::RealtimeInference))
}

/// GPUs each tenant holds now.
pub fn usage(input: &Input) -> BTreeMap<String, u32> {
    let mut used = BTreeMap::new();
    for r in &input.running {
        *used.entry(r.tenant.clone()).or_insert(0) += r.gpus.len() as u32;
    }
    used
}

/// The queue's indices in the order the cycle considers them.
pub fn order(input: &Input, usage: &BTreeMap<String, u32>) -> Vec<usize> {
    // A tenant's share: GPUs held per unit of weight, in millis to stay an integer.
    let mut shares: FnvMap<&str, u64> = FnvMap::default();
    for p in &input.queue {
        if !shares.contains_key(p.tenant.as_str()) {
            let used = u64::from(usage.get(&p.tenant).copied().unwrap_or(0));
            let weight = input.tenants.get(&p.tenant).map_or(1, |q| u64::from(q.weight.max(1)));
            shares.insert(&p.tenant, used * 1000 / weight);
        }
    }
    let mut keyed: Vec<(u64, u64, i64, &str, usize)> = input
        .queue
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let rank = effective_rank(p, input.now_unix_micros, input.aging_micros);
            (u64::MAX - rank, shares[p.tenant.as_str()], p.submitted_unix_micros, &*p.id, i)
        })
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|k| k.4).collect()
}
