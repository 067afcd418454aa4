//! The books' figure: an invoice preview's draft for a tenant with a long history, from
//! the running books (what the ledger answers with) beside the reference that walks
//! every record (what it answered with before, copying them first), same run, same
//! answer checked. A year of hourly records on 20 workloads (175,200 records) with
//! monthly invoices issued; the preview is of the year's last month.

use hcp_billing::books::{Issued, Record, draft};
use hcp_billing::period::Cadence;
use hcp_billing::running::RunningBooks;
use hcp_billing::usage::Span;
use hcp_domain::units::Timestamp;
use std::time::Instant;

const HOUR: i64 = 3_600_000_000;
const WORKLOADS: i64 = 20;
const HOURS: i64 = 24 * 365;
const RUNS: usize = 20;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let cadence = Cadence::Month;
    let start = Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").expect("time").unix_micros();
    let mut running = RunningBooks::new(cadence);
    let mut records = Vec::new();
    let mut issued = Vec::new();
    let mut period = cadence.period_of(Timestamp::from_unix_micros(start));
    for h in 0..HOURS {
        let from = start + h * HOUR;
        if from >= period.end.unix_micros() {
            let invoice = Issued { period, through: records.len() as u64 };
            running.issue(invoice);
            issued.push(invoice);
            period = cadence.period_of(period.end);
        }
        for w in 0..WORKLOADS {
            let span = Span {
                from: Timestamp::from_unix_micros(from),
                to: Timestamp::from_unix_micros(from + HOUR),
                gpus: 1 + (w % 8) as u32,
            };
            let model = if w % 2 == 0 { "h100-sxm-80gb" } else { "a100-sxm-80gb" };
            let record = Record::new(records.len() as u64 + 1, model, span);
            running.record(&record);
            records.push(record);
        }
    }
    let through = records.len() as u64;
    let (mut ours, mut reference) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let t = Instant::now();
        let a = running.draft(period, through, &[]);
        ours.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        // The reference as the ledger ran it: a copy of the records, then the walk.
        let copy = records.clone();
        let b = draft(cadence, &copy, &issued, period, through, &[]);
        reference.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(a, b, "the same draft");
    }
    let (ours, reference) = (median(ours), median(reference));
    println!("bench: billing_preview_running_ms = {ours:.4} ms ({} records, {} invoices)", records.len(), issued.len());
    println!("bench: billing_preview_reference_ms = {reference:.2} ms");
    println!("bench: billing_preview_speedup = {:.0} x", reference / ours);
}
