//! One scheduling cycle.
//!
//! In the queue's order ([`crate::order`]): a workload its tenant's quota refuses waits
//! with the quota's reason; one whose whole gang fits now is placed; one that could never
//! fit the fleet waits as `NoMatchingResources`; one that fits once preempted work has
//! gone waits for it; one that may displace cheaper work preempts it and waits for it;
//! (at most [`MAX_PREEMPTORS`] a cycle) the rest wait for resources (or, when the cycle began with room for them, behind
//! higher-priority work). Capacity only shrinks during a cycle, so once a shape of a
//! class cannot be placed, later workloads of that shape and class wait for the same
//! reason without another search: a queue of 100,000 costs one search per shape.

use crate::capacity::Capacity;
use crate::fnv::FnvMap;
use crate::model::{Class, Decision, Input, PendingReason, Placement, Preemption, Reason, Shape};
use crate::order::{order, usage};
use crate::preempt::Candidates;
use crate::quota::{Admission, Quotas, Refusal};
use crate::reason::Filtered;
use std::sync::Arc;

/// The most workloads one cycle preempts for (each search copies the free capacity;
/// the next cycle continues).
pub const MAX_PREEMPTORS: usize = 32;

/// Decides one cycle.
pub fn schedule(input: &Input) -> Decision {
    let index: FnvMap<&str, usize> = input.gpus.iter().enumerate().map(|(i, g)| (g.id.as_str(), i)).collect();
    let gpu_index = |id: &str| index.get(id).copied();
    let mut busy = vec![false; input.gpus.len()];
    // GPUs of work preempted in an earlier cycle: coming free.
    let mut preempting = Vec::new();
    for r in &input.running {
        for g in r.gpus.iter().filter_map(|g| gpu_index(g)) {
            busy[g] = true;
            if r.preempting {
                preempting.push(g);
            }
        }
    }
    let used = usage(input);
    // GPUs each tenant's queue waits for (keyed by borrowed names: no copy per workload).
    let mut waiting: std::collections::BTreeMap<&str, u32> = std::collections::BTreeMap::new();
    for p in &input.queue {
        let w = waiting.entry(p.tenant.as_str()).or_default();
        *w = w.saturating_add(p.shape.count);
    }
    let mut quotas = Quotas::new(&input.tenants, &used, &waiting);
    let mut capacity = Capacity::new(&input.gpus, &busy);
    let at_start = capacity.clone();
    // The fleet with nothing running: built when a shape first fails to fit.
    let whole_fleet = std::cell::OnceCell::new();
    let whole_fleet = || whole_fleet.get_or_init(|| Capacity::new(&input.gpus, &vec![false; input.gpus.len()]));
    let fits_kind = |g: usize, shape: &Shape| {
        let gpu = &input.gpus[g];
        shape.model.as_ref().is_none_or(|m| *m == gpu.model)
            && gpu.memory_mib >= shape.min_memory_mib
            && shape.site.as_ref().is_none_or(|s| *s == gpu.site)
    };
    let candidates = Candidates::new(&input.running, &gpu_index);
    let mut victim_taken = vec![false; input.running.len()];
    let mut preemptors = 0usize;
    let mut settled: FnvMap<(&Shape, Class), (Reason, Arc<str>)> = FnvMap::default();
    let mut decision = Decision { pending: Vec::with_capacity(input.queue.len()), ..Decision::default() };

    for i in order(input, &used) {
        let p = &input.queue[i];
        let wait = |reason: Reason, message: Arc<str>, decision: &mut Decision| {
            let position = decision.pending.len() + 1;
            decision.pending.push(PendingReason { workload: Arc::clone(&p.id), reason, message, position });
        };
        let borrowed = match quotas.admit(&p.tenant, p.shape.count) {
            Admission::Admit { borrowed } => borrowed,
            Admission::Refuse(refusal) => {
                let message = quota_message(&p.tenant, p.shape.count, refusal, input, &quotas);
                wait(refusal.reason(), message.into(), &mut decision);
                continue;
            }
        };
        let key = (&p.shape, p.class);
        if let Some((reason, message)) = settled.get(&key) {
            wait(reason.clone(), Arc::clone(message), &mut decision);
            continue;
        }
        if let Some(gpus) = capacity.find(&p.shape) {
            capacity.take(&gpus);
            quotas.charge(&p.tenant, p.shape.count);
            let gpus = gpus.into_iter().map(|g| input.gpus[g].id.clone()).collect();
            decision.placements.push(Placement { workload: Arc::clone(&p.id), gpus, borrowed });
            continue;
        }
        let (reason, message) = if whole_fleet().find(&p.shape).is_none() {
            let f = Filtered::count(&input.gpus, &busy, &p.shape);
            (Reason::NoMatchingResources, format!("no GPUs in the fleet can ever hold it: {}", f.message(&p.shape)))
        } else if !preempting.is_empty() && {
            let mut soon = capacity.clone();
            soon.free(&preempting);
            soon.find(&p.shape).is_some()
        } {
            (Reason::WaitingForPreemptedWorkloads, "GPUs are being freed by preempted work".to_owned())
        } else if preemptors >= MAX_PREEMPTORS {
            let message = format!("the cycle's {MAX_PREEMPTORS} preemptions are spent; the next cycle looks again");
            wait(Reason::Priority, message.into(), &mut decision);
            continue;
        } else if let Some(chosen) =
            candidates.victims(p, &input.running, &victim_taken, &capacity, &quotas, &fits_kind)
        {
            let names: Vec<&str> = chosen.iter().map(|&v| input.running[v].id.as_str()).collect();
            let message = format!("preempting {} to make room", names.join(", "));
            // Their GPUs are promised to this workload: not counted as coming free for others.
            for v in chosen {
                victim_taken[v] = true;
                decision
                    .preemptions
                    .push(Preemption { victim: input.running[v].id.clone(), for_workload: p.id.clone() });
            }
            preemptors += 1;
            // Not settled: the next workload of this shape may find other victims.
            wait(Reason::WaitingForPreemptedWorkloads, message.into(), &mut decision);
            continue;
        } else {
            let f = Filtered::count(&input.gpus, &busy, &p.shape);
            let reason = if at_start.find(&p.shape).is_some() { Reason::Priority } else { Reason::Resources };
            let why = if reason == Reason::Priority { "; workloads ahead in the queue took them" } else { "" };
            (reason, format!("{}{why}", f.message(&p.shape)))
        };
        let message: Arc<str> = message.into();
        settled.insert(key, (reason.clone(), Arc::clone(&message)));
        wait(reason, message, &mut decision);
    }
    decision
}

fn quota_message(tenant: &str, count: u32, refusal: Refusal, input: &Input, quotas: &Quotas) -> String {
    let Some(q) = input.tenants.get(tenant) else {
        return format!("tenant {tenant:?} has no quota: an operator must grant one");
    };
    let used = quotas.used(tenant);
    let limits = format!(
        "tenant {tenant:?} holds {used} GPUs of {} nominal (may borrow {})",
        q.nominal_gpus, q.borrowing_limit_gpus
    );
    match refusal {
        Refusal::OverBorrowingLimit => format!("{limits}: {count} more would borrow beyond its limit"),
        _ => format!("{limits}: {count} more would borrow what no other tenant leaves idle"),
    }
}
