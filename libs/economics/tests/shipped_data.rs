//! Economics against the shipped series: hashprice computed from them, checked by hand.

use hcp_domain::catalogue::asic_model;
use hcp_economics::series::{parse_btc_daily, parse_ercot};
use hcp_economics::{MinerEconomics, hashprice_usd_per_ph_day, subsidy_btc};

const BTC: &str = include_str!("../../../data/bitcoin/btc_daily_2020-04_2024-12.csv");
const ERCOT: &str = include_str!("../../../data/ercot/hb_south_15min_2024-06_2024-12.csv");

#[test]
fn the_series_parse_whole() {
    let prices = parse_ercot("ercot", ERCOT).expect("ercot");
    assert_eq!(prices.len(), 20_544, "Jun-Dec 2024, no gaps");
    let max = prices.iter().map(|p| p.real_time).fold(f64::MIN, f64::max);
    let min = prices.iter().map(|p| p.real_time).fold(f64::MAX, f64::min);
    assert!(max > 4_000.0 && min < -50.0, "the August spikes and negative prices: {min}..{max}");
    let days = parse_btc_daily("btc", BTC).expect("btc");
    assert_eq!(days.first().map(|d| d.date.to_string()), Some("2020-04-11".into()));
}

#[test]
fn hashprice_on_the_last_shipped_day() {
    let days = parse_btc_daily("btc", BTC).expect("btc");
    let last = days.last().expect("a day");
    // 2024-12-31: $93,429.20, difficulty 109,782,075,598,905, height 877,264 (subsidy 3.125).
    assert_eq!(subsidy_btc(last.height), 3.125);
    let hp = hashprice_usd_per_ph_day(last.difficulty, last.close_usd, 3.125, 0.0);
    // By hand: 1e15 × 86400 / (1.09782075598905e14 × 2^32) = 0.183241 blocks/day;
    // × 3.125 × 93,429.20 = $53.50 per PH/s per day.
    assert!((hp - 53.50).abs() < 0.01, "{hp}");
    let s21 = MinerEconomics::of(asic_model("Antminer S21").expect("S21"));
    let breakeven = s21.breakeven_usd_per_mwh(hp);
    assert!((breakeven - 127.38).abs() < 0.05, "{breakeven}");
}

#[test]
fn the_halving_shows_in_the_series() {
    let days = parse_btc_daily("btc", BTC).expect("btc");
    let before = days.iter().find(|d| d.date.to_string() == "2024-04-19").expect("day before");
    let after = days.iter().find(|d| d.date.to_string() == "2024-04-21").expect("day after");
    assert_eq!((subsidy_btc(before.height), subsidy_btc(after.height)), (6.25, 3.125));
}
