//! Starting execution on the runtime: the ledger catches up with the log, then the
//! reconciler resumes every in-flight command, miner control resumes every recorded
//! miner command, and the agents' API listens.

use crate::execution::{Execution, LostPolicy};
use crate::grpc::ExecutionService;
use crate::ledger::Ledger;
use crate::miners::api::FleetService;
use crate::miners::view::MinerView;
use crate::miners::{Controller, Settings};
use crate::view::View;
use hcp_eventstore::EventStore;
use hcp_proto::v1::execution_server::ExecutionServer;
use hcp_proto::v1::fleet_server::FleetServer;
use hcp_runtime::config::Config;
use hcp_runtime::grpc::GrpcServices;
use hcp_runtime::host::StartError;
use hcp_runtime::{Durability, Host, Repository};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Starts execution in `host` with the agents' enrolment `token`; returns the API's address.
pub async fn start<S: EventStore>(
    host: &Arc<Host<S>>,
    config: &Config,
    token: hcp_runtime::config::Secret,
    grpc: SocketAddr,
) -> Result<(SocketAddr, Arc<Execution<S>>), StartError> {
    let (dirty, mut todo) = mpsc::unbounded_channel();
    let e = &config.execution;
    let settings = Settings {
        port: e.miner_port,
        deadline: Duration::from_secs_f64(e.command_deadline_seconds),
        attempts: e.command_attempts,
        ramp_kw_per_second: e.ramp_kw_per_second,
        timeout: Duration::from_secs(2),
        poll: Duration::from_millis(250),
        concurrency: 256,
        max_curtailment: Duration::from_secs_f64(e.max_curtailment_seconds),
        web: hcp_minerapi::web::Credentials {
            user: "root".into(),
            password: e.miner_web_password.as_ref().map_or_else(|| "root".into(), |s| s.expose().to_owned()),
        },
    };
    let controller = Arc::new(Controller::new(Arc::clone(&host.store), settings, host.shutdown.clone()));
    let execution = Arc::new(Execution {
        workloads: Repository::new(Arc::clone(&host.store)),
        ledger: Mutex::new(Ledger::default()),
        agents: Mutex::new(HashMap::new()),
        token,
        grace_seconds: config.routing.preemption_grace_seconds.ceil() as u32,
        lost_after: Duration::from_secs_f64(config.execution.agent_lost_seconds),
        lost_policy: if config.execution.lost_agent == "fail" { LostPolicy::Fail } else { LostPolicy::Requeue },
        started: Instant::now(),
        dirty,
        queries: Mutex::new(HashMap::new()),
        counter: AtomicU64::new(0),
        miners: Arc::clone(&controller),
        waiting_power: Mutex::new(std::collections::HashSet::new()),
    });
    let head = host.store.head().await?;
    let view = host.reactor("execution", Arc::new(View(Arc::clone(&execution))), Durability::InMemory);
    let miners = host.reactor("execution-miners", Arc::new(MinerView(Arc::clone(&controller))), Durability::InMemory);
    tokio::select! {
        _ = async { tokio::join!(view.caught_up(head), miners.caught_up(head)) } => {},
        () = host.shutdown.cancelled() => {},
    }
    host.spawn("miner control", Arc::clone(&controller).run());
    for program in &config.execution.demand_response {
        let task =
            crate::demand::run(program.clone(), Arc::clone(&execution), Arc::clone(&host.store), host.shutdown.clone());
        host.spawn("demand response", task);
    }
    let (waiter, shutdown) = (Arc::clone(&execution), host.shutdown.clone());
    host.spawn("power waits", async move {
        let mut every = tokio::time::interval(Duration::from_millis(200));
        loop {
            tokio::select! {
                _ = every.tick() => waiter.recheck_power(),
                () = shutdown.cancelled() => return,
            }
        }
    });
    let (worker, shutdown) = (Arc::clone(&execution), host.shutdown.clone());
    host.spawn("reconciler", async move {
        loop {
            tokio::select! {
                next = todo.recv() => match next {
                    Some(id) => worker.reconcile(id).await,
                    None => return,
                },
                () = shutdown.cancelled() => return,
            }
        }
    });
    let (sweeper, shutdown) = (Arc::clone(&execution), host.shutdown.clone());
    host.spawn("lost agents", async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = every.tick() => sweeper.sweep().await,
                () = shutdown.cancelled() => return,
            }
        }
    });
    let mut services = GrpcServices::default();
    services.add(ExecutionServer::new(ExecutionService(Arc::clone(&execution))));
    services.add(FleetServer::new(FleetService(Arc::clone(&controller))));
    let addr = host.serve("execution", services, grpc).await?;
    Ok((addr, execution))
}
