//! The streams pricing writes, and folding their events into a [`Book`].

use crate::book::Book;
use hcp_eventstore::RecordedEvent;
use hcp_proto::v1 as pb;
use prost::Message;

/// The stream of a site's prices.
pub fn prices_stream(site: &str) -> String {
    format!("prices-{site}")
}

/// The stream of a site's published day-ahead prices.
pub fn day_ahead_stream(site: &str) -> String {
    format!("day-ahead-{site}")
}

/// The stream of Bitcoin days.
pub const BITCOIN_STREAM: &str = "bitcoin";

/// A real-time price for an interval (`hcp.v1.PriceObserved`).
pub const PRICE_OBSERVED: &str = "price.observed";
/// A day's day-ahead prices (`hcp.v1.DayAheadPublished`).
pub const DAY_AHEAD_PUBLISHED: &str = "day_ahead.published";
/// A Bitcoin day (`hcp.v1.BitcoinDayObserved`).
pub const BITCOIN_DAY_OBSERVED: &str = "bitcoin.day_observed";

/// A recorded price as a quote.
pub fn quote(p: pb::PriceObserved) -> pb::Quote {
    pb::Quote {
        site: p.site,
        settlement_point: p.settlement_point,
        interval_start_unix_micros: p.interval_start_unix_micros,
        day_ahead_usd_mwh: p.day_ahead_usd_mwh,
        real_time_usd_mwh: p.real_time_usd_mwh,
        source: p.source,
    }
}

impl Book {
    /// Folds one event of the global log (others are skipped); `Err` names an
    /// unreadable market event.
    pub fn apply(&self, event: &RecordedEvent) -> Result<(), String> {
        let bad = |e: prost::DecodeError| format!("{} v{}: {e}", event.stream, event.version);
        match event.event_type.as_str() {
            PRICE_OBSERVED => {
                let p = pb::PriceObserved::decode(event.payload.as_ref()).map_err(bad)?;
                if self.last_start(&p.site).is_none_or(|last| last < p.interval_start_unix_micros) {
                    self.record(quote(p));
                }
            }
            DAY_AHEAD_PUBLISHED => {
                self.record_day_ahead(&pb::DayAheadPublished::decode(event.payload.as_ref()).map_err(bad)?);
            }
            BITCOIN_DAY_OBSERVED => {
                let d = pb::BitcoinDayObserved::decode(event.payload.as_ref()).map_err(bad)?;
                if self.last_bitcoin_date().is_none_or(|last| last < d.date) {
                    self.record_bitcoin(d);
                }
            }
            _ => {}
        }
        Ok(())
    }
}
