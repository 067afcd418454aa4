//! The ledger's view, folded in memory from the whole log at each start and kept by an
//! in-memory reactor: each tenant's books (usage records as amended, issued invoices, budget and
//! thresholds crossed, from `usage-`, `invoice-` and `budget-<tenant>`), each site's
//! energy records (`energy-<site>`) and where workloads were placed, and every
//! workload billing now (started, perhaps paused, not yet preempted, re-queued or ended),
//! whose open spans previews, estimates and budgets count up to now (from the end of the
//! pieces of them recorded already, at the periods' ends). Invoicing every few
//! seconds reads these, not the streams.

use crate::energy::ENERGY_RECORDED;
use crate::kept::{Kept, Strings};
use crate::ledger::{BUDGET_SET, BUDGET_THRESHOLD_CROSSED, INVOICE_ISSUED};
use crate::pieces::{PERIOD_ENDED, piece_id};
use crate::recorder::{USAGE_AMENDED, USAGE_PERIOD_CLOSED, USAGE_RECORDED};
use hcp_billing::books::{Issued, Record};
use hcp_billing::period::{Cadence, Period};
use hcp_billing::running::RunningBooks;
use hcp_billing::usage::{Meter, Span};
use hcp_domain::codec::decode_workload_event;
use hcp_domain::units::Timestamp;
use hcp_domain::workload::WorkloadEvent;
use hcp_eventstore::RecordedEvent;
use hcp_proto::v1 as pb;
use hcp_runtime::reactor::decoded as decode;
use hcp_runtime::{Handler, HandlerError};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use uuid::Uuid;

/// The view's consumer name (in memory: it has no checkpoint).
pub const VIEW: &str = "metering-view";

/// One workload's meter, whose it is, and how far its open span is recorded.
#[derive(Debug, Clone)]
struct Entry {
    tenant: String,
    model: String,
    site: String,
    meter: Meter,
    /// The end of the open span's last piece recorded while it runs (a period's end).
    recorded_to: Option<Timestamp>,
}

/// An open span of a tenant's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSpan {
    /// The workload.
    pub workload_id: String,
    /// The GPU model.
    pub model: String,
    /// Where it runs: the site its spec named, or the site it was last placed at ("" when
    /// neither is known).
    pub site: String,
    /// The version of the workload's stream that opened it.
    pub opened_by: u64,
    /// From its start, or from the end of its pieces recorded already, up to now.
    pub span: Span,
}

/// A tenant's books as the log has them.
#[derive(Debug, Clone)]
pub struct Books {
    /// Its usage records, in order, each as it stands (amendments applied; for usage
    /// queries and margins: invoices, previews and estimates read `running`).
    pub records: Vec<Kept>,
    /// Each record's event id, in the same order.
    pub ids: Vec<Uuid>,
    /// Where each record is in `records`, by event id.
    index: HashMap<Uuid, usize>,
    /// How many times each amended record was amended, by its place in `records`.
    amended: HashMap<usize, u32>,
    /// The ids of the `usage.period_closed` on its usage stream.
    pub closings: HashSet<Uuid>,
    /// The records and issued invoices folded into what is billed and what is not.
    pub running: RunningBooks,
    /// The usage stream's last version.
    pub usage_version: u64,
    /// Its issued invoices, oldest first.
    pub invoices: Vec<pb::Invoice>,
    /// Its budget per period, micro-dollars (0: none).
    pub budget_usd_micros: i64,
    /// The thresholds crossed: (period start, percent).
    pub crossed: BTreeSet<(i64, u32)>,
}

impl Books {
    fn new(cadence: Cadence) -> Self {
        Books {
            records: Vec::new(),
            ids: Vec::new(),
            index: HashMap::new(),
            amended: HashMap::new(),
            closings: HashSet::new(),
            running: RunningBooks::new(cadence),
            usage_version: 0,
            invoices: Vec::new(),
            budget_usd_micros: 0,
            crossed: BTreeSet::new(),
        }
    }
}

impl Books {
    /// The record with event id `id`, as it stands, and its place.
    pub fn record(&self, id: Uuid) -> Option<(usize, &Kept)> {
        self.index.get(&id).map(|&n| (n, &self.records[n]))
    }

    /// The record at `n`, as the API shows it.
    pub fn view_of(&self, n: usize) -> pb::UsageRecordView {
        pb::UsageRecordView {
            id: self.ids[n].to_string(),
            record: Some(self.records[n].to_pb()),
            amendments: self.amended.get(&n).copied().unwrap_or(0),
        }
    }

    fn push(&mut self, id: Uuid, kept: Kept) {
        self.running.record(&kept.record(kept.version));
        self.index.insert(id, self.records.len());
        self.ids.push(id);
        self.records.push(kept);
    }

    /// An amendment at `version` of record `record_id` to `now` (kept at the record's
    /// version): the record as it stood is taken back, the corrected one billed (an
    /// amendment of a record the books do not hold is left out, as a recomputation leaves
    /// it out, and logged).
    fn amend(&mut self, version: u64, record_id: &str, now: Option<Kept>) {
        let place = record_id.parse::<Uuid>().ok().and_then(|id| self.index.get(&id).copied());
        let (Some(n), Some(mut now)) = (place, now) else {
            tracing::warn!(record = record_id, "an amendment of a usage record the books do not hold");
            return;
        };
        let was = Record { credit: true, ..self.records[n].record(version) };
        self.running.record(&was);
        self.running.record(&now.record(version));
        now.version = self.records[n].version;
        self.records[n] = now;
        *self.amended.entry(n).or_default() += 1;
    }
}

/// A usage record's billed span.
pub fn span_of(r: &pb::UsageRecorded) -> Span {
    Span {
        from: Timestamp::from_unix_micros(r.from_unix_micros),
        to: Timestamp::from_unix_micros(r.to_unix_micros),
        gpus: r.gpus,
    }
}

/// An issued invoice as the books see it.
pub fn issued_of(i: &pb::Invoice) -> Issued {
    Issued {
        period: Period {
            start: Timestamp::from_unix_micros(i.period_start_unix_micros),
            end: Timestamp::from_unix_micros(i.period_end_unix_micros),
        },
        through: i.usage_through_version,
    }
}

struct Inner {
    cadence: Cadence,
    workloads: HashMap<String, Entry>,
    tenants: BTreeMap<String, Books>,
    /// Site → its energy records.
    energy: BTreeMap<String, Vec<pb::EnergyRecorded>>,
    /// Resource → site.
    resource_sites: HashMap<String, String>,
    /// Workload → the site it was last placed at.
    placed: HashMap<String, String>,
    /// The strings usage records share.
    strings: Strings,
}

/// The view.
pub struct View {
    inner: Mutex<Inner>,
}

impl Inner {
    fn tenant(&mut self, tenant: &str) -> &mut Books {
        let cadence = self.cadence;
        self.tenants.entry(tenant.to_owned()).or_insert_with(|| Books::new(cadence))
    }

    /// A piece of a workload's open span recorded while it runs (`id`, its event id,
    /// names the span): the span counts on from its end.
    fn recorded(&mut self, id: Uuid, r: &pb::UsageRecorded) {
        if r.closed_by != PERIOD_ENDED {
            return;
        }
        let Some(entry) = self.workloads.get_mut(&format!("workload-{}", r.workload_id)) else { return };
        let to = Timestamp::from_unix_micros(r.to_unix_micros);
        // A piece of an earlier span, folded after this one opened, is not this span's.
        let this_span = piece_id(&r.workload_id, entry.meter.opened_by(), to) == id;
        if entry.meter.billing() && this_span && entry.recorded_to.is_none_or(|t| t < to) {
            entry.recorded_to = Some(to);
        }
    }
}

impl View {
    /// An empty view whose books are cut into `cadence`'s periods.
    pub fn new(cadence: Cadence) -> Self {
        View {
            inner: Mutex::new(Inner {
                cadence,
                workloads: HashMap::new(),
                tenants: BTreeMap::new(),
                energy: BTreeMap::new(),
                resource_sites: HashMap::new(),
                placed: HashMap::new(),
                strings: Strings::default(),
            }),
        }
    }

    /// The billing periods' length.
    pub fn cadence(&self) -> Cadence {
        self.lock().cadence
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Folds one event.
    pub fn apply(&self, event: &RecordedEvent) -> Result<(), HandlerError> {
        let stream = event.stream.as_str();
        if stream.starts_with("workload-") {
            return self.apply_workload(event);
        }
        if let Some(resource) = stream.strip_prefix("resource-") {
            if event.event_type == "resource.registered" {
                let r: pb::ResourceRegistered = decode(event)?;
                let site = r.spec.map(|s| s.site).unwrap_or_default();
                self.lock().resource_sites.insert(resource.to_owned(), site);
            }
            return Ok(());
        }
        let mut inner = self.lock();
        if let Some(tenant) = stream.strip_prefix("usage-") {
            match event.event_type.as_str() {
                USAGE_RECORDED => {
                    let record = decode::<pb::UsageRecorded>(event)?;
                    inner.recorded(event.id, &record);
                    let kept = inner.strings.keep(event.version, &record);
                    inner.tenant(tenant).push(event.id, kept);
                }
                USAGE_AMENDED => {
                    let amended = decode::<pb::UsageAmended>(event)?;
                    let now = amended.now.as_ref().map(|r| inner.strings.keep(event.version, r));
                    inner.tenant(tenant).amend(event.version, &amended.record_id, now);
                }
                USAGE_PERIOD_CLOSED => {
                    inner.tenant(tenant).closings.insert(event.id);
                }
                _ => {}
            }
            inner.tenant(tenant).usage_version = event.version;
        } else if let Some(tenant) = stream.strip_prefix("invoice-") {
            if event.event_type == INVOICE_ISSUED {
                let invoice = decode::<pb::Invoice>(event)?;
                let b = inner.tenant(tenant);
                b.running.issue(issued_of(&invoice));
                b.invoices.push(invoice);
            }
        } else if let Some(site) = stream.strip_prefix("energy-") {
            if event.event_type == ENERGY_RECORDED {
                let record = decode::<pb::EnergyRecorded>(event)?;
                inner.energy.entry(site.to_owned()).or_default().push(record);
            }
        } else if let Some(tenant) = stream.strip_prefix("budget-") {
            let b = inner.tenant(tenant);
            match event.event_type.as_str() {
                BUDGET_SET => b.budget_usd_micros = decode::<pb::BudgetSet>(event)?.usd_micros_per_period,
                BUDGET_THRESHOLD_CROSSED => {
                    let c = decode::<pb::BudgetThresholdCrossed>(event)?;
                    b.crossed.insert((c.period_start_unix_micros, c.percent));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn apply_workload(&self, event: &RecordedEvent) -> Result<(), HandlerError> {
        let at = Timestamp::from_unix_micros(event.metadata.time_unix_micros);
        let decoded = decode_workload_event(&event.event_type, &event.payload, at)
            .map_err(|why| HandlerError::corrupt(event, why))?;
        let mut inner = self.lock();
        if let WorkloadEvent::Submitted { spec, .. } = &decoded {
            let tenant = spec.tenant.as_str().to_owned();
            inner.tenant(&tenant);
            let entry = Entry {
                tenant,
                model: spec.gpu_model.as_str().to_owned(),
                site: spec.site.as_ref().map_or_else(String::new, |s| s.as_str().to_owned()),
                meter: Meter::default(),
                recorded_to: None,
            };
            inner.workloads.insert(event.stream.clone(), entry);
        }
        let ended = matches!(
            decoded,
            WorkloadEvent::Completed { .. } | WorkloadEvent::Failed { .. } | WorkloadEvent::Cancelled { .. }
        );
        if let WorkloadEvent::Scheduled { resources, .. } | WorkloadEvent::Migrated { to: resources, .. } = &decoded
            && let Some(site) = resources.first().and_then(|r| inner.resource_sites.get(r.as_str())).cloned()
        {
            let workload = event.stream.trim_start_matches("workload-").to_owned();
            inner.placed.insert(workload, site);
        }
        if let Some(entry) = inner.workloads.get_mut(&event.stream) {
            let billing = entry.meter.billing();
            entry.meter.apply_at(event.version, &decoded);
            if billing != entry.meter.billing() {
                entry.recorded_to = None;
            }
        }
        if ended {
            inner.workloads.remove(&event.stream);
        }
        Ok(())
    }

    /// `tenant`'s spans open now, up to `now`.
    pub fn spans(&self, tenant: &str, now: Timestamp) -> Vec<OpenSpan> {
        open_spans(&self.lock(), tenant, now)
    }

    /// `f` of `tenant`'s books (empty for a tenant the log does not know), read in place.
    pub fn read<T>(&self, tenant: &str, f: impl FnOnce(&Books) -> T) -> T {
        let inner = self.lock();
        match inner.tenants.get(tenant) {
            Some(books) => f(books),
            None => f(&Books::new(inner.cadence)),
        }
    }

    /// `f` of every tenant's books, its spans open up to `now` and where each usage record
    /// ran, read in place (all at one point of the log: no span both open and recorded).
    pub fn each_tenant(&self, now: Timestamp, mut f: impl FnMut(&str, &Books, &[OpenSpan], &dyn Fn(&Kept) -> String)) {
        let inner = self.lock();
        let site_of = |r: &Kept| site_of(&inner, r);
        for (tenant, books) in &inner.tenants {
            f(tenant, books, &open_spans(&inner, tenant, now), &site_of);
        }
    }

    /// Every tenant the log knows: with workloads, usage, invoices or a budget.
    pub fn tenants(&self) -> Vec<String> {
        self.lock().tenants.keys().cloned().collect()
    }

    /// The energy records of every site (or of `site`), with `keep` applied.
    pub fn energy(
        &self,
        site: &str,
        keep: impl Fn(&pb::EnergyRecorded) -> bool,
    ) -> BTreeMap<String, Vec<pb::EnergyRecorded>> {
        let inner = self.lock();
        inner
            .energy
            .iter()
            .filter(|(s, _)| site.is_empty() || s.as_str() == site)
            .map(|(s, records)| (s.clone(), records.iter().filter(|r| keep(r)).cloned().collect()))
            .collect()
    }

    /// The tenants with a budget.
    pub fn budgeted(&self) -> Vec<String> {
        self.lock().tenants.iter().filter(|(_, b)| b.budget_usd_micros > 0).map(|(t, _)| t.clone()).collect()
    }
}

/// `tenant`'s spans open now, up to `now`, by workload: each from its start or from the
/// end of its pieces recorded already.
fn open_spans(inner: &Inner, tenant: &str, now: Timestamp) -> Vec<OpenSpan> {
    let mut out: Vec<OpenSpan> = inner
        .workloads
        .iter()
        .filter(|(_, e)| e.tenant == tenant)
        .filter_map(|(stream, e)| {
            let mut span = e.meter.open(now)?;
            span.from = span.from.max(e.recorded_to.unwrap_or(span.from));
            span.to = span.to.max(span.from);
            let workload_id = stream.trim_start_matches("workload-").to_owned();
            Some(OpenSpan {
                site: site_where(inner, &e.site, &workload_id),
                workload_id,
                model: e.model.clone(),
                opened_by: e.meter.opened_by(),
                span,
            })
        })
        .collect();
    out.sort_by(|a, b| a.workload_id.cmp(&b.workload_id));
    out
}

/// Where a usage record's GPU time ran: the site the record names (its spec's, else its
/// placement's), or, for a record from before records named their placement's, the site
/// its workload was last placed at ("" when neither is known).
fn site_of(inner: &Inner, record: &Kept) -> String {
    site_where(inner, &record.site, &record.workload_id)
}

/// The site a workload's spec named (`spec_site`), or the one it was last placed at.
fn site_where(inner: &Inner, spec_site: &str, workload_id: &str) -> String {
    if !spec_site.is_empty() {
        return spec_site.to_owned();
    }
    inner.placed.get(workload_id).cloned().unwrap_or_default()
}

/// The handler that folds the view.
pub struct Folder(pub Arc<View>);

impl Handler for Folder {
    fn name(&self) -> &str {
        VIEW
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        let s = event.stream.as_str();
        ["workload-", "usage-", "invoice-", "budget-", "energy-"].iter().any(|p| s.starts_with(p))
            || (s.starts_with("resource-") && event.event_type == "resource.registered")
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandlerError> {
        self.0.apply(event)
    }
}
