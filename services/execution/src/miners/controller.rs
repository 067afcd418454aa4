//! Moving miners to their targets: for each miner with something [`Due`], one task records
//! the command (`miner.commanded`), tells the miner, and watches the miner's own
//! `summary` until it is seen doing it (`miner.confirmed`); past the deadline it tries
//! again, up to `command_attempts` tries, then marks the miner failed
//! (`miner.command_failed`) without holding up any other. Wakes wait their turn in the
//! site's [`Ramp`]; sleeps shed load at once.

use super::book::{
    Book, CONTROL_PREFIX, CURTAILMENT_LIFTED, CURTAILMENT_PREFIX, Due, MINER_COMMAND_FAILED, MINER_COMMANDED,
    MINER_CONFIRMED,
};
use super::ramp::Ramp;
use hcp_eventstore::{EventStore, ExpectedVersion, StoreError};
use hcp_minerapi::control::{self, Action, PowerState};
use hcp_minerapi::{Firmware, Request, VersionReport};
use hcp_proto::v1 as pb;
use hcp_runtime::EventContext;
use hcp_runtime::clock::now_micros;
use prost::Message;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, Semaphore};

/// How commands are sent and confirmed.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The miners' API port.
    pub port: u16,
    /// Time a miner has to be seen doing what it was told.
    pub deadline: Duration,
    /// Tries per command.
    pub attempts: u32,
    /// Most load woken per second at a site, kW.
    pub ramp_kw_per_second: f64,
    /// One exchange with a miner.
    pub timeout: Duration,
    /// Between confirming reads.
    pub poll: Duration,
    /// Miners handled at once.
    pub concurrency: usize,
    /// The longest an operator's curtailment may last.
    pub max_curtailment: Duration,
    /// Stock Antminers' web login.
    pub web: hcp_minerapi::web::Credentials,
}

/// The controller.
pub struct Controller<S> {
    store: Arc<S>,
    /// The miners as the log records them.
    pub book: Mutex<Book>,
    settings: Settings,
    firmware: Mutex<HashMap<String, Firmware>>,
    /// When each miner's firmware was last asked for.
    asked: Mutex<HashMap<String, Instant>>,
    in_flight: Mutex<HashSet<String>>,
    ramps: Mutex<HashMap<String, Ramp>>,
    /// Woken when something may be due.
    pub wake: Notify,
    slots: Semaphore,
    /// Ends every miner's task with the service (a stopped execution records nothing more).
    shutdown: tokio_util::sync::CancellationToken,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Where miner `id` (`asic-<ip>`) answers.
pub fn address(id: &str, port: u16) -> Option<SocketAddr> {
    let ip: IpAddr = id.strip_prefix("asic-")?.parse().ok()?;
    Some(SocketAddr::new(ip, port))
}

/// Whether what a miner says it is doing is what it was told.
fn done(action: &Action, state: PowerState) -> bool {
    match action {
        Action::Sleep => state == PowerState::Asleep,
        Action::Wake | Action::Profile(_) => state == PowerState::Hashing,
    }
}

impl<S: EventStore> Controller<S> {
    /// A controller writing to `store` until `shutdown`.
    pub fn new(store: Arc<S>, settings: Settings, shutdown: tokio_util::sync::CancellationToken) -> Self {
        let slots = Semaphore::new(settings.concurrency.max(1));
        Controller {
            store,
            book: Mutex::default(),
            settings,
            firmware: Mutex::default(),
            asked: Mutex::default(),
            in_flight: Mutex::default(),
            ramps: Mutex::default(),
            wake: Notify::new(),
            slots,
            shutdown,
        }
    }

    /// Starts a task for each miner with something due that has none running.
    pub fn dispatch(self: &Arc<Self>) {
        let due = lock(&self.book).all_due(self.settings.attempts, now_micros());
        for (id, due) in due {
            if !lock(&self.in_flight).insert(id.clone()) {
                continue;
            }
            let me = Arc::clone(self);
            tokio::spawn(async move {
                let stopped = me.shutdown.clone();
                tokio::select! {
                    done = me.drive(&id, due) => if let Err(e) = done {
                        tracing::warn!(miner = %id, error = %e, "could not record a miner command");
                    },
                    () = stopped.cancelled() => return,
                }
                lock(&me.in_flight).remove(&id);
                me.wake.notify_one();
            });
        }
    }

    /// Runs until shutdown: dispatches whenever the book changes, and each second
    /// (deadlines pass, and curtailments expire, without an event).
    pub async fn run(self: Arc<Self>) {
        let shutdown = self.shutdown.clone();
        loop {
            self.expire().await;
            self.identify();
            self.dispatch();
            tokio::select! {
                () = self.wake.notified() => {},
                () = tokio::time::sleep(Duration::from_secs(1)) => {},
                () = shutdown.cancelled() => return,
            }
        }
    }

    /// Asks miners whose firmware is not known yet what they run (once a minute at most
    /// each), so that previews leave out miners that cannot sleep over their API.
    pub fn identify(self: &Arc<Self>) {
        let unknown: Vec<String> = {
            let book = lock(&self.book);
            let mut asked = lock(&self.asked);
            let due = |id: &String| asked.get(id).is_none_or(|t| t.elapsed() > Duration::from_secs(60));
            let unknown: Vec<String> = book
                .miners
                .iter()
                .filter(|(id, m)| m.can_sleep.is_none() && !m.site.is_empty() && due(id))
                .map(|(id, _)| id.clone())
                .collect();
            for id in &unknown {
                asked.insert(id.clone(), Instant::now());
            }
            unknown
        };
        for id in unknown {
            let me = Arc::clone(self);
            tokio::spawn(async move {
                let _slot = me.slots.acquire().await;
                // Known now, in the book too; unanswered, asked again later.
                let _ = me.firmware_of(&id).await;
            });
        }
    }

    /// The firmware of miner `id`, if it has been asked.
    pub fn firmware_known(&self, id: &str) -> Option<Firmware> {
        lock(&self.firmware).get(id).cloned()
    }

    /// Miner `id`'s firmware: known, or asked with `version`.
    async fn firmware_of(&self, id: &str) -> Result<Firmware, control::ControlError> {
        if let Some(f) = lock(&self.firmware).get(id).cloned() {
            return Ok(f);
        }
        let addr = address(id, self.settings.port).ok_or_else(|| control::ControlError::Unsupported {
            firmware: format!("{id} (no address in its id)"),
            action: "be asked".into(),
        })?;
        let replies = hcp_minerapi::query(addr, &Request::new("version"), self.settings.timeout).await?;
        let version = replies
            .first()
            .map(VersionReport::from_reply)
            .transpose()
            .map_err(|source| hcp_minerapi::ClientError::Reply { addr, source })?
            .ok_or(control::ControlError::NoSession(addr))?;
        lock(&self.firmware).insert(id.to_owned(), version.firmware.clone());
        if let Some(m) = lock(&self.book).miners.get_mut(id) {
            m.can_sleep = Some(version.firmware.capabilities().sleep);
        }
        Ok(version.firmware)
    }

    /// Records the end of every curtailment whose time has passed.
    async fn expire(&self) {
        let expired = lock(&self.book).expired(now_micros());
        for c in expired {
            let lifted =
                pb::CurtailmentLifted { curtailment_id: c.curtailment_id.clone(), reason: "its time passed".into() };
            let event =
                EventContext::new("execution").event(0, CURTAILMENT_LIFTED, lifted.encode_to_vec(), now_micros());
            if let Err(e) = self.record_curtailment(&c.site, event).await {
                tracing::warn!(curtailment = %c.curtailment_id, error = %e, "could not record an expired curtailment");
            }
        }
    }

    /// Appends to the site's `curtailment-` stream after the version the book holds
    /// (execution is its only writer) and folds the event at once.
    pub async fn record_curtailment(&self, site: &str, event: hcp_eventstore::NewEvent) -> Result<(), StoreError> {
        let stream = format!("{CURTAILMENT_PREFIX}{site}");
        let version = lock(&self.book).curtailment_versions.get(site).copied().unwrap_or(0);
        let expected = if version == 0 { ExpectedVersion::NoStream } else { ExpectedVersion::Exact(version) };
        let (event_type, payload, at) = (event.event_type.clone(), event.payload.clone(), now_micros());
        let result = self.store.append(&stream, expected, vec![event]).await?;
        lock(&self.book).apply_curtailment(site, result.version, &event_type, &payload, at);
        self.wake.notify_one();
        Ok(())
    }

    /// The settings it runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    async fn drive(&self, id: &str, due: Due) -> Result<(), StoreError> {
        let (action, first) = match due {
            Due::Fail { action, attempt, reason } => return self.failed(id, &action, attempt, &reason).await,
            Due::Watch { action, attempt, deadline_unix_micros } => {
                let left = Duration::from_micros(u64::try_from(deadline_unix_micros - now_micros()).unwrap_or(0));
                if let Some(reading) = self.watch(id, &action, left).await {
                    return self.confirmed(id, &action, attempt, reading, None).await;
                }
                (action, attempt + 1)
            }
            Due::Send { action, attempt } => (action, attempt),
        };
        let mut last = String::from("no confirmation");
        for attempt in first..=self.settings.attempts {
            // A target replaced meanwhile is the next task's.
            if lock(&self.book).desired(id, now_micros()).is_none_or(|t| t.action != action) {
                return Ok(());
            }
            if action == Action::Wake {
                self.ramp(id).await;
            }
            let sent = Instant::now();
            // The record comes before the command; the session it needs is opened meanwhile.
            let (recorded, session) = tokio::join!(self.commanded(id, &action, attempt), self.session(id));
            recorded?;
            let result = match session {
                Ok((addr, firmware, session)) => {
                    let _slot = self.slots.acquire().await;
                    let timeout = self.settings.timeout;
                    let web = &self.settings.web;
                    control::command_in(addr, &firmware, session.as_deref(), &action, web, timeout).await
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => {
                    if let Some(reading) = self.watch(id, &action, self.settings.deadline).await {
                        return self.confirmed(id, &action, attempt, reading, Some(sent.elapsed())).await;
                    }
                    last = format!("not seen to {} within {:?}", action.name(), self.settings.deadline);
                }
                Err(e) if !e.retryable() => return self.failed(id, &action, attempt, &e.to_string()).await,
                Err(e) => {
                    last = e.to_string();
                    tokio::time::sleep(self.settings.poll.max(Duration::from_millis(500))).await;
                }
            }
        }
        let reason = format!("{last} after {} tries", self.settings.attempts);
        self.failed(id, &action, self.settings.attempts, &reason).await
    }

    /// Waits for the site's ramp to allow waking miner `id`.
    async fn ramp(&self, id: &str) {
        let wait = {
            let book = lock(&self.book);
            let Some(m) = book.miners.get(id) else { return };
            let limit = self.settings.ramp_kw_per_second;
            lock(&self.ramps)
                .entry(m.site.clone())
                .or_insert_with(|| Ramp::new(limit))
                .take(m.nominal_kw, Instant::now())
        };
        tokio::time::sleep(wait).await;
    }

    /// Where miner `id` answers, its firmware, and the session a command needs.
    async fn session(&self, id: &str) -> Result<(SocketAddr, Firmware, Option<String>), control::ControlError> {
        let addr = address(id, self.settings.port).ok_or_else(|| control::ControlError::Unsupported {
            firmware: format!("{id} (no address in its id)"),
            action: "be told".into(),
        })?;
        let _slot = self.slots.acquire().await;
        let firmware = self.firmware_of(id).await?;
        let session = control::session(addr, &firmware, self.settings.timeout).await?;
        Ok((addr, firmware, session))
    }

    /// Reads the miner until it is seen doing `action` (its reading) or `within` passes.
    async fn watch(&self, id: &str, action: &Action, within: Duration) -> Option<pb::MinerConfirmed> {
        let addr = address(id, self.settings.port)?;
        let until = Instant::now() + within;
        loop {
            if let Ok((state, summary)) = control::power_state(addr, self.settings.timeout).await
                && done(action, state)
            {
                return Some(pb::MinerConfirmed {
                    power_w: summary.power_w.unwrap_or(0.0),
                    hashrate_ths: summary.hashrate_ths.unwrap_or(0.0),
                    ..Default::default()
                });
            }
            if Instant::now() + self.settings.poll > until {
                return None;
            }
            tokio::time::sleep(self.settings.poll).await;
        }
    }

    async fn commanded(&self, id: &str, action: &Action, attempt: u32) -> Result<(), StoreError> {
        let (cause, reason) = lock(&self.book)
            .desired(id, now_micros())
            .map(|t| (t.cause.clone(), format!("for {}", t.cause)))
            .unwrap_or_default();
        let deadline = now_micros() + i64::try_from(self.settings.deadline.as_micros()).unwrap_or(i64::MAX);
        let event = pb::MinerCommanded {
            resource_id: id.to_owned(),
            action: action.name(),
            attempt,
            cause,
            reason,
            deadline_unix_micros: deadline,
        };
        self.record(id, MINER_COMMANDED, event.encode_to_vec()).await
    }

    async fn confirmed(
        &self,
        id: &str,
        action: &Action,
        attempt: u32,
        mut reading: pb::MinerConfirmed,
        took: Option<Duration>,
    ) -> Result<(), StoreError> {
        reading.resource_id = id.to_owned();
        reading.action = action.name();
        reading.attempt = attempt;
        reading.took_ms = took.map_or(0, |t| t.as_millis() as u64);
        self.record(id, MINER_CONFIRMED, reading.encode_to_vec()).await
    }

    async fn failed(&self, id: &str, action: &Action, attempt: u32, reason: &str) -> Result<(), StoreError> {
        tracing::warn!(miner = %id, action = %action.name(), attempt, reason, "a miner did not do what it was told");
        let event = pb::MinerCommandFailed {
            resource_id: id.to_owned(),
            action: action.name(),
            attempt,
            reason: reason.into(),
        };
        self.record(id, MINER_COMMAND_FAILED, event.encode_to_vec()).await
    }

    /// Appends to the miner's `control-` stream after the version the book holds (execution
    /// is its only writer) and folds the event at once.
    pub async fn record(&self, id: &str, event_type: &str, payload: Vec<u8>) -> Result<(), StoreError> {
        let stream = format!("{CONTROL_PREFIX}{id}");
        let version = lock(&self.book).miners.get(id).map_or(0, |m| m.version);
        let expected = if version == 0 { ExpectedVersion::NoStream } else { ExpectedVersion::Exact(version) };
        let at = now_micros();
        let event = EventContext::new("execution").event(0, event_type, payload.clone(), at);
        let result = self.store.append(&stream, expected, vec![event]).await?;
        lock(&self.book).apply_control(id, result.version, event_type, &payload, at);
        Ok(())
    }
}
