//! What the notifications tests share: the reference tools' venvs, a failed workload in
//! the log, and waiting on deliveries.

#![allow(dead_code, unused_imports)]

use hcp_domain::codec::encode_workload_event;
use hcp_domain::ids::{TenantId, WorkloadId};
use hcp_domain::units::Timestamp;
use hcp_domain::workload::{WorkloadEvent as E, WorkloadSpec};
use hcp_e2e::Proc;
use hcp_eventstore::sqlite::SqliteStore;
use hcp_eventstore::{EventStore, ExpectedVersion};
use hcp_proto::v1 as pb;
use hcp_proto::v1::notifications_client::NotificationsClient;
use hcp_runtime::EventContext;
use serde_json::Value;
use std::time::{Duration, Instant};
use tonic::transport::Channel;

pub use hcp_e2e::tools::{tool, webhook_receiver as receiver};

pub fn received(receiver: &Proc) -> Vec<Value> {
    receiver.output().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

/// A workload of `tenant` that failed.
pub async fn failed(store: &SqliteStore, tenant: &str) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    let spec = WorkloadSpec::example(TenantId::new(tenant).expect("tenant"), 1);
    let now = Timestamp::from_unix_micros(hcp_runtime::clock::now_micros());
    let events = [
        E::Submitted { id: WorkloadId::parse(&id).expect("id"), spec, at: now },
        E::Failed { reason: "exit 137: out of memory".into(), at: now },
    ];
    let context = EventContext::new("test").with_tenant(tenant);
    let batch = events
        .iter()
        .map(|e| {
            let (kind, payload) = encode_workload_event(e);
            context.event(0, kind, payload, now.unix_micros())
        })
        .collect();
    store.append(&format!("workload-{id}"), ExpectedVersion::NoStream, batch).await.expect("append");
    id
}

pub async fn deliveries(client: &mut NotificationsClient<Channel>, tenant: &str, id: &str) -> Vec<pb::DeliveryView> {
    let request = pb::ListDeliveriesRequest { tenant: tenant.into(), id: id.into() };
    client.list_deliveries(request).await.expect("deliveries").into_inner().deliveries
}

/// Waits until `tenant`'s endpoint `id` has a delivery in `state`.
pub async fn until_state(
    client: &mut NotificationsClient<Channel>,
    tenant: &str,
    id: &str,
    state: &str,
) -> pb::DeliveryView {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let all = deliveries(client, tenant, id).await;
        if let Some(d) = all.iter().find(|d| d.state == state) {
            return d.clone();
        }
        assert!(Instant::now() < deadline, "{id}: no delivery {state}: {all:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
