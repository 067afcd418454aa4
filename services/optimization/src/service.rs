//! Planning a site and recording the plan.

use crate::fleet::{ALLOCATION_TARGETED, Fleet};
use crate::sites::Sites;
use hcp_domain::resource::{Health, Mode, ResourceKind};
use hcp_domain::site::{Site, SiteCommand, SiteError};
use hcp_domain::units::Timestamp;
use hcp_economics::MinerEconomics;
use hcp_eventstore::{Direction, EventStore, StoreError, append_all_at_tail};
use hcp_market::Book;
use hcp_market::book::BookError;
use hcp_market::clock::INTERVAL_MICROS;
use hcp_optimizer::forecast::SpreadModel;
use hcp_optimizer::planner::{Conditions, Device, Economics, plan};
use hcp_optimizer::strategy::LOOKAHEAD;
use hcp_proto::v1 as pb;
use hcp_runtime::{ErrorCode, EventContext, HasErrorCode};
use hcp_runtime::{Repository, RepositoryError};
use prost::Message;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub mod views;

pub use hcp_domain::plan::{ALLOCATION_PLANNED, plans_stream};

/// How a site is run.
#[derive(Debug, Clone, PartialEq)]
pub struct SitePolicy {
    /// The site.
    pub site: String,
    /// Its grid limit, kW.
    pub cap_kw: f64,
    /// Minimum time between a device's mode changes, µs.
    pub min_dwell_micros: i64,
    /// Hysteresis, $/MWh.
    pub hysteresis_usd_mwh: f64,
    /// Most load that may wake per plan, kW.
    pub max_wake_kw: f64,
    /// What a GPU-hour earns serving AI, $ (the spot or contract price).
    pub gpu_usd_per_hour: f64,
    /// Cost of one device switching mode (wear, lost work while ramping), $.
    pub switch_cost_usd: f64,
}

/// Why a plan could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// No policy for that site.
    #[error("unknown site {0:?}")]
    UnknownSite(String),
    /// No prices or hashprice yet.
    #[error(transparent)]
    Prices(#[from] BookError),
    /// The site has no healthy devices.
    #[error("site {0:?} has no healthy devices to plan")]
    NoDevices(String),
    /// The planner refused (no forecast, or committed load alone over the cap).
    #[error(transparent)]
    Infeasible(#[from] hcp_optimizer::planner::PlanError),
    /// The store refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No such plan.
    #[error("no plan {0:?}")]
    UnknownPlan(String),
    /// A page token that no list gave.
    #[error("page_token: {0:?} is not a token this list gave")]
    BadPageToken(String),
}

impl HasErrorCode for PlanError {
    fn code(&self) -> ErrorCode {
        match self {
            PlanError::UnknownSite(_) | PlanError::UnknownPlan(_) => ErrorCode::NotFound,
            // Prices and devices arrive with time: asking again later can succeed.
            PlanError::Prices(_) | PlanError::NoDevices(_) => ErrorCode::Unavailable,
            PlanError::Infeasible(_) => ErrorCode::FailedPrecondition,
            PlanError::Store(e) => e.code(),
            PlanError::BadPageToken(_) => ErrorCode::InvalidArgument,
        }
    }
}

/// What a plan says of the GPU power it kept.
fn reserved(r: &crate::fleet::GpuReserve) -> String {
    let mut parts = Vec::new();
    if r.idle_kw > 0.0 {
        parts.push(format!("{:.1} kW for idle GPUs", r.idle_kw));
    }
    if r.queued > 0 {
        parts.push(format!("{:.1} kW kept for {} queued GPU workloads", r.queued_kw, r.queued));
    }
    if parts.is_empty() { String::new() } else { format!("; {}", parts.join(", ")) }
}

/// The optimizer: plans from its own projections of the fleet and the market.
pub struct Optimizer<S> {
    store: Arc<S>,
    fleet: Arc<Fleet>,
    book: Arc<Book>,
    policies: Vec<SitePolicy>,
    plans: Mutex<HashMap<String, pb::AllocationPlanned>>,
    /// The sites as recorded (caps set at run time), and how market time relates to
    /// real time (a dwell is in market seconds).
    sites: Arc<Sites>,
    speed: f64,
    site_writer: Repository<Site, S>,
    /// One plan at a time per site: a plan reads the targets and the plan stream's
    /// tail that the one before it writes.
    turns: HashMap<String, tokio::sync::Mutex<()>>,
}

impl<S: EventStore> Optimizer<S> {
    /// An optimizer for these sites.
    pub fn new(store: Arc<S>, fleet: Arc<Fleet>, book: Arc<Book>, policies: Vec<SitePolicy>) -> Self {
        let turns = policies.iter().map(|p| (p.site.clone(), tokio::sync::Mutex::new(()))).collect();
        let site_writer = Repository::new(Arc::clone(&store));
        Optimizer {
            store,
            fleet,
            book,
            policies,
            plans: Mutex::default(),
            sites: Arc::default(),
            speed: 1.0,
            site_writer,
            turns,
        }
    }

    /// Plans with the sites as recorded in `sites` (their caps and policies win over
    /// the configured ones), at `speed` market seconds per real second.
    pub fn with_sites(mut self, sites: Arc<Sites>, speed: f64) -> Self {
        self.sites = sites;
        self.speed = speed.max(1e-9);
        self
    }

    /// A site's policy: as recorded when it is, as configured otherwise.
    fn policy(&self, site: &str) -> Result<SitePolicy, PlanError> {
        let configured =
            self.policies.iter().find(|p| p.site == site).ok_or_else(|| PlanError::UnknownSite(site.to_owned()))?;
        Ok(match self.sites.get(site) {
            Some(recorded) => SitePolicy {
                site: site.to_owned(),
                cap_kw: recorded.cap_kw,
                min_dwell_micros: (recorded.policy.min_dwell_seconds / self.speed * 1e6) as i64,
                hysteresis_usd_mwh: recorded.policy.hysteresis_usd_mwh,
                max_wake_kw: recorded.policy.max_wake_kw,
                gpu_usd_per_hour: recorded.policy.gpu_usd_per_hour,
                switch_cost_usd: recorded.policy.switch_cost_usd,
            },
            None => configured.clone(),
        })
    }

    /// Records a command for a site (seeding from configuration, or an operator's cap).
    pub async fn site(
        &self,
        id: &str,
        command: SiteCommand,
        context: &EventContext,
    ) -> Result<Site, RepositoryError<SiteError>> {
        let done = self.site_writer.execute(id, command, context).await?;
        self.sites.keep(id, done.state.clone());
        Ok(done.state)
    }

    /// Changes a site's cap, as `context`'s actor, for `reason`.
    pub async fn set_cap(
        &self,
        id: &str,
        cap_kw: f64,
        reason: &str,
        context: &EventContext,
    ) -> Result<Site, RepositoryError<SiteError>> {
        let at = Timestamp::from_unix_micros(hcp_runtime::clock::now_micros());
        self.site(id, SiteCommand::SetCap { cap_kw, reason: reason.to_owned(), at }, context).await
    }

    /// The sites it plans.
    pub fn sites(&self) -> impl Iterator<Item = &str> {
        self.policies.iter().map(|p| p.site.as_str())
    }

    /// Plans a site's coming interval from the latest quote, records it, and returns it.
    pub async fn plan(&self, site: &str, context: &EventContext) -> Result<pb::AllocationPlanned, PlanError> {
        if !self.sites().any(|s| s == site) {
            return Err(PlanError::UnknownSite(site.to_owned()));
        }
        let quote = self.book.quote(site)?;
        self.plan_at(site, &quote, context).await
    }

    /// Plans a site for the interval `quote` prices, records it, and returns it.
    pub async fn plan_at(
        &self,
        site: &str,
        quote: &pb::Quote,
        context: &EventContext,
    ) -> Result<pb::AllocationPlanned, PlanError> {
        let policy = &self.policy(site)?;
        let _turn = self.turns[site].lock().await;
        let hashprice = self.book.hashprice()?;
        let now = hcp_runtime::clock::now_micros();
        let (devices, gpus) = self.devices(policy, now);
        if devices.is_empty() {
            return Err(PlanError::NoDevices(site.to_owned()));
        }
        let reserve = self.fleet.gpu_reserve(site);
        let dwell = ((policy.min_dwell_micros as f64 / INTERVAL_MICROS as f64).ceil() as usize).max(1);
        let horizon = self.forecast(site, quote, LOOKAHEAD.max(dwell));
        let dwell_price = horizon[..dwell].iter().sum::<f64>() / dwell as f64;
        let conditions = Conditions {
            horizon_usd_mwh: horizon.clone(),
            interval_hours: INTERVAL_MICROS as f64 / 3.6e9,
            min_dwell: dwell as u32,
            switch_cost_usd: policy.switch_cost_usd,
            hashprice: hashprice.usd_per_ph_day,
            // Idle GPUs draw, and the queue's next GPU work needs room: mining plans with the rest.
            cap_kw: (policy.cap_kw - reserve.idle_kw - reserve.queued_kw).max(0.0),
            hysteresis_usd_mwh: policy.hysteresis_usd_mwh,
            max_wake_kw: policy.max_wake_kw,
        };
        let planned = plan(&devices, &conditions)?;
        let changes: Vec<pb::Assignment> = devices
            .iter()
            .zip(&planned.running)
            .zip(&gpus)
            .filter(|((d, run), _)| **run != d.running)
            .map(|((d, &run), &gpu)| {
                let mode = match (run, gpu) {
                    (true, true) => pb::ResourceMode::ServingAi,
                    (true, false) => pb::ResourceMode::Mining,
                    (false, _) => pb::ResourceMode::Curtailed,
                };
                pb::Assignment { resource_id: d.id.clone(), mode: mode as i32 }
            })
            .collect();
        let groups: Vec<pb::AllocationGroup> = planned
            .groups
            .iter()
            .map(|g| pb::AllocationGroup {
                model: g.model.clone(),
                kind: if g.gpu { "gpu" } else { "asic" }.into(),
                devices: g.devices,
                running: g.running,
                curtailed: g.devices - g.running,
                held: g.held,
                committed: g.committed,
                margin_usd_per_mwh: g.margin_usd_per_mwh,
                lookahead_usd_per_mwh: g.lookahead_usd_per_mwh,
                why: g.why.clone(),
            })
            .collect();
        let running: u32 = groups.iter().map(|g| g.running).sum();
        let plan_id = match context.causation_id {
            // Planned for a recorded price: the same id however often that price is handled.
            Some(_) => context.event_id(0).to_string(),
            None => uuid::Uuid::now_v7().to_string(),
        };
        let event = pb::AllocationPlanned {
            plan_id,
            site: site.to_owned(),
            planned_unix_micros: now,
            price_usd_mwh: quote.real_time_usd_mwh,
            price_basis: format!(
                "last real-time price at {} ({}); over the next {} intervals, day-ahead plus the decaying spread",
                quote.settlement_point,
                quote.source,
                horizon.len()
            ),
            dwell_price_usd_mwh: dwell_price,
            forecast_usd_mwh: horizon,
            hashprice_usd_per_ph_day: hashprice.usd_per_ph_day,
            cap_kw: policy.cap_kw,
            planned_kw: planned.kw,
            margin_usd_per_hour: planned.margin_usd_per_hour,
            groups,
            summary: format!(
                "{running} of {} devices running, {:.0} of {:.0} kW, ${:.2}/h expected at ${:.2}/MWh; {} changes{}",
                devices.len(),
                planned.kw,
                policy.cap_kw,
                planned.margin_usd_per_hour,
                quote.real_time_usd_mwh,
                changes.len(),
                reserved(&reserve)
            ),
            changes,
        };
        self.record(&event, context).await?;
        self.plans
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(event.plan_id.clone(), event.clone());
        Ok(event)
    }

    /// A recorded plan, from memory or the store.
    pub async fn explain(&self, plan_id: &str) -> Result<pb::AllocationPlanned, PlanError> {
        if let Some(p) = self.plans.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(plan_id) {
            return Ok(p.clone());
        }
        for policy in &self.policies {
            for e in self.store.read_stream(&plans_stream(&policy.site), 1, Direction::Forwards, usize::MAX).await? {
                if e.event_type == ALLOCATION_PLANNED
                    && let Ok(p) = pb::AllocationPlanned::decode(e.payload.as_ref())
                    && p.plan_id == plan_id
                {
                    return Ok(p);
                }
            }
        }
        Err(PlanError::UnknownPlan(plan_id.to_owned()))
    }

    /// Expected real-time prices for the next `intervals` intervals, from the last
    /// real-time price, published day-ahead prices and the spread's persistence learned
    /// over the last week (the same forecast the backtest's HCP strategy uses).
    fn forecast(&self, site: &str, quote: &pb::Quote, intervals: usize) -> Vec<f64> {
        let start = quote.interval_start_unix_micros;
        let mut model = SpreadModel::default();
        if let Ok(week) = self.book.history(site, start - 7 * 96 * INTERVAL_MICROS, start + 1) {
            let spreads: Vec<f64> = week.iter().map(|q| q.real_time_usd_mwh - q.day_ahead_usd_mwh).collect();
            spreads.windows(2).for_each(|w| model.observe(w[0], w[1]));
        }
        (0..intervals)
            .map(|h| {
                let at = start + (h as i64 + 1) * INTERVAL_MICROS;
                let day_ahead = self.book.day_ahead(site, at).unwrap_or(quote.day_ahead_usd_mwh);
                model.price(quote.real_time_usd_mwh, day_ahead, h)
            })
            .collect()
    }

    /// The site's plannable devices, and which of them are GPUs. A device runs by its
    /// target when a plan has set one, by its reported mode otherwise; it is held while
    /// its last target is younger than the dwell.
    fn devices(&self, policy: &SitePolicy, now: i64) -> (Vec<Device>, Vec<bool>) {
        let mut devices = Vec::new();
        let mut gpus = Vec::new();
        for d in self.fleet.at_site(&policy.site) {
            let r = &d.resource;
            let Some(spec) = r.spec.as_ref() else { continue };
            if !matches!(r.health, Health::Healthy | Health::Degraded) {
                continue;
            }
            if d.maintenance {
                continue;
            }
            let committed = r.assignment.is_some() || d.committed_to.is_some();
            // An operator's curtailment outranks plans: asleep, and held, while it lasts.
            let curtailed = d.curtailed_until.is_some_and(|until| until > now);
            let (model, economics, gpu) = match &spec.kind {
                ResourceKind::AsicMiner { model, nominal_hashrate, nominal_power } => (
                    model.clone(),
                    Economics::Asic(MinerEconomics {
                        terahashes: nominal_hashrate.terahashes(),
                        kilowatts: nominal_power.watts() as f64 / 1000.0,
                    }),
                    false,
                ),
                // A GPU earns only while a customer's workload holds it; an idle one earns nothing.
                ResourceKind::Gpu { model, power_limit, .. } => (
                    model.clone(),
                    Economics::Gpu {
                        contract_usd_per_hour: if committed { policy.gpu_usd_per_hour } else { 0.0 },
                        kilowatts: power_limit.watts() as f64 / 1000.0,
                    },
                    true,
                ),
            };
            // A miner that did not obey is planned as it is, not as it was told to be.
            let mode = if committed {
                Mode::ServingAi
            } else if curtailed {
                Mode::Curtailed
            } else if d.uncontrolled {
                r.mode
            } else {
                d.target.map_or(r.mode, |t| t.mode)
            };
            let held = curtailed
                || d.uncontrolled
                || d.target.is_some_and(|t| now - t.at_unix_micros < policy.min_dwell_micros);
            devices.push(Device {
                id: d.id,
                model,
                economics,
                running: matches!(mode, Mode::Mining | Mode::ServingAi),
                committed,
                held,
            });
            gpus.push(gpu);
        }
        (devices, gpus)
    }

    /// Appends the plan and its targets in one append.
    async fn record(&self, plan: &pb::AllocationPlanned, context: &EventContext) -> Result<(), StoreError> {
        let stream = plans_stream(&plan.site);
        let at = plan.planned_unix_micros;
        let targeted = pb::AllocationTargeted {
            plan_id: plan.plan_id.clone(),
            site: plan.site.clone(),
            targets: plan.changes.clone(),
        };
        let mut events = vec![context.event(0, ALLOCATION_PLANNED, plan.encode_to_vec(), at)];
        if !targeted.targets.is_empty() {
            events.push(context.event(1, ALLOCATION_TARGETED, targeted.encode_to_vec(), at));
        }
        append_all_at_tail(self.store.as_ref(), &stream, events).await?;
        // The next plan must see these targets even if the projection has not folded
        // them yet (it keeps the newest target of each device, whichever comes first).
        for t in &targeted.targets {
            if let Err(e) = self.fleet.target(&t.resource_id, t.mode, at) {
                tracing::warn!(error = %e, "a planned target does not decode");
            }
        }
        Ok(())
    }
}
