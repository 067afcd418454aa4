//! Polling a price feed over HTTP(S): a GET of a configurable URL whose body is the CSV the
//! shipped series uses (`interval_start,<day-ahead>,<real-time>` after a header line);
//! new intervals are recorded, known ones skipped.

use crate::recorder::{Recorder, SiteMarket};
use hcp_economics::series::parse_ercot;
use hcp_eventstore::EventStore;
use std::time::Duration;

/// Why a poll failed.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    /// The URL is not an http:// URL.
    #[error("bad URL {url:?}: {reason}")]
    BadUrl {
        /// It.
        url: String,
        /// Why.
        reason: String,
    },
    /// No answer, or a broken one.
    #[error("GET {url}: {reason}")]
    Fetch {
        /// It.
        url: String,
        /// Why.
        reason: String,
    },
    /// Not a 200.
    #[error("GET {url}: HTTP {status}")]
    Status {
        /// It.
        url: String,
        /// The status.
        status: u16,
    },
    /// The body is not the expected CSV.
    #[error(transparent)]
    Body(#[from] hcp_economics::series::SeriesError),
    /// The store refused.
    #[error(transparent)]
    Store(#[from] hcp_eventstore::StoreError),
}

/// Polls one URL for one site.
pub struct HttpPoller {
    /// The site.
    pub market: SiteMarket,
    /// The feed.
    pub url: String,
    /// Deadline for one GET.
    pub timeout: Duration,
}

impl HttpPoller {
    /// One poll: fetch, parse, record what is new; returns how many were new.
    pub async fn poll_once<S: EventStore>(&self, recorder: &Recorder<S>) -> Result<usize, PollError> {
        let (status, body) = hcp_runtime::fetch::get(&self.url, self.timeout).await.map_err(|e| match e {
            hcp_runtime::fetch::FetchError::BadUrl { url, reason } => PollError::BadUrl { url, reason },
            hcp_runtime::fetch::FetchError::Failed { url, reason } => PollError::Fetch { url, reason },
        })?;
        if !(200..300).contains(&status) {
            return Err(PollError::Status { url: self.url.clone(), status });
        }
        let text = String::from_utf8_lossy(&body);
        let intervals = parse_ercot(&self.url, &text)?;
        let mut new = 0;
        for p in &intervals {
            new += usize::from(recorder.price(&self.market, p, "http").await?);
        }
        Ok(new)
    }

    /// Polls every `every` until the task is dropped, logging failures.
    pub async fn run<S: EventStore>(&self, recorder: &Recorder<S>, every: Duration) {
        loop {
            match self.poll_once(recorder).await {
                Ok(n) if n > 0 => tracing::info!(site = %self.market.site, new = n, "prices polled"),
                Ok(_) => {}
                Err(e) => tracing::warn!(site = %self.market.site, error = %e, "price poll failed"),
            }
            tokio::time::sleep(every).await;
        }
    }
}
