//! The books: which recorded usage an invoice bills. Invoices are issued in order, each
//! for one period and through one version of the tenant's usage stream. A piece of a
//! record (its part in one period) is billed by the first invoice whose period is its
//! own or later and whose version reaches the record: on the invoice of its own period
//! as usage, on a later one as an adjustment (usage that arrived after its period was
//! invoiced). So every piece is billed exactly once, and the books are a function of
//! the log: recomputing them from the usage and invoice streams gives the same lines.
//! An amended record is two records at the amendment's version: the record as it stood,
//! as a credit, and as it stands now; where its period was invoiced, the difference is
//! an adjustment (negative for a credit).

use crate::period::{Cadence, Period};
use crate::usage::Span;
use std::collections::{BTreeMap, BTreeSet};

/// A usage record as the books see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its version in the tenant's usage stream.
    pub version: u64,
    /// The GPU model.
    pub model: String,
    /// The billed span.
    pub span: Span,
    /// Whether it takes its span's GPU time back (a record as it stood before an
    /// amendment, which bills its corrected span instead).
    pub credit: bool,
}

impl Record {
    /// A record billing `span` of `model`, at `version`.
    pub fn new(version: u64, model: impl Into<String>, span: Span) -> Self {
        Record { version, model: model.into(), span, credit: false }
    }

    /// The GPU-microseconds of `piece`, one of its pieces, as the books count them.
    pub fn micros(&self, piece: Span) -> i128 {
        if self.credit { -piece.gpu_micros() } else { piece.gpu_micros() }
    }
}

/// An issued invoice as the books see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Issued {
    /// Its period.
    pub period: Period,
    /// The usage stream's version it billed through.
    pub through: u64,
}

/// What one invoice bills, in GPU-microseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    /// Its own period's usage, by model.
    pub usage: BTreeMap<String, i128>,
    /// Usage of earlier, already invoiced periods, by (period, model): what those
    /// periods had billed before (where the tiers stand) and what this one adds.
    pub late: BTreeMap<(Period, String), Late>,
}

/// Late usage of one period and model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Late {
    /// GPU-microseconds the period had billed before.
    pub before: i128,
    /// GPU-microseconds this invoice adds.
    pub added: i128,
}

/// The draft of the invoice for `period` through usage version `through`, after the
/// `issued` invoices (in the order they were issued). `open` are spans still running
/// (a preview's): no invoice has billed them, so their pieces in earlier periods are
/// adjustments. This walks every record: it is the reference that
/// [`RunningBooks`](crate::running::RunningBooks) keeps up as the log goes.
pub fn draft(
    cadence: Cadence,
    records: &[Record],
    issued: &[Issued],
    period: Period,
    through: u64,
    open: &[(String, Span)],
) -> Draft {
    let mut billed: BTreeMap<(Period, String), i128> = BTreeMap::new();
    let mut pending: Vec<(Period, &str, i128)> = Vec::new();
    for r in records {
        for (p, piece) in cadence.pieces(r.span) {
            let micros = r.micros(piece);
            if billed_by(issued, p, r.version) {
                *billed.entry((p, r.model.clone())).or_default() += micros;
            } else if p.start <= period.start && r.version <= through {
                pending.push((p, &r.model, micros));
            }
        }
    }
    for (model, span) in open {
        let pieces = cadence.pieces(*span).into_iter().filter(|(p, _)| p.start <= period.start);
        pending.extend(pieces.map(|(p, piece)| (p, model.as_str(), piece.gpu_micros())));
    }
    let mut out = Draft::default();
    for (p, model, micros) in pending {
        if p == period {
            *out.usage.entry(model.to_owned()).or_default() += micros;
        } else {
            let key = (p, model.to_owned());
            let before = billed.get(&key).copied().unwrap_or_default();
            let late = out.late.entry(key).or_insert(Late { before, added: 0 });
            late.added += micros;
        }
    }
    out
}

/// Whether an issued invoice billed the piece in `period` of the record at `version`.
pub(crate) fn billed_by(issued: &[Issued], period: Period, version: u64) -> bool {
    issued.iter().any(|i| period.start <= i.period.start && version <= i.through)
}

/// The periods of the pieces no issued invoice has billed yet, earliest first.
pub fn unbilled(cadence: Cadence, records: &[Record], issued: &[Issued]) -> BTreeSet<Period> {
    records
        .iter()
        .flat_map(|r| cadence.pieces(r.span).into_iter().map(move |(p, _)| (p, r.version)))
        .filter(|(p, version)| !billed_by(issued, *p, *version))
        .map(|(p, _)| p)
        .collect()
}

/// A period's usage by model so far (records and open spans), whatever was invoiced:
/// where the tiers stand for an estimate.
pub fn period_usage(
    cadence: Cadence,
    records: &[Record],
    open: &[(String, Span)],
    period: Period,
) -> BTreeMap<String, i128> {
    let mut out = BTreeMap::new();
    let open = open.iter().map(|(model, span)| Record::new(0, model.as_str(), *span));
    for r in records.iter().cloned().chain(open) {
        for (p, piece) in cadence.pieces(r.span) {
            if p == period {
                *out.entry(r.model.clone()).or_default() += r.micros(piece);
            }
        }
    }
    out
}
