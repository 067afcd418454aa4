//! One site, the coming interval: every healthy device to running (mining for ASICs,
//! serving AI for GPUs) or curtailed, under the power cap, with
//! - committed GPUs (customers hold them) always running;
//! - a lookahead: what running now is worth is the best path over the forecast horizon
//!   that starts running, less the best one that starts curtailed, under the minimum
//!   dwell and the switching cost ([`crate::schedule`], the rule the backtest's HCP
//!   strategy follows);
//! - a minimum dwell: a device that changed mode recently keeps it;
//! - hysteresis: a running device stays unless its value falls below −h $/MWh, an idle
//!   one wakes only above +h;
//! - a ramp limit on how much load may wake at once;
//!
//! solved exactly with the knapsack by that value per MW, and explained per model in
//! $/MWh.

use crate::knapsack::{Group, allocate};
use crate::schedule::{Limits, best_value_starting_at};
use hcp_economics::MinerEconomics;
use std::collections::HashMap;

/// What a device is, economically.
#[derive(Debug, Clone, PartialEq)]
pub enum Economics {
    /// A miner.
    Asic(MinerEconomics),
    /// A GPU earning `contract_usd_per_hour` when serving, drawing `kilowatts`.
    Gpu {
        /// Contract or spot price per GPU-hour.
        contract_usd_per_hour: f64,
        /// Board power.
        kilowatts: f64,
    },
}

impl Economics {
    fn kilowatts(&self) -> f64 {
        match self {
            Economics::Asic(e) => e.kilowatts,
            Economics::Gpu { kilowatts, .. } => *kilowatts,
        }
    }

    /// What running earns per MWh drawn (the breakeven power price).
    pub fn value_usd_per_mwh(&self, hashprice: f64) -> f64 {
        match self {
            Economics::Asic(e) => e.breakeven_usd_per_mwh(hashprice),
            Economics::Gpu { contract_usd_per_hour, kilowatts } => {
                hcp_economics::gpu::gpu_value_usd_per_mwh(*contract_usd_per_hour, *kilowatts)
            }
        }
    }
}

/// A device as the planner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    /// Its resource id.
    pub id: String,
    /// Its model.
    pub model: String,
    /// Its economics.
    pub economics: Economics,
    /// Whether it runs now.
    pub running: bool,
    /// Whether a customer holds it (GPUs).
    pub committed: bool,
    /// Whether it changed mode within the minimum dwell.
    pub held: bool,
}

/// The market and the site's limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Conditions {
    /// Expected power price of each interval ahead, $/MWh, the first being the one
    /// planned; at least one.
    pub horizon_usd_mwh: Vec<f64>,
    /// Hours per interval.
    pub interval_hours: f64,
    /// Intervals a device holds a mode after changing it (1 = no dwell).
    pub min_dwell: u32,
    /// Cost of one device switching mode, $.
    pub switch_cost_usd: f64,
    /// Hashprice, $/PH/day.
    pub hashprice: f64,
    /// The site's cap, kW.
    pub cap_kw: f64,
    /// Hysteresis, $/MWh.
    pub hysteresis_usd_mwh: f64,
    /// Most load that may wake this interval, kW.
    pub max_wake_kw: f64,
}

/// The planner's decision for one model.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupPlan {
    /// The model.
    pub model: String,
    /// Whether these are GPUs.
    pub gpu: bool,
    /// Devices of the model.
    pub devices: u32,
    /// Running after the plan.
    pub running: u32,
    /// Held by dwell.
    pub held: u32,
    /// Committed to customers.
    pub committed: u32,
    /// Margin per MWh of a running device this interval.
    pub margin_usd_per_mwh: f64,
    /// What running now is worth over the horizon against curtailing, per MWh drawn
    /// this interval, from where the model's devices are.
    pub lookahead_usd_per_mwh: f64,
    /// Why.
    pub why: String,
}

/// A plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Per device, whether it runs (same order as the input).
    pub running: Vec<bool>,
    /// Per model, with reasons.
    pub groups: Vec<GroupPlan>,
    /// Planned load, kW.
    pub kw: f64,
    /// Expected margin per hour, $.
    pub margin_usd_per_hour: f64,
}

/// Why a plan could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// The conditions carry no price forecast.
    #[error("no price forecast for the interval to plan")]
    NoForecast,
    /// Committed load alone is over the cap.
    #[error(transparent)]
    Infeasible(#[from] crate::knapsack::AllocateError),
}

/// What running a device this interval is worth against curtailing it, per MWh it
/// would draw this interval: the best path over the horizon that starts running less
/// the best that starts curtailed, each with its dwell and switching costs, from where
/// the device is (`running`, free to change).
pub fn lookahead_usd_per_mwh(d: &Device, c: &Conditions, running: bool) -> f64 {
    let mw = d.economics.kilowatts() / 1000.0;
    let energy = mw * c.interval_hours;
    if energy <= 0.0 {
        return 0.0;
    }
    let value = d.economics.value_usd_per_mwh(c.hashprice);
    let margins: Vec<f64> = c.horizon_usd_mwh.iter().map(|p| (value - p) * mw * c.interval_hours).collect();
    let limits = Limits {
        levels: 1,
        max_step: 1,
        min_dwell: c.min_dwell.max(1),
        max_level: 1,
        switch_cost_per_level: c.switch_cost_usd,
    };
    let start = limits.settled(u32::from(running));
    let best = |first| best_value_starting_at(&margins, start, &limits, first).unwrap_or(f64::NEG_INFINITY);
    (best(1) - best(0)) / energy
}

/// Plans the interval.
pub fn plan(devices: &[Device], c: &Conditions) -> Result<Plan, PlanError> {
    if c.horizon_usd_mwh.is_empty() {
        return Err(PlanError::NoForecast);
    }
    // Subgroups by (model, running now). Committed devices and held running ones join
    // their model's running subgroup as fixed (the knapsack's `committed`); held idle ones
    // stay out.
    let mut keys: Vec<(&str, bool)> = Vec::new();
    let mut index: HashMap<(&str, bool), usize> = HashMap::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    let mut groups: Vec<Group> = Vec::new();
    for (i, d) in devices.iter().enumerate() {
        let fixed_on = d.committed || (d.held && d.running);
        let fixed_off = d.held && !d.running && !d.committed;
        if fixed_off {
            continue;
        }
        let key = (d.model.as_str(), fixed_on || d.running);
        let k = *index.entry(key).or_insert_with(|| {
            let kw = d.economics.kilowatts();
            let per_mwh = lookahead_usd_per_mwh(d, c, key.1);
            let bias = if key.1 { c.hysteresis_usd_mwh } else { -c.hysteresis_usd_mwh };
            keys.push(key);
            members.push(Vec::new());
            groups.push(Group { count: 0, kw_each: kw, margin_each: (per_mwh + bias) * kw / 1000.0, committed: 0 });
            keys.len() - 1
        });
        members[k].push(i);
        groups[k].count += 1;
        if fixed_on {
            groups[k].committed += 1;
        }
    }
    let allocation = allocate(&groups, c.cap_kw)?;
    let mut on_count = allocation.running.clone();
    // Ramp: limit wakes, dropping the least valuable first.
    let mut wake_kw: f64 =
        (0..groups.len()).filter(|&k| !keys[k].1).map(|k| on_count[k] as f64 * groups[k].kw_each).sum();
    let mut wakers: Vec<usize> = (0..groups.len()).filter(|&k| !keys[k].1).collect();
    wakers.sort_by(|&a, &b| {
        (groups[a].margin_each / groups[a].kw_each).total_cmp(&(groups[b].margin_each / groups[b].kw_each))
    });
    for k in wakers {
        while wake_kw > c.max_wake_kw + 1e-9 && on_count[k] > 0 {
            on_count[k] -= 1;
            wake_kw -= groups[k].kw_each;
        }
    }
    let mut running = vec![false; devices.len()];
    for (k, m) in members.iter().enumerate() {
        // Committed and held first, then the rest in order.
        let mut order = m.clone();
        order.sort_by_key(|&i| !(devices[i].committed || devices[i].held));
        for &i in order.iter().take(on_count[k] as usize) {
            running[i] = true;
        }
    }
    Ok(summarise(devices, &running, c))
}

fn summarise(devices: &[Device], running: &[bool], c: &Conditions) -> Plan {
    /// Per model: first device, devices, running, held, committed.
    struct Tally {
        first: usize,
        total: u32,
        on: u32,
        held: u32,
        committed: u32,
    }
    let mut order: Vec<&str> = Vec::new();
    let mut tallies: HashMap<&str, Tally> = HashMap::new();
    let mut kw = 0.0;
    for (i, (d, &on)) in devices.iter().zip(running).enumerate() {
        let t = tallies.entry(d.model.as_str()).or_insert_with(|| {
            order.push(d.model.as_str());
            Tally { first: i, total: 0, on: 0, held: 0, committed: 0 }
        });
        t.total += 1;
        t.on += u32::from(on);
        t.held += u32::from(d.held);
        t.committed += u32::from(d.committed);
        if on {
            kw += d.economics.kilowatts();
        }
    }
    let mut margin_usd_per_hour = 0.0;
    let groups = order
        .into_iter()
        .map(|model| {
            let t = &tallies[model];
            let d0 = &devices[t.first];
            let value = d0.economics.value_usd_per_mwh(c.hashprice);
            let now = c.horizon_usd_mwh[0];
            let per_mwh = value - now;
            let ahead = lookahead_usd_per_mwh(d0, c, d0.running);
            let (on, total, held, committed) = (t.on, t.total, t.held, t.committed);
            margin_usd_per_hour += on as f64 * per_mwh * d0.economics.kilowatts() / 1000.0;
            let gpu = matches!(d0.economics, Economics::Gpu { .. });
            let verb = if gpu { "serving AI" } else { "mining" };
            let mut why = format!(
                "{on} of {total} {verb}: they earn ${value:.2}/MWh against ${now:.2}/MWh expected power, margin \
                 ${per_mwh:+.2}/MWh"
            );
            if c.horizon_usd_mwh.len() > 1 {
                why.push_str(&format!(
                    "; over the next {} intervals ({}-interval dwell, ${:.2} a switch) running now is worth \
                     ${ahead:+.2}/MWh",
                    c.horizon_usd_mwh.len(),
                    c.min_dwell.max(1),
                    c.switch_cost_usd
                ));
            }
            if on < total && ahead > c.hysteresis_usd_mwh {
                why.push_str(&format!(
                    "; {} left off by the {:.0} kW cap or the wake ramp, as the least valuable per MW",
                    total - on,
                    c.cap_kw
                ));
            } else if on > 0 && ahead < 0.0 {
                why.push_str(&format!("; kept running within the ${:.2}/MWh hysteresis or held", c.hysteresis_usd_mwh));
            }
            if committed > 0 {
                why.push_str(&format!("; {committed} committed to customers"));
            }
            if held > 0 {
                why.push_str(&format!("; {held} held by the minimum dwell"));
            }
            GroupPlan {
                model: model.to_owned(),
                gpu,
                devices: total,
                running: on,
                held,
                committed,
                margin_usd_per_mwh: per_mwh,
                lookahead_usd_per_mwh: ahead,
                why,
            }
        })
        .collect();
    Plan { running: running.to_vec(), groups, kw, margin_usd_per_hour }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcp_domain::catalogue::asic_model;

    fn asic(id: usize, model: &str, running: bool) -> Device {
        Device {
            id: format!("asic-{id}"),
            model: model.into(),
            economics: Economics::Asic(MinerEconomics::of(asic_model(model).expect("model"))),
            running,
            committed: false,
            held: false,
        }
    }

    fn conditions(price: f64) -> Conditions {
        Conditions {
            horizon_usd_mwh: vec![price],
            interval_hours: 0.25,
            min_dwell: 1,
            switch_cost_usd: 0.0,
            hashprice: 53.5,
            cap_kw: 1e9,
            hysteresis_usd_mwh: 5.0,
            max_wake_kw: 1e9,
        }
    }

    #[test]
    fn curtails_the_least_efficient_first_as_price_rises() {
        let devices = vec![asic(0, "Antminer S21", true), asic(1, "Antminer S19j Pro", true)];
        // Breakevens at $53.50/PH/day: S21 ~$127/MWh, S19j Pro ~$76/MWh.
        let p = plan(&devices, &conditions(100.0)).expect("plan");
        assert_eq!(p.running, vec![true, false]);
        assert!(p.groups[1].why.starts_with("0 of 1 mining"), "{}", p.groups[1].why);
        assert_eq!(plan(&devices, &conditions(200.0)).expect("plan").running, vec![false, false]);
    }

    #[test]
    fn a_wake_commits_to_the_dwell_not_the_instant() {
        let devices = vec![asic(0, "Antminer S19j Pro", false), asic(1, "Antminer S19j Pro", true)];
        // Cheap now, a spike expected within the hour-long dwell: waking now would be stuck
        // through it, so the idle miner stays off; the running one earns the cheap
        // interval, as it can still curtail before the spike.
        let c = Conditions { horizon_usd_mwh: vec![20.0, 400.0, 400.0, 400.0], min_dwell: 4, ..conditions(20.0) };
        let p = plan(&devices, &c).expect("plan");
        assert_eq!(p.running, vec![false, true]);
        assert!(p.groups[0].why.contains("over the next 4 intervals (4-interval dwell"), "{}", p.groups[0].why);
        // Without the spike ahead, both run.
        let c = Conditions { horizon_usd_mwh: vec![20.0; 4], min_dwell: 4, ..conditions(20.0) };
        assert_eq!(plan(&devices, &c).expect("plan").running, vec![true, true]);
    }

    #[test]
    fn switching_costs_are_weighed_over_the_horizon() {
        let devices = vec![asic(0, "Antminer S19j Pro", true)];
        // One interval at $90 (about $14/MWh above its ~$76 breakeven: $10.70 lost over
        // 15 min at 3 MW) then cheap again. Free to switch, it curtails for it; at $10 a
        // switch, off and on again costs $20, so it rides it.
        let dip = vec![90.0, 20.0, 20.0];
        let free = Conditions { horizon_usd_mwh: dip.clone(), ..conditions(90.0) };
        assert_eq!(plan(&devices, &free).expect("plan").running, vec![false], "free to switch: curtail");
        let costly = Conditions { switch_cost_usd: 10.0, ..free };
        assert_eq!(plan(&devices, &costly).expect("plan").running, vec![true], "switches cost more than the dip");
        let empty = Conditions { horizon_usd_mwh: vec![], ..conditions(90.0) };
        assert_eq!(plan(&devices, &empty), Err(PlanError::NoForecast));
    }

    #[test]
    fn hysteresis_keeps_running_miners_near_breakeven() {
        let s19 = MinerEconomics::of(asic_model("Antminer S19j Pro").expect("m")).breakeven_usd_per_mwh(53.5);
        let devices = vec![asic(0, "Antminer S19j Pro", true), asic(1, "Antminer S19j Pro", false)];
        let p = plan(&devices, &conditions(s19 + 2.0)).expect("plan");
        assert_eq!(p.running, vec![true, false], "within $5: the running one stays, the idle one stays idle");
    }

    #[test]
    fn cap_ramp_dwell_and_commitments() {
        let mut gpu = Device {
            id: "gpu-0".into(),
            model: "NVIDIA H100 80GB HBM3".into(),
            economics: Economics::Gpu { contract_usd_per_hour: 0.01, kilowatts: 0.7 },
            running: true,
            committed: true,
            held: false,
        };
        let mut held_off = asic(1, "Antminer S21", false);
        held_off.held = true;
        let devices = vec![gpu.clone(), held_off, asic(2, "Antminer S21", false), asic(3, "Antminer S21", false)];
        let c = Conditions { cap_kw: 8.0, max_wake_kw: 3.6, ..conditions(20.0) };
        let p = plan(&devices, &c).expect("plan");
        assert_eq!(
            p.running,
            vec![true, false, true, false],
            "GPU committed despite its margin; one wake within the ramp; held stays off"
        );
        gpu.committed = false;
        assert_eq!(
            plan(&[gpu], &conditions(20.0)).expect("plan").running,
            vec![false],
            "an uncommitted loss-maker is curtailed"
        );
    }
}
