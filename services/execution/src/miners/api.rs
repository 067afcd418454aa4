//! The Fleet gRPC API: operators curtail and wake miners (a preview first, with
//! `dry_run`), read each miner's desired against observed state, and take miners out of
//! plans for maintenance. An operator's curtailment outranks plans until it is lifted or
//! its time passes; what conflicts with one in force is refused.

use super::book::{Book, CURTAILMENT_STARTED, MINER_MAINTENANCE, Miner, Outcome};
use super::controller::Controller;
use crate::power::SLEEP_KW;
use hcp_eventstore::EventStore;
use hcp_proto::v1 as pb;
use hcp_runtime::clock::now_micros;
use hcp_runtime::grpc::request_context;
use prost::Message;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// The service.
pub struct FleetService<S>(pub Arc<Controller<S>>);

impl<S> FleetService<S> {
    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.0.book.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn fleet_miner(id: &str, m: &Miner) -> pb::FleetMiner {
    pb::FleetMiner {
        resource_id: id.to_owned(),
        model: m.model.clone(),
        kw: m.nominal_kw,
        joules_per_terahash: m.joules_per_terahash(),
        observed: m.observed.0.to_string(),
    }
}

fn shed_kw(miners: &[pb::FleetMiner]) -> f64 {
    miners.iter().map(|m| (m.kw - SLEEP_KW).max(0.0)).sum()
}

/// A miner as execution controls it, at `now`.
pub fn control_view(book: &Book, id: &str, now: i64) -> Option<pb::MinerControlView> {
    let m = book.miners.get(id)?;
    let desired = book.desired(id, now);
    let (command, attempt, outcome) = match &m.command {
        Some(c) => (
            c.action.name(),
            c.attempt,
            match c.outcome {
                Outcome::Pending { .. } => "pending",
                Outcome::Confirmed { .. } => "confirmed",
                Outcome::Failed => "failed",
            }
            .to_owned(),
        ),
        None => (String::new(), 0, String::new()),
    };
    Some(pb::MinerControlView {
        resource_id: id.to_owned(),
        site: m.site.clone(),
        desired: desired.as_ref().map(|t| t.action.name()).unwrap_or_default(),
        source: if m.maintenance { "maintenance".into() } else { desired.map(|t| t.cause).unwrap_or_default() },
        observed: m.observed.0.to_string(),
        command,
        attempt,
        outcome,
        maintenance: m.maintenance,
    })
}

#[tonic::async_trait]
impl<S: EventStore> pb::fleet_server::Fleet for FleetService<S> {
    async fn curtail(&self, request: Request<pb::CurtailRequest>) -> Result<Response<pb::CurtailResponse>, Status> {
        let context = request_context("execution", &request);
        let r = request.into_inner();
        let now = now_micros();
        let sheds_some = r.kw > 0.0 && r.kw.is_finite();
        if !r.all && !sheds_some {
            return Err(Status::invalid_argument(format!("kw: {} is not above 0 (or ask for all)", r.kw)));
        }
        let longest = now + i64::try_from(self.0.settings().max_curtailment.as_micros()).unwrap_or(i64::MAX);
        let until = if r.until_unix_micros == 0 { longest } else { r.until_unix_micros };
        if until <= now || until > longest {
            return Err(Status::invalid_argument(format!(
                "until_unix_micros: {until} must be after now and at most {:?} ahead (execution.max_curtailment_seconds)",
                self.0.settings().max_curtailment
            )));
        }
        let (miners, known, unable) = {
            let book = self.book();
            let known = book.miners.values().any(|m| m.site == r.site);
            let unable = book.miners.values().filter(|m| m.site == r.site && m.can_sleep == Some(false)).count();
            let chosen = book.select(&r.site, (!r.all).then_some(r.kw), now);
            (chosen.iter().map(|(id, m)| fleet_miner(id, m)).collect::<Vec<_>>(), known, unable)
        };
        if !known {
            return Err(Status::not_found(format!("site: no miners at {:?}", r.site)));
        }
        let expected_kw = shed_kw(&miners);
        let short = (!r.all && expected_kw < r.kw).then(|| format!(" (only {expected_kw:.1} kW can be shed)"));
        let left_out = (unable > 0).then(|| format!("; {unable} left out: their firmware has no way to sleep"));
        let summary = format!(
            "{} miners at {} to sleep, {expected_kw:.1} kW{}{}",
            miners.len(),
            r.site,
            short.unwrap_or_default(),
            left_out.unwrap_or_default()
        );
        let mut response = pb::CurtailResponse {
            curtailment_id: String::new(),
            miners,
            expected_kw,
            dry_run: r.dry_run,
            until_unix_micros: until,
            summary,
        };
        if r.dry_run || response.miners.is_empty() {
            return Ok(Response::new(response));
        }
        let record = pb::CurtailmentStarted {
            curtailment_id: uuid::Uuid::now_v7().to_string(),
            site: r.site.clone(),
            miners: response.miners.iter().map(|m| m.resource_id.clone()).collect(),
            kw: r.kw,
            all: r.all,
            until_unix_micros: until,
            reason: r.reason,
            actor: context.actor.clone(),
        };
        let event = context.event(0, CURTAILMENT_STARTED, record.encode_to_vec(), now);
        self.0.record_curtailment(&r.site, event).await.map_err(|e| hcp_runtime::error::status(&e))?;
        response.curtailment_id = record.curtailment_id;
        Ok(Response::new(response))
    }

    async fn wake(&self, request: Request<pb::WakeRequest>) -> Result<Response<pb::WakeResponse>, Status> {
        let context = request_context("execution", &request);
        let r = request.into_inner();
        let now = now_micros();
        let lifting: Vec<pb::CurtailmentStarted> = self
            .book()
            .curtailments
            .values()
            .filter(|c| {
                c.record.site == r.site && (r.curtailment_id.is_empty() || c.record.curtailment_id == r.curtailment_id)
            })
            .map(|c| c.record.clone())
            .collect();
        if lifting.is_empty() {
            let what = if r.curtailment_id.is_empty() {
                "no curtailment in force".to_owned()
            } else {
                format!("no curtailment {:?}", r.curtailment_id)
            };
            return Err(Status::not_found(format!("site: {what} at {:?}", r.site)));
        }
        let miners: Vec<pb::FleetMiner> = {
            let book = self.book();
            lifting
                .iter()
                .flat_map(|c| c.miners.iter())
                .filter_map(|id| book.miners.get(id).map(|m| fleet_miner(id, m)))
                .collect()
        };
        let expected_kw = shed_kw(&miners);
        if !r.dry_run {
            for c in &lifting {
                let lifted = pb::CurtailmentLifted {
                    curtailment_id: c.curtailment_id.clone(),
                    reason: if r.reason.is_empty() { format!("woken by {}", context.actor) } else { r.reason.clone() },
                };
                let event = context.event(0, super::book::CURTAILMENT_LIFTED, lifted.encode_to_vec(), now);
                self.0.record_curtailment(&r.site, event).await.map_err(|e| hcp_runtime::error::status(&e))?;
            }
        }
        let lifted = lifting.into_iter().map(|c| c.curtailment_id).collect();
        Ok(Response::new(pb::WakeResponse { lifted, miners, expected_kw, dry_run: r.dry_run }))
    }

    async fn status(
        &self,
        request: Request<pb::FleetStatusRequest>,
    ) -> Result<Response<pb::FleetStatusResponse>, Status> {
        let site = request.into_inner().site;
        let now = now_micros();
        let book = self.book();
        let curtailments = book
            .curtailments
            .values()
            .filter(|c| site.is_empty() || c.record.site == site)
            .map(|c| c.record.clone())
            .collect();
        let mut ids: Vec<&String> =
            book.miners.iter().filter(|(_, m)| site.is_empty() || m.site == site).map(|(id, _)| id).collect();
        ids.sort();
        let miners = ids.into_iter().filter_map(|id| control_view(&book, id, now)).collect();
        Ok(Response::new(pb::FleetStatusResponse { curtailments, miners }))
    }

    async fn maintenance(
        &self,
        request: Request<pb::MaintenanceRequest>,
    ) -> Result<Response<pb::MinerControlView>, Status> {
        let r = request.into_inner();
        let now = now_micros();
        {
            let book = self.book();
            if !book.miners.contains_key(&r.resource_id) {
                return Err(Status::not_found(format!("resource_id: no miner {:?}", r.resource_id)));
            }
            if let Some(c) = book.curtailed_by(&r.resource_id, now).filter(|_| r.on) {
                return Err(Status::failed_precondition(format!(
                    "resource_id: {} is in curtailment {} until {}; wake it first",
                    r.resource_id, c.record.curtailment_id, c.record.until_unix_micros
                )));
            }
        }
        let event = pb::MinerMaintenance { resource_id: r.resource_id.clone(), on: r.on, reason: r.reason };
        self.0
            .record(&r.resource_id, MINER_MAINTENANCE, event.encode_to_vec())
            .await
            .map_err(|e| hcp_runtime::error::status(&e))?;
        self.0.wake.notify_one();
        control_view(&self.book(), &r.resource_id, now)
            .map(Response::new)
            .ok_or_else(|| Status::not_found(r.resource_id))
    }
}
