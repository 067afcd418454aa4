//! Power under each site's cap: a workload's GPUs start only when the site can feed them.
//!
//! Before execution starts a workload it adds up its site's draw as execution knows it:
//! each miner awake at its stock draw (asleep only once confirmed asleep, or observed so),
//! each GPU another live workload holds at its power limit. When this workload's GPUs would
//! take the site over its cap, execution curtails miners (least efficient first) for the
//! shortfall, in a curtailment of the workload's own, and starts the GPUs once those
//! miners are no longer pending. The curtailment is lifted when the workload stops, so
//! that mining takes the power back (or what the plan wants).

use crate::ledger::Ledger;
use crate::miners::book::{Book, Outcome};
use hcp_domain::ids::WorkloadId;
use hcp_domain::resource::Mode;
use hcp_minerapi::control::Action;

/// What a sleeping miner still draws, kW.
pub const SLEEP_KW: f64 = 0.018;

/// Whether a workload's GPUs may start now.
#[derive(Debug, Clone, PartialEq)]
pub enum Admit {
    /// The site can feed them (or no cap is known for it).
    Ready,
    /// The site would be over its cap by this much.
    Short {
        /// The site.
        site: String,
        /// kW.
        shortfall_kw: f64,
        /// What the GPUs need, kW.
        need_kw: f64,
        /// The cap, kW.
        cap_kw: f64,
    },
}

/// The id of the curtailment that makes room for a workload's attempt.
pub fn curtailment_id(id: WorkloadId, attempt: u32) -> String {
    format!("workload-{id}-{attempt}")
}

/// The prefix of every curtailment made for a workload.
pub fn curtailment_prefix(id: WorkloadId) -> String {
    format!("workload-{id}-")
}

/// A miner's draw by what execution knows of it, kW.
fn miner_kw(book: &Book, id: &str, now: i64) -> f64 {
    let Some(m) = book.miners.get(id) else { return 0.0 };
    let slept =
        m.command.as_ref().is_some_and(|c| c.action == Action::Sleep && matches!(c.outcome, Outcome::Confirmed { .. }));
    let waking = book.desired(id, now).is_some_and(|t| t.action == Action::Wake)
        && !m.command.as_ref().is_some_and(|c| c.action == Action::Wake && matches!(c.outcome, Outcome::Failed));
    let asleep = (slept || m.observed.0 == Mode::Curtailed) && !waking;
    if asleep { SLEEP_KW } else { m.nominal_kw }
}

/// The draw of the GPUs live workloads hold at `site` (other than `except`), kW at their power limits.
pub fn gpus_kw(ledger: &Ledger, site: &str, except: Option<WorkloadId>) -> f64 {
    ledger
        .workloads
        .iter()
        .filter(|(other, o)| Some(**other) != except && o.status.holds_resources())
        .flat_map(|(_, o)| o.resources.iter())
        .filter_map(|r| ledger.gpu_power.get(r.as_str()))
        .filter(|(s, _)| s == site)
        .map(|(_, kw)| kw)
        .sum()
}

/// The draw of `site`'s miners as execution knows them at `now`, kW.
pub fn miners_kw(book: &Book, site: &str, now: i64) -> f64 {
    book.miners.iter().filter(|(_, m)| m.site == site).map(|(id, _)| miner_kw(book, id, now)).sum()
}

/// Whether workload `id`'s GPUs may start at `now`, by its site's cap and draw.
pub fn admit(ledger: &Ledger, book: &Book, id: WorkloadId, now: i64) -> Admit {
    let Some(w) = ledger.workloads.get(&id) else { return Admit::Ready };
    let mine: Vec<&(String, f64)> = w.resources.iter().filter_map(|r| ledger.gpu_power.get(r.as_str())).collect();
    let Some(site) = mine.first().map(|(site, _)| site.clone()) else { return Admit::Ready };
    let Some(&cap_kw) = ledger.caps.get(&site) else { return Admit::Ready };
    let need_kw: f64 = mine.iter().map(|(_, kw)| kw).sum();
    let shortfall_kw = gpus_kw(ledger, &site, Some(id)) + miners_kw(book, &site, now) + need_kw - cap_kw;
    if shortfall_kw <= 0.0 { Admit::Ready } else { Admit::Short { site, shortfall_kw, need_kw, cap_kw } }
}

/// Whether any miner of curtailment `cid` is still on its way to sleep.
pub fn pending(book: &Book, cid: &str) -> bool {
    let Some(c) = book.curtailments.get(cid) else { return false };
    c.record.miners.iter().any(|id| {
        book.miners.get(id).is_some_and(|m| {
            !m.command.as_ref().is_some_and(|c| {
                c.action == Action::Sleep && matches!(c.outcome, Outcome::Confirmed { .. } | Outcome::Failed)
            })
        })
    })
}
