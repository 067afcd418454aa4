//! The books kept as the log goes: the same answers as [`books`](crate::books), without
//! walking every record ever made. Each record is cut into its pieces once, as it comes;
//! a piece waits among the unbilled until an issued invoice bills it, and is then only a
//! sum per period and model (where that period's tiers stand). So a preview, a draft or
//! an estimate costs what has not been invoiced yet, not the tenant's whole history, and
//! no record is copied to answer one.

use crate::books::{Draft, Issued, Late, Record, billed_by};
use crate::period::{Cadence, Period};
use crate::usage::Span;
use std::collections::{BTreeMap, BTreeSet};

/// A record's part in one period.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Piece {
    period: Period,
    model: String,
    version: u64,
    micros: i128,
}

/// A tenant's books, folded record by record and invoice by invoice.
#[derive(Debug, Clone)]
pub struct RunningBooks {
    cadence: Cadence,
    issued: Vec<Issued>,
    /// The highest version any issued invoice billed through.
    max_through: u64,
    /// Pieces no issued invoice has billed yet, in the order they came.
    unbilled: Vec<Piece>,
    /// GPU-microseconds issued invoices billed, by (period, model).
    billed: BTreeMap<(Period, String), i128>,
    /// Every recorded GPU-microsecond, by (period, model), billed or not.
    recorded: BTreeMap<(Period, String), i128>,
}

impl RunningBooks {
    /// Empty books cut into `cadence`'s periods.
    pub fn new(cadence: Cadence) -> Self {
        RunningBooks {
            cadence,
            issued: Vec::new(),
            max_through: 0,
            unbilled: Vec::new(),
            billed: BTreeMap::new(),
            recorded: BTreeMap::new(),
        }
    }

    /// The periods' length.
    pub fn cadence(&self) -> Cadence {
        self.cadence
    }

    /// The issued invoices, in the order they were issued.
    pub fn issued(&self) -> &[Issued] {
        &self.issued
    }

    /// Folds one usage record.
    pub fn record(&mut self, record: &Record) {
        for (period, piece) in self.cadence.pieces(record.span) {
            let micros = record.micros(piece);
            *self.recorded.entry((period, record.model.clone())).or_default() += micros;
            let piece = Piece { period, model: record.model.clone(), version: record.version, micros };
            // A record the log holds before an invoice that billed its version (a fold that
            // meets the invoice first) is billed already.
            if record.version <= self.max_through && billed_by(&self.issued, period, record.version) {
                *self.billed.entry((period, piece.model)).or_default() += micros;
            } else {
                self.unbilled.push(piece);
            }
        }
    }

    /// Folds one issued invoice: the pieces it bills leave the unbilled.
    pub fn issue(&mut self, invoice: Issued) {
        self.issued.push(invoice);
        self.max_through = self.max_through.max(invoice.through);
        let billed = &mut self.billed;
        self.unbilled.retain(|p| {
            let bills = p.period.start <= invoice.period.start && p.version <= invoice.through;
            if bills {
                *billed.entry((p.period, p.model.clone())).or_default() += p.micros;
            }
            !bills
        });
    }

    /// The draft of the invoice for `period` through usage version `through`; `open` are
    /// spans still running (a preview's), which no invoice has billed.
    pub fn draft(&self, period: Period, through: u64, open: &[(String, Span)]) -> Draft {
        let waiting =
            self.unbilled.iter().filter(|p| p.version <= through).map(|p| (p.period, p.model.as_str(), p.micros));
        let running = open
            .iter()
            .flat_map(|(model, span)| self.cadence.pieces(*span).into_iter().map(move |(p, s)| (p, model, s)))
            .map(|(p, model, s)| (p, model.as_str(), s.gpu_micros()));
        let mut out = Draft::default();
        for (p, model, micros) in waiting.chain(running).filter(|(p, _, _)| p.start <= period.start) {
            if p == period {
                *out.usage.entry(model.to_owned()).or_default() += micros;
            } else {
                let key = (p, model.to_owned());
                let before = self.billed.get(&key).copied().unwrap_or_default();
                out.late.entry(key).or_insert(Late { before, added: 0 }).added += micros;
            }
        }
        out
    }

    /// The periods of the pieces no issued invoice has billed yet, earliest first.
    pub fn unbilled(&self) -> BTreeSet<Period> {
        self.unbilled.iter().map(|p| p.period).collect()
    }

    /// `period`'s usage by model so far (records and `open` spans), whatever was
    /// invoiced: where the tiers stand for an estimate.
    pub fn period_usage(&self, open: &[(String, Span)], period: Period) -> BTreeMap<String, i128> {
        let mut out: BTreeMap<String, i128> = self
            .recorded
            .range((period, String::new())..)
            .take_while(|((p, _), _)| *p == period)
            .map(|((_, model), micros)| (model.clone(), *micros))
            .collect();
        for (model, span) in open {
            for (p, piece) in self.cadence.pieces(*span) {
                if p == period {
                    *out.entry(model.clone()).or_default() += piece.gpu_micros();
                }
            }
        }
        out
    }
}
