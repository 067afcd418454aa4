//! Starting pricing on the runtime: the market history read (or the shipped one), the
//! recorder loaded from the log, one source per site resuming after the last interval
//! recorded, and the API.

use crate::grpc::PricingService;
use crate::source::http::HttpPoller;
use crate::source::replay::Replay;
use crate::source::simulate::{Calibration, Simulator};
use crate::{Recorder, SiteMarket};
use hcp_economics::series::{BtcDay, PriceInterval, parse_btc_daily, parse_ercot};
use hcp_eventstore::EventStore;
use hcp_market::clock::interval_start_micros;
use hcp_market::shipped;
use hcp_proto::v1::pricing_server::PricingServer;
use hcp_runtime::Host;
use hcp_runtime::config::Config;
use hcp_runtime::grpc::GrpcServices;
use hcp_runtime::host::StartError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The market history a deployment prices from.
#[derive(Debug, Clone)]
pub struct MarketData {
    /// 15-minute intervals, in order.
    pub intervals: Vec<PriceInterval>,
    /// Bitcoin days, in order.
    pub days: Vec<BtcDay>,
}

/// Reads the configured series (or the shipped ones); an error names the file and what
/// is wrong with it, before anything starts.
pub fn market_data(config: &Config) -> Result<MarketData, String> {
    let (name, text) = shipped::read_or_shipped(
        config.pricing.prices.as_deref(),
        shipped::ERCOT_HB_SOUTH,
        shipped::ERCOT_HB_SOUTH_NAME,
    )?;
    let intervals = parse_ercot(&name, &text).map_err(|e| e.to_string())?;
    let (name, text) =
        shipped::read_or_shipped(config.pricing.btc.as_deref(), shipped::BTC_DAILY, shipped::BTC_DAILY_NAME)?;
    let days = parse_btc_daily(&name, &text).map_err(|e| e.to_string())?;
    if intervals.is_empty() {
        return Err(format!("{name}: no price intervals"));
    }
    Ok(MarketData { intervals, days })
}

/// The first interval after `last` (the start of the last one recorded), if any.
fn resume_index(intervals: &[PriceInterval], last: Option<i64>) -> usize {
    last.map_or(0, |last| intervals.partition_point(|p| interval_start_micros(p) <= last))
}

/// Starts pricing in `host`; returns where its API listens.
pub async fn start<S: EventStore>(
    host: &Arc<Host<S>>,
    config: &Config,
    data: MarketData,
    grpc: SocketAddr,
) -> Result<SocketAddr, StartError> {
    let markets: Vec<SiteMarket> = config
        .sites
        .iter()
        .map(|s| SiteMarket { site: s.id.clone(), settlement_point: s.settlement_point.clone() })
        .collect();
    let recorder = Arc::new(Recorder::load(Arc::clone(&host.store), &markets).await?);
    let source = config.pricing.source.as_str();
    let series = match source {
        "simulated" => match Calibration::fit(&data.intervals) {
            Some(cal) => {
                let last = data.intervals[data.intervals.len() - 1];
                Simulator::new(cal, &last, 42).take(data.intervals.len()).collect()
            }
            None => data.intervals.clone(),
        },
        _ => data.intervals.clone(),
    };
    if source.starts_with("http") {
        // Hashprice still comes from the Bitcoin series: all of it is history.
        for d in &data.days {
            recorder.bitcoin(d).await?;
        }
    }
    for (k, market) in markets.into_iter().enumerate() {
        let recorder = Arc::clone(&recorder);
        if source.starts_with("http") {
            let poller = HttpPoller { market, url: source.to_owned(), timeout: Duration::from_secs(5) };
            let every = Duration::from_secs_f64(config.pricing.poll_seconds);
            host.spawn("price poller", async move { poller.run(&recorder, every).await });
            continue;
        }
        // A restarted source resumes after the last interval in the log.
        let skip = resume_index(&series, recorder.book.last_start(&market.site));
        // One replay carries the Bitcoin days; every site's carries its prices.
        let days = if k == 0 { data.days.clone() } else { Vec::new() };
        let replay = Replay {
            market,
            intervals: series.clone(),
            days,
            speed: config.pricing.speed,
            skip,
            source: if source == "simulated" { "simulated" } else { "replay" }.into(),
        };
        host.spawn("price replay", async move {
            if let Err(e) = replay.run(&recorder).await {
                tracing::error!(error = %e, "price replay stopped");
            }
        });
    }
    let mut services = GrpcServices::default();
    services.add(PricingServer::new(PricingService(Arc::clone(&recorder.book))));
    host.serve("pricing", services, grpc).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcp_economics::series::Date;

    #[test]
    fn a_restarted_source_resumes_after_the_last_recorded_interval() {
        let at = |minute| PriceInterval {
            date: Date { year: 2024, month: 6, day: 1 },
            minute,
            day_ahead: 1.0,
            real_time: 2.0,
        };
        let series = [at(0), at(15), at(30)];
        assert_eq!(resume_index(&series, None), 0);
        assert_eq!(resume_index(&series, Some(interval_start_micros(&series[1]))), 2);
        assert_eq!(resume_index(&series, Some(interval_start_micros(&series[2]))), 3);
    }
}
