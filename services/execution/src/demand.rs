//! Demand response: a site follows a utility's or an aggregator's signal, an
//! OpenADR-style continuous target (`{"target":0|100,"timestamp":...}`) on an MQTT topic,
//! as Proto Fleet takes MaestroOS's.
//!
//! At 0 the site curtails miners (least efficient first) until its draw is under the
//! contracted kW, in a curtailment of its own that outranks plans; at 100 it is lifted and
//! the site runs by plan. A signal silent for `stale_seconds` counts as 0: a site that
//! cannot hear its utility assumes the worst. Every signal, staleness and the evidence
//! are recorded on `demand-<site>`: the draw read from the miners themselves (and the
//! GPUs that customers' workloads hold, at their power limits) once it is under the
//! contracted kW (`demand_response.complied`), or when the time to comply runs out
//! (`demand_response.missed`).

use crate::execution::Execution;
use crate::miners::book::{CURTAILMENT_LIFTED, CURTAILMENT_STARTED};
use crate::miners::controller::address;
use crate::power::{SLEEP_KW, gpus_kw, miners_kw};
use futures_util::StreamExt;
use hcp_eventstore::{EventStore, append_all_at_tail};
use hcp_minerapi::control::{PowerState, draw_w, power_state};
use hcp_proto::v1 as pb;
use hcp_runtime::EventContext;
use hcp_runtime::clock::now_micros;
use hcp_runtime::config::DemandResponseConfig;
use prost::Message;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// The actor of the program's events.
const ACTOR: &str = "demand-response";
/// Miners read at once when measuring a site.
const READS_AT_ONCE: usize = 64;

/// A signal's target: 0 (curtail) or 100 (run by plan).
fn parse(payload: &[u8]) -> Result<(u32, String), String> {
    let value: serde_json::Value =
        serde_json::from_slice(payload).map_err(|e| format!("not JSON ({e}): {}", String::from_utf8_lossy(payload)))?;
    let target = value.get("target").and_then(serde_json::Value::as_u64).ok_or("no numeric \"target\"")?;
    if target != 0 && target != 100 {
        return Err(format!("target {target} is neither 0 nor 100"));
    }
    let timestamp = match value.get("timestamp") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    Ok((target as u32, timestamp))
}

/// Follows one program until `shutdown`.
pub async fn run<S: EventStore>(
    program: DemandResponseConfig,
    execution: Arc<Execution<S>>,
    store: Arc<S>,
    shutdown: CancellationToken,
) {
    let Some((host, port)) = program.broker.strip_prefix("mqtt://").and_then(|hp| {
        let (h, p) = hp.rsplit_once(':')?;
        Some((h.to_owned(), p.parse::<u16>().ok()?))
    }) else {
        tracing::error!(broker = %program.broker, "demand response: not an mqtt://HOST:PORT broker");
        return;
    };
    let mut options = MqttOptions::new(format!("hcp-execution-{}-{}", program.site, std::process::id()), host, port);
    options.set_keep_alive(Duration::from_secs(5));
    let (client, mut events) = AsyncClient::new(options, 16);
    let stale_after = Duration::from_secs_f64(program.stale_seconds);
    let mut heard = Instant::now();
    let mut stale = false;
    let mut reported = false;
    loop {
        tokio::select! {
            event = events.poll() => match event {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    reported = false;
                    if let Err(e) = client.subscribe(&program.topic, QoS::AtLeastOnce).await {
                        tracing::warn!(topic = %program.topic, error = %e, "demand response: cannot subscribe");
                    }
                }
                Ok(Event::Incoming(Packet::Publish(p))) => match parse(&p.payload) {
                    Ok((target, timestamp)) => {
                        heard = Instant::now();
                        stale = false;
                        let signal = pb::DemandResponseSignal {
                            site: program.site.clone(),
                            target,
                            timestamp,
                            topic: p.topic.clone(),
                            received_unix_micros: now_micros(),
                        };
                        record(store.as_ref(), &program.site, "demand_response.signal", signal.encode_to_vec()).await;
                        follow(&program, &execution, &store, target, "the utility's signal").await;
                    }
                    Err(why) => tracing::warn!(topic = %p.topic, %why, "demand response: a message that is not a signal"),
                },
                Ok(_) => {}
                Err(e) => {
                    if !reported {
                        tracing::warn!(broker = %program.broker, error = %e, "demand response: broker unreachable; retrying");
                        reported = true;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            },
            () = tokio::time::sleep_until((heard + stale_after).into()), if !stale => {
                stale = true;
                let silent = pb::DemandResponseStale { site: program.site.clone(), silent_seconds: heard.elapsed().as_secs_f64() };
                record(store.as_ref(), &program.site, "demand_response.stale", silent.encode_to_vec()).await;
                follow(&program, &execution, &store, 0, "the signal went stale").await;
            }
            () = shutdown.cancelled() => return,
        }
    }
}

async fn record<S: EventStore>(store: &S, site: &str, event_type: &str, payload: Vec<u8>) {
    let event = EventContext::new(ACTOR).event(0, event_type, payload, now_micros());
    if let Err(e) = append_all_at_tail(store, &format!("demand-{site}"), vec![event]).await {
        tracing::warn!(site, event_type, error = %e, "demand response: cannot record");
    }
}

/// The program's curtailments in force at its site.
fn curtailments<S>(execution: &Execution<S>, site: &str) -> Vec<pb::CurtailmentStarted> {
    let prefix = format!("dr-{site}-");
    let book = execution.miners.book.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    book.curtailments
        .values()
        .filter(|c| c.record.curtailment_id.starts_with(&prefix))
        .map(|c| c.record.clone())
        .collect()
}

/// Moves the site to `target`: curtailed under the contracted kW, or back to its plan.
async fn follow<S: EventStore>(
    program: &DemandResponseConfig,
    execution: &Arc<Execution<S>>,
    store: &Arc<S>,
    target: u32,
    why: &str,
) {
    let site = &program.site;
    let active = curtailments(execution, site);
    if target == 100 {
        for c in active {
            let lifted =
                pb::CurtailmentLifted { curtailment_id: c.curtailment_id, reason: format!("target 100: {why}") };
            let event = EventContext::new(ACTOR).event(0, CURTAILMENT_LIFTED, lifted.encode_to_vec(), now_micros());
            if let Err(e) = execution.miners.record_curtailment(site, event).await {
                tracing::warn!(site, error = %e, "demand response: cannot lift");
            }
        }
        return;
    }
    if active.is_empty() {
        let now = now_micros();
        let miners = {
            let ledger = execution.ledger();
            let book = execution.miners.book.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let shortfall = gpus_kw(&ledger, site, None) + miners_kw(&book, site, now) - program.contracted_kw;
            if shortfall > 0.0 { book.select(site, Some(shortfall), now) } else { Vec::new() }
        };
        if !miners.is_empty() {
            let longest = i64::try_from(execution.miners.settings().max_curtailment.as_micros()).unwrap_or(i64::MAX);
            let record = pb::CurtailmentStarted {
                curtailment_id: format!("dr-{site}-{}", uuid::Uuid::now_v7()),
                site: site.clone(),
                miners: miners.iter().map(|(id, _)| id.clone()).collect(),
                kw: program.contracted_kw,
                all: false,
                until_unix_micros: now.saturating_add(longest),
                reason: format!("demand response: target 0 ({why}); under {:.0} kW", program.contracted_kw),
                actor: ACTOR.into(),
            };
            let event = EventContext::new(ACTOR).event(0, CURTAILMENT_STARTED, record.encode_to_vec(), now);
            if let Err(e) = execution.miners.record_curtailment(site, event).await {
                tracing::warn!(site, error = %e, "demand response: cannot curtail");
            }
        }
    }
    let (program, execution, store) = (program.clone(), Arc::clone(execution), Arc::clone(store));
    tokio::spawn(async move { evidence(&program, &execution, &store).await });
}

/// Reads the site until its draw is under the contracted kW (recording the evidence) or
/// the time to comply runs out (recording the miss).
async fn evidence<S: EventStore>(program: &DemandResponseConfig, execution: &Execution<S>, store: &S) {
    let started = Instant::now();
    let deadline = Duration::from_secs_f64(program.comply_seconds);
    loop {
        let (measured_kw, estimated_kw, read) = measure(execution, &program.site).await;
        if measured_kw <= program.contracted_kw {
            let complied = pb::DemandResponseComplied {
                site: program.site.clone(),
                measured_kw,
                contracted_kw: program.contracted_kw,
                seconds_after_signal: started.elapsed().as_secs_f64(),
                estimated_kw,
                miners_read: read,
            };
            record(store, &program.site, "demand_response.complied", complied.encode_to_vec()).await;
            return;
        }
        if started.elapsed() >= deadline {
            let missed = pb::DemandResponseMissed {
                site: program.site.clone(),
                measured_kw,
                contracted_kw: program.contracted_kw,
                comply_seconds: program.comply_seconds,
            };
            record(store, &program.site, "demand_response.missed", missed.encode_to_vec()).await;
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The site's draw now, kW: each miner read (its own power report, else its stock draw
/// scaled by its hashrate, asleep at sleep power), plus the GPUs customers' workloads hold
/// at their power limits; how much of it is estimated; how many miners answered.
async fn measure<S: EventStore>(execution: &Execution<S>, site: &str) -> (f64, f64, u32) {
    let port = execution.miners.settings().port;
    let miners: Vec<(String, SocketAddr, f64, f64)> = {
        let book = execution.miners.book.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        book.miners
            .iter()
            .filter(|(_, m)| m.site == site)
            .filter_map(|(id, m)| Some((id.clone(), address(id, port)?, m.nominal_kw, m.nominal_ths)))
            .collect()
    };
    let timeout = execution.miners.settings().timeout;
    let reads = futures_util::stream::iter(miners.into_iter().map(|(id, addr, kw, ths)| async move {
        let (state, summary) = power_state(addr, timeout).await.ok()?;
        let firmware = execution.miners.firmware_known(&id);
        let reported = match firmware {
            Some(f) => draw_w(addr, &f, timeout).await.ok().flatten(),
            None => summary.power_w,
        };
        Some(match reported {
            Some(w) => (w / 1000.0, 0.0),
            None => {
                let share = summary.hashrate_ths.unwrap_or(0.0) / ths.max(1e-9);
                let kw = if state == PowerState::Asleep { SLEEP_KW } else { kw * share.clamp(0.0, 1.5) };
                (kw, kw)
            }
        })
    }))
    .buffer_unordered(READS_AT_ONCE)
    .collect::<Vec<_>>()
    .await;
    let gpus = gpus_kw(&execution.ledger(), site, None);
    let answered: Vec<(f64, f64)> = reads.into_iter().flatten().collect();
    let measured = answered.iter().map(|(kw, _)| kw).sum::<f64>() + gpus;
    let estimated = answered.iter().map(|(_, e)| e).sum::<f64>() + gpus;
    (measured, estimated, answered.len() as u32)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn signals_as_utilities_send_them() {
        assert_eq!(
            parse(br#"{"target":0,"timestamp":"2026-11-27T22:00:00Z"}"#),
            Ok((0, "2026-11-27T22:00:00Z".into()))
        );
        assert_eq!(parse(br#"{"target":100,"timestamp":1795816800}"#), Ok((100, "1795816800".into())));
        assert!(parse(br#"{"target":50}"#).expect_err("no").contains("neither 0 nor 100"));
        assert!(parse(b"sleep").expect_err("no").contains("not JSON"));
        assert!(parse(br#"{"level":0}"#).expect_err("no").contains("target"));
    }
}
