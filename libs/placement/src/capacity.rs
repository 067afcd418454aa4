//! Free GPUs, indexed for gang placement.
//!
//! GPUs are grouped into pools: the GPUs of one host with the same model and memory (a
//! host is usually one pool). A pool's free count sits in an ordered set per GPU type
//! (model, memory, site), and a rack's in another, so the best-fitting host or rack for a
//! gang is one range query, not a scan of the fleet.
//!
//! Placement: `Host` takes the pool with the fewest free GPUs that still fits the whole
//! gang (best fit keeps whole hosts free for large jobs); `Rack` the best-fitting rack,
//! filling its fullest-free pools first; `Any` a best-fitting pool when one fits, else
//! the pools with the most free GPUs, so the gang spans as few hosts as possible.

use crate::model::{Gpu, Locality, Shape};
use std::collections::{BTreeMap, BTreeSet};

/// GPUs of one kind at one site: model, memory, site.
type Kind = (String, u64, String);

#[derive(Debug, Clone)]
struct Pool {
    kind: usize,
    rack: usize,
    free: Vec<usize>,
}

/// The free GPUs of a cycle.
#[derive(Debug, Clone)]
pub struct Capacity {
    kinds: Vec<Kind>,
    pools: Vec<Pool>,
    /// Per kind: (free, pool) of its pools.
    by_pool: Vec<BTreeSet<(usize, usize)>>,
    /// Per kind: free per rack, and (free, rack) ordered.
    rack_free: Vec<BTreeMap<usize, usize>>,
    by_rack: Vec<BTreeSet<(usize, usize)>>,
    /// Per kind: free GPUs in all.
    total: Vec<usize>,
    /// For each GPU (input order): its pool, if it can take work.
    pool_of: Vec<Option<usize>>,
    /// The pools of each rack.
    rack_pools: Vec<Vec<usize>>,
}

impl Capacity {
    /// Capacity over `gpus`, with the GPUs `busy` (indices) taken.
    pub fn new(gpus: &[Gpu], busy: &[bool]) -> Capacity {
        let mut kinds: Vec<Kind> = Vec::new();
        let mut kind_index: BTreeMap<Kind, usize> = BTreeMap::new();
        let mut pool_index: BTreeMap<(usize, &str), usize> = BTreeMap::new();
        let mut rack_index: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        let mut pools: Vec<Pool> = Vec::new();
        let mut pool_of = vec![None; gpus.len()];
        for (i, g) in gpus.iter().enumerate() {
            if !g.healthy || g.cordoned {
                continue;
            }
            let kind_key = (g.model.clone(), g.memory_mib, g.site.clone());
            let kind = *kind_index.entry(kind_key.clone()).or_insert_with(|| {
                kinds.push(kind_key);
                kinds.len() - 1
            });
            let next_rack = rack_index.len();
            let rack = *rack_index.entry((g.site.as_str(), g.rack.as_str())).or_insert(next_rack);
            let next_pool = pools.len();
            let pool = *pool_index.entry((kind, g.host.as_str())).or_insert(next_pool);
            if pool == pools.len() {
                pools.push(Pool { kind, rack, free: Vec::new() });
            }
            pool_of[i] = Some(pool);
            if !busy[i] {
                pools[pool].free.push(i);
            }
        }
        for p in &mut pools {
            // Take GPUs in index order: pop from the end.
            p.free.reverse();
        }
        let mut rack_pools = vec![Vec::new(); rack_index.len()];
        for (i, p) in pools.iter().enumerate() {
            rack_pools[p.rack].push(i);
        }
        let mut c = Capacity {
            rack_pools,
            by_pool: vec![BTreeSet::new(); kinds.len()],
            rack_free: vec![BTreeMap::new(); kinds.len()],
            by_rack: vec![BTreeSet::new(); kinds.len()],
            total: vec![0; kinds.len()],
            kinds,
            pools,
            pool_of,
        };
        for (i, p) in c.pools.iter().enumerate() {
            c.by_pool[p.kind].insert((p.free.len(), i));
            *c.rack_free[p.kind].entry(p.rack).or_insert(0) += p.free.len();
            c.total[p.kind] += p.free.len();
        }
        for k in 0..c.kinds.len() {
            for (&rack, &free) in &c.rack_free[k] {
                c.by_rack[k].insert((free, rack));
            }
        }
        c
    }

    /// The kinds a shape may use.
    fn kinds_for<'a>(&'a self, shape: &'a Shape) -> impl Iterator<Item = usize> + 'a {
        self.kinds
            .iter()
            .enumerate()
            .filter(move |(_, (model, memory, site))| {
                shape.model.as_ref().is_none_or(|m| m == model)
                    && *memory >= shape.min_memory_mib
                    && shape.site.as_ref().is_none_or(|s| s == site)
            })
            .map(|(k, _)| k)
    }

    /// Free GPUs a shape may use, in all.
    pub fn free_for(&self, shape: &Shape) -> usize {
        self.kinds_for(shape).map(|k| self.total[k]).sum()
    }

    /// GPUs (input indices) for the whole gang, if it fits now; nothing is taken.
    pub fn find(&self, shape: &Shape) -> Option<Vec<usize>> {
        let count = shape.count as usize;
        if count == 0 || self.free_for(shape) < count {
            return None;
        }
        let best_pool = self.kinds_for(shape).filter_map(|k| self.by_pool[k].range((count, 0)..).next().copied()).min();
        match shape.locality {
            Locality::Host => best_pool.map(|(_, p)| self.take_from(&[p], count)),
            Locality::Rack => {
                let (_, rack, kind) = self
                    .kinds_for(shape)
                    .filter_map(|k| self.by_rack[k].range((count, 0)..).next().map(|&(f, r)| (f, r, k)))
                    .min()?;
                let mut pools: Vec<(usize, usize)> = self.rack_pools[rack]
                    .iter()
                    .filter(|&&p| self.pools[p].kind == kind && !self.pools[p].free.is_empty())
                    .map(|&p| (usize::MAX - self.pools[p].free.len(), p))
                    .collect();
                pools.sort_unstable();
                Some(self.take_from(&pools.iter().map(|&(_, p)| p).collect::<Vec<_>>(), count))
            }
            Locality::Any => match best_pool {
                Some((_, p)) => Some(self.take_from(&[p], count)),
                None => {
                    // The fullest-free pools: no more than `count` of each kind can be needed.
                    let mut pools: Vec<(usize, usize)> = self
                        .kinds_for(shape)
                        .flat_map(|k| self.by_pool[k].iter().rev().take_while(|(free, _)| *free > 0).take(count))
                        .map(|&(free, p)| (usize::MAX - free, p))
                        .collect();
                    pools.sort_unstable();
                    Some(self.take_from(&pools.iter().map(|&(_, p)| p).collect::<Vec<_>>(), count))
                }
            },
        }
    }

    /// The first `count` free GPUs of `pools`, in that order.
    fn take_from(&self, pools: &[usize], count: usize) -> Vec<usize> {
        pools.iter().flat_map(|&p| self.pools[p].free.iter().rev().copied()).take(count).collect()
    }

    /// Takes these GPUs (as found by [`Capacity::find`]).
    pub fn take(&mut self, gpus: &[usize]) {
        for &g in gpus {
            let Some(p) = self.pool_of[g] else { continue };
            let Some(at) = self.pools[p].free.iter().position(|&x| x == g) else { continue };
            self.reindex(p, |pool| {
                pool.free.remove(at);
            });
        }
    }

    /// Frees these GPUs (preempted work's, to see what it would make room for).
    pub fn free(&mut self, gpus: &[usize]) {
        for &g in gpus {
            let Some(p) = self.pool_of[g] else { continue };
            if self.pools[p].free.contains(&g) {
                continue;
            }
            self.reindex(p, |pool| pool.free.push(g));
        }
    }

    fn reindex(&mut self, p: usize, change: impl FnOnce(&mut Pool)) {
        let (kind, rack, before) = (self.pools[p].kind, self.pools[p].rack, self.pools[p].free.len());
        change(&mut self.pools[p]);
        let after = self.pools[p].free.len();
        self.by_pool[kind].remove(&(before, p));
        self.by_pool[kind].insert((after, p));
        let rack_free = self.rack_free[kind].entry(rack).or_insert(0);
        self.by_rack[kind].remove(&(*rack_free, rack));
        *rack_free = *rack_free + after - before;
        self.by_rack[kind].insert((*rack_free, rack));
        self.total[kind] = self.total[kind] + after - before;
    }
}
