//! The energy recorder: each device's telemetry summary (`telemetry.summarized`, one
//! interval of its readings, integrated by discovery) becomes an energy record on its
//! site's `energy-<site>` stream: the energy, with the gaps marked, the power cost at
//! the site's real-time price in force, and for a miner the hashes done, the BTC they
//! earn in expectation at the Bitcoin day in force (subsidy and that day's fees per
//! block), and that in US dollars.
//!
//! "In force" is what the log held before the summary: the recorder folds the prices,
//! the Bitcoin days and the devices' registrations as it meets them, and reads from the
//! store (keeping only what came before the summary) what it has not met since it
//! started, so a recomputation from the log gives the same records. Each record's id
//! derives from its summary, and [`Tails`] appends it once.

use hcp_eventstore::{Direction, EventStore, Position, RecordedEvent, Tails};
use hcp_market::streams::{BITCOIN_DAY_OBSERVED, BITCOIN_STREAM, PRICE_OBSERVED, prices_stream};
use hcp_proto::v1 as pb;
use hcp_runtime::reactor::decoded as decode;
use hcp_runtime::{EventContext, Handler, HandlerError};
use prost::Message;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Mutex;

/// The energy record's event type.
pub const ENERGY_RECORDED: &str = "energy.recorded";
/// The recorder's durable consumer name.
pub const ENERGY_CONSUMER: &str = "metering-energy";
/// A device's telemetry summary.
pub const TELEMETRY_SUMMARIZED: &str = "telemetry.summarized";
const REGISTERED: &str = "resource.registered";
/// Expected hashes per block at difficulty 1.
const HASHES_PER_DIFFICULTY: f64 = 4_294_967_296.0;

/// A site's energy stream.
pub fn energy_stream(site: &str) -> String {
    format!("energy-{site}")
}

#[derive(Default)]
struct State {
    /// Resource → (site, kind).
    devices: HashMap<String, (String, &'static str)>,
    /// Site → the latest price met (loaded from the store on first need).
    prices: HashMap<String, Option<pb::PriceObserved>>,
    /// The latest Bitcoin day met (`None`: not loaded yet).
    bitcoin: Option<Option<pb::BitcoinDayObserved>>,
    tails: Tails,
}

/// The handler.
pub struct EnergyRecorder<S> {
    store: Arc<S>,
    state: Mutex<State>,
}

impl<S> EnergyRecorder<S> {
    /// A recorder over `store`.
    pub fn new(store: Arc<S>) -> Self {
        EnergyRecorder { store, state: Mutex::default() }
    }
}

fn device(registered: &pb::ResourceRegistered) -> (String, &'static str) {
    let spec = registered.spec.as_ref();
    let kind = match spec.and_then(|s| s.kind.as_ref()) {
        Some(pb::resource_spec::Kind::Gpu(_)) => "gpu",
        _ => "asic",
    };
    (spec.map(|s| s.site.clone()).unwrap_or_default(), kind)
}

/// The last event of `stream` before `before`, decoded.
async fn last_before<S: EventStore, M: Message + Default>(
    store: &S,
    stream: &str,
    before: Position,
) -> Result<Option<M>, HandlerError> {
    let events = store.read_stream(stream, 1, Direction::Forwards, usize::MAX).await.map_err(HandlerError::from)?;
    events.iter().rev().find(|e| e.position < before).map(decode).transpose()
}

impl<S: EventStore> EnergyRecorder<S> {
    async fn record(&self, state: &mut State, event: &RecordedEvent) -> Result<(), HandlerError> {
        let summary: pb::TelemetrySummarized = decode(event)?;
        let id = summary.resource_id.clone();
        if !state.devices.contains_key(&id) {
            let stream = format!("resource-{id}");
            let first = self.store.read_stream(&stream, 1, Direction::Forwards, 1).await.map_err(HandlerError::from)?;
            let Some(registered) = first.first().filter(|e| e.event_type == REGISTERED) else {
                tracing::warn!(resource = %id, "a telemetry summary of a device never registered; not recorded");
                return Ok(());
            };
            state.devices.insert(id.clone(), device(&decode(registered)?));
        }
        let (site, kind) = state.devices[&id].clone();
        if !state.prices.contains_key(&site) {
            let price = last_before(self.store.as_ref(), &prices_stream(&site), event.position).await?;
            state.prices.insert(site.clone(), price);
        }
        if state.bitcoin.is_none() {
            state.bitcoin = Some(last_before(self.store.as_ref(), BITCOIN_STREAM, event.position).await?);
        }
        let price = state.prices[&site].as_ref().map_or(0.0, |p| p.real_time_usd_mwh);
        let day = state.bitcoin.clone().flatten();
        // Blocks expected from the hashes done, each earning the subsidy and the day's fees.
        let blocks = day.as_ref().map_or(0.0, |d| {
            if d.difficulty > 0.0 { summary.terahashes * 1e12 / (d.difficulty * HASHES_PER_DIFFICULTY) } else { 0.0 }
        });
        let fees_btc = blocks * day.as_ref().and_then(|d| d.fees_btc_per_block).unwrap_or(0.0);
        let btc = blocks * day.as_ref().map_or(0.0, |d| hcp_economics::bitcoin::subsidy_btc(d.height)) + fees_btc;
        let usd = |dollars: f64| (dollars * 1e6).round() as i64;
        let record = pb::EnergyRecorded {
            resource_id: id,
            site: site.clone(),
            kind: kind.to_owned(),
            interval_start_unix_micros: summary.interval_start_unix_micros,
            interval_end_unix_micros: summary.interval_end_unix_micros,
            energy_wh: summary.energy_wh,
            power_reported: summary.power_reported,
            gap_seconds: summary.gap_seconds,
            terahashes: summary.terahashes,
            btc,
            mining_usd_micros: usd(btc * day.as_ref().map_or(0.0, |d| d.btc_usd)),
            bitcoin_date: day.map(|d| d.date).unwrap_or_default(),
            price_usd_mwh: price,
            power_cost_usd_micros: usd(summary.energy_wh / 1e6 * price),
            fees_btc,
        };
        let context = EventContext::caused_by("metering", event);
        let energy = context.event(0, ENERGY_RECORDED, record.encode_to_vec(), record.interval_end_unix_micros);
        state
            .tails
            .append_once(self.store.as_ref(), &energy_stream(&site), energy)
            .await
            .map_err(HandlerError::from)?;
        Ok(())
    }
}

impl<S: EventStore> Handler for EnergyRecorder<S> {
    fn name(&self) -> &str {
        ENERGY_CONSUMER
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        matches!(event.event_type.as_str(), TELEMETRY_SUMMARIZED | PRICE_OBSERVED | BITCOIN_DAY_OBSERVED | REGISTERED)
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandlerError> {
        let mut state = self.state.lock().await;
        match event.event_type.as_str() {
            TELEMETRY_SUMMARIZED => return self.record(&mut state, event).await,
            PRICE_OBSERVED => {
                let p: pb::PriceObserved = decode(event)?;
                // Met after its site was loaded: the latest (a site not loaded yet is read on need).
                if let Some(latest) = state.prices.get_mut(&p.site) {
                    *latest = Some(p);
                }
            }
            BITCOIN_DAY_OBSERVED => {
                let d: pb::BitcoinDayObserved = decode(event)?;
                if let Some(latest) = state.bitcoin.as_mut() {
                    *latest = Some(d);
                }
            }
            _ => {
                let r: pb::ResourceRegistered = decode(event)?;
                let device = device(&r);
                state.devices.insert(r.resource_id, device);
            }
        }
        Ok(())
    }
}
