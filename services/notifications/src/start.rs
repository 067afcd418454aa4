//! Starting notifications on the runtime: the view catches up with the log, the rules
//! and the fan-out resume from their checkpoints, the dispatcher resumes every pending
//! delivery and takes each new one, and the API listens.

use crate::dispatch::Dispatcher;
use crate::fanout::Fanout;
use crate::grpc::NotificationsService;
use crate::keys::Keys;
use crate::rules::Rules;
use crate::view::{Folder, View};
use hcp_eventstore::EventStore;
use hcp_proto::v1::notifications_server::NotificationsServer;
use hcp_runtime::config::NotificationsConfig;
use hcp_runtime::grpc::GrpcServices;
use hcp_runtime::host::StartError;
use hcp_runtime::{Durability, Host};
use std::net::SocketAddr;
use std::sync::Arc;

/// Starts notifications in `host`, tenants' keys in `keys`; answers where the API listens.
pub async fn start<S: EventStore>(
    host: &Arc<Host<S>>,
    config: &NotificationsConfig,
    keys: Keys,
    grpc: SocketAddr,
) -> Result<SocketAddr, StartError> {
    let view = Arc::new(View::default());
    let head = host.store.head().await?;
    let watch = host.reactor("notifications", Arc::new(Folder(Arc::clone(&view))), Durability::InMemory);
    tokio::select! {
        _ = watch.caught_up(head) => {},
        () = host.shutdown.cancelled() => {},
    }
    let (jobs, queue) = tokio::sync::mpsc::unbounded_channel();
    let pending = view.go_live(jobs);
    let dispatcher = Arc::new(
        Dispatcher::new(Arc::clone(&host.store), Arc::clone(&view), keys.clone(), config.clone())
            .with_metrics(&host.metrics),
    );
    host.spawn("notifications-dispatch", dispatcher.run(pending, queue));
    host.reactor("notifications", Arc::new(Rules::new(Arc::clone(&host.store), config)), Durability::Checkpointed);
    let fanout = Fanout::new(Arc::clone(&host.store), Arc::clone(&view), watch.clone());
    host.reactor("notifications", Arc::new(fanout), Durability::Checkpointed);
    let service = NotificationsService { store: Arc::clone(&host.store), view, watch, keys, config: config.clone() };
    let mut services = GrpcServices::default();
    services.add(NotificationsServer::new(service));
    host.serve("notifications", services, grpc).await
}
