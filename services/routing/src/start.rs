//! Starting routing on the runtime: its view catches up with the log, then the
//! scheduler runs and the APIs listen.

use crate::board::Board;
use crate::grpc::RoutingService;
use crate::routing::Routing;
use crate::view::View;
use hcp_eventstore::EventStore;
use hcp_proto::v1::hosts_server::HostsServer;
use hcp_proto::v1::tenants_server::TenantsServer;
use hcp_proto::v1::workloads_server::WorkloadsServer;
use hcp_runtime::config::Config;
use hcp_runtime::grpc::GrpcServices;
use hcp_runtime::host::StartError;
use hcp_runtime::{Durability, Host, Repository};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Starts routing in `host`; returns the API's address and the service.
pub async fn start<S: EventStore>(
    host: &Arc<Host<S>>,
    config: &Config,
    grpc: SocketAddr,
) -> Result<(SocketAddr, Arc<Routing<S>>), StartError> {
    let r = &config.routing;
    let board = Arc::new(Board::new((r.preemption_grace_seconds * 1e6) as i64));
    let head = host.store.head().await?;
    let view = host.reactor("routing", Arc::new(View(Arc::clone(&board))), Durability::InMemory);
    tokio::select! {
        _ = view.caught_up(head) => {},
        () = host.shutdown.cancelled() => {},
    }
    crate::metrics::export(host, Arc::clone(&board));
    let routing = Arc::new(Routing {
        store: Arc::clone(&host.store),
        board,
        workloads: Repository::new(Arc::clone(&host.store)),
        tenants: Repository::new(Arc::clone(&host.store)),
        max_attempts: r.max_attempts,
        aging_micros: (r.aging_seconds * 1e6) as i64,
    });
    let every = Duration::from_secs_f64(r.cycle_seconds);
    let (scheduler, shutdown) = (Arc::clone(&routing), host.shutdown.clone());
    host.spawn("scheduler", async move { crate::scheduler::run(scheduler, every, shutdown.cancelled_owned()).await });
    let service = RoutingService(Arc::clone(&routing));
    let mut services = GrpcServices::default();
    services.add(WorkloadsServer::new(service.clone()));
    services.add(TenantsServer::new(service.clone()));
    services.add(HostsServer::new(service));
    let addr = host.serve("routing", services, grpc).await?;
    Ok((addr, routing))
}
