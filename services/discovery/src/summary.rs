//! Telemetry summaries: each device's readings folded into one record per market
//! interval (energy in Wh and hashes integrated between readings, mean and peak power,
//! peak temperature), what billing and charts need without a log event per sample.
//!
//! Between two readings power and hashrate are taken to change linearly (trapezoids); a
//! segment that crosses an interval boundary is split at it, so each interval gets its
//! exact share. Readings further apart than the gap limit are not bridged: the time
//! between them is counted as a gap, not as energy.

use hcp_proto::v1 as pb;
use std::collections::HashMap;
use std::sync::Mutex;

/// One reading's part in a summary.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Point {
    at: i64,
    watts: f64,
    ths: f64,
}

#[derive(Debug, Clone)]
struct Open {
    summary: pb::TelemetrySummarized,
    last: Option<Point>,
}

/// The open interval of every device.
pub struct Summaries {
    interval_micros: i64,
    gap_micros: i64,
    open: Mutex<HashMap<String, Open>>,
}

impl Summaries {
    /// Intervals of `interval_micros` (aligned to the epoch); readings further apart than
    /// `gap_micros` are not bridged.
    pub fn new(interval_micros: i64, gap_micros: i64) -> Self {
        Summaries { interval_micros: interval_micros.max(1), gap_micros, open: Mutex::default() }
    }

    fn start_of(&self, at: i64) -> i64 {
        at.div_euclid(self.interval_micros) * self.interval_micros
    }

    fn fresh(&self, id: &str, start: i64) -> pb::TelemetrySummarized {
        pb::TelemetrySummarized {
            resource_id: id.to_owned(),
            interval_start_unix_micros: start,
            interval_end_unix_micros: start + self.interval_micros,
            ..Default::default()
        }
    }

    /// Folds a reading of device `id`; returns the intervals it closed (in order).
    pub fn observe(&self, id: &str, t: &pb::Telemetry) -> Vec<pb::TelemetrySummarized> {
        let now = Point { at: t.observed_unix_micros, watts: t.power_w.max(0.0), ths: t.hashrate_ths.max(0.0) };
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = open
            .entry(id.to_owned())
            .or_insert_with(|| Open { summary: self.fresh(id, self.start_of(now.at)), last: None });
        if entry.last.is_some_and(|l| now.at <= l.at) {
            return Vec::new();
        }
        let mut closed = Vec::new();
        let last = entry.last;
        // Close every interval the segment from the last reading to this one leaves behind.
        while now.at >= entry.summary.interval_end_unix_micros {
            let end = entry.summary.interval_end_unix_micros;
            if let Some(l) = last.filter(|l| l.at < end) {
                let cut = interpolate(l, now, end);
                let from = if l.at >= entry.summary.interval_start_unix_micros {
                    l
                } else {
                    interpolate(l, now, entry.summary.interval_start_unix_micros)
                };
                self.segment(&mut entry.summary, from, cut, now.at - l.at);
            }
            finish(&mut entry.summary);
            let next = self.fresh(id, end);
            closed.push(std::mem::replace(&mut entry.summary, next));
        }
        if let Some(l) = last {
            let start = entry.summary.interval_start_unix_micros;
            let from = if l.at >= start { l } else { interpolate(l, now, start) };
            self.segment(&mut entry.summary, from, now, now.at - l.at);
        }
        let s = &mut entry.summary;
        s.samples += 1;
        s.peak_power_w = s.peak_power_w.max(now.watts);
        s.peak_temp_c = s.peak_temp_c.max(t.max_temp_c);
        s.power_reported |= t.power_w > 0.0;
        entry.last = Some(now);
        closed
    }

    /// Adds the part of a segment from `a` to `b` (of a whole segment `span` long) to `s`.
    fn segment(&self, s: &mut pb::TelemetrySummarized, a: Point, b: Point, span: i64) {
        let seconds = (b.at - a.at) as f64 / 1e6;
        if span > self.gap_micros {
            s.gap_seconds += seconds;
            return;
        }
        s.covered_seconds += seconds;
        s.energy_wh += (a.watts + b.watts) / 2.0 * seconds / 3600.0;
        s.terahashes += (a.ths + b.ths) / 2.0 * seconds;
    }
}

/// The point on the line from `a` to `b` at instant `at`.
fn interpolate(a: Point, b: Point, at: i64) -> Point {
    let f = if b.at == a.at { 0.0 } else { (at - a.at) as f64 / (b.at - a.at) as f64 };
    Point { at, watts: a.watts + (b.watts - a.watts) * f, ths: a.ths + (b.ths - a.ths) * f }
}

/// The mean power of a closed summary.
fn finish(s: &mut pb::TelemetrySummarized) {
    s.mean_power_w = if s.covered_seconds > 0.0 { s.energy_wh * 3600.0 / s.covered_seconds } else { 0.0 };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(seconds: i64, watts: f64, ths: f64) -> pb::Telemetry {
        pb::Telemetry {
            observed_unix_micros: seconds * 1_000_000,
            power_w: watts,
            hashrate_ths: ths,
            max_temp_c: 60.0 + watts / 1000.0,
            ..Default::default()
        }
    }

    #[test]
    fn energy_and_hashes_are_exact_and_split_at_the_boundary() {
        // 900 s intervals; readings every 10 s at 3,600 W and 200 TH/s from t=0 to t=1800.
        let s = Summaries::new(900_000_000, 30_000_000);
        let mut closed = Vec::new();
        for t in (0..=1800).step_by(10) {
            closed.extend(s.observe("asic-1", &reading(t, 3600.0, 200.0)));
        }
        assert_eq!(closed.len(), 2, "[0, 900) and [900, 1800)");
        for c in &closed {
            assert!((c.energy_wh - 900.0).abs() < 1e-6, "3.6 kW for a quarter hour: {c:?}");
            assert!((c.terahashes - 180_000.0).abs() < 1e-6, "{c:?}");
            assert!((c.mean_power_w - 3600.0).abs() < 1e-6 && c.gap_seconds == 0.0, "{c:?}");
            assert!(c.power_reported && c.peak_temp_c > 63.0);
        }
    }

    #[test]
    fn a_segment_across_the_boundary_is_split_linearly() {
        let s = Summaries::new(900_000_000, 60_000_000);
        assert!(s.observe("d", &reading(880, 1000.0, 0.0)).is_empty());
        let closed = s.observe("d", &reading(920, 3000.0, 0.0));
        // At 900 s the power is 2,000 W: [880, 900) averages 1,500 W for 20 s.
        assert!((closed[0].energy_wh - 1500.0 * 20.0 / 3600.0).abs() < 1e-9, "{:?}", closed[0]);
        let more = s.observe("d", &reading(1800, 3000.0, 0.0));
        assert!(more.is_empty() || more[0].interval_start_unix_micros == 900_000_000);
    }

    #[test]
    fn gaps_are_not_bridged_and_stale_readings_are_ignored() {
        let s = Summaries::new(900_000_000, 30_000_000);
        s.observe("d", &reading(0, 3000.0, 100.0));
        s.observe("d", &reading(10, 3000.0, 100.0));
        s.observe("d", &reading(310, 3000.0, 100.0)); // silent for 300 s
        assert!(s.observe("d", &reading(300, 1.0, 1.0)).is_empty(), "an older reading is dropped");
        let mut closed = Vec::new();
        for t in (320..=900).step_by(10) {
            closed.extend(s.observe("d", &reading(t, 3000.0, 100.0)));
        }
        let c = &closed[0];
        assert!((c.gap_seconds - 300.0).abs() < 1e-9, "{c:?}");
        assert!((c.covered_seconds - 600.0).abs() < 1e-9, "{c:?}");
        assert!((c.energy_wh - 500.0).abs() < 1e-9, "3 kW for 600 s: {c:?}");
        assert_eq!(c.samples, 61);
    }
}
