//! JetStream figures: concurrent appends vs raw async-nats publish, replay vs a
//! raw ordered consumer, aggregate load latency at the full store size.

use crate::report::{ROUNDS, Rounds, figure, percentiles, rate};
use crate::workload::{APPENDERS, Appends, LIFE, life, load_latencies, replay, seed, seed_with};
use async_nats::jetstream::{self, consumer::pull, stream};
use futures_util::StreamExt;
use hcp_eventstore::NewEvent;
use hcp_eventstore::jetstream::{JetStreamConfig, JetStreamStore};
use std::time::Instant;

/// Concurrent appenders in the wide append measurement.
const WIDE_APPENDERS: usize = 512;

pub async fn run(total_events: usize) -> anyhow::Result<()> {
    let url = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let ns = format!("bench{}", uuid::Uuid::new_v4().simple());
    let store = JetStreamStore::connect(JetStreamConfig::namespaced(&url, &ns)).await?;
    let result = measure(&store, total_events).await;
    let raw = raw_engine(&store, &ns).await;
    // Replay and the raw read alternate, ROUNDS times each, so that both see the same
    // moods of the server and the box; the medians are reported.
    let reads = match (&result, &raw) {
        (Ok((workloads, _)), Ok(r)) => Some(replay_rounds(&store, *workloads, r).await),
        _ => None,
    };
    if let Ok(r) = &raw {
        let js = jetstream::new(store.client().clone());
        js.delete_stream(&r.name).await?;
        js.delete_stream(&r.headers_name).await?;
    }
    store.destroy().await?;
    let wide = append_rounds(&url, total_events).await?;
    let (_, appends) = result?;
    let raw = raw?;
    let reads = reads.expect("measured when both succeeded")?;
    figure("jetstream_append_64_concurrent", appends, "appends/s");
    figure("jetstream_raw_publish_pipelined", raw.pipelined, "msgs/s");
    figure("jetstream_raw_publish_64_concurrent_awaited", raw.awaited, "msgs/s");
    figure("jetstream_append_vs_raw_pipelined", appends / raw.pipelined, "ratio");
    figure("jetstream_append_vs_raw_same_concurrency", appends / raw.awaited, "ratio");
    figure("jetstream_append_512_concurrent", wide.ours, "appends/s");
    figure("jetstream_append_512_vs_raw_pipelined", wide.ours / raw.pipelined, "ratio");
    figure("jetstream_raw_publish_pipelined_with_headers", wide.raw, "msgs/s");
    figure("jetstream_append_512_vs_raw_with_headers", wide.vs_raw, "ratio");
    // One event per message in this store, so events/s compares with the raw msgs/s.
    figure("jetstream_replay_decode_fold", reads.replay, "events/s");
    figure("jetstream_raw_ordered_consumer_read", reads.bare, "msgs/s");
    figure("jetstream_replay_vs_raw", reads.vs_bare, "ratio");
    // Our messages carry the headers every append must (message id, expected last
    // subject sequence), stored with them and parsed again by the client on delivery.
    figure("jetstream_raw_ordered_consumer_read_with_headers", reads.headers, "msgs/s");
    figure("jetstream_replay_vs_raw_with_headers", reads.vs_headers, "ratio");
    figure("jetstream_raw_ordered_consumer_read_of_the_store_stream", reads.same, "msgs/s");
    figure("jetstream_replay_vs_raw_read_of_the_store_stream", reads.vs_same, "ratio");
    Ok(())
}

/// Medians over the rounds: rates, and the rounds' ratios.
struct Reads {
    replay: f64,
    bare: f64,
    headers: f64,
    /// The raw read of the store's own stream: the same messages, as many, as stored.
    same: f64,
    vs_bare: f64,
    vs_headers: f64,
    vs_same: f64,
}

/// Replay, and raw ordered-consumer reads of bare messages, of messages with our
/// headers, and of the store's own stream (the same messages, as many of them, in
/// the same blocks: the fairest of the three), alternating, ROUNDS times.
async fn replay_rounds(store: &JetStreamStore, workloads: u64, raw: &Raw) -> anyhow::Result<Reads> {
    let ours = jetstream::new(store.client().clone()).get_stream(&store.config().stream_name).await?;
    let mut rounds = Rounds::new();
    for _ in 0..ROUNDS {
        let replay = replay(store, workloads).await?;
        let bare = raw_read(&raw.stream).await?;
        let headers = raw_read(&raw.headers_stream).await?;
        let same = raw_read(&ours).await?;
        rounds.push([replay, bare, headers, same, replay / bare, replay / headers, replay / same]);
    }
    let [replay, bare, headers, same, vs_bare, vs_headers, vs_same] = rounds.medians();
    Ok(Reads { replay, bare, headers, same, vs_bare, vs_headers, vs_same })
}

/// Medians over the rounds of wide appends against the raw publish with the same headers.
struct Wide {
    ours: f64,
    raw: f64,
    vs_raw: f64,
}

/// Appends from [`WIDE_APPENDERS`] concurrent writers (distinct aggregates, one event
/// each, as a busy platform issues them), each round into a fresh store, alternating
/// with the raw pipelined publish of messages with the same headers into a fresh
/// scratch stream, ROUNDS times (these measured minutes apart once gave ratios from
/// 0.77 to 0.99 for the same build).
async fn append_rounds(url: &str, total_events: usize) -> anyhow::Result<Wide> {
    let events = (total_events / 5).max(LIFE * WIDE_APPENDERS);
    let payload: bytes::Bytes = raw_payload(&life(0).1[2]).into();
    let mut rounds = Rounds::new();
    for _ in 0..ROUNDS {
        let ns = format!("bench{}", uuid::Uuid::new_v4().simple());
        let store = JetStreamStore::connect(JetStreamConfig::namespaced(url, &ns)).await?;
        let started = Instant::now();
        let seeded = seed_with(&store, (events / LIFE) as u64, Appends::OneEventEach, WIDE_APPENDERS).await;
        let ours = rate(events / LIFE * LIFE, started.elapsed());
        let js = jetstream::new(store.client().clone());
        store.destroy().await?;
        seeded?;
        let (name, subject, _) = scratch_stream(&js, "rawh", &ns).await?;
        let raw = publish_with_headers(&js, &subject, &payload).await;
        js.delete_stream(&name).await?;
        let raw = raw?;
        rounds.push([ours, raw, ours / raw]);
    }
    let [ours, raw, vs_raw] = rounds.medians();
    Ok(Wide { ours, raw, vs_raw })
}

/// Reads every message of the raw stream through an ordered consumer.
async fn raw_read(raw: &stream::Stream) -> anyhow::Result<f64> {
    let total = raw.clone().get_info().await?.state.messages as usize;
    let started = Instant::now();
    let mut msgs = raw.create_consumer(pull::OrderedConfig::default()).await?.messages().await?;
    let mut n = 0;
    while n < total {
        let m = msgs.next().await.ok_or_else(|| anyhow::anyhow!("consumer ended"))??;
        std::hint::black_box(m.payload.len());
        n += 1;
    }
    Ok(rate(n, started.elapsed()))
}

/// Seeds `total` events as 20-event lives appended one event at a time (the
/// realistic, worst case for loads), measuring the append rate on the way, then the
/// load latency; returns the workloads seeded and the append rate.
async fn measure(store: &JetStreamStore, total: usize) -> anyhow::Result<(u64, f64)> {
    let workloads = (total / LIFE) as u64;
    let started = Instant::now();
    seed(store, workloads, Appends::OneEventEach).await?;
    let appends = rate(workloads as usize * LIFE, started.elapsed());
    figure("jetstream_store_events", (workloads as usize * LIFE) as f64, "events");

    // Aggregate load from a fresh handle (nothing remembered): the first 1,000 right
    // after seeding, when the server has most of the log's blocks to load from disk
    // again, then 4,000 more, once it serves them from memory as a running platform's
    // server does.
    let fresh = JetStreamStore::connect(store.config().clone()).await?;
    let samples = load_latencies(&fresh, workloads, 1_000, 0x2545_f491_4f6c_dd1d).await?;
    percentiles("jetstream_load_20_event_aggregate", samples);
    let samples = load_latencies(&fresh, workloads, 4_000, 0x9e37_79b9_7f4a_7c15).await?;
    percentiles("jetstream_load_20_event_aggregate_steady", samples);
    Ok((workloads, appends))
}

/// The raw engine's publish rates, and the scratch streams it filled (for the raw
/// reads): bare messages, and messages with our appends' headers.
struct Raw {
    name: String,
    stream: stream::Stream,
    headers_name: String,
    headers_stream: stream::Stream,
    pipelined: f64,
    awaited: f64,
}

/// A scratch stream `<KIND>_<NS>` on subjects `<kind>.<ns>.>`: its name, subject prefix
/// and handle.
async fn scratch_stream(
    js: &jetstream::Context,
    kind: &str,
    ns: &str,
) -> anyhow::Result<(String, String, stream::Stream)> {
    let name = format!("{}_{}", kind.to_ascii_uppercase(), ns.to_ascii_uppercase());
    let subject = format!("{kind}.{ns}");
    let config = stream::Config { name: name.clone(), subjects: vec![format!("{subject}.>")], ..Default::default() };
    let handle = js.create_stream(config).await?;
    Ok((name, subject, handle))
}

/// The raw engine on scratch streams: pipelined publish (bare, and with the headers
/// our appends carry) and 64 concurrent awaited publishers.
async fn raw_engine(store: &JetStreamStore, ns: &str) -> anyhow::Result<Raw> {
    let js = jetstream::new(store.client().clone());
    let (name, subject, raw) = scratch_stream(&js, "raw", ns).await?;
    let (headers_name, headers_subject, headers_stream) = scratch_stream(&js, "rawh", ns).await?;
    let (_, events) = life(0);
    let payload: bytes::Bytes = raw_payload(&events[2]).into();

    // Pipelined in windows.
    let started = Instant::now();
    let mut acks = Vec::with_capacity(WINDOW);
    for i in 0..N {
        acks.push(js.publish(format!("{subject}.{}", i % 1000), payload.clone()).await?);
        if acks.len() == WINDOW || i == N - 1 {
            for a in acks.drain(..) {
                a.await?;
            }
        }
    }
    let pipelined = rate(N, started.elapsed());

    // Fills the stream the raw read with headers reads (its rate is measured in append_rounds).
    publish_with_headers(&js, &headers_subject, &payload).await?;

    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..APPENDERS {
        let js = js.clone();
        let payload = payload.clone();
        let subject = format!("{subject}.a{t}");
        tasks.push(tokio::spawn(async move {
            for _ in 0..N / APPENDERS {
                js.publish(subject.clone(), payload.clone()).await?.await?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let awaited = rate(N / APPENDERS * APPENDERS, started.elapsed());

    Ok(Raw { name, stream: raw, headers_name, headers_stream, pipelined, awaited })
}

/// Raw messages published to the raw engine.
const N: usize = 100_000;
/// Publishes awaited together: async-nats bounds the acks in flight, so a window's
/// acks are awaited before the next window is sent.
const WINDOW: usize = 4096;

/// The raw pipelined publish of N messages with the headers every append of ours
/// carries (a message id for de-duplication and the subject's expected last
/// sequence), on subjects laid out as the store's are: 20-message lives, interleaved
/// as the seeding interleaves them. What the server's checks, and the client's
/// parsing of stored headers on delivery, cost without us. The rate, msgs/s.
async fn publish_with_headers(js: &jetstream::Context, subject: &str, payload: &bytes::Bytes) -> anyhow::Result<f64> {
    let lives = N / LIFE;
    assert!(WINDOW < lives, "a subject appears at most once per window, so its last sequence is known");
    let mut last_seq = vec![0u64; lives];
    let started = Instant::now();
    let mut acks = Vec::with_capacity(WINDOW);
    let mut window = Vec::with_capacity(WINDOW);
    for i in 0..N {
        let life = i % lives;
        let publish = jetstream::message::PublishMessage::build()
            .payload(payload.clone())
            .message_id(uuid::Uuid::now_v7().to_string())
            .expected_last_subject_sequence(last_seq[life]);
        acks.push(js.send_publish(format!("{subject}.{life}"), publish).await?);
        window.push(life);
        if acks.len() == WINDOW || i == N - 1 {
            for (a, life) in acks.drain(..).zip(window.drain(..)) {
                last_seq[life] = a.await?.sequence;
            }
        }
    }
    Ok(rate(N, started.elapsed()))
}

/// A payload the size of one stored single-event append.
fn raw_payload(e: &NewEvent) -> Vec<u8> {
    vec![0x42; e.payload.len() + 120]
}
