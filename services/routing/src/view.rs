//! The handler that folds the log into the [`Board`]: workloads, GPUs, tenants and the
//! operator's cordons.

use crate::board::{Board, Cordon};
use hcp_domain::codec::{decode_resource_event, decode_tenant_event};
use hcp_domain::ids::WorkloadId;
use hcp_domain::units::Timestamp;
use hcp_domain::workload::Workload;
use hcp_eventstore::RecordedEvent;
use hcp_proto::v1 as pb;
use hcp_runtime::{EventSourced, Handler, HandlerError};
use prost::Message;
use std::sync::Arc;

/// The consumer name (in memory: it folds from the start each time routing starts).
pub const VIEW: &str = "routing-view";
/// The stream of the operator's cordons.
pub const HOSTS_STREAM: &str = "hosts";
/// A host was cordoned or drained.
pub const HOST_CORDONED: &str = "host.cordoned";
/// A host's cordon was lifted.
pub const HOST_UNCORDONED: &str = "host.uncordoned";
/// GPU resources' streams (`gpu-<uuid>` ids).
const GPU_STREAMS: &str = "resource-gpu-";

/// Folds the log into the board.
pub struct View(pub Arc<Board>);

impl Handler for View {
    fn name(&self) -> &str {
        VIEW
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        let s = event.stream.as_str();
        s.starts_with(Workload::STREAM_PREFIX)
            || s.starts_with(GPU_STREAMS)
            || s.starts_with("tenant-")
            || s == HOSTS_STREAM
    }

    async fn handle(&self, event: &RecordedEvent) -> Result<(), HandlerError> {
        let at = Timestamp::from_unix_micros(event.metadata.time_unix_micros);
        let s = event.stream.as_str();
        if let Some(id) = s.strip_prefix(Workload::STREAM_PREFIX) {
            let id = WorkloadId::parse(id).map_err(|e| HandlerError::corrupt(event, e))?;
            let decoded = Workload::decode(event).map_err(|e| HandlerError::corrupt(event, e))?;
            self.0.apply_workload(id, &decoded, event.version);
        } else if let Some(id) = s.strip_prefix("resource-") {
            let decoded = decode_resource_event(&event.event_type, &event.payload, at)
                .map_err(|e| HandlerError::corrupt(event, e))?;
            self.0.apply_resource(id, &decoded);
        } else if let Some(id) = s.strip_prefix("tenant-") {
            let decoded = decode_tenant_event(&event.event_type, &event.payload, at)
                .map_err(|e| HandlerError::corrupt(event, e))?;
            self.0.apply_tenant(id, &decoded, event.version);
        } else {
            match event.event_type.as_str() {
                HOST_CORDONED => {
                    let m = pb::HostCordoned::decode(event.payload.as_ref())
                        .map_err(|e| HandlerError::corrupt(event, e))?;
                    self.0.apply_cordon(&m.host, Some(Cordon { reason: m.reason, drain: m.drain }), event.version);
                }
                HOST_UNCORDONED => {
                    let m = pb::HostUncordoned::decode(event.payload.as_ref())
                        .map_err(|e| HandlerError::corrupt(event, e))?;
                    self.0.apply_cordon(&m.host, None, event.version);
                }
                other => return Err(HandlerError::corrupt(event, format!("unknown event type {other:?}"))),
            }
        }
        Ok(())
    }
}
