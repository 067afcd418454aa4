//! What the optimizer shows of its sites and plans (the gateway's `/v1/sites` and
//! `/v1/plans`): each site's cap with its latest plan's power and mix, and a site's
//! recorded plans a page at a time, newest first, read from its `plans-<site>` stream.

use super::{ALLOCATION_PLANNED, Optimizer, PlanError, plans_stream};
use hcp_eventstore::{Direction, EventStore};
use hcp_proto::v1 as pb;
use prost::Message;

/// The most plans one page holds.
const MAX_PAGE: usize = 500;

impl<S: EventStore> Optimizer<S> {
    /// Each site it plans, in configuration order.
    pub async fn site_statuses(&self) -> Result<Vec<pb::SiteStatus>, PlanError> {
        let mut out = Vec::new();
        for site in self.sites().map(ToOwned::to_owned).collect::<Vec<_>>() {
            let cap_kw = self.policy(&site)?.cap_kw;
            let mut status = pb::SiteStatus { site: site.clone(), cap_kw, ..Default::default() };
            let (latest, _) = self.plans_before(&site, u64::MAX, 1).await?;
            if let Some(plan) = latest.first() {
                status.plan_id.clone_from(&plan.plan_id);
                status.planned_unix_micros = plan.planned_unix_micros;
                status.planned_kw = plan.planned_kw;
                status.price_usd_mwh = plan.price_usd_mwh;
                status.margin_usd_per_hour = plan.margin_usd_per_hour;
                (status.mining, status.ai, status.curtailed) = mix(plan);
            }
            out.push(status);
        }
        Ok(out)
    }

    /// A page of `site`'s plans, newest first, after `page_token` (a version, from the
    /// page before); the token of the next page is empty at the oldest.
    pub async fn plans_page(
        &self,
        site: &str,
        page_size: u32,
        page_token: &str,
    ) -> Result<pb::ListPlansResponse, PlanError> {
        self.policy(site)?;
        let before = match page_token {
            "" => u64::MAX,
            t => t.parse::<u64>().map_err(|_| PlanError::BadPageToken(t.to_owned()))?,
        };
        let size = match page_size {
            0 => 20,
            n => (n as usize).min(MAX_PAGE),
        };
        let (plans, oldest) = self.plans_before(site, before, size).await?;
        let next_page_token = match oldest {
            Some(v) if plans.len() == size && v > 1 => (v - 1).to_string(),
            _ => String::new(),
        };
        Ok(pb::ListPlansResponse { plans, next_page_token })
    }

    /// Up to `n` plans at or below version `from`, newest first, and the oldest version read.
    async fn plans_before(
        &self,
        site: &str,
        from: u64,
        n: usize,
    ) -> Result<(Vec<pb::AllocationPlanned>, Option<u64>), PlanError> {
        let mut plans = Vec::new();
        let mut oldest = None;
        let mut from = from;
        // Other events share the stream (targets): read on until `n` plans or the start.
        while plans.len() < n && from > 0 {
            let events = self.store.read_stream(&plans_stream(site), from, Direction::Backwards, n * 2).await?;
            let Some(last) = events.last() else { break };
            from = last.version.saturating_sub(1);
            for e in &events {
                if plans.len() == n {
                    break;
                }
                oldest = Some(e.version);
                if e.event_type == ALLOCATION_PLANNED
                    && let Ok(p) = pb::AllocationPlanned::decode(e.payload.as_ref())
                {
                    plans.push(p);
                }
            }
        }
        Ok((plans, oldest))
    }
}

/// A plan's devices (mining, serving AI — running a customer's workload or held for one —,
/// curtailed).
pub fn mix(plan: &pb::AllocationPlanned) -> (u32, u32, u32) {
    let (mut mining, mut ai, mut curtailed) = (0, 0, 0);
    for g in &plan.groups {
        if g.kind == "gpu" {
            ai += g.committed + g.held;
        } else {
            mining += g.running;
        }
        curtailed += g.curtailed;
    }
    (mining, ai, curtailed)
}
