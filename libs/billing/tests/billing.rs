//! The metering core: billed GPU time against the lifecycle, property-tested for random
//! lifecycles (pauses, preemptions, migrations, failures); invoices that add up.

use hcp_billing::books::{Draft, Issued, Record, draft};
use hcp_billing::invoice::{LineKind, estimate, invoice};
use hcp_billing::period::{Cadence, Period};
use hcp_billing::ratecard::{Price, RateCard, RateCardError, Tier};
use hcp_billing::usage::{MICROS_PER_HOUR, Meter, Span};
use hcp_domain::ids::{TenantId, WorkloadId};
use hcp_domain::units::{Money, Timestamp};
use hcp_domain::workload::{WorkloadEvent as E, WorkloadSpec};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn t(micros: i64) -> Timestamp {
    Timestamp::from_unix_micros(micros)
}

fn submitted(gpus: u32) -> E {
    let spec = WorkloadSpec::example(TenantId::new("acme").expect("tenant"), gpus);
    E::Submitted { id: WorkloadId::parse("0190a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5b").expect("id"), spec, at: t(0) }
}

/// Every span a meter closes over `events`, and the one still open at `now`.
fn billed(events: &[E], now: Timestamp) -> i128 {
    let mut meter = Meter::default();
    let closed: i128 = events.iter().filter_map(|e| meter.apply(e)).map(|s| s.gpu_micros()).sum();
    closed + meter.open(now).map_or(0, |s| s.gpu_micros())
}

#[test]
fn paused_is_billed_preempted_and_queued_are_not() {
    let events = [
        submitted(4),
        E::Queued { attempt: 1, at: t(10) },
        E::Scheduled { resources: Vec::new(), at: t(20) },
        E::Starting { at: t(30) },
        E::Started { endpoint: None, at: t(100) },
        E::Paused { reason: "by the owner".into(), at: t(300) },
        E::Resumed { at: t(500) },
        E::Preempted { reason: "realtime".into(), at: t(600) },
        E::Queued { attempt: 2, at: t(600) },
        E::Scheduled { resources: Vec::new(), at: t(900) },
        E::Started { endpoint: None, at: t(1000) },
        E::Completed { at: t(1250) },
    ];
    // 500 µs on the first attempt (paused included), 250 on the second, on 4 GPUs.
    assert_eq!(billed(&events, t(5000)), 4 * (500 + 250));
    let mut meter = Meter::default();
    let spans: Vec<Span> = events.iter().filter_map(|e| meter.apply(e)).collect();
    assert_eq!(spans, [Span { from: t(100), to: t(600), gpus: 4 }, Span { from: t(1000), to: t(1250), gpus: 4 }]);
    assert!(!meter.billing());
}

#[test]
fn a_running_workload_is_billed_up_to_now_and_spans_split_at_periods() {
    let events = [submitted(2), E::Started { endpoint: None, at: t(3_000_000_000) }];
    let mut meter = Meter::default();
    assert!(events.iter().all(|e| meter.apply(e).is_none()));
    let open = meter.open(t(8_000_000_000)).expect("open");
    let hour = 3_600_000_000;
    let pieces = Cadence::Hour.pieces(open);
    assert_eq!(pieces.len(), 3, "{pieces:?}");
    assert_eq!(pieces[0].1.to, t(hour));
    assert_eq!(pieces[1].0, Period { start: t(hour), end: t(2 * hour) });
    assert_eq!(pieces.iter().map(|(_, s)| s.gpu_micros()).sum::<i128>(), open.gpu_micros(), "nothing lost in the cut");
    // Recorded as those pieces; an empty span not at all.
    let records = Cadence::Hour.records(open);
    assert_eq!(records, pieces.iter().map(|(_, s)| *s).collect::<Vec<_>>());
    assert!(Cadence::Hour.records(Span { from: t(hour), to: t(hour), gpus: 2 }).is_empty());
    // The span is named by the event that opened it: the first start, not a later one.
    let mut meter = Meter::default();
    meter.apply_at(1, &submitted(2));
    meter.apply_at(3, &E::Started { endpoint: None, at: t(10) });
    meter.apply_at(4, &E::Started { endpoint: None, at: t(20) });
    assert_eq!((meter.opened_by(), meter.open(t(30)).map(|s| s.from)), (3, Some(t(10))));
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Start,
    Pause,
    Resume,
    Checkpoint,
    Migrate,
    Preempt,
    Requeue,
    Finish,
}

fn step() -> impl Strategy<Value = (Step, i64)> {
    let step = prop_oneof![
        Just(Step::Start),
        Just(Step::Pause),
        Just(Step::Resume),
        Just(Step::Checkpoint),
        Just(Step::Migrate),
        Just(Step::Preempt),
        Just(Step::Requeue),
        Just(Step::Finish),
    ];
    (step, 0i64..10_000_000)
}

proptest! {
    /// For random lifecycles, the GPU time billed is the time the workload was running or
    /// paused, as a simple walk of its statuses counts it.
    #[test]
    fn billed_gpu_time_is_the_running_time_in_the_events(gpus in 1u32..16, steps in prop::collection::vec(step(), 0..40)) {
        let mut events = vec![submitted(gpus), E::Queued { attempt: 1, at: t(0) }];
        let (mut now, mut holding, mut since, mut expected) = (0i64, false, 0i64, 0i128);
        let mut finished = false;
        for (s, gap) in steps {
            if finished {
                break;
            }
            now += gap;
            let at = t(now);
            let (event, holds) = match (s, holding) {
                (Step::Start, false) => (E::Started { endpoint: None, at }, true),
                (Step::Pause, true) => (E::Paused { reason: String::new(), at }, true),
                (Step::Resume, true) => (E::Resumed { at }, true),
                (Step::Checkpoint, true) => (E::Checkpointed { progress: std::time::Duration::ZERO, at }, true),
                (Step::Migrate, true) => (E::MigrationStarted { to: Vec::new(), at }, true),
                (Step::Preempt, true) => (E::Preempted { reason: String::new(), at }, false),
                (Step::Requeue, _) => (E::Queued { attempt: 2, at }, false),
                (Step::Finish, _) => {
                    finished = true;
                    (E::Completed { at }, false)
                }
                _ => continue,
            };
            if holds && !holding {
                since = now;
            }
            if holding && !holds {
                expected += i128::from(now - since) * i128::from(gpus);
            }
            holding = holds;
            events.push(event);
        }
        let end = now + 1_000;
        if holding {
            expected += i128::from(end - since) * i128::from(gpus);
        }
        prop_assert_eq!(billed(&events, t(end)), expected);
    }
}

fn card() -> RateCard {
    RateCard {
        prices: vec![Price {
            model: "h100-sxm-80gb".into(),
            tiers: vec![
                Tier { up_to_gpu_hours: Some(100), per_gpu_hour: Money::from_cents(250) },
                Tier { up_to_gpu_hours: None, per_gpu_hour: Money::from_cents(200) },
            ],
        }],
        commitment_discount_bps: 1_000,
        tax_bps: 825,
    }
}

#[test]
fn an_invoice_has_a_line_per_tier_and_adds_up_in_rounded_lines() {
    let card = card();
    card.validate().expect("a good card");
    // 150.5 GPU-hours and a third of a micro-hour: the rounding shows.
    let used = 150 * MICROS_PER_HOUR + MICROS_PER_HOUR / 2 + 1_234_567;
    let period = Cadence::Month.period_of(t(0));
    let usage = Draft { usage: BTreeMap::from([("h100-sxm-80gb".to_owned(), used)]), late: BTreeMap::new() };
    let bill = invoice(&card, period, &usage).expect("invoice");
    let amounts: Vec<Money> = bill.lines.iter().map(|l| l.amount).collect();
    // 100 h × $2.50 = $250.00; 50.500343 h × $2.00 = $101.000686 -> $101.00; discount 10% of $351.00 = -$35.10;
    // tax 8.25% of $315.90 = $26.061750 -> $26.06.
    assert_eq!(
        amounts,
        [Money::from_cents(25_000), Money::from_cents(10_100), Money::from_cents(-3_510), Money::from_cents(2_606)]
    );
    assert_eq!(bill.subtotal, Money::from_cents(31_590));
    assert_eq!(bill.total, amounts.iter().copied().sum::<Money>(), "the total is the sum of rounded lines");
    assert!(bill.lines.iter().all(|l| l.amount.micros() % 10_000 == 0), "every line in whole cents");
    let a100 = Draft { usage: BTreeMap::from([("a100".to_owned(), 1)]), late: BTreeMap::new() };
    let unknown = invoice(&card, period, &a100).expect_err("no price");
    assert!(unknown.to_string().contains("a100"), "{unknown}");
}

#[test]
fn a_card_whose_tiers_do_not_rise_or_end_is_refused() {
    let mut bad = card();
    bad.prices[0].tiers[1].up_to_gpu_hours = Some(50);
    assert_eq!(bad.validate(), Err(RateCardError::Tiers("h100-sxm-80gb".into())));
    let mut over = card();
    over.commitment_discount_bps = 10_001;
    assert_eq!(over.validate(), Err(RateCardError::Discount));
}

#[test]
fn months_are_calendar_months_in_utc() {
    let at = Timestamp::parse_rfc3339("2024-02-29T23:59:59Z").expect("time");
    let feb = Cadence::Month.period_of(at);
    assert_eq!(feb.start, Timestamp::parse_rfc3339("2024-02-01T00:00:00Z").expect("time"));
    assert_eq!(feb.end, Timestamp::parse_rfc3339("2024-03-01T00:00:00Z").expect("time"));
    let dec = Cadence::Month.period_of(Timestamp::parse_rfc3339("2026-12-31T12:00:00Z").expect("time"));
    assert_eq!(dec.end, Timestamp::parse_rfc3339("2027-01-01T00:00:00Z").expect("time"));
    assert_eq!(Cadence::parse("90s"), Ok(Cadence::Seconds(90)));
    assert!(Cadence::parse("fortnight").expect_err("refused").to_string().contains("fortnight"));
    assert!(Cadence::parse("0s").is_err());
}

fn record(version: u64, from: i64, to: i64) -> Record {
    Record::new(version, "h100-sxm-80gb", Span { from: t(from), to: t(to), gpus: 1 })
}

#[test]
fn usage_recorded_after_its_period_was_invoiced_is_an_adjustment_on_the_next() {
    let h = 3_600_000_000i64;
    let cadence = Cadence::Seconds(3_600 * 200);
    let first = cadence.period_of(t(0));
    let second = cadence.period_of(first.end);
    // 99 h in the first period, invoiced through version 1; then 2 more hours of it recorded late.
    let records = [
        record(1, 0, 99 * h),
        record(2, 99 * h, 101 * h),
        record(3, first.end.unix_micros(), first.end.unix_micros() + h),
    ];
    let issued = [Issued { period: first, through: 1 }];
    let next = draft(cadence, &records, &issued, second, 3, &[]);
    assert_eq!(next.usage["h100-sxm-80gb"], i128::from(h));
    let late = next.late[&(first, "h100-sxm-80gb".to_owned())];
    assert_eq!((late.before, late.added), (i128::from(99 * h), i128::from(2 * h)));
    let card = RateCard { tax_bps: 0, commitment_discount_bps: 0, ..card() };
    let bill = invoice(&card, second, &next).expect("invoice");
    let kinds: Vec<(LineKind, i64)> = bill.lines.iter().map(|l| (l.kind, l.amount.micros())).collect();
    // The late 2 h straddle the first period's 100-hour tier: 1 h at $2.50, 1 h at $2.00.
    assert_eq!(
        kinds,
        [(LineKind::Usage, 2_500_000), (LineKind::Adjustment, 2_500_000), (LineKind::Adjustment, 2_000_000)]
    );
    // Once the second is issued through version 3 nothing is left to bill.
    let both = [issued[0], Issued { period: second, through: 3 }];
    let third = draft(cadence, &records, &both, cadence.period_of(second.end), 3, &[]);
    assert_eq!(third, Draft::default());
}

#[test]
fn an_estimate_prices_at_the_tier_reached() {
    let card = RateCard { tax_bps: 0, commitment_discount_bps: 0, ..card() };
    let hour = MICROS_PER_HOUR;
    // 99 h used: the next 2 h are one at $2.50 and one at $2.00.
    assert_eq!(estimate(&card, "h100-sxm-80gb", 99 * hour, 2 * hour), Ok((Money::from_cents(450), Money::ZERO)));
    let wildcard = RateCard { prices: vec![Price { model: "*".into(), ..card.prices[0].clone() }], ..card };
    assert_eq!(estimate(&wildcard, "a100", 0, hour), Ok((Money::from_cents(250), Money::ZERO)));
}

proptest! {
    /// However usage arrives and invoices are issued, every GPU-microsecond of a period
    /// already invoiced is billed once: the invoices' quantities sum to the usage.
    #[test]
    fn every_piece_is_billed_exactly_once(
        spans in proptest::collection::vec((0i64..1_000, 1i64..400), 1..30),
        cuts in proptest::collection::vec(0usize..30, 1..6),
    ) {
        let cadence = Cadence::Seconds(100);
        let records: Vec<Record> = spans
            .iter()
            .enumerate()
            .map(|(i, (from, len))| record(i as u64 + 1, from * 1_000_000, (from + len) * 1_000_000))
            .collect();
        let mut issued = Vec::new();
        let mut billed = 0i128;
        let mut period = cadence.period_of(t(0));
        let mut cuts = cuts.clone();
        cuts.sort_unstable();
        cuts.push(records.len());
        for &through in &cuts {
            let d = draft(cadence, &records, &issued, period, through as u64, &[]);
            billed += d.usage.values().sum::<i128>() + d.late.values().map(|l| l.added).sum::<i128>();
            issued.push(Issued { period, through: through as u64 });
            period = cadence.period_of(period.end);
        }
        // Every piece in a period up to the last invoiced one, recorded by its version.
        let last = issued.last().expect("issued").period;
        let expected: i128 = records
            .iter()
            .flat_map(|r| cadence.pieces(r.span))
            .filter(|(p, _)| p.start <= last.start)
            .map(|(_, s)| s.gpu_micros())
            .sum();
        prop_assert_eq!(billed, expected);
    }
}
