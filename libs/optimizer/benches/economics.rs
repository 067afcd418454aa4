//! Economics benchmarks (`make bench`): one `bench: <name> = <value> <unit>` line per figure.
//!
//! - One plan (group with dwell, commitments and hysteresis, solve the knapsack exactly,
//!   apply the wake ramp, assign and explain every device) for a site of 100,000 devices.
//! - A backtest of the shipped seven months for 10,000 devices, every strategy.
//! - Decision quality per miner model: each strategy's share of the flexibility value,
//!   unconstrained and with a 60-minute dwell and $0.05 per switch.

use hcp_domain::catalogue::{ASIC_MODELS, GPU_MODELS};
use hcp_economics::MinerEconomics;
use hcp_economics::series::{parse_btc_daily, parse_ercot};
use hcp_optimizer::Strategy;
use hcp_optimizer::backtest::compare;
use hcp_optimizer::market::Timeline;
use hcp_optimizer::planner::{Conditions, Device, Economics, plan};
use hcp_optimizer::site::{MinerClass, SiteConfig};
use hcp_optimizer::strategy::LOOKAHEAD;
use std::time::{Duration, Instant};

const BTC: &str = include_str!("../../../data/bitcoin/btc_daily_2020-04_2024-12.csv");
const ERCOT: &str = include_str!("../../../data/ercot/hb_south_15min_2024-06_2024-12.csv");

/// A site of `n` devices: every catalogue ASIC and GPU model, a third of the GPUs held by
/// customers, half of everything running now.
fn fleet(n: usize) -> Vec<Device> {
    let kinds = ASIC_MODELS.len() + GPU_MODELS.len();
    (0..n)
        .map(|i| {
            let k = (i * 7 + i / 13) % kinds;
            let (model, economics, committed) = if k < ASIC_MODELS.len() {
                (ASIC_MODELS[k].name, Economics::Asic(MinerEconomics::of(&ASIC_MODELS[k])), false)
            } else {
                let g = &GPU_MODELS[k - ASIC_MODELS.len()];
                let kw = g.power_limit_watts as f64 / 1000.0;
                (g.name, Economics::Gpu { contract_usd_per_hour: 1.0 + kw * 2.0, kilowatts: kw }, i % 3 == 0)
            };
            Device {
                id: format!("dev-{i}"),
                model: model.into(),
                economics,
                running: i % 2 == 0,
                committed,
                held: i % 17 == 0,
            }
        })
        .collect()
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

fn main() {
    // One plan for 100,000 devices under a cap and a wake ramp that bind.
    let devices = fleet(100_000);
    let mut times = Vec::new();
    for i in 0..200 {
        let c = Conditions {
            // A full lookahead horizon: a spike ahead, then back to the price now.
            horizon_usd_mwh: (0..LOOKAHEAD)
                .map(|h| if (4..8).contains(&h) { 300.0 } else { 20.0 + (i % 40) as f64 * 5.0 })
                .collect(),
            interval_hours: 0.25,
            min_dwell: 4,
            switch_cost_usd: 0.05,
            hashprice: 50.0,
            cap_kw: 200_000.0,
            hysteresis_usd_mwh: 5.0,
            max_wake_kw: 20_000.0,
        };
        let t = Instant::now();
        let planned = plan(&devices, &c).expect("committed GPUs fit");
        times.push(t.elapsed());
        assert!(planned.kw <= c.cap_kw + 1e-6 && planned.running.iter().any(|r| *r));
    }
    times.sort();
    println!("bench: plan_100k_devices_p50 = {:.3} ms", quantile(&times, 0.5).as_secs_f64() * 1e3);
    println!("bench: plan_100k_devices_p99 = {:.3} ms", quantile(&times, 0.99).as_secs_f64() * 1e3);

    // A backtest of the shipped months for 10,000 devices, every strategy.
    let tl =
        Timeline::build(parse_ercot("ercot", ERCOT).expect("ercot"), &parse_btc_daily("btc", BTC).expect("btc"), 0.0)
            .expect("timeline");
    let mixed = SiteConfig {
        name: "mixed 10k".into(),
        power_cap_mw: 30.0,
        miners: [
            ("Antminer S21", 4000),
            ("Antminer S19j Pro", 3000),
            ("Whatsminer M60S", 2000),
            ("Antminer S21 Pro", 1000),
        ]
        .iter()
        .map(|(m, c)| MinerClass { model: (*m).into(), count: *c })
        .collect(),
        min_dwell_minutes: 60,
        ramp_mw_per_minute: Some(3.0),
        switch_cost_usd: 0.05,
        fees_btc_per_block: 0.0,
    };
    let t = Instant::now();
    let scored = compare(&tl, &mixed.classes().expect("site"), &Strategy::ALL);
    println!("bench: backtest_7_months_10k_devices_all_strategies = {:.3} s", t.elapsed().as_secs_f64());
    assert_eq!(scored.len(), Strategy::ALL.len());

    // Decision quality per model.
    for model in ASIC_MODELS {
        for (label, dwell, cost) in [("free", 15, 0.0), ("dwell60_cost005", 60, 0.05)] {
            let site =
                SiteConfig { min_dwell_minutes: dwell, switch_cost_usd: cost, ..SiteConfig::single(model.name, 1000) };
            let scored = compare(&tl, &site.classes().expect("site"), &Strategy::ALL);
            let slug = model.name.to_lowercase().replace('+', "p").replace(' ', "_");
            for s in scored.iter().filter(|s| !matches!(s.outcome.strategy, Strategy::AlwaysOn | Strategy::Hindsight)) {
                println!(
                    "bench: flex_share_{slug}_{label}_{} = {:.1} %",
                    s.outcome.strategy.name().replace('-', "_"),
                    s.share_of_flexibility * 100.0
                );
            }
        }
    }
}
