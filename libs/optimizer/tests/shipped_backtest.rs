//! The backtest on the shipped seven months of ERCOT prices, per miner model.

use hcp_economics::series::{parse_btc_daily, parse_ercot};
use hcp_optimizer::Strategy;
use hcp_optimizer::backtest::compare;
use hcp_optimizer::market::Timeline;
use hcp_optimizer::site::SiteConfig;

const BTC: &str = include_str!("../../../data/bitcoin/btc_daily_2020-04_2024-12.csv");
const ERCOT: &str = include_str!("../../../data/ercot/hb_south_15min_2024-06_2024-12.csv");

fn timeline() -> Timeline {
    let prices = parse_ercot("ercot", ERCOT).expect("ercot");
    let days = parse_btc_daily("btc", BTC).expect("btc");
    Timeline::build(prices, &days, 0.0).expect("timeline")
}

fn table(tl: &Timeline, site: &SiteConfig) -> Vec<(Strategy, f64)> {
    let classes = site.classes().expect("site");
    let model = &site.miners[0].model;
    compare(tl, &classes, &Strategy::ALL)
        .into_iter()
        .map(|s| {
            println!(
                "{model:<18} {:<13} margin ${:>12.0}  share of hindsight {:>6.1}%  of flexibility {:>6.1}%  switches {}",
                s.outcome.strategy,
                s.outcome.margin_usd,
                s.share_of_hindsight * 100.0,
                s.share_of_flexibility * 100.0,
                s.outcome.switches
            );
            (s.outcome.strategy, s.share_of_flexibility)
        })
        .collect()
}

#[test]
fn with_dwell_and_switching_costs_lookahead_beats_the_rules() {
    let tl = timeline();
    for model in ["Antminer S21", "Antminer S19j Pro"] {
        let site = SiteConfig { min_dwell_minutes: 60, switch_cost_usd: 0.05, ..SiteConfig::single(model, 100) };
        let shares = table(&tl, &site);
        let share = |k: Strategy| shares.iter().find(|(s, _)| *s == k).map(|(_, v)| *v).expect("ran");
        let best_rule = share(Strategy::StrikeLastRealTime).max(share(Strategy::StrikeDayAhead));
        assert!(share(Strategy::Hcp) > best_rule, "{model}: hcp {} vs best rule {best_rule}", share(Strategy::Hcp));
    }
}

#[test]
fn strategies_rank_as_they_should_on_real_prices() {
    let tl = timeline();
    for model in ["Antminer S21", "Antminer S19j Pro"] {
        let shares = table(&tl, &SiteConfig::single(model, 100));
        let share = |k: Strategy| shares.iter().find(|(s, _)| *s == k).map(|(_, v)| *v).expect("ran");
        assert!((share(Strategy::Hindsight) - 1.0).abs() < 1e-9);
        assert_eq!(share(Strategy::AlwaysOn), 0.0);
        assert!(share(Strategy::StrikeLastRealTime) > 0.5, "{model}: strike on the last price captures most");
        assert!(
            share(Strategy::StrikeLastRealTime) < 1.0,
            "{model}: but not all: it cannot see the interval's own price"
        );
    }
}
