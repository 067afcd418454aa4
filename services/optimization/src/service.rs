//! Planning a site and recording the plan.

use hcp_discovery::Inventory;
use hcp_domain::resource::{Health, Mode, ResourceKind};
use hcp_economics::MinerEconomics;
use hcp_eventstore::{Direction, EventMetadata, EventStore, NewEvent, StoreError, append_at_tail};
use hcp_optimizer::forecast::SpreadModel;
use hcp_optimizer::planner::{Conditions, Device, Economics, plan};
use hcp_optimizer::strategy::LOOKAHEAD;
use hcp_pricing::Book;
use hcp_pricing::book::BookError;
use hcp_pricing::clock::INTERVAL_MICROS;
use hcp_proto::v1 as pb;
use prost::Message;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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
}

/// The stream of a site's plans.
pub fn plans_stream(site: &str) -> String {
    format!("plans-{site}")
}

/// The optimizer.
pub struct Optimizer<S> {
    store: Arc<S>,
    inventory: Arc<Inventory>,
    book: Arc<Book>,
    policies: Vec<SitePolicy>,
    last_change: Mutex<HashMap<String, i64>>,
    plans: Mutex<HashMap<String, pb::AllocationPlanned>>,
    /// One plan at a time per site: a plan reads the dwell bookkeeping and the plan
    /// stream's tail that the one before it writes.
    turns: HashMap<String, tokio::sync::Mutex<()>>,
}

impl<S: EventStore> Optimizer<S> {
    /// An optimizer for these sites.
    pub fn new(store: Arc<S>, inventory: Arc<Inventory>, book: Arc<Book>, policies: Vec<SitePolicy>) -> Self {
        let turns = policies.iter().map(|p| (p.site.clone(), tokio::sync::Mutex::new(()))).collect();
        Optimizer { store, inventory, book, policies, last_change: Mutex::default(), plans: Mutex::default(), turns }
    }

    /// Plans a site's coming interval, records it, and returns it.
    pub async fn plan(&self, site: &str) -> Result<pb::AllocationPlanned, PlanError> {
        let policy =
            self.policies.iter().find(|p| p.site == site).ok_or_else(|| PlanError::UnknownSite(site.to_owned()))?;
        let _turn = self.turns[site].lock().await;
        let quote = self.book.quote(site)?;
        let hashprice = self.book.hashprice()?;
        let now = hcp_discovery::clock::now().unix_micros();
        let (devices, modes) = self.devices(policy, now);
        if devices.is_empty() {
            return Err(PlanError::NoDevices(site.to_owned()));
        }
        let dwell = ((policy.min_dwell_micros as f64 / INTERVAL_MICROS as f64).ceil() as usize).max(1);
        let horizon = self.forecast(site, &quote, LOOKAHEAD.max(dwell));
        let dwell_price = horizon[..dwell].iter().sum::<f64>() / dwell as f64;
        let conditions = Conditions {
            horizon_usd_mwh: horizon.clone(),
            interval_hours: INTERVAL_MICROS as f64 / 3.6e9,
            min_dwell: dwell as u32,
            switch_cost_usd: policy.switch_cost_usd,
            hashprice: hashprice.usd_per_ph_day,
            cap_kw: policy.cap_kw,
            hysteresis_usd_mwh: policy.hysteresis_usd_mwh,
            max_wake_kw: policy.max_wake_kw,
        };
        let planned = plan(&devices, &conditions)?;
        let mut changes = Vec::new();
        {
            let mut last = self.last_change.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for ((d, &run), gpu) in devices.iter().zip(&planned.running).zip(&modes) {
                if run != d.running {
                    let mode = match (run, gpu) {
                        (true, true) => pb::ResourceMode::ServingAi,
                        (true, false) => pb::ResourceMode::Mining,
                        (false, _) => pb::ResourceMode::Curtailed,
                    };
                    changes.push(pb::Assignment { resource_id: d.id.clone(), mode: mode as i32 });
                    last.insert(d.id.clone(), now);
                }
            }
        }
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
        let event = pb::AllocationPlanned {
            plan_id: uuid::Uuid::now_v7().to_string(),
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
                "{running} of {} devices running, {:.0} of {:.0} kW, ${:.2}/h expected at ${:.2}/MWh; {} changes",
                devices.len(),
                planned.kw,
                policy.cap_kw,
                planned.margin_usd_per_hour,
                quote.real_time_usd_mwh,
                changes.len()
            ),
            changes,
        };
        self.record(&event).await?;
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
                if let Ok(p) = pb::AllocationPlanned::decode(e.payload.as_ref())
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

    fn devices(&self, policy: &SitePolicy, now: i64) -> (Vec<Device>, Vec<bool>) {
        let last = self.last_change.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut devices = Vec::new();
        let mut gpus = Vec::new();
        for (id, r) in self.inventory.at_site(&policy.site) {
            let Some(spec) = r.spec.as_ref() else { continue };
            if !matches!(r.health, Health::Healthy | Health::Degraded) {
                continue;
            }
            let (model, economics, gpu) = match &spec.kind {
                ResourceKind::AsicMiner { model, nominal_hashrate, nominal_power } => (
                    model.clone(),
                    Economics::Asic(MinerEconomics {
                        terahashes: nominal_hashrate.terahashes(),
                        kilowatts: nominal_power.watts() as f64 / 1000.0,
                    }),
                    false,
                ),
                ResourceKind::Gpu { model, power_limit, .. } => (
                    model.clone(),
                    Economics::Gpu {
                        contract_usd_per_hour: policy.gpu_usd_per_hour,
                        kilowatts: power_limit.watts() as f64 / 1000.0,
                    },
                    true,
                ),
            };
            let held = last.get(&id).is_some_and(|t| now - t < policy.min_dwell_micros);
            devices.push(Device {
                id,
                model,
                economics,
                running: matches!(r.mode, Mode::Mining | Mode::ServingAi),
                committed: r.assignment.is_some(),
                held,
            });
            gpus.push(gpu);
        }
        (devices, gpus)
    }

    async fn record(&self, plan: &pb::AllocationPlanned) -> Result<(), StoreError> {
        let metadata = EventMetadata {
            time_unix_micros: plan.planned_unix_micros,
            actor: Some("optimizer".into()),
            ..EventMetadata::default()
        };
        let event = NewEvent::new("allocation.planned", 1, plan.encode_to_vec()).with_metadata(metadata);
        append_at_tail(self.store.as_ref(), &plans_stream(&plan.site), event).await.map(|_| ())
    }
}
