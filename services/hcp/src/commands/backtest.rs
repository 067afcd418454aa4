//! `hcp backtest`: every strategy (or one) over historical prices, a table of margin,
//! energy, switches, uptime and shares of the hindsight optimum and of the flexibility
//! value, and a chart of price against allocation.

use crate::cli::BacktestArgs;
use crate::commands::events::emit;
use anyhow::Context;
use hcp_economics::series::{parse_btc_daily, parse_ercot};
use hcp_market::shipped;
use hcp_optimizer::Strategy;
use hcp_optimizer::backtest::compare;
use hcp_optimizer::chart;
use hcp_optimizer::market::Timeline;
use hcp_optimizer::site::SiteConfig;
use std::time::Instant;

/// Runs the backtest.
pub fn run(args: BacktestArgs) -> anyhow::Result<()> {
    let site: SiteConfig = match &args.site {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading site {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("site {} is not a valid site config", path.display()))?
        }
        None => SiteConfig::single(&args.model, args.count),
    };
    let classes = site.classes()?;
    let strategies: Vec<Strategy> = if args.strategy == "all" {
        Strategy::ALL.to_vec()
    } else {
        vec![args.strategy.parse().map_err(anyhow::Error::msg)?]
    };
    let (name, text) =
        shipped::read_or_shipped(args.prices.as_deref(), shipped::ERCOT_HB_SOUTH, shipped::ERCOT_HB_SOUTH_NAME)
            .map_err(anyhow::Error::msg)?;
    let prices = parse_ercot(&name, &text)?;
    let (name, text) = shipped::read_or_shipped(args.btc.as_deref(), shipped::BTC_DAILY, shipped::BTC_DAILY_NAME)
        .map_err(anyhow::Error::msg)?;
    let days = parse_btc_daily(&name, &text)?;
    let timeline = Timeline::build(prices, &days, site.fees_btc_per_block)?;

    let started = Instant::now();
    let scored = compare(&timeline, &classes, &strategies);
    let took = started.elapsed();

    let mut out = std::io::stdout().lock();
    let (first, last) = (timeline.intervals[0].date, timeline.intervals[timeline.len() - 1].date);
    if !args.output.json {
        let devices: u32 = classes.iter().map(|c| c.count).sum();
        emit(
            &mut out,
            &format!(
                "site {}: {devices} miners, cap {:.1} MW, {first} to {last}, {} intervals",
                site.name,
                site.power_cap_mw,
                timeline.len()
            ),
        )?;
        emit(
            &mut out,
            &format!(
                "{:<13} {:>14} {:>12} {:>10} {:>8} {:>11} {:>13}",
                "strategy", "margin $", "energy MWh", "switches", "uptime", "of optimum", "of flex value"
            ),
        )?;
    }
    for s in &scored {
        let o = &s.outcome;
        let line = if args.output.json {
            serde_json::json!({
                "strategy": o.strategy.name(), "margin_usd": o.margin_usd, "energy_mwh": o.energy_mwh,
                "switches": o.switches, "uptime": o.uptime, "share_of_hindsight": s.share_of_hindsight,
                "share_of_flexibility": s.share_of_flexibility,
            })
            .to_string()
        } else {
            format!(
                "{:<13} {:>14.0} {:>12.0} {:>10} {:>7.1}% {:>10.1}% {:>12.1}%",
                o.strategy.name(),
                o.margin_usd,
                o.energy_mwh,
                o.switches,
                o.uptime * 100.0,
                s.share_of_hindsight * 100.0,
                s.share_of_flexibility * 100.0
            )
        };
        emit(&mut out, &line)?;
    }
    // Chart the HCP strategy when it ran, else the last one.
    let charted = scored.iter().find(|s| s.outcome.strategy == Strategy::Hcp).or(scored.last());
    if let (Some(s), Some(first_class)) = (charted, classes.first()) {
        let breakeven: Vec<f64> =
            timeline.hashprice_known.iter().map(|&hp| first_class.economics.breakeven_usd_per_mwh(hp)).collect();
        let title = format!("{}: {} over real-time price, {first} to {last}", site.name, s.outcome.strategy);
        std::fs::write(&args.chart, chart::svg(&timeline, &breakeven, &s.outcome.running, &title))
            .with_context(|| format!("writing the chart {}", args.chart.display()))?;
        eprintln!("chart: {} ({} strategies in {:.2} s)", args.chart.display(), scored.len(), took.as_secs_f64());
    }
    Ok(())
}
