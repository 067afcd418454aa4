//! The Kafka usage stream: every usage record and every correction of one
//! (`io.hcp.usage.amended`, naming the record) published, for downstream billing and
//! analytics, through librdkafka's idempotent producer (no duplicates from its own
//! retries), keyed by tenant (a tenant's records stay in order on one partition), the
//! record's event id in the `hcp-record-id` header, and a CloudEvents 1.0 JSON value
//! (structured mode, `content-type: application/cloudevents+json`).
//!
//! A checkpointed reactor: records are sent without waiting for each acknowledgement; a
//! batch's are all acknowledged while the next batch is sent, before the checkpoint
//! moves past them.
//! A crash or a broker that refuses a batch sends it again, with the same ids: a consumer
//! may see a record twice, never two records for one id, and never misses one. Failed
//! sends (a broker restarted with batches in flight) replace the producer with a fresh
//! one rather than let librdkafka mend its sequence by bumping its epoch, which a
//! broker may not take.

use crate::metrics::MeteringMetrics;
use crate::{USAGE_AMENDED, USAGE_RECORDED};
use hcp_domain::units::Timestamp;
use hcp_eventstore::{Position, RecordedEvent};
use hcp_proto::v1 as pb;
use hcp_runtime::config::KafkaConfig;
use hcp_runtime::{ErrorCode, Handler, HandlerError};
use prost::Message;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer, PurgeConfig};
use serde_json::json;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// The publisher's durable consumer name.
pub const PUBLISHER: &str = "metering-kafka";
/// The header that carries the record's id.
pub const RECORD_ID_HEADER: &str = "hcp-record-id";
/// The CloudEvents type of a usage record.
pub const CLOUDEVENT_TYPE: &str = "io.hcp.usage.recorded";
/// The CloudEvents type of a usage record's correction (its data names the record's id).
pub const AMENDED_TYPE: &str = "io.hcp.usage.amended";

/// A usage record as a CloudEvent (structured JSON): its id is the record's event id,
/// its data the record in the proto3 JSON mapping (`hcp.v1.UsageRecorded`: camelCase
/// names, 64-bit integers as strings), written directly rather than by reflection (the
/// publisher's hot path).
pub fn cloudevent(event: &RecordedEvent) -> Result<serde_json::Value, HandlerError> {
    if event.event_type == USAGE_AMENDED {
        return amendment(event);
    }
    let r = pb::UsageRecorded::decode(event.payload.as_ref()).map_err(|why| HandlerError::corrupt(event, why))?;
    let mut ce = json!({
        "specversion": "1.0",
        "id": event.id.to_string(),
        "source": "/hcp/metering",
        "type": CLOUDEVENT_TYPE,
        "subject": r.workload_id,
        "time": Timestamp::from_unix_micros(event.metadata.time_unix_micros).to_string(),
        "datacontenttype": "application/json",
        "tenant": r.tenant,
        "data": {
            "workloadId": r.workload_id,
            "tenant": r.tenant,
            "gpuModel": r.gpu_model,
            "site": r.site,
            "gpus": r.gpus,
            "fromUnixMicros": r.from_unix_micros.to_string(),
            "toUnixMicros": r.to_unix_micros.to_string(),
            "gpuMicros": r.gpu_micros.to_string(),
            "closedBy": r.closed_by,
        },
    });
    // proto3 JSON leaves an empty string out (a spec that named no site).
    if r.site.is_empty()
        && let Some(data) = ce["data"].as_object_mut()
    {
        data.remove("site");
    }
    Ok(ce)
}

/// Why the producer cannot be made.
#[derive(Debug, thiserror::Error)]
#[error("metering.kafka: {0}")]
pub struct ProducerError(#[from] KafkaError);

/// The publisher.
pub struct Publisher {
    /// The producer's settings, to make a fresh one after a failure.
    client: ClientConfig,
    producer: Mutex<FutureProducer>,
    admin: AdminClient<DefaultClientContext>,
    topic: String,
    partitions: i32,
    topic_ready: AtomicBool,
    pending: Mutex<Pending>,
    metrics: MeteringMetrics,
}

/// Sends not yet acknowledged, by the position of their record's event, and the last
/// position of the batch before the current one.
#[derive(Default)]
struct Pending {
    sends: VecDeque<(Position, DeliveryFuture)>,
    marked: Position,
}

impl Publisher {
    /// A publisher to `config`'s brokers and topic (connects lazily).
    pub fn new(config: &KafkaConfig) -> Result<Self, ProducerError> {
        let mut client = ClientConfig::new();
        client.set("bootstrap.servers", &config.brokers);
        let admin = client.create()?;
        client
            .set("enable.idempotence", "true")
            // What librdkafka would mend by bumping the producer's epoch stops the producer
            // instead (a broker may not take a bump: tansu 0.6.0 does not), and a fresh
            // producer sends the batch again (see `renew`).
            .set("enable.gapless.guarantee", "true")
            .set("linger.ms", "5")
            .set("message.timeout.ms", "60000");
        let producer = client.create()?;
        Ok(Publisher {
            client,
            producer: Mutex::new(producer),
            admin,
            topic: config.topic.clone(),
            partitions: config.partitions.try_into().unwrap_or(i32::MAX),
            topic_ready: AtomicBool::new(false),
            pending: Mutex::default(),
            metrics: MeteringMetrics::default(),
        })
    }

    /// The same, counting acknowledged records and renewed producers in `metrics`.
    #[must_use]
    pub fn with_metrics(self, metrics: MeteringMetrics) -> Self {
        Publisher { metrics, ..self }
    }

    fn producer(&self) -> FutureProducer {
        self.producer.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// A fresh producer (a new producer id) in place of one whose sends failed: the old
    /// one's unsent and in-flight messages are purged as it goes, and the reactor hands
    /// their records over again, so nothing is sent under a sequence the broker may have
    /// lost, and nothing is lost (a record may come twice, with its id).
    fn renew(&self, why: &str) {
        match self.client.create::<FutureProducer>() {
            Ok(fresh) => {
                self.metrics.producer_renewals.inc();
                tracing::warn!(why, "kafka: sends failed; a fresh producer sends them again");
                let old = std::mem::replace(&mut *self.producer.lock().unwrap_or_else(PoisonError::into_inner), fresh);
                old.purge(PurgeConfig::default().queue().inflight());
            }
            Err(e) => tracing::error!(error = %e, "kafka: cannot make a fresh producer"),
        }
    }

    /// Creates the topic unless the broker has it (a broker may not create topics on
    /// first use).
    async fn ensure_topic(&self) -> Result<(), HandlerError> {
        if self.topic_ready.load(Ordering::Acquire) {
            return Ok(());
        }
        let topic = NewTopic::new(&self.topic, self.partitions, TopicReplication::Fixed(1));
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let results = self.admin.create_topics([&topic], &options).await.map_err(|e| unavailable("create topic", e))?;
        for result in results {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((name, code)) => return Err(unavailable(&format!("create topic {name}"), code)),
            }
        }
        self.topic_ready.store(true, Ordering::Release);
        Ok(())
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for the acknowledgements of every send up to `upto`; on a failed one, forgets
    /// the rest too (the reactor hands them all over again).
    async fn acknowledged(&self, upto: Position) -> Result<(), HandlerError> {
        loop {
            let next = {
                let mut pending = self.pending();
                match pending.sends.front() {
                    Some((position, _)) if *position <= upto => pending.sends.pop_front(),
                    _ => None,
                }
            };
            let Some((_, delivery)) = next else { return Ok(()) };
            let failed = match delivery.await {
                Ok(Ok(_)) => {
                    self.metrics.published.inc();
                    continue;
                }
                Ok(Err((e, _))) => unavailable("delivery", e),
                Err(_) => unavailable("delivery", "the producer dropped it"),
            };
            *self.pending() = Pending::default();
            self.renew(&failed.to_string());
            return Err(failed);
        }
    }
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> HandlerError {
    HandlerError::new(ErrorCode::Unavailable, format!("kafka: {what}: {e}"))
}

/// The CloudEvent of a `usage.amended`: its data as the API's JSON mapping writes it.
fn amendment(event: &RecordedEvent) -> Result<serde_json::Value, HandlerError> {
    let a = pb::UsageAmended::decode(event.payload.as_ref()).map_err(|why| HandlerError::corrupt(event, why))?;
    let data = hcp_proto::descriptors::message_to_json("hcp.v1.UsageAmended", &event.payload)
        .map_err(|why| HandlerError::corrupt(event, why))?;
    let now = a.now.unwrap_or_default();
    Ok(json!({
        "specversion": "1.0",
        "id": event.id.to_string(),
        "source": "/hcp/metering",
        "type": AMENDED_TYPE,
        "subject": now.workload_id,
        "time": Timestamp::from_unix_micros(event.metadata.time_unix_micros).to_string(),
        "datacontenttype": "application/json",
        "tenant": now.tenant,
        "data": data,
    }))
}

impl Handler for Publisher {
    fn name(&self) -> &str {
        PUBLISHER
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        (event.event_type == USAGE_RECORDED || event.event_type == USAGE_AMENDED) && event.stream.starts_with("usage-")
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandlerError> {
        self.ensure_topic().await?;
        let value = cloudevent(event)?.to_string();
        let id = event.id.to_string();
        let tenant = event.stream.trim_start_matches("usage-");
        loop {
            let headers = OwnedHeaders::new()
                .insert(Header { key: RECORD_ID_HEADER, value: Some(id.as_str()) })
                .insert(Header { key: "content-type", value: Some("application/cloudevents+json; charset=UTF-8") });
            let record = FutureRecord::to(&self.topic).key(tenant).payload(&value).headers(headers);
            match self.producer().send_result(record) {
                Ok(delivery) => {
                    self.pending().sends.push_back((event.position, delivery));
                    return Ok(());
                }
                // librdkafka's queue is full: wait for what is in flight, then send.
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    self.acknowledged(Position::MAX).await?;
                }
                Err((e, _)) => {
                    let failed = unavailable("send", e);
                    *self.pending() = Pending::default();
                    self.renew(&failed.to_string());
                    return Err(failed);
                }
            }
        }
    }

    /// The batch before this one acknowledged: this one stays in flight while the next
    /// is read, so the checkpoint trails by a batch (a crash sends it again, same ids).
    async fn flush(&self, last: Position) -> Result<Position, HandlerError> {
        let previous = std::mem::replace(&mut self.pending().marked, last);
        self.acknowledged(previous).await?;
        Ok(previous)
    }

    async fn finish(&self) -> Result<(), HandlerError> {
        self.acknowledged(Position::MAX).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcp_eventstore::EventMetadata;

    /// The data is what the API's JSON mapping gives for the same record.
    #[test]
    fn a_cloudevent_carries_the_record_as_the_api_writes_it() {
        let record = pb::UsageRecorded {
            workload_id: "w-1".into(),
            tenant: "acme".into(),
            gpu_model: "h100-sxm-80gb".into(),
            site: "tx-south-1".into(),
            gpus: 8,
            from_unix_micros: 1_000_000,
            to_unix_micros: 4_600_000_000,
            gpu_micros: 8 * 4_599_000_000,
            closed_by: "workload.completed".into(),
        };
        let event = RecordedEvent {
            id: uuid::Uuid::now_v7(),
            stream: "usage-acme".into(),
            version: 1,
            position: 1,
            event_type: USAGE_RECORDED.into(),
            schema_version: 1,
            payload: record.encode_to_vec().into(),
            metadata: EventMetadata { time_unix_micros: 4_600_000_000, ..Default::default() },
            recorded_unix_micros: 4_600_000_000,
        };
        let ce = cloudevent(&event).expect("cloudevent");
        let api = hcp_proto::descriptors::message_to_json("hcp.v1.UsageRecorded", &event.payload).expect("json");
        assert_eq!(ce["data"], api);
        let siteless = pb::UsageRecorded { site: String::new(), ..record };
        let event = RecordedEvent { payload: siteless.encode_to_vec().into(), ..event };
        let api = hcp_proto::descriptors::message_to_json("hcp.v1.UsageRecorded", &event.payload).expect("json");
        assert_eq!(cloudevent(&event).expect("cloudevent")["data"], api);
        assert_eq!((ce["id"].as_str(), ce["specversion"].as_str()), (Some(event.id.to_string().as_str()), Some("1.0")));

        // A correction: its own type, naming the record it amends.
        let amended = pb::UsageAmended {
            record_id: event.id.to_string(),
            was: Some(siteless.clone()),
            now: Some(pb::UsageRecorded { to_unix_micros: 2_000_000, gpu_micros: 8_000_000, ..siteless }),
            reason: "faulty GPU".into(),
        };
        let correction = RecordedEvent {
            id: uuid::Uuid::now_v7(),
            event_type: USAGE_AMENDED.into(),
            payload: amended.encode_to_vec().into(),
            ..event.clone()
        };
        let ce = cloudevent(&correction).expect("cloudevent");
        assert_eq!((ce["type"].as_str(), ce["subject"].as_str()), (Some(AMENDED_TYPE), Some("w-1")));
        assert_eq!(ce["data"]["recordId"].as_str(), Some(event.id.to_string().as_str()), "{ce}");
        assert_eq!(ce["data"]["now"]["gpuMicros"].as_str(), Some("8000000"), "{ce}");
    }
}
