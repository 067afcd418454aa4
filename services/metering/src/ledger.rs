//! The ledger: a tenant's usage, invoices, previews, estimates and budgets, from the
//! view of the log (`usage-<tenant>`, `invoice-<tenant>`, `budget-<tenant>`, the open
//! spans) and its rate card, through the billing core. Issued invoices are events
//! (`invoice.issued`) appended at the version the view has seen, with ids derived from
//! the tenant and period, so two metering instances, or one restarted mid-issue, record
//! each invoice once. What the ledger appends it waits to see in its view, so a read
//! after a write sees the write.

use crate::ratecards;
use crate::recorder::{USAGE_PERIOD_CLOSED, usage_stream};
use crate::shape::Shape;
use crate::view::{OpenSpan, View};
use hcp_billing::books::Draft;
use hcp_billing::invoice::{self, InvoiceError};
use hcp_billing::period::{Cadence, Period};
use hcp_billing::usage::{MICROS_PER_HOUR, Span};
use hcp_domain::units::{Money, Timestamp};
use hcp_eventstore::{EventStore, ExpectedVersion, Position, StoreError, append_at_tail};
use hcp_proto::v1 as pb;
use hcp_runtime::config::MeteringConfig;
use hcp_runtime::host::ReactorWatch;
use hcp_runtime::{ErrorCode, EventContext, HasErrorCode};
use prost::Message;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The issued invoice's event type.
pub const INVOICE_ISSUED: &str = "invoice.issued";
/// A budget's event types.
pub const BUDGET_SET: &str = "budget.set";
/// A threshold of a budget crossed in a period.
pub const BUDGET_THRESHOLD_CROSSED: &str = "budget.threshold_crossed";
/// How long invoicing waits for the usage recorder to meet a close of usage.
const RECORDER_WAIT: std::time::Duration = std::time::Duration::from_secs(30);
/// The thresholds budgets alert at, percent.
pub const THRESHOLDS: [u32; 3] = [50, 80, 100];

/// A tenant's invoice stream.
pub fn invoice_stream(tenant: &str) -> String {
    format!("invoice-{tenant}")
}

/// A tenant's budget stream.
pub fn budget_stream(tenant: &str) -> String {
    format!("budget-{tenant}")
}

/// Why a ledger call fails.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// A bad argument, naming the field.
    #[error("{0}")]
    Invalid(String),
    /// What the request names is not there.
    #[error("{0}")]
    NotFound(String),
    /// The usage cannot be priced.
    #[error(transparent)]
    Invoice(#[from] InvoiceError),
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl HasErrorCode for LedgerError {
    fn code(&self) -> ErrorCode {
        match self {
            LedgerError::Invalid(_) => ErrorCode::InvalidArgument,
            LedgerError::NotFound(_) => ErrorCode::NotFound,
            LedgerError::Invoice(InvoiceError::NoPrice(_)) => ErrorCode::FailedPrecondition,
            LedgerError::Invoice(InvoiceError::Overflow) => ErrorCode::InvalidArgument,
            LedgerError::Store(e) => e.code(),
        }
    }
}

/// A copy of a tenant's usage records, with their versions, and the stream's version.
pub struct Usage {
    /// `(version, record)`, in order.
    pub records: Vec<(u64, pb::UsageRecorded)>,
    /// The usage stream's last version.
    pub version: u64,
}

/// What one round of issuing the invoices due did.
#[derive(Debug, Default)]
pub struct Round {
    /// The invoices issued, tenant by tenant, each tenant's earliest period first.
    pub issued: Vec<pb::Invoice>,
    /// Each tenant whose invoices due could not all be issued, and why; the next round
    /// tries again.
    pub failed: Vec<(String, LedgerError)>,
}

/// The ledger.
pub struct Ledger<S> {
    store: Arc<S>,
    config: MeteringConfig,
    cadence: Cadence,
    pub(crate) view: Arc<View>,
    watch: ReactorWatch,
    recorder: std::sync::OnceLock<ReactorWatch>,
}

impl<S: EventStore> Ledger<S> {
    /// A ledger over `store` and `view` (from [`Ledger::view`], folded by the reactor
    /// `watch` follows); refuses a view cut into other periods than `config`'s.
    pub fn new(
        store: Arc<S>,
        config: MeteringConfig,
        view: Arc<View>,
        watch: ReactorWatch,
    ) -> Result<Self, LedgerError> {
        let cadence = Self::view(&config)?.cadence();
        if view.cadence() != cadence {
            return Err(LedgerError::Invalid(format!(
                "metering.period: {cadence}, but the view is cut into {} periods",
                view.cadence()
            )));
        }
        Ok(Ledger { store, config, cadence, view, watch, recorder: std::sync::OnceLock::new() })
    }

    /// A ledger's view over `config`'s billing period; refuses a period it cannot read.
    pub fn view(config: &MeteringConfig) -> Result<View, LedgerError> {
        let cadence =
            Cadence::parse(&config.period).map_err(|e| LedgerError::Invalid(format!("metering.period: {e}")))?;
        Ok(View::new(cadence))
    }

    /// Waits until the view has folded `position` (what this ledger just appended).
    pub(crate) async fn seen(&self, position: Position) {
        if !self.watch.caught_up(position).await {
            tracing::warn!("the metering view stopped before it caught up");
        }
    }

    /// The billing period's length.
    pub fn cadence(&self) -> Cadence {
        self.cadence
    }

    /// The configuration.
    pub fn config(&self) -> &MeteringConfig {
        &self.config
    }

    /// The store.
    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// A copy of `tenant`'s usage records (for audits and tests: the ledger's own
    /// answers read the view in place).
    pub async fn usage(&self, tenant: &str) -> Result<Usage, LedgerError> {
        Ok(self.view.read(tenant, |b| Usage {
            records: b.records.iter().map(|r| (r.version, r.to_pb())).collect(),
            version: b.usage_version,
        }))
    }

    /// `tenant`'s issued invoices, oldest first.
    pub async fn invoices(&self, tenant: &str) -> Result<Vec<pb::Invoice>, LedgerError> {
        Ok(self.view.read(tenant, |b| b.invoices.clone()))
    }

    fn open_spans(&self, tenant: &str, now: Timestamp) -> Vec<(String, Span)> {
        self.view.spans(tenant, now).into_iter().map(|o| (o.model, o.span)).collect()
    }

    /// The invoice of `draft`, for `period` through usage version `through`, as the API
    /// shows it.
    async fn compose(
        &self,
        tenant: &str,
        period: Period,
        (draft, through): (Draft, u64),
        now: Timestamp,
    ) -> Result<pb::Invoice, LedgerError> {
        let (card, card_version, _) = ratecards::load(self.store.as_ref(), &self.config, tenant).await?;
        let bill = invoice::invoice(&card, period, &draft)?;
        Ok(pb::Invoice {
            id: format!("{tenant}-{}", self.cadence.label(period)),
            tenant: tenant.to_owned(),
            period_start_unix_micros: period.start.unix_micros(),
            period_end_unix_micros: period.end.unix_micros(),
            usage_through_version: through,
            ratecard_version: card_version,
            lines: bill
                .lines
                .iter()
                .map(|l| pb::InvoiceLine {
                    kind: l.kind.as_str().to_owned(),
                    description: l.description.clone(),
                    model: l.model.clone(),
                    period_start_unix_micros: l.period.start.unix_micros(),
                    period_end_unix_micros: l.period.end.unix_micros(),
                    gpu_micros: i64::try_from(l.gpu_micros).unwrap_or(i64::MAX),
                    unit_usd_micros: l.unit.micros(),
                    amount_usd_micros: l.amount.micros(),
                })
                .collect(),
            subtotal_usd_micros: bill.subtotal.micros(),
            tax_usd_micros: bill.tax.micros(),
            total_usd_micros: bill.total.micros(),
            issued_unix_micros: now.unix_micros(),
        })
    }

    /// The current period's invoice as it stands at `now`: recorded usage not yet
    /// invoiced, and the spans open now.
    pub async fn preview(&self, tenant: &str, now: Timestamp) -> Result<pb::Invoice, LedgerError> {
        let open = self.open_spans(tenant, now);
        let period = self.cadence.period_of(now);
        let draft = self.view.read(tenant, |b| (b.running.draft(period, b.usage_version, &open), b.usage_version));
        self.compose(tenant, period, draft, now).await
    }

    /// Issues every invoice due at `now` for every tenant, each tenant on its own: one
    /// whose invoice cannot be (its usage of a model its rate card has no price for) is
    /// answered among the failed, and the others are invoiced all the same. Fails whole
    /// only when the store cannot be read.
    pub async fn issue_due(&self, now: Timestamp) -> Result<Round, LedgerError> {
        self.recorded(self.store.head().await?).await?;
        let mut round = Round::default();
        for tenant in self.view.tenants() {
            if let Err(e) = self.issue_for(&tenant, now, &mut round.issued).await {
                round.failed.push((tenant, e));
            }
        }
        Ok(round)
    }

    /// Waits a while for the usage recorder (when [`Ledger::follow`] names it) to have
    /// handled the log through `position`, then for the view to have folded what it
    /// wrote. So usage whose lifecycle the log holds is invoiced in its own period, not
    /// left to an adjustment on the next one, as it was when the ledger drafted while a
    /// recorder restarted behind its checkpoint was still catching up.
    async fn recorded(&self, position: Position) -> Result<(), LedgerError> {
        if let Some(recorder) = self.recorder.get()
            && tokio::time::timeout(RECORDER_WAIT, recorder.caught_up(position)).await.is_err()
        {
            tracing::warn!(
                "the usage recorder has not caught up with the log; invoicing without what it has to record"
            );
        }
        self.seen(self.store.head().await?).await;
        Ok(())
    }

    /// Closes `tenant`'s usage through the latest period's end due at `now` (its grace
    /// passed) where spans are still open from before it: a `usage.period_closed` listing
    /// them, appended once, which the recorder meets in the log and records their pieces up
    /// to that end, so that those periods' invoices bill workloads that run on. Waits a
    /// while for the recorder to meet it and then for the view (the caller has waited for
    /// both to reach the log's head, so a span that ended before is not open).
    async fn close_usage(&self, tenant: &str, now: Timestamp, grace: i64) -> Result<(), LedgerError> {
        let end = self.cadence.period_of(Timestamp::from_unix_micros(now.unix_micros() - grace)).start;
        let open = |spans: Vec<OpenSpan>| -> Vec<pb::OpenSpanRef> {
            let before = spans.into_iter().filter(|o| o.span.from < end);
            before.map(|o| pb::OpenSpanRef { workload_id: o.workload_id, opened_by: o.opened_by }).collect()
        };
        let position = loop {
            let open = open(self.view.spans(tenant, now));
            if open.is_empty() {
                return Ok(());
            }
            let keys: Vec<String> = open.iter().map(|o| format!("{}@{}", o.workload_id, o.opened_by)).collect();
            let key = format!("usage-closed:{tenant}:{}:{}", end.unix_micros(), keys.join(","));
            let context = EventContext::new("metering").with_tenant(tenant).with_ids_from_key(&key);
            let (version, known) =
                self.view.read(tenant, |b| (b.usage_version, b.closings.contains(&context.event_id(0))));
            if known {
                // Appended before: the recorder has yet to meet it.
                break self.store.head().await?;
            }
            let closed = pb::UsagePeriodClosed { period_end_unix_micros: end.unix_micros(), open };
            let event = context.event(0, USAGE_PERIOD_CLOSED, closed.encode_to_vec(), now.unix_micros());
            match self.store.append(&usage_stream(tenant), ExpectedVersion::Exact(version), vec![event]).await {
                Ok(appended) => break appended.last_position,
                // The recorder wrote meanwhile: see what it wrote, then look again.
                Err(StoreError::Conflict(_)) => self.seen(self.store.head().await?).await,
                Err(e) => return Err(e.into()),
            }
        };
        self.recorded(position).await
    }

    /// Follows the usage recorder `watch` shows, to wait for it to record what a close of
    /// usage asks before invoicing.
    pub fn follow(&self, watch: ReactorWatch) {
        // Set once, at the start; a second call changes nothing.
        let _ = self.recorder.set(watch);
    }

    /// Issues `tenant`'s invoices due at `now`, earliest period first: a period is due
    /// once it has ended and its grace has passed, and has usage not billed yet (its
    /// own, late usage of earlier periods, billed as adjustments, or the pieces in it of
    /// workloads still running, recorded first).
    /// Those issued are added to `out` as they are, so a failure later in the tenant's
    /// periods leaves them there.
    async fn issue_for(&self, tenant: &str, now: Timestamp, out: &mut Vec<pb::Invoice>) -> Result<(), LedgerError> {
        let grace = (self.config.invoice_grace_seconds * 1e6) as i64;
        self.close_usage(tenant, now, grace).await?;
        loop {
            // What is due, and its draft, from one look at the books.
            let look = self.view.read(tenant, |b| {
                let after = b.running.issued().last().map(|i| i.period);
                let due = b
                    .running
                    .unbilled()
                    .into_iter()
                    .map(|p| match after {
                        Some(last) if p.start <= last.start => self.cadence.period_of(last.end),
                        _ => p,
                    })
                    .find(|p| p.end.unix_micros() + grace <= now.unix_micros());
                let issued = b.invoices.len() as u64;
                due.map(|p| (p, issued, (b.running.draft(p, b.usage_version, &[]), b.usage_version)))
            });
            let Some((period, issued, draft)) = look else { return Ok(()) };
            let bill = self.compose(tenant, period, draft, now).await?;
            let context = EventContext::new("metering")
                .with_tenant(tenant)
                .with_ids_from_key(&format!("invoice:{tenant}:{}", period.start.unix_micros()));
            let event = context.event(0, INVOICE_ISSUED, bill.encode_to_vec(), now.unix_micros());
            let expected = ExpectedVersion::Exact(issued);
            match self.store.append(&invoice_stream(tenant), expected, vec![event]).await {
                Ok(appended) => {
                    tracing::info!(tenant, invoice = %bill.id, total_usd_micros = bill.total_usd_micros, "invoice issued");
                    self.seen(appended.last_position).await;
                    out.push(bill);
                }
                // Another instance issued it (or this one, before a crash): see it, then go on.
                Err(StoreError::Conflict(_)) => self.seen(self.store.head().await?).await,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// What `shape` (its GPUs of its model for its hours) would cost `tenant` now.
    pub async fn estimate(
        &self,
        tenant: &str,
        shape: &Shape,
        now: Timestamp,
    ) -> Result<pb::EstimateResponse, LedgerError> {
        let (gpus, hours) = (shape.gpus, shape.hours);
        if gpus == 0 {
            return Err(LedgerError::Invalid("gpus: at least 1".into()));
        }
        if !(hours.is_finite() && hours > 0.0 && hours <= 24.0 * 366.0) {
            return Err(LedgerError::Invalid(format!("hours: {hours} must be above 0 and at most a year")));
        }
        let model = hcp_domain::catalogue::canonical_gpu_model(&shape.model);
        let open = self.open_spans(tenant, now);
        let period = self.cadence.period_of(now);
        let used = self.view.read(tenant, |b| b.running.period_usage(&open, period).get(&model).copied().unwrap_or(0));
        let added = (hours * MICROS_PER_HOUR as f64).round() as i128 * i128::from(gpus);
        let (card, _, _) = ratecards::load(self.store.as_ref(), &self.config, tenant).await?;
        let (subtotal, tax) = invoice::estimate(&card, &model, used, added)?;
        Ok(pb::EstimateResponse {
            tenant: tenant.to_owned(),
            gpu_model: model,
            gpu_micros: i64::try_from(added).unwrap_or(i64::MAX),
            subtotal_usd_micros: subtotal.micros(),
            tax_usd_micros: tax.micros(),
            total_usd_micros: (subtotal + tax).micros(),
            period_gpu_micros: i64::try_from(used).unwrap_or(i64::MAX),
        })
    }

    /// `tenant`'s recorded GPU time from `request.from` to `request.to`, grouped.
    pub async fn usage_rows(&self, request: &pb::UsageRequest) -> Result<pb::UsageResponse, LedgerError> {
        const KEYS: [&str; 4] = ["model", "site", "workload", "period"];
        if let Some(bad) = request.group_by.iter().find(|g| !KEYS.contains(&g.as_str())) {
            return Err(LedgerError::Invalid(format!("group_by: {bad:?} is not one of {}", KEYS.join(", "))));
        }
        let window = Period {
            start: Timestamp::from_unix_micros(request.from_unix_micros),
            end: Timestamp::from_unix_micros(if request.to_unix_micros > 0 {
                request.to_unix_micros
            } else {
                i64::MAX
            }),
        };
        let mut rows: BTreeMap<Vec<String>, (i128, u32)> = BTreeMap::new();
        self.view.read(&request.tenant, |b| {
            for r in &b.records {
                for (period, piece) in self.cadence.pieces(r.span()) {
                    let Some(piece) = window.clip(piece) else { continue };
                    let key = request
                        .group_by
                        .iter()
                        .map(|g| match g.as_str() {
                            "model" => r.model.to_string(),
                            "site" => r.site.to_string(),
                            "workload" => r.workload_id.to_string(),
                            _ => self.cadence.label(period),
                        })
                        .collect();
                    let row = rows.entry(key).or_default();
                    row.0 += piece.gpu_micros();
                    row.1 += 1;
                }
            }
        });
        let hours = |micros: i128| micros as f64 / MICROS_PER_HOUR as f64;
        let total: i128 = rows.values().map(|(m, _)| m).sum();
        Ok(pb::UsageResponse {
            tenant: request.tenant.clone(),
            rows: rows
                .into_iter()
                .map(|(key, (micros, records))| pb::UsageRow {
                    group: request.group_by.iter().cloned().zip(key).collect(),
                    gpu_micros: i64::try_from(micros).unwrap_or(i64::MAX),
                    gpu_hours: hours(micros),
                    records,
                })
                .collect(),
            gpu_micros: i64::try_from(total).unwrap_or(i64::MAX),
            gpu_hours: hours(total),
        })
    }

    /// Sets `tenant`'s budget per period.
    pub async fn set_budget(&self, tenant: &str, usd_micros: i64, context: &EventContext) -> Result<(), LedgerError> {
        if usd_micros < 0 {
            return Err(LedgerError::Invalid("usd_micros_per_period: may not be negative (0: no budget)".into()));
        }
        let set = pb::BudgetSet { usd_micros_per_period: usd_micros };
        let event = context.event(0, BUDGET_SET, set.encode_to_vec(), hcp_runtime::clock::now_micros());
        let appended = self.store.append(&budget_stream(tenant), ExpectedVersion::Any, vec![event]).await?;
        self.seen(appended.last_position).await;
        Ok(())
    }

    /// `tenant`'s budget and this period's spend against it at `now`.
    pub async fn budget(&self, tenant: &str, now: Timestamp) -> Result<pb::BudgetView, LedgerError> {
        let period = self.cadence.period_of(now);
        let start = period.start.unix_micros();
        let mut view = self.view.read(tenant, |b| pb::BudgetView {
            tenant: tenant.to_owned(),
            period_start_unix_micros: start,
            usd_micros_per_period: b.budget_usd_micros,
            crossed: b.crossed.iter().filter(|(p, _)| *p == start).map(|(_, percent)| *percent).collect(),
            ..Default::default()
        });
        view.spent_usd_micros = self.preview(tenant, now).await?.total_usd_micros;
        Ok(view)
    }

    /// Records each budget threshold a tenant's spend crossed this period (once per
    /// tenant, period and threshold); answers those recorded now.
    pub async fn check_budgets(
        &self,
        now: Timestamp,
    ) -> Result<Vec<(String, pb::BudgetThresholdCrossed)>, LedgerError> {
        let mut out = Vec::new();
        for tenant in self.view.budgeted() {
            let view = self.budget(&tenant, now).await?;
            let budget = Money::from_micros(view.usd_micros_per_period);
            if budget <= Money::ZERO {
                continue;
            }
            for percent in THRESHOLDS.into_iter().filter(|p| !view.crossed.contains(p)) {
                let spent = i128::from(view.spent_usd_micros) * 100;
                if spent < i128::from(budget.micros()) * i128::from(percent) {
                    continue;
                }
                let crossed = pb::BudgetThresholdCrossed {
                    period_start_unix_micros: view.period_start_unix_micros,
                    percent,
                    spent_usd_micros: view.spent_usd_micros,
                    budget_usd_micros: budget.micros(),
                };
                let key = format!("budget:{tenant}:{}:{percent}", view.period_start_unix_micros);
                let context = EventContext::new("metering").with_tenant(tenant.clone()).with_ids_from_key(&key);
                let event = context.event(0, BUDGET_THRESHOLD_CROSSED, crossed.encode_to_vec(), now.unix_micros());
                let appended = append_at_tail(self.store.as_ref(), &budget_stream(&tenant), event).await?;
                self.seen(appended.last_position).await;
                tracing::warn!(tenant, percent, spent_usd_micros = view.spent_usd_micros, "budget threshold crossed");
                out.push((tenant.clone(), crossed));
            }
        }
        Ok(out)
    }
}

impl<S: EventStore> Ledger<S> {
    /// Each site's margin over `request`'s span (up to `now` when it names no end): mining
    /// revenue + AI revenue - power cost. Energy records count when their interval starts
    /// in the span; GPU time, recorded and still running up to now (as a preview counts
    /// it), is cut at the span's edges and at the billing periods', and is worth its share
    /// of what its period's GPU time is charged at the tenant's card (at the tiers the period's
    /// whole usage reaches, less the committed-use discount, before tax, which is not
    /// revenue): over whole periods, what the invoices charge.
    /// Mining revenue is the expected BTC (subsidy and the day's fees) at the day's price.
    pub async fn site_margins(
        &self,
        request: &pb::SiteMarginsRequest,
        now: Timestamp,
    ) -> Result<pb::SiteMarginsResponse, LedgerError> {
        let to = if request.to_unix_micros > 0 { request.to_unix_micros } else { now.unix_micros() };
        let window = Period {
            start: Timestamp::from_unix_micros(request.from_unix_micros),
            end: Timestamp::from_unix_micros(to),
        };
        if window.start >= window.end {
            return Err(LedgerError::Invalid(format!(
                "from_unix_micros: {} is not before {to}",
                request.from_unix_micros
            )));
        }
        let inside = |start: i64| window.start.unix_micros() <= start && start < window.end.unix_micros();
        let mut sites: BTreeMap<String, pb::SiteMargin> = BTreeMap::new();
        for (site, records) in self.view.energy(&request.site, |r| inside(r.interval_start_unix_micros)) {
            let m = sites.entry(site.clone()).or_insert_with(|| pb::SiteMargin { site, ..Default::default() });
            let devices: std::collections::BTreeSet<&str> = records.iter().map(|r| r.resource_id.as_str()).collect();
            m.devices = devices.len() as u32;
            for r in &records {
                m.energy_kwh += r.energy_wh / 1e3;
                m.gap_seconds += r.gap_seconds;
                m.power_cost_usd_micros += r.power_cost_usd_micros;
                m.terahashes += r.terahashes;
                m.btc += r.btc;
                m.mining_usd_micros += r.mining_usd_micros;
            }
        }
        // GPU time in the span by (site, tenant, model, period), and each period's whole
        // GPU time by (tenant, model, period): a period's share of what its invoice charges
        // (at the tiers its whole usage reaches) is its share of that GPU time.
        let mut gpu: BTreeMap<(String, String, String, Period), i128> = BTreeMap::new();
        let mut totals: BTreeMap<(String, String, Period), i128> = BTreeMap::new();
        self.view.each_tenant(now, |tenant, books, open, site_of| {
            let running: Vec<(String, Span)> = open.iter().map(|o| (o.model.clone(), o.span)).collect();
            let recorded = books.records.iter().map(|r| (site_of(r), r.model.to_string(), r.span()));
            let opened = open.iter().map(|o| (o.site.clone(), o.model.clone(), o.span));
            for (site, model, span) in recorded.chain(opened) {
                if !request.site.is_empty() && site != request.site {
                    continue;
                }
                for (period, piece) in self.cadence.pieces(span) {
                    let Some(piece) = window.clip(piece) else { continue };
                    *gpu.entry((site.clone(), tenant.to_owned(), model.clone(), period)).or_default() +=
                        piece.gpu_micros();
                    totals.entry((tenant.to_owned(), model.clone(), period)).or_insert_with(|| {
                        books.running.period_usage(&running, period).get(&model).copied().unwrap_or(0)
                    });
                }
            }
        });
        let mut charged: BTreeMap<(String, String, Period), Money> = BTreeMap::new();
        for ((tenant, model, period), used) in &totals {
            let (card, _, _) = ratecards::load(self.store.as_ref(), &self.config, tenant).await?;
            let (subtotal, _) = invoice::estimate(&card, model, 0, (*used).max(0))?;
            charged.insert((tenant.clone(), model.clone(), *period), subtotal);
        }
        for ((site, tenant, model, period), micros) in gpu {
            let key = (tenant, model, period);
            let (used, subtotal) = (totals[&key], charged[&key]);
            let share = if used > 0 { i128::from(subtotal.micros()) * micros / used } else { 0 };
            let m = sites.entry(site.clone()).or_insert_with(|| pb::SiteMargin { site, ..Default::default() });
            m.ai_gpu_hours += micros as f64 / MICROS_PER_HOUR as f64;
            m.ai_usd_micros += i64::try_from(share).unwrap_or(i64::MAX);
        }
        let mut out: Vec<pb::SiteMargin> = sites.into_values().collect();
        for m in &mut out {
            m.margin_usd_micros = m.mining_usd_micros + m.ai_usd_micros - m.power_cost_usd_micros;
        }
        Ok(pb::SiteMarginsResponse { sites: out })
    }
}
