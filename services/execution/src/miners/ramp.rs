//! A site's staggered ramp: load woken at a site is spread so that it never rises faster
//! than the site's ramp limit (a token bucket of kW, refilled at the limit per second,
//! holding at most one second's worth).

use std::time::{Duration, Instant};

/// One site's bucket.
#[derive(Debug)]
pub struct Ramp {
    kw_per_second: f64,
    available_kw: f64,
    last: Instant,
}

impl Ramp {
    /// A full bucket for `kw_per_second`.
    pub fn new(kw_per_second: f64) -> Self {
        Ramp { kw_per_second, available_kw: kw_per_second, last: Instant::now() }
    }

    /// Takes `kw` (a miner's draw); how long to wait before waking it. A miner larger than
    /// one second's worth waits for a full bucket.
    pub fn take(&mut self, kw: f64, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.available_kw = (self.available_kw + elapsed * self.kw_per_second).min(self.kw_per_second);
        let need = kw.min(self.kw_per_second);
        self.available_kw -= need;
        if self.available_kw >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.available_kw / self.kw_per_second)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_of_load_goes_at_once_the_rest_is_spread() {
        let now = Instant::now();
        let mut ramp = Ramp::new(10.0);
        let waits: Vec<Duration> = (0..6).map(|_| ramp.take(3.5, now)).collect();
        assert_eq!(&waits[..2], &[Duration::ZERO, Duration::ZERO]);
        // 21 kW at 10 kW/s: the last starts 1.1 s after the bucket ran dry.
        assert!((waits[5].as_secs_f64() - 1.1).abs() < 1e-9, "{waits:?}");
        assert!(waits.windows(2).all(|w| w[0] <= w[1]));
        // A second later the bucket has refilled what it lent.
        assert!(ramp.take(0.0, now + Duration::from_secs(3)) == Duration::ZERO);
    }
}
