//! Many intervals, one device class: how much of the class runs in each interval, at a
//! whole number of levels (level `L` is all of it), under a minimum dwell (after a
//! change, hold for `min_dwell` intervals), a ramp limit (at most `max_step` levels per
//! interval), a cap (`max_level`) and a switching cost. Dynamic programming over
//! (level, intervals since the last change) finds the best path exactly.

/// The constraints on a class's path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Levels that make up the whole class.
    pub levels: u32,
    /// Most levels changed in one interval (ramp limit).
    pub max_step: u32,
    /// Intervals to hold after a change (1 = none).
    pub min_dwell: u32,
    /// Highest level allowed (power cap).
    pub max_level: u32,
    /// Cost of changing by one level, $.
    pub switch_cost_per_level: f64,
}

/// Where the class is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    /// Current level.
    pub level: u32,
    /// Intervals since the last change, capped at the dwell.
    pub age: u32,
}

impl Limits {
    fn dwell(&self) -> u32 {
        self.min_dwell.max(1)
    }

    /// A state free to move (held long enough).
    pub fn settled(&self, level: u32) -> State {
        State { level, age: self.dwell() }
    }

    /// The state after one interval of trying to reach `desired` (a rule-based strategy's
    /// wish), within the limits.
    pub fn step(&self, s: State, desired: u32) -> State {
        let desired = desired.min(self.max_level).min(self.levels);
        if desired == s.level || s.age < self.dwell() {
            return State { level: s.level, age: (s.age + 1).min(self.dwell()) };
        }
        let level = if desired > s.level {
            s.level + (desired - s.level).min(self.max_step)
        } else {
            s.level - (s.level - desired).min(self.max_step)
        };
        State { level, age: 1 }
    }
}

/// The best levels for `values` (each interval's margin with the whole class running),
/// starting from `start`; the margin of a level is `level / L × value`, less switching.
pub fn best_path(values: &[f64], start: State, limits: &Limits) -> Vec<u32> {
    let d = limits.dwell() as usize;
    let mut back: Vec<u32> = vec![u32::MAX; values.len() * (limits.levels as usize + 1) * d];
    let value = forward(values, start, limits, None, Some(&mut back));
    let states = value.len();
    // Walk back from the best end state.
    let mut at = (0..states).max_by(|&a, &b| value[a].total_cmp(&value[b])).unwrap_or(0);
    let mut path = vec![0u32; values.len()];
    for t in (0..values.len()).rev() {
        path[t] = (at / d) as u32;
        let prev = back[t * states + at];
        if prev == u32::MAX {
            break;
        }
        at = prev as usize;
    }
    path
}

/// The best total over `values` when the first interval runs at `first` (the value of
/// a decision now, with the best continuation after it); `None` if `first` cannot be
/// reached from `start`, or there are no intervals.
pub fn best_value_starting_at(values: &[f64], start: State, limits: &Limits, first: u32) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let best = forward(values, start, limits, Some(first), None).into_iter().fold(f64::NEG_INFINITY, f64::max);
    (best > f64::NEG_INFINITY).then_some(best)
}

/// The dynamic programme: the best value of ending in each (level, age) state, with the
/// first interval's level forced to `first` if given, and back-pointers if asked for.
fn forward(
    values: &[f64],
    start: State,
    limits: &Limits,
    first: Option<u32>,
    mut back: Option<&mut Vec<u32>>,
) -> Vec<f64> {
    let l = limits.levels as usize;
    let d = limits.dwell() as usize;
    let states = (l + 1) * d;
    let idx = |level: usize, age: usize| level * d + (age - 1);
    let mut value = vec![f64::NEG_INFINITY; states];
    value[idx(start.level.min(limits.levels) as usize, start.age.clamp(1, d as u32) as usize)] = 0.0;
    let mut next = vec![f64::NEG_INFINITY; states];
    let top = limits.max_level.min(limits.levels) as usize;
    let step = limits.max_step.max(1) as usize;
    for (t, &v) in values.iter().enumerate() {
        next.iter_mut().for_each(|x| *x = f64::NEG_INFINITY);
        let allowed = |nl: usize| t > 0 || first.is_none_or(|f| f as usize == nl);
        let mut relax = |to: usize, gain: f64, from: usize, next: &mut [f64]| {
            if gain > next[to] {
                next[to] = gain;
                if let Some(back) = back.as_deref_mut() {
                    back[t * states + to] = from as u32;
                }
            }
        };
        for level in 0..=l {
            for age in 1..=d {
                let from = idx(level, age);
                let here = value[from];
                if here == f64::NEG_INFINITY {
                    continue;
                }
                // Hold.
                if allowed(level) {
                    relax(idx(level, (age + 1).min(d)), here + level as f64 / l as f64 * v, from, &mut next);
                }
                // Change, once held long enough.
                if age == d {
                    let lo = level.saturating_sub(step);
                    let hi = (level + step).min(top);
                    for nl in (lo..=hi).filter(|&nl| nl != level && allowed(nl)) {
                        let cost = limits.switch_cost_per_level * nl.abs_diff(level) as f64;
                        relax(idx(nl, 1), here + nl as f64 / l as f64 * v - cost, from, &mut next);
                    }
                }
            }
        }
        std::mem::swap(&mut value, &mut next);
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn free(levels: u32) -> Limits {
        Limits { levels, max_step: levels, min_dwell: 1, max_level: levels, switch_cost_per_level: 0.0 }
    }

    #[test]
    fn unconstrained_runs_exactly_when_it_pays() {
        let v = [5.0, -1.0, 3.0, -2.0];
        assert_eq!(best_path(&v, free(1).settled(1), &free(1)), vec![1, 0, 1, 0]);
    }

    #[test]
    fn dwell_holds_through_a_short_dip() {
        let limits = Limits { min_dwell: 3, ..free(1) };
        // Switching off for the dip means staying off for 3 intervals: worse than riding it.
        let v = [5.0, -1.0, 5.0, 5.0, 5.0];
        assert_eq!(best_path(&v, limits.settled(1), &limits), vec![1, 1, 1, 1, 1]);
        // A long, deep dip is worth it.
        let v = [5.0, -9.0, -9.0, -9.0, 5.0];
        assert_eq!(best_path(&v, limits.settled(1), &limits), vec![1, 0, 0, 0, 1]);
    }

    #[test]
    fn ramp_limits_the_step_and_the_cap_the_level() {
        let limits = Limits { max_step: 2, max_level: 3, ..free(4) };
        let v = [10.0, 10.0, 10.0];
        assert_eq!(best_path(&v, limits.settled(0), &limits), vec![2, 3, 3]);
        assert_eq!(limits.step(limits.settled(0), 4), State { level: 2, age: 1 });
    }

    #[test]
    fn the_value_of_a_first_step_includes_its_best_continuation() {
        let limits = Limits { min_dwell: 2, switch_cost_per_level: 1.0, ..free(1) };
        let v = [-3.0, 10.0, 10.0];
        let start = limits.settled(1);
        // Running through the dip: -3 + 10 + 10. Curtailing for it: pay to switch off, and
        // the dwell keeps it off for the first good interval: 0 - 1 + 0 - 1 + 10.
        assert_eq!(best_value_starting_at(&v, start, &limits, 1), Some(17.0));
        assert_eq!(best_value_starting_at(&v, start, &limits, 0), Some(8.0));
        let held = State { level: 1, age: 1 };
        assert_eq!(best_value_starting_at(&v, held, &limits, 0), None, "held by the dwell");
        assert_eq!(best_value_starting_at(&[], start, &limits, 1), None);
    }

    #[test]
    fn switching_costs_damp_thrashing() {
        let limits = Limits { switch_cost_per_level: 3.0, ..free(1) };
        let v = [5.0, -1.0, 5.0];
        assert_eq!(best_path(&v, limits.settled(1), &limits), vec![1, 1, 1]);
    }
}
