//! What the metering tests share: workloads' lifecycles written to a real store.

use hcp_domain::codec::encode_workload_event;
use hcp_domain::ids::TenantId;
use hcp_domain::workload::{WorkloadEvent, WorkloadSpec};
use hcp_eventstore::{EventStore, ExpectedVersion};
use hcp_runtime::EventContext;

/// A preemptible training spec of `tenant` on `gpus` H100s.
pub fn spec(tenant: &str, gpus: u32) -> WorkloadSpec {
    WorkloadSpec::example(TenantId::new(tenant).expect("tenant"), gpus)
}

/// Appends `events` to workload `id`'s stream, after the `before` already there.
pub async fn append<S: EventStore>(store: &S, id: &str, before: u64, events: &[WorkloadEvent]) {
    let context = EventContext::new("test");
    for (n, e) in events.iter().enumerate() {
        let (kind, payload) = encode_workload_event(e);
        let event = context.event(0, kind, payload, e.at().unix_micros());
        let version = before + n as u64;
        let expected = if version == 0 { ExpectedVersion::NoStream } else { ExpectedVersion::Exact(version) };
        store.append(&format!("workload-{id}"), expected, vec![event]).await.expect("append");
    }
}
