//! Tenant quotas: each tenant is guaranteed its nominal GPUs and may borrow beyond them,
//! up to its borrowing limit, what other tenants leave of their own nominal quota (one
//! cohort, as Kueue's). Borrowed GPUs are given back: a tenant under its nominal quota
//! may preempt work that others run on borrowed GPUs.
//!
//! The cohort's idle and borrowed totals are kept as GPUs are charged, so admitting a
//! workload costs one lookup, however many tenants there are.

use crate::fnv::FnvMap;
use crate::model::{Reason, TenantQuota};
use std::collections::BTreeMap;

/// Quota use during a cycle.
#[derive(Debug, Clone)]
pub struct Quotas {
    index: FnvMap<String, usize>,
    quotas: Vec<TenantQuota>,
    used: Vec<u32>,
    /// What each tenant's running and waiting work claims at the cycle's start.
    claimed: Vec<u32>,
    /// Over all tenants: nominal GPUs left unused, and GPUs used beyond nominal.
    idle: u64,
    borrowed: u64,
}

/// What admitting `count` GPUs for a tenant would mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Within quota (or borrowing this many GPUs).
    Admit {
        /// GPUs beyond the tenant's nominal quota.
        borrowed: u32,
    },
    /// Refused, with why.
    Refuse(Refusal),
}

/// Why quota refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No quota for the tenant.
    NoQuota,
    /// Beyond nominal and its borrowing limit.
    OverBorrowingLimit,
    /// Beyond nominal, and no other tenant's quota is idle enough to lend.
    NothingToBorrow,
}

impl Refusal {
    /// The pending reason.
    pub fn reason(self) -> Reason {
        match self {
            Refusal::NoQuota => Reason::Misconfigured,
            Refusal::OverBorrowingLimit => Reason::BorrowingLimitReached,
            Refusal::NothingToBorrow => Reason::WaitingForQuota,
        }
    }
}

fn idle_of(q: &TenantQuota, used: u32) -> u64 {
    u64::from(q.nominal_gpus.saturating_sub(used))
}

fn borrowed_of(q: &TenantQuota, used: u32) -> u64 {
    u64::from(used.saturating_sub(q.nominal_gpus))
}

impl Quotas {
    /// Quotas with what each tenant uses now and what its queue waits for (tenants using
    /// GPUs without a quota count as borrowing nothing and lending nothing). A tenant's
    /// nominal quota is idle, and may be lent, only where neither its running nor its
    /// waiting work claims it: quota lent while its owner waits would be taken back at
    /// once, a preemption for nothing.
    pub fn new(
        quotas: &BTreeMap<String, TenantQuota>,
        used: &BTreeMap<String, u32>,
        waiting: &BTreeMap<&str, u32>,
    ) -> Quotas {
        let mut q = Quotas {
            index: FnvMap::default(),
            quotas: Vec::new(),
            used: Vec::new(),
            claimed: Vec::new(),
            idle: 0,
            borrowed: 0,
        };
        for (tenant, quota) in quotas {
            let u = used.get(tenant).copied().unwrap_or(0);
            let claimed = u.saturating_add(waiting.get(tenant.as_str()).copied().unwrap_or(0));
            q.index.insert(tenant.clone(), q.quotas.len());
            q.idle += idle_of(quota, claimed);
            q.borrowed += borrowed_of(quota, u);
            q.quotas.push(quota.clone());
            q.used.push(u);
            q.claimed.push(claimed);
        }
        q
    }

    /// What tenant `t` claims of its quota: what it uses, or with its queue, if more.
    fn claim(&self, t: usize) -> u32 {
        self.used[t].max(self.claimed[t])
    }

    /// GPUs a tenant with a quota uses.
    pub fn used(&self, tenant: &str) -> u32 {
        self.index.get(tenant).map_or(0, |&t| self.used[t])
    }

    /// Whether a tenant uses more than its nominal quota.
    pub fn over_nominal(&self, tenant: &str) -> bool {
        self.index.get(tenant).is_some_and(|&t| self.used[t] > self.quotas[t].nominal_gpus)
    }

    /// Whether a tenant stays within its nominal quota with `count` more GPUs.
    pub fn within_nominal(&self, tenant: &str, count: u32) -> bool {
        self.index.get(tenant).is_some_and(|&t| self.used[t] + count <= self.quotas[t].nominal_gpus)
    }

    /// Whether `count` more GPUs may go to `tenant`.
    pub fn admit(&self, tenant: &str, count: u32) -> Admission {
        let Some(&t) = self.index.get(tenant) else { return Admission::Refuse(Refusal::NoQuota) };
        let (q, used) = (&self.quotas[t], self.used[t]);
        let after = used + count;
        if after <= q.nominal_gpus {
            return Admission::Admit { borrowed: 0 };
        }
        let over_after = after - q.nominal_gpus;
        if over_after > q.borrowing_limit_gpus {
            return Admission::Refuse(Refusal::OverBorrowingLimit);
        }
        let new_borrow = over_after - used.saturating_sub(q.nominal_gpus);
        // What the others leave idle of their nominal quota, less what is borrowed already.
        let idle = self.idle - idle_of(q, self.claim(t));
        let borrowed = self.borrowed - borrowed_of(q, used);
        if borrowed + u64::from(new_borrow) > idle {
            return Admission::Refuse(Refusal::NothingToBorrow);
        }
        Admission::Admit { borrowed: new_borrow }
    }

    /// Records `count` more GPUs for `tenant`.
    pub fn charge(&mut self, tenant: &str, count: u32) {
        let Some(&t) = self.index.get(tenant) else { return };
        let (q, used, claim) = (&self.quotas[t], self.used[t], self.claim(t));
        self.idle -= idle_of(q, claim);
        self.borrowed -= borrowed_of(q, used);
        self.used[t] = used + count;
        self.idle += idle_of(&self.quotas[t], self.claim(t));
        self.borrowed += borrowed_of(&self.quotas[t], used + count);
    }
}
