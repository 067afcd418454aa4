//! Printing figures and latency percentiles.

use std::time::Duration;

/// Prints one figure.
pub fn figure(name: &str, value: f64, unit: &str) {
    println!("bench: {name} = {value:.3} {unit}");
}

/// Prints p50 and p99 (microseconds) of a set of latencies.
pub fn percentiles(name: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1e6;
    figure(&format!("{name}_p50"), at(0.50), "us");
    figure(&format!("{name}_p99"), at(0.99), "us");
}

/// Operations per second.
pub fn rate(n: usize, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64()
}

/// Rounds of a measurement alternated with its raw engine's.
pub const ROUNDS: usize = 3;

/// N figures measured in each of several rounds (ours alternating with a raw
/// engine's, so both see the same moods of the box); their medians.
pub struct Rounds<const N: usize>([Vec<f64>; N]);

impl<const N: usize> Rounds<N> {
    pub fn new() -> Self {
        Rounds(std::array::from_fn(|_| Vec::with_capacity(ROUNDS)))
    }

    /// One round's figures.
    pub fn push(&mut self, round: [f64; N]) {
        for (v, x) in self.0.iter_mut().zip(round) {
            v.push(x);
        }
    }

    /// Each figure's median over the rounds.
    pub fn medians(self) -> [f64; N] {
        self.0.map(|mut v| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        })
    }
}
