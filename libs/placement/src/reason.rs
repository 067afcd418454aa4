//! Why a workload waits, in words: for a capacity wait, how many of the fleet's GPUs
//! fall to each filter, as the Kubernetes scheduler says "0/64 nodes are available".

use crate::model::{Gpu, Shape};

/// GPUs by the first filter that rules each out for `shape`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Filtered {
    /// In the fleet.
    pub total: usize,
    /// Another model.
    pub wrong_model: usize,
    /// Too little memory.
    pub too_little_memory: usize,
    /// At another site.
    pub other_site: usize,
    /// Unhealthy, retired or cordoned.
    pub unavailable: usize,
    /// Matching, but held by other work.
    pub busy: usize,
    /// Matching and free.
    pub free: usize,
}

impl Filtered {
    /// Counts `gpus` against `shape`; `busy[i]` says whether GPU i is taken.
    pub fn count(gpus: &[Gpu], busy: &[bool], shape: &Shape) -> Filtered {
        let mut f = Filtered { total: gpus.len(), ..Filtered::default() };
        for (g, &b) in gpus.iter().zip(busy) {
            if shape.model.as_ref().is_some_and(|m| *m != g.model) {
                f.wrong_model += 1;
            } else if g.memory_mib < shape.min_memory_mib {
                f.too_little_memory += 1;
            } else if shape.site.as_ref().is_some_and(|s| *s != g.site) {
                f.other_site += 1;
            } else if !g.healthy || g.cordoned {
                f.unavailable += 1;
            } else if b {
                f.busy += 1;
            } else {
                f.free += 1;
            }
        }
        f
    }

    /// GPUs of the shape's kind that can take work at all.
    pub fn usable(&self) -> usize {
        self.busy + self.free
    }

    /// "0/64 GPUs free for 8 x h100-sxm-80gb: 40 wrong model, 24 busy".
    pub fn message(&self, shape: &Shape) -> String {
        let mut parts = Vec::new();
        for (n, what) in [
            (self.wrong_model, "wrong model"),
            (self.too_little_memory, "too little memory"),
            (self.other_site, "other site"),
            (self.unavailable, "unhealthy or cordoned"),
            (self.busy, "busy"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        let model = shape.model.as_deref().unwrap_or("any GPU");
        let place = match shape.locality {
            crate::model::Locality::Any => "",
            crate::model::Locality::Rack => " in one rack",
            crate::model::Locality::Host => " on one host",
        };
        format!("{}/{} GPUs free for {} x {model}{place}: {}", self.free, self.total, shape.count, parts.join(", "))
    }
}
