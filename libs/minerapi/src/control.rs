//! Commands that change what a miner does, per firmware family, and what each family can
//! be told over its API:
//!
//! - LuxOS: `logon` opens a session; `curtail <session>,sleep|wakeup` and
//!   `profileset <session>,<profile>` (power targets) need it; `logoff` closes it.
//! - Whatsminer (btminer): `power_off` and `power_on` (`respbefore` so it answers before
//!   it acts). Firmware with API 2.x wants write commands encrypted with the admin
//!   token from `get_token`; 1.x firmware and the simulator take them plain.
//! - Stock Antminer (bmminer): no command on port 4028 changes its work; it sleeps through
//!   its web interface ([`crate::web`]): its conf is read (`get_miner_conf.cgi`) and
//!   written back with `miner-mode` 1 (sleep) or 0 (normal) (`set_miner_conf.cgi`), as
//!   pyasic does.
//! - Plain cgminer and anything else: no way to sleep; control refuses it with a reason
//!   instead of pretending.
//!
//! A reply is never taken as proof: real firmware accepts commands and does nothing.
//! [`PowerState::of`] reads what a miner is really doing from its own `summary`.

use crate::client::{ClientError, query};
use crate::report::{Firmware, SummaryReport};
use crate::request::Request;
use crate::web::{self, Credentials, WebError};
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;

/// Below this draw a miner is asleep (fans and control board only: LuxOS sleeps at ~18 W).
pub const SLEEP_WATTS: f64 = 100.0;

/// What to tell a miner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Stop hashing and shed its load.
    Sleep,
    /// Hash again.
    Wake,
    /// Run at a power profile (LuxOS `profileset`), e.g. `-1`.
    Profile(String),
}

impl Action {
    /// As operators and events name it.
    pub fn name(&self) -> String {
        match self {
            Action::Sleep => "sleep".into(),
            Action::Wake => "wake".into(),
            Action::Profile(p) => format!("profile {p}"),
        }
    }
}

/// What a firmware family can be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Sleep and wake.
    pub sleep: bool,
    /// Power targets (profiles).
    pub power_target: bool,
}

impl Firmware {
    /// What this family can be told over its API.
    pub fn capabilities(&self) -> Capabilities {
        match self {
            Firmware::Luxminer => Capabilities { sleep: true, power_target: true },
            Firmware::Btminer | Firmware::Bmminer => Capabilities { sleep: true, power_target: false },
            Firmware::Cgminer | Firmware::Other(_) => Capabilities { sleep: false, power_target: false },
        }
    }
}

/// Why a command was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The firmware has no API for it.
    #[error("{firmware} cannot {action} over its API")]
    Unsupported {
        /// The family.
        firmware: String,
        /// What was asked.
        action: String,
    },
    /// Nothing answered, or not in time, or not usably (a refusal included).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// LuxOS gave no session.
    #[error("{0}: logon gave no session id")]
    NoSession(SocketAddr),
    /// The web interface failed or refused.
    #[error(transparent)]
    Web(#[from] WebError),
}

impl ControlError {
    /// Whether sending it again could help (not for what the firmware cannot do).
    pub fn retryable(&self) -> bool {
        !matches!(self, ControlError::Unsupported { .. })
    }
}

/// Tells the miner at `addr` running `firmware` to do `action`; each exchange has `timeout`.
/// Success means it accepted the command, not that it obeyed.
pub async fn command(
    addr: SocketAddr,
    firmware: &Firmware,
    action: &Action,
    credentials: &Credentials,
    timeout: Duration,
) -> Result<(), ControlError> {
    let session = session(addr, firmware, timeout).await?;
    command_in(addr, firmware, session.as_deref(), action, credentials, timeout).await
}

/// Opens what a command needs first: a LuxOS session (`logon`); nothing for other families.
pub async fn session(addr: SocketAddr, firmware: &Firmware, timeout: Duration) -> Result<Option<String>, ControlError> {
    if *firmware != Firmware::Luxminer {
        return Ok(None);
    }
    let logon = query(addr, &Request::new("logon"), timeout).await?;
    let id = logon
        .first()
        .and_then(|r| r.first("SESSION"))
        .and_then(|s| s.get("SessionID"))
        .and_then(|v| v.as_str())
        .ok_or(ControlError::NoSession(addr))?;
    Ok(Some(id.to_owned()))
}

/// Sends `action` in `session` (from [`session`]); a stock Antminer's web interface takes
/// `credentials`.
pub async fn command_in(
    addr: SocketAddr,
    firmware: &Firmware,
    session: Option<&str>,
    action: &Action,
    credentials: &Credentials,
    timeout: Duration,
) -> Result<(), ControlError> {
    let unsupported = || ControlError::Unsupported { firmware: firmware.name().to_owned(), action: action.name() };
    let request = match (firmware, action) {
        (Firmware::Luxminer, _) => {
            let session = session.ok_or(ControlError::NoSession(addr))?;
            match action {
                Action::Sleep => Request::new("curtail").with_parameter(format!("{session},sleep")),
                Action::Wake => Request::new("curtail").with_parameter(format!("{session},wakeup")),
                Action::Profile(p) => Request::new("profileset").with_parameter(format!("{session},{p}")),
            }
        }
        (Firmware::Btminer, Action::Sleep) => Request::new("power_off").with_parameter("respbefore=true"),
        (Firmware::Btminer, Action::Wake) => Request::new("power_on").with_parameter("respbefore=true"),
        (Firmware::Bmminer, Action::Sleep | Action::Wake) => {
            return work_mode(addr, *action == Action::Sleep, credentials, timeout).await;
        }
        _ => return Err(unsupported()),
    };
    query(addr, &request, timeout).await?;
    Ok(())
}

/// Writes a stock Antminer's conf back with `miner-mode` 1 (sleep) or 0 (normal).
async fn work_mode(
    addr: SocketAddr,
    sleep: bool,
    credentials: &Credentials,
    timeout: Duration,
) -> Result<(), ControlError> {
    let site = SocketAddr::new(addr.ip(), web::WEB_PORT);
    let conf = web::cgi(site, "get_miner_conf", None, credentials, timeout).await?;
    let body = json!({
        "bitmain-fan-ctrl": conf.get("bitmain-fan-ctrl").cloned().unwrap_or(json!(false)),
        "bitmain-fan-pwm": conf.get("bitmain-fan-pwm").cloned().unwrap_or(json!("100")),
        "freq-level": conf.get("bitmain-freq-level").cloned().unwrap_or(json!("100")),
        "miner-mode": u8::from(sleep),
        "pools": conf.get("pools").cloned().unwrap_or(json!([])),
    });
    let ack = web::cgi(site, "set_miner_conf", Some(&body), credentials, timeout).await?;
    if ack.get("stats").and_then(|s| s.as_str()) == Some("success") {
        Ok(())
    } else {
        Err(WebError::Answer { addr: site, path: "/cgi-bin/set_miner_conf.cgi".into(), why: format!("refused: {ack}") }
            .into())
    }
}

/// What a miner is doing, by its own report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerState {
    /// Drawing sleep power (or, where power is not reported, hashing nothing).
    Asleep,
    /// Awake but not yet hashing (waking or going to sleep).
    Ramping,
    /// Hashing.
    Hashing,
}

impl PowerState {
    /// Reads a summary.
    pub fn of(summary: &SummaryReport) -> PowerState {
        let hashing = summary.hashrate_ths.is_some_and(|h| h > 0.0);
        match summary.power_w {
            Some(w) if w < SLEEP_WATTS => PowerState::Asleep,
            _ if hashing => PowerState::Hashing,
            Some(_) => PowerState::Ramping,
            None => PowerState::Asleep,
        }
    }
}

/// What a miner draws, W, by its own report (LuxOS `power`, else `summary`'s power);
/// `None` where the firmware reports none (stock Antminer).
pub async fn draw_w(addr: SocketAddr, firmware: &Firmware, timeout: Duration) -> Result<Option<f64>, ClientError> {
    if *firmware == Firmware::Luxminer {
        let replies = query(addr, &Request::new("power"), timeout).await?;
        let watts =
            replies.first().and_then(|r| r.first("POWER")).and_then(|p| p.get("Watts")).and_then(|w| w.as_f64());
        return Ok(watts);
    }
    Ok(power_state(addr, timeout).await?.1.power_w)
}

/// Reads the miner's own `summary` and what it says it is doing.
pub async fn power_state(addr: SocketAddr, timeout: Duration) -> Result<(PowerState, SummaryReport), ClientError> {
    let replies = query(addr, &Request::new("summary"), timeout).await?;
    let reply = replies
        .first()
        .ok_or(ClientError::Reply { addr, source: crate::reply::ReplyError::MissingSection("SUMMARY") })?;
    let summary = SummaryReport::from_reply(reply).map_err(|source| ClientError::Reply { addr, source })?;
    Ok((PowerState::of(&summary), summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_states_from_summaries() {
        let s = |h: Option<f64>, w: Option<f64>| SummaryReport { hashrate_ths: h, power_w: w, ..Default::default() };
        assert_eq!(PowerState::of(&s(Some(0.0), Some(18.0))), PowerState::Asleep);
        assert_eq!(PowerState::of(&s(Some(199.0), Some(3500.0))), PowerState::Hashing);
        assert_eq!(PowerState::of(&s(Some(0.0), Some(900.0))), PowerState::Ramping);
        assert_eq!(PowerState::of(&s(Some(0.0), None)), PowerState::Asleep, "stock firmware: no power reported");
        assert_eq!(PowerState::of(&s(Some(104.0), None)), PowerState::Hashing);
    }

    #[test]
    fn capabilities_per_family() {
        assert!(Firmware::Luxminer.capabilities().power_target);
        assert!(Firmware::Btminer.capabilities().sleep);
        assert!(Firmware::Bmminer.capabilities().sleep, "through its web interface");
        assert!(!Firmware::Cgminer.capabilities().sleep);
    }

    #[tokio::test]
    async fn what_cannot_sleep_is_refused_without_a_connection() {
        let addr: SocketAddr = "127.0.0.1:9".parse().expect("addr");
        let (fw, none) = (Firmware::Cgminer, Credentials::default());
        let e = command(addr, &fw, &Action::Sleep, &none, Duration::from_millis(100)).await.expect_err("no");
        assert!(!e.retryable() && e.to_string() == "cgminer cannot sleep over its API", "{e}");
    }
}
