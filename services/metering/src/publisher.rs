//! The Kafka usage stream: every usage record published, for downstream billing and
//! analytics, through librdkafka's idempotent producer (no duplicates from its own
//! retries), keyed by tenant (a tenant's records stay in order on one partition), the
//! record's event id in the `hcp-record-id` header, and a CloudEvents 1.0 JSON value
//! (structured mode, `content-type: application/cloudevents+json`).
//!
//! A checkpointed reactor: each batch's records are sent without waiting for each
//! acknowledgement, and all are acknowledged before the batch's checkpoint is committed.
//! A crash or a broker that refuses a batch sends it again, with the same ids: a consumer
//! may see a record twice, never two records for one id, and never misses one.

use crate::USAGE_RECORDED;
use hcp_domain::units::Timestamp;
use hcp_eventstore::RecordedEvent;
use hcp_runtime::config::KafkaConfig;
use hcp_runtime::{ErrorCode, Handler, HandlerError};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// The publisher's durable consumer name.
pub const PUBLISHER: &str = "metering-kafka";
/// The header that carries the record's id.
pub const RECORD_ID_HEADER: &str = "hcp-record-id";
/// The CloudEvents type of a usage record.
pub const CLOUDEVENT_TYPE: &str = "io.hcp.usage.recorded";

/// A usage record as a CloudEvent (structured JSON): its id is the record's event id.
pub fn cloudevent(event: &RecordedEvent) -> Result<serde_json::Value, HandlerError> {
    let data = hcp_proto::descriptors::message_to_json("hcp.v1.UsageRecorded", &event.payload)
        .map_err(|why| HandlerError::corrupt(event, why))?;
    Ok(json!({
        "specversion": "1.0",
        "id": event.id.to_string(),
        "source": "/hcp/metering",
        "type": CLOUDEVENT_TYPE,
        "subject": data["workloadId"],
        "time": Timestamp::from_unix_micros(event.metadata.time_unix_micros).to_string(),
        "datacontenttype": "application/json",
        "tenant": data["tenant"],
        "data": data,
    }))
}

/// Why the producer cannot be made.
#[derive(Debug, thiserror::Error)]
#[error("metering.kafka: {0}")]
pub struct ProducerError(#[from] KafkaError);

/// The publisher.
pub struct Publisher {
    producer: FutureProducer,
    admin: AdminClient<DefaultClientContext>,
    topic: String,
    partitions: i32,
    topic_ready: AtomicBool,
    pending: Mutex<Vec<DeliveryFuture>>,
}

impl Publisher {
    /// A publisher to `config`'s brokers and topic (connects lazily).
    pub fn new(config: &KafkaConfig) -> Result<Self, ProducerError> {
        let mut client = ClientConfig::new();
        client.set("bootstrap.servers", &config.brokers);
        let admin = client.create()?;
        let producer = client
            .set("enable.idempotence", "true")
            .set("linger.ms", "5")
            .set("message.timeout.ms", "60000")
            .create()?;
        Ok(Publisher {
            producer,
            admin,
            topic: config.topic.clone(),
            partitions: config.partitions.try_into().unwrap_or(i32::MAX),
            topic_ready: AtomicBool::new(false),
            pending: Mutex::default(),
        })
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

    fn take_pending(&self) -> Vec<DeliveryFuture> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> HandlerError {
    HandlerError::new(ErrorCode::Unavailable, format!("kafka: {what}: {e}"))
}

impl Handler for Publisher {
    fn name(&self) -> &str {
        PUBLISHER
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        event.event_type == USAGE_RECORDED && event.stream.starts_with("usage-")
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
            match self.producer.send_result(record) {
                Ok(delivery) => {
                    self.pending.lock().unwrap_or_else(PoisonError::into_inner).push(delivery);
                    return Ok(());
                }
                // librdkafka's queue is full: wait for what is in flight, then send.
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => self.flush().await?,
                Err((e, _)) => return Err(unavailable("send", e)),
            }
        }
    }

    async fn flush(&self) -> Result<(), HandlerError> {
        let mut failed = None;
        for delivery in self.take_pending() {
            match delivery.await {
                Ok(Ok(_)) => {}
                Ok(Err((e, _))) => failed = Some(unavailable("delivery", e)),
                Err(_) => failed = Some(unavailable("delivery", "the producer dropped it")),
            }
        }
        failed.map_or(Ok(()), Err)
    }
}
