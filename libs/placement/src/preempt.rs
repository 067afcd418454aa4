//! Choosing victims: running, preemptible work that a waiting workload may displace (a
//! lower class, or work its tenant runs on borrowed GPUs while the waiting workload's
//! tenant is within its nominal quota), taken cheapest first (lowest class, then the
//! most recently started, so the least work is lost, then the fewest GPUs) until the
//! gang would fit on what is free plus what they hold.

use crate::capacity::Capacity;
use crate::model::{Pending, Running, Shape};
use crate::order::rank;
use crate::quota::Quotas;

/// The most victims tried for one workload.
const MAX_VICTIMS: usize = 64;

/// The running work a cycle may preempt, cheapest first, with its GPUs (indices); built
/// once a cycle.
pub struct Candidates {
    by_cost: Vec<usize>,
    gpus: Vec<Vec<usize>>,
}

impl Candidates {
    /// Orders `running` by cost; `gpu_index` finds a GPU by id.
    pub fn new(running: &[Running], gpu_index: &dyn Fn(&str) -> Option<usize>) -> Candidates {
        let gpus: Vec<Vec<usize>> =
            running.iter().map(|r| r.gpus.iter().filter_map(|g| gpu_index(g)).collect()).collect();
        let mut keyed: Vec<(u64, i64, usize, usize)> = running
            .iter()
            .enumerate()
            .filter(|(_, r)| r.preemptible && !r.preempting)
            .map(|(i, r)| (rank(r.class), -r.started_unix_micros, r.gpus.len(), i))
            .collect();
        keyed.sort_unstable();
        Candidates { by_cost: keyed.into_iter().map(|k| k.3).collect(), gpus }
    }

    /// Victims (indices into `running`) that make room for `p`, if any do; `taken`
    /// marks work already chosen this cycle.
    pub fn victims(
        &self,
        p: &Pending,
        running: &[Running],
        taken: &[bool],
        capacity: &Capacity,
        quotas: &Quotas,
        fits_kind: &dyn Fn(usize, &Shape) -> bool,
    ) -> Option<Vec<usize>> {
        let reclaiming = quotas.within_nominal(&p.tenant, p.shape.count);
        let eligible = |i: usize| {
            let r = &running[i];
            !taken[i]
                && (rank(r.class) < rank(p.class)
                    || (reclaiming && r.tenant != p.tenant && quotas.over_nominal(&r.tenant)))
                && self.gpus[i].iter().any(|&g| fits_kind(g, &p.shape))
        };
        let mut freed: Option<Capacity> = None;
        let mut chosen = Vec::new();
        for i in self.by_cost.iter().copied().filter(|&i| eligible(i)).take(MAX_VICTIMS) {
            let freed = freed.get_or_insert_with(|| capacity.clone());
            freed.free(&self.gpus[i]);
            chosen.push(i);
            if freed.find(&p.shape).is_some() {
                return Some(chosen);
            }
        }
        None
    }
}
