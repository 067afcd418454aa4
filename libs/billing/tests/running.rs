//! The running books against the reference that walks every record: for random usage,
//! amendments of it (a credit of the record as it stood and the corrected record),
//! invoices issued between the records (and an invoice met before records it billed),
//! and spans still open, every draft, unbilled period and period's usage is the same.

use hcp_billing::books::{Issued, Record, draft, period_usage, unbilled};
use hcp_billing::period::Cadence;
use hcp_billing::running::RunningBooks;
use hcp_billing::usage::Span;
use hcp_domain::units::Timestamp;
use proptest::prelude::*;

fn t(seconds: i64) -> Timestamp {
    Timestamp::from_unix_micros(seconds * 1_000_000)
}

const MODELS: [&str; 2] = ["h100-sxm-80gb", "a100-sxm-80gb"];

#[derive(Debug, Clone)]
enum Step {
    /// A record: from, length, GPUs, model.
    Record(i64, i64, u32, usize),
    /// An invoice for the next period, through the version so far plus this: behind it
    /// (records appended while it was composed), or ahead (records the fold meets after it).
    Issue(i64),
    /// An amendment of the record this far back (modulo those there are): its span cut
    /// to this fraction of its length, in thousandths.
    Amend(usize, i64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0i64..1_000, 1i64..400, 1u32..4, 0usize..2).prop_map(|(f, l, g, m)| Step::Record(f, l, g, m)),
        1 => (-3i64..3).prop_map(Step::Issue),
        1 => (0usize..8, 0i64..1_000).prop_map(|(back, keep)| Step::Amend(back, keep)),
    ]
}

proptest! {
    #[test]
    fn running_books_answer_what_the_reference_does(
        steps in proptest::collection::vec(step(), 1..60),
        open in proptest::collection::vec((0i64..1_200, 0usize..2), 0..3),
        now in 1_200i64..1_500,
    ) {
        let cadence = Cadence::Seconds(100);
        let mut running = RunningBooks::new(cadence);
        let mut records: Vec<Record> = Vec::new();
        // Each record as it stands now (amendments applied).
        let mut standing: Vec<Record> = Vec::new();
        let mut issued: Vec<Issued> = Vec::new();
        let mut period = cadence.period_of(t(0));
        let open: Vec<(String, Span)> = open
            .iter()
            .map(|(from, m)| (MODELS[*m].to_owned(), Span { from: t(*from), to: t(now), gpus: 2 }))
            .collect();
        for step in steps {
            match step {
                Step::Record(from, len, gpus, m) => {
                    let span = Span { from: t(from), to: t(from + len), gpus };
                    let record = Record::new(records.len() as u64 + 1, MODELS[m], span);
                    running.record(&record);
                    records.push(record.clone());
                    standing.push(record);
                }
                Step::Amend(back, keep) => {
                    if standing.is_empty() {
                        continue;
                    }
                    let n = standing.len() - 1 - back % standing.len();
                    let version = records.len() as u64 + 1;
                    let was = Record { version, credit: true, ..standing[n].clone() };
                    let mut span = was.span;
                    let length = span.to.unix_micros() - span.from.unix_micros();
                    span.to = Timestamp::from_unix_micros(span.from.unix_micros() + length * keep / 1_000);
                    let now = Record::new(version, was.model.as_str(), span);
                    for r in [was, now.clone()] {
                        running.record(&r);
                        records.push(r);
                    }
                    standing[n] = now;
                }
                Step::Issue(ahead) => {
                    let through = (records.len() as i64 + ahead).max(0) as u64;
                    let invoice = Issued { period, through };
                    running.issue(invoice);
                    issued.push(invoice);
                    period = cadence.period_of(period.end);
                }
            }
            let through = records.len() as u64;
            prop_assert_eq!(running.unbilled(), unbilled(cadence, &records, &issued));
            for p in [period, cadence.period_of(t(now))] {
                prop_assert_eq!(running.draft(p, through, &open), draft(cadence, &records, &issued, p, through, &open));
                prop_assert_eq!(running.period_usage(&open, p), period_usage(cadence, &records, &open, p));
            }
        }
    }
}
