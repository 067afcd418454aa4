//! One interval, one site: how many devices of each group to run under the power cap so
//! that the margin is largest. Groups of identical devices make it a bounded knapsack
//! with few item types; branch and bound over groups in order of margin per MW, bounded
//! by the fractional (LP) relaxation, solves it exactly.

/// Identical devices that share a margin.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Devices in the group.
    pub count: u32,
    /// Power each draws when running, kW.
    pub kw_each: f64,
    /// Margin each earns over the interval when running, $ (may be negative).
    pub margin_each: f64,
    /// Devices that must run whatever the margin (capacity committed to customers).
    pub committed: u32,
}

impl Group {
    fn density(&self) -> f64 {
        if self.kw_each > 0.0 { self.margin_each / self.kw_each } else { f64::INFINITY }
    }
}

/// How many of each group run.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    /// Running devices per group, in the groups' order.
    pub running: Vec<u32>,
    /// Total margin, $.
    pub margin: f64,
    /// Total power, kW.
    pub kw: f64,
}

/// Why no allocation exists.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AllocateError {
    /// Committed devices alone exceed the cap.
    #[error("committed devices need {needed_kw:.0} kW, over the {cap_kw:.0} kW cap")]
    CommittedOverCap {
        /// What they need.
        needed_kw: f64,
        /// The cap.
        cap_kw: f64,
    },
}

/// The exact best allocation under `cap_kw`.
pub fn allocate(groups: &[Group], cap_kw: f64) -> Result<Allocation, AllocateError> {
    let committed_kw: f64 = groups.iter().map(|g| g.committed.min(g.count) as f64 * g.kw_each).sum();
    if committed_kw > cap_kw + 1e-9 {
        return Err(AllocateError::CommittedOverCap { needed_kw: committed_kw, cap_kw });
    }
    // Only devices with a positive margin beyond the committed ones are worth running.
    let mut order: Vec<usize> =
        (0..groups.len()).filter(|&i| groups[i].margin_each > 0.0 && groups[i].count > groups[i].committed).collect();
    order.sort_by(|&a, &b| groups[b].density().total_cmp(&groups[a].density()));
    let items: Vec<(f64, f64, u32)> = order
        .iter()
        .map(|&i| {
            (groups[i].kw_each, groups[i].margin_each, groups[i].count - groups[i].committed.min(groups[i].count))
        })
        .collect();
    let mut search =
        Search { items: &items, best_value: 0.0, best: vec![0; items.len()], current: vec![0; items.len()] };
    search.dfs(0, cap_kw - committed_kw, 0.0);

    let mut running: Vec<u32> = groups.iter().map(|g| g.committed.min(g.count)).collect();
    for (k, &i) in order.iter().enumerate() {
        running[i] += search.best[k];
    }
    let margin = groups.iter().zip(&running).map(|(g, &n)| g.margin_each * n as f64).sum();
    let kw = groups.iter().zip(&running).map(|(g, &n)| g.kw_each * n as f64).sum();
    Ok(Allocation { running, margin, kw })
}

struct Search<'a> {
    items: &'a [(f64, f64, u32)],
    best_value: f64,
    best: Vec<u32>,
    current: Vec<u32>,
}

impl Search<'_> {
    /// The LP bound: fill greedily by density, the last item fractionally.
    fn bound(&self, from: usize, mut cap: f64) -> f64 {
        let mut value = 0.0;
        for &(kw, margin, count) in &self.items[from..] {
            if kw <= 0.0 {
                value += margin * count as f64;
                continue;
            }
            let take = (cap / kw).min(count as f64);
            value += take * margin;
            cap -= take * kw;
            if cap <= 0.0 {
                break;
            }
        }
        value
    }

    fn dfs(&mut self, i: usize, cap: f64, value: f64) {
        if value > self.best_value {
            self.best_value = value;
            self.best.clone_from(&self.current);
        }
        if i == self.items.len() || value + self.bound(i, cap) <= self.best_value + 1e-9 {
            return;
        }
        let (kw, margin, count) = self.items[i];
        let most = if kw <= 0.0 { count } else { ((cap + 1e-9) / kw).floor().min(count as f64) as u32 };
        for n in (0..=most).rev() {
            self.current[i] = n;
            let v = value + n as f64 * margin;
            // Item i is the densest left, so each one fewer lowers the bound: once it
            // cannot win, no smaller count can.
            if v + self.bound(i + 1, cap - n as f64 * kw) <= self.best_value + 1e-9 {
                break;
            }
            self.dfs(i + 1, cap - n as f64 * kw, v);
        }
        self.current[i] = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn g(count: u32, kw: f64, margin: f64) -> Group {
        Group { count, kw_each: kw, margin_each: margin, committed: 0 }
    }

    #[test]
    fn fills_by_margin_per_mw_and_leaves_losers_off() {
        let groups = [g(10, 3.5, 1.0), g(10, 3.0, 1.2), g(5, 3.0, -0.1)];
        let a = allocate(&groups, 40.0).expect("feasible");
        assert_eq!(a.running, vec![2, 10, 0]);
    }

    #[test]
    fn exact_where_greedy_is_not() {
        // Greedy by density takes one A (10 kW, $11) and stops; two B (6 kW, $6.5 each) earn more.
        let groups = [g(1, 10.0, 11.0), g(2, 6.0, 6.5)];
        assert_eq!(allocate(&groups, 12.0).expect("feasible").running, vec![0, 2]);
    }

    #[test]
    fn committed_capacity_runs_first_and_can_be_infeasible() {
        let mut gpus = g(8, 0.7, -0.5);
        gpus.committed = 4;
        let a = allocate(&[gpus.clone(), g(10, 3.5, 1.0)], 10.0).expect("feasible");
        assert_eq!(a.running, vec![4, 2]);
        assert!(matches!(allocate(&[gpus], 2.0), Err(AllocateError::CommittedOverCap { .. })));
    }

    fn brute(groups: &[Group], cap: f64) -> f64 {
        fn go(groups: &[Group], cap: f64) -> f64 {
            let Some((first, rest)) = groups.split_first() else { return 0.0 };
            (0..=first.count)
                .filter(|&n| n as f64 * first.kw_each <= cap + 1e-9)
                .map(|n| n as f64 * first.margin_each + go(rest, cap - n as f64 * first.kw_each))
                .fold(f64::MIN, f64::max)
        }
        go(groups, cap)
    }

    proptest! {
        #[test]
        fn matches_brute_force(
            groups in proptest::collection::vec((0u32..5, 1u32..8, -5i32..20), 1..5),
            cap in 0u32..40,
        ) {
            let groups: Vec<Group> = groups.into_iter().map(|(c, kw, m)| g(c, kw as f64, m as f64)).collect();
            let a = allocate(&groups, cap as f64).expect("no commitments");
            prop_assert!(a.kw <= cap as f64 + 1e-9);
            prop_assert!((a.margin - brute(&groups, cap as f64)).abs() < 1e-6, "{} vs {}", a.margin, brute(&groups, cap as f64));
        }
    }
}
