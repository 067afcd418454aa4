//! Finding miners: probe every address of every target concurrently, each with one
//! deadline, and identify what answers from `version+summary`.

use crate::config::ScanTarget;
use futures_util::StreamExt;
use hcp_domain::ids::SiteId;
use hcp_minerapi::client::{self, ClientError};
use hcp_minerapi::{Request, SummaryReport, VersionReport};
use std::net::SocketAddr;
use std::time::Duration;

/// A device that answered and said what it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// Where it answered.
    pub addr: SocketAddr,
    /// The site of the range it was found in.
    pub site: SiteId,
    /// What `version` said.
    pub version: VersionReport,
    /// What `summary` said.
    pub summary: SummaryReport,
}

/// What a scan saw.
#[derive(Debug, Default)]
pub struct ScanOutcome {
    /// Identified devices.
    pub found: Vec<Found>,
    /// Addresses probed.
    pub probed: usize,
    /// Devices that answered but could not be identified, with why.
    pub unidentified: Vec<(SocketAddr, String)>,
    /// Addresses that accepted a connection but never answered in time.
    pub silent: Vec<SocketAddr>,
}

/// Probes every address in `targets`, `concurrency` at a time.
pub async fn scan(targets: &[ScanTarget], concurrency: usize, timeout: Duration) -> ScanOutcome {
    let addrs: Vec<(SocketAddr, SiteId)> =
        targets.iter().flat_map(|t| t.addresses().map(move |a| (a, t.site.clone()))).collect();
    let mut probes = futures_util::stream::iter(addrs.into_iter().map(|(a, s)| probe_at(a, s, timeout)))
        .buffer_unordered(concurrency.max(1));
    let mut outcome = ScanOutcome::default();
    while let Some((addr, site, result)) = probes.next().await {
        outcome.probed += 1;
        match result {
            Ok((version, summary)) => outcome.found.push(Found { addr, site, version, summary }),
            Err(ProbeError::Unidentified(why)) => outcome.unidentified.push((addr, why)),
            Err(ProbeError::Silent) => outcome.silent.push(addr),
            Err(ProbeError::Nothing) => {}
        }
    }
    outcome.found.sort_by_key(|f| f.addr);
    outcome
}

async fn probe_at(
    addr: SocketAddr,
    site: SiteId,
    timeout: Duration,
) -> (SocketAddr, SiteId, Result<(VersionReport, SummaryReport), ProbeError>) {
    (addr, site, probe(addr, timeout).await)
}

pub(crate) enum ProbeError {
    /// Nothing listens (refused, unreachable).
    Nothing,
    /// Connected, but no reply in time.
    Silent,
    /// Replied with something that is not an identifiable miner.
    Unidentified(String),
}

pub(crate) async fn probe(addr: SocketAddr, timeout: Duration) -> Result<(VersionReport, SummaryReport), ProbeError> {
    let request = Request::new("version+summary");
    let replies = client::query(addr, &request, timeout).await.map_err(|e| match e {
        ClientError::Io { .. } => ProbeError::Nothing,
        ClientError::Timeout { .. } => ProbeError::Silent,
        other => ProbeError::Unidentified(other.to_string()),
    })?;
    let [version, summary] = replies.as_slice() else {
        return Err(ProbeError::Unidentified(format!("{} replies to a join of 2", replies.len())));
    };
    let version = VersionReport::from_reply(version).map_err(|e| ProbeError::Unidentified(e.to_string()))?;
    let summary = SummaryReport::from_reply(summary).map_err(|e| ProbeError::Unidentified(e.to_string()))?;
    Ok((version, summary))
}
