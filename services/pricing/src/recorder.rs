//! Prices become events: `price.observed` in `prices-<site>`, `bitcoin.day_observed` in
//! `bitcoin`. Each is appended with the stream's expected version, so a restarted or
//! doubled pricing service never records an interval twice, and the book follows.

use crate::book::Book;
use crate::clock::interval_start_micros;
use hcp_economics::series::{BtcDay, PriceInterval};
use hcp_eventstore::{Direction, EventStore, StoreError, append_all_at_tail, append_at_tail};
use hcp_market::streams::quote;
use hcp_proto::v1 as pb;
use prost::Message;
use std::sync::Arc;

pub use hcp_market::streams::{BITCOIN_STREAM, day_ahead_stream, prices_stream};

/// The most events pricing appends at once.
const BATCH: usize = 500;

/// Where a site buys power.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteMarket {
    /// The site.
    pub site: String,
    /// Its ERCOT settlement point.
    pub settlement_point: String,
}

/// Records prices and keeps the book.
pub struct Recorder<S> {
    store: Arc<S>,
    /// The book the events build.
    pub book: Arc<Book>,
}

impl<S: EventStore> Recorder<S> {
    /// Loads the book from the store for these sites.
    pub async fn load(store: Arc<S>, sites: &[SiteMarket]) -> Result<Self, StoreError> {
        let book = Arc::new(Book::default());
        for s in sites {
            book.add_site(&s.site);
            for e in store.read_stream(&prices_stream(&s.site), 1, Direction::Forwards, usize::MAX).await? {
                if let Ok(p) = pb::PriceObserved::decode(e.payload.as_ref()) {
                    book.record(quote(p));
                }
            }
        }
        for s in sites {
            for e in store.read_stream(&day_ahead_stream(&s.site), 1, Direction::Forwards, usize::MAX).await? {
                if let Ok(d) = pb::DayAheadPublished::decode(e.payload.as_ref()) {
                    book.record_day_ahead(&d);
                }
            }
        }
        if let Some(e) = store.read_stream(BITCOIN_STREAM, u64::MAX, Direction::Backwards, 1).await?.first()
            && let Ok(d) = pb::BitcoinDayObserved::decode(e.payload.as_ref())
        {
            book.record_bitcoin(d);
        }
        Ok(Recorder { store, book })
    }

    /// Records an interval's prices unless one at or after its start is recorded;
    /// returns whether it was new.
    pub async fn price(&self, market: &SiteMarket, p: &PriceInterval, source: &str) -> Result<bool, StoreError> {
        let start = interval_start_micros(p);
        if self.book.last_start(&market.site).is_some_and(|last| last >= start) {
            return Ok(false);
        }
        let event = pb::PriceObserved {
            site: market.site.clone(),
            settlement_point: market.settlement_point.clone(),
            interval_start_unix_micros: start,
            day_ahead_usd_mwh: p.day_ahead,
            real_time_usd_mwh: p.real_time,
            source: source.to_owned(),
        };
        self.append(
            &prices_stream(&market.site),
            hcp_market::streams::PRICE_OBSERVED,
            event.encode_to_vec(),
            start + 15 * 60_000_000,
        )
        .await?;
        self.book.record(quote(event));
        Ok(true)
    }

    /// Publishes a day's day-ahead prices (`day` is the delivery day; `intervals` its
    /// quarter hours) unless that day or a later one is published.
    pub async fn day_ahead(&self, market: &SiteMarket, intervals: &[PriceInterval]) -> Result<bool, StoreError> {
        let Some(first) = intervals.first() else { return Ok(false) };
        let day = first.date.to_string();
        if self.book.last_day_ahead_day(&market.site).is_some_and(|last| last >= day) {
            return Ok(false);
        }
        let start = interval_start_micros(first);
        let event = pb::DayAheadPublished {
            site: market.site.clone(),
            settlement_point: market.settlement_point.clone(),
            day,
            interval_start_unix_micros: intervals.iter().map(interval_start_micros).collect(),
            usd_mwh: intervals.iter().map(|p| p.day_ahead).collect(),
        };
        // Published at 13:30 the day before: 10 h 30 min before the day starts.
        let at = start - (10 * 60 + 30) * 60_000_000;
        self.append(
            &day_ahead_stream(&market.site),
            hcp_market::streams::DAY_AHEAD_PUBLISHED,
            event.encode_to_vec(),
            at,
        )
        .await?;
        self.book.record_day_ahead(&event);
        Ok(true)
    }

    /// Records a Bitcoin day unless it or a later one is recorded.
    pub async fn bitcoin(&self, d: &BtcDay) -> Result<bool, StoreError> {
        Ok(self.bitcoin_days(std::slice::from_ref(d)).await? > 0)
    }

    /// Records the days (in date order) after the last one recorded, in one append;
    /// returns how many were new.
    pub async fn bitcoin_days(&self, days: &[BtcDay]) -> Result<usize, StoreError> {
        let last = self.book.last_bitcoin_date();
        let new: Vec<pb::BitcoinDayObserved> = days
            .iter()
            .map(|d| pb::BitcoinDayObserved {
                date: d.date.to_string(),
                btc_usd: d.close_usd,
                difficulty: d.difficulty,
                height: d.height,
                fees_btc_per_block: d.fees_btc_per_block,
            })
            .filter(|e| last.as_ref().is_none_or(|last| e.date > *last))
            .collect();
        let n = new.len();
        let context = hcp_runtime::EventContext::new("pricing");
        let events: Vec<_> = days[days.len() - n..]
            .iter()
            .zip(&new)
            .enumerate()
            .map(|(k, (d, e))| {
                let at = (crate::clock::days_from_civil(d.date) + 1) * 86_400_000_000;
                context.event(k, hcp_market::streams::BITCOIN_DAY_OBSERVED, e.encode_to_vec(), at)
            })
            .collect();
        // Appends of at most BATCH events (JetStream takes up to 1,000 in one).
        let mut recorded = 0;
        for (chunk, days) in events.chunks(BATCH).zip(new.chunks(BATCH)) {
            match append_all_at_tail(self.store.as_ref(), BITCOIN_STREAM, chunk.to_vec()).await {
                Ok(_) => {
                    recorded += chunk.len();
                    if let Some(newest) = days.last() {
                        self.book.record_bitcoin(newest.clone());
                    }
                }
                // Another source recorded days first: take what it recorded.
                Err(StoreError::Conflict(_)) => {
                    if let Some(e) =
                        self.store.read_stream(BITCOIN_STREAM, u64::MAX, Direction::Backwards, 1).await?.first()
                        && let Ok(latest) = pb::BitcoinDayObserved::decode(e.payload.as_ref())
                    {
                        self.book.record_bitcoin(latest);
                    }
                    return Ok(recorded);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(recorded)
    }

    async fn append(&self, stream: &str, event_type: &str, payload: Vec<u8>, at_micros: i64) -> Result<(), StoreError> {
        // Each observation starts a trace: what it causes downstream carries its id.
        let event = hcp_runtime::EventContext::new("pricing").event(0, event_type, payload, at_micros);
        append_at_tail(self.store.as_ref(), stream, event).await.map(|_| ())
    }
}
