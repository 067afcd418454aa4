//! One simulated miner: its physics, its firmware, how it (mis)behaves, and the
//! listener that serves it.

use crate::dialect::{Firmware, SimFirmware};
use crate::physics::Physics;
use hcp_domain::catalogue::AsicModel;
use hcp_minerapi::Request;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::task::JoinHandle;

/// How a miner answers, set on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Behaviour {
    /// As its firmware does (NUL terminator and bmminer's `}{` included).
    #[default]
    Normal,
    /// Sloppier still: `,}`, `nan` and `inf` values, a stray NUL; a tolerant client copes.
    Malformed,
    /// Answers after this delay.
    Slow(Duration),
    /// Accepts, reads, never answers (holds the connection for a minute).
    Hang,
    /// Answers bytes that are not JSON at all.
    Garbage,
}

/// A simulated miner.
#[derive(Debug)]
pub struct SimMiner {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its site's index in the fleet.
    pub site: usize,
    /// The model.
    pub model: &'static AsicModel,
    /// The firmware family.
    pub firmware_kind: SimFirmware,
    state: Mutex<(Physics, Firmware)>,
    behaviour: Mutex<Behaviour>,
    /// When it last received a command that changes its work (µs since the epoch).
    commanded: Mutex<Option<i64>>,
    /// Whether its locate LED blinks.
    blinking: Mutex<bool>,
    pub(crate) listener: Mutex<Option<JoinHandle<()>>>,
    /// Its web interface (stock Antminers).
    pub(crate) web: Mutex<Option<JoinHandle<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SimMiner {
    /// A miner, not yet listening.
    pub fn new(
        addr: SocketAddr,
        site: usize,
        model: &'static AsicModel,
        firmware_kind: SimFirmware,
        physics: Physics,
    ) -> Self {
        SimMiner {
            addr,
            site,
            model,
            firmware_kind,
            state: Mutex::new((physics, Firmware::new(firmware_kind, addr.ip()))),
            behaviour: Mutex::new(Behaviour::Normal),
            commanded: Mutex::new(None),
            blinking: Mutex::new(false),
            listener: Mutex::new(None),
            web: Mutex::new(None),
        }
    }

    /// How it answers now.
    pub fn behaviour(&self) -> Behaviour {
        *lock(&self.behaviour)
    }

    /// Changes how it answers.
    pub fn set_behaviour(&self, b: Behaviour) {
        *lock(&self.behaviour) = b;
    }

    /// Whether its listener runs.
    pub fn is_listening(&self) -> bool {
        lock(&self.listener).as_ref().is_some_and(|h| !h.is_finished())
    }

    /// Whether it does what it is told, or accepts commands and ignores them.
    pub fn set_obedient(&self, obeys: bool) {
        lock(&self.state).1.obeys = obeys;
    }

    /// Its MAC address.
    pub fn mac(&self) -> String {
        lock(&self.state).1.mac.clone()
    }

    /// A reading of it now.
    pub fn reading(&self) -> crate::physics::Reading {
        lock(&self.state).0.read(Instant::now())
    }

    /// Puts it to sleep or wakes it (its web interface's work mode), unless it ignores commands.
    pub fn set_sleeping(&self, asleep: bool) {
        let mut guard = lock(&self.state);
        let (physics, firmware) = &mut *guard;
        let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        *lock(&self.commanded) = Some(since.as_micros() as i64);
        physics.advance(Instant::now());
        if firmware.obeys {
            physics.target = if asleep { 0.0 } else { 1.0 };
        }
    }

    /// Whether its locate LED blinks.
    pub fn blinking(&self) -> bool {
        *lock(&self.blinking)
    }

    /// Turns its locate LED on or off.
    pub fn set_blinking(&self, on: bool) {
        *lock(&self.blinking) = on;
    }

    /// Inspects or changes its physics (fail a board, set failure rates).
    pub fn with_physics<R>(&self, f: impl FnOnce(&mut Physics) -> R) -> R {
        f(&mut lock(&self.state).0)
    }

    /// When it last received a command that changes its work (sleep, wake, a profile),
    /// µs since the epoch: the far end of a dispatch measurement.
    pub fn last_commanded_unix_micros(&self) -> Option<i64> {
        *lock(&self.commanded)
    }

    /// Its API answer to `request` (the trailing NUL is added by the server).
    pub fn respond(&self, request: &Request) -> String {
        let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let epoch = since.as_secs() as i64;
        let changes_work = ["curtail", "profileset", "power_off", "power_on"];
        if request.commands.iter().any(|c| changes_work.contains(&c.as_str())) {
            *lock(&self.commanded) = Some(since.as_micros() as i64);
        }
        let mut guard = lock(&self.state);
        let (physics, firmware) = &mut *guard;
        firmware.respond(physics, request, epoch, Instant::now())
    }

    /// Restarts its mining process (after a reboot).
    pub(crate) fn rebooted(&self) {
        let mut guard = lock(&self.state);
        guard.0.reboot(Instant::now());
        guard.1.session = None;
    }
}
