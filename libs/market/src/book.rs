//! The price book: every recorded quote per site and the latest Bitcoin day, as their
//! events leave them (rebuilt from the store at start).

use hcp_economics::{hashprice_usd_per_ph_day, subsidy_btc};
use hcp_proto::v1 as pb;
use std::collections::{BTreeMap, HashMap};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Why a book query has no answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BookError {
    /// The site is not priced here.
    #[error("unknown site {0:?}")]
    UnknownSite(String),
    /// The site is known but nothing has been recorded yet.
    #[error("no prices recorded for site {0:?} yet")]
    NoPrices(String),
    /// `from` is not before `to`.
    #[error("empty range: from {from} is not before to {to}")]
    EmptyRange {
        /// Start (µs).
        from: i64,
        /// End (µs).
        to: i64,
    },
    /// A timestamp outside any plausible market time.
    #[error("timestamp {0} is out of range (Unix microseconds between 2000 and 2100)")]
    BadTimestamp(i64),
    /// No Bitcoin day recorded yet.
    #[error("no Bitcoin price and difficulty recorded yet")]
    NoBitcoin,
}

const Y2000: i64 = 946_684_800_000_000;
const Y2100: i64 = 4_102_444_800_000_000;

/// The book.
#[derive(Default)]
pub struct Book {
    sites: RwLock<HashMap<String, Vec<pb::Quote>>>,
    bitcoin: RwLock<Option<pb::BitcoinDayObserved>>,
    day_ahead: RwLock<HashMap<String, DayAhead>>,
}

/// A site's published day-ahead prices: the latest delivery day, and price by interval start.
type DayAhead = (String, BTreeMap<i64, f64>);

impl Book {
    fn sites(&self) -> RwLockReadGuard<'_, HashMap<String, Vec<pb::Quote>>> {
        self.sites.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn sites_mut(&self) -> RwLockWriteGuard<'_, HashMap<String, Vec<pb::Quote>>> {
        self.sites.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes a site known (with no quotes yet).
    pub fn add_site(&self, site: &str) {
        self.sites_mut().entry(site.to_owned()).or_default();
    }

    /// Adds a quote; quotes arrive in interval order per site.
    pub fn record(&self, q: pb::Quote) {
        self.sites_mut().entry(q.site.clone()).or_default().push(q);
    }

    /// Sets the latest Bitcoin day.
    pub fn record_bitcoin(&self, day: pb::BitcoinDayObserved) {
        *self.bitcoin.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(day);
    }

    /// Adds a published day of day-ahead prices.
    pub fn record_day_ahead(&self, d: &pb::DayAheadPublished) {
        let mut all = self.day_ahead.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (last_day, prices) = all.entry(d.site.clone()).or_default();
        prices.extend(d.interval_start_unix_micros.iter().copied().zip(d.usd_mwh.iter().copied()));
        if d.day > *last_day {
            last_day.clone_from(&d.day);
        }
    }

    /// The latest day whose day-ahead prices are published for a site.
    pub fn last_day_ahead_day(&self, site: &str) -> Option<String> {
        let all = self.day_ahead.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        all.get(site).map(|(d, _)| d.clone()).filter(|d| !d.is_empty())
    }

    /// The published day-ahead price of the interval starting at `start`, if any.
    pub fn day_ahead(&self, site: &str, start: i64) -> Option<f64> {
        let all = self.day_ahead.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        all.get(site)?.1.get(&start).copied()
    }

    /// The start of a site's latest recorded interval, if any.
    pub fn last_start(&self, site: &str) -> Option<i64> {
        self.sites().get(site)?.last().map(|q| q.interval_start_unix_micros)
    }

    /// The latest Bitcoin day's date, if any.
    pub fn last_bitcoin_date(&self) -> Option<String> {
        self.bitcoin.read().unwrap_or_else(std::sync::PoisonError::into_inner).as_ref().map(|d| d.date.clone())
    }

    /// The latest quote at a site.
    pub fn quote(&self, site: &str) -> Result<pb::Quote, BookError> {
        let sites = self.sites();
        let quotes = sites.get(site).ok_or_else(|| BookError::UnknownSite(site.to_owned()))?;
        quotes.last().cloned().ok_or_else(|| BookError::NoPrices(site.to_owned()))
    }

    /// Quotes at a site starting in `[from, to)`.
    pub fn history(&self, site: &str, from: i64, to: i64) -> Result<Vec<pb::Quote>, BookError> {
        for t in [from, to] {
            if !(Y2000..=Y2100).contains(&t) {
                return Err(BookError::BadTimestamp(t));
            }
        }
        if from >= to {
            return Err(BookError::EmptyRange { from, to });
        }
        let sites = self.sites();
        let quotes = sites.get(site).ok_or_else(|| BookError::UnknownSite(site.to_owned()))?;
        let lo = quotes.partition_point(|q| q.interval_start_unix_micros < from);
        let hi = quotes.partition_point(|q| q.interval_start_unix_micros < to);
        Ok(quotes[lo..hi].to_vec())
    }

    /// Hashprice from the latest Bitcoin day: its subsidy and, where it has them, its fees.
    pub fn hashprice(&self) -> Result<pb::Hashprice, BookError> {
        let guard = self.bitcoin.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let d = guard.as_ref().ok_or(BookError::NoBitcoin)?;
        let subsidy = subsidy_btc(d.height);
        let fees = d.fees_btc_per_block.unwrap_or(0.0);
        Ok(pb::Hashprice {
            date: d.date.clone(),
            btc_usd: d.btc_usd,
            difficulty: d.difficulty,
            height: d.height,
            subsidy_btc: subsidy,
            usd_per_ph_day: hashprice_usd_per_ph_day(d.difficulty, d.btc_usd, subsidy, fees),
            fees_btc_per_block: fees,
        })
    }
}
