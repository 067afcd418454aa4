//! The Execution gRPC API: the agents' stream, logs and the list of agents.

use crate::execution::{Execution, Link};
use hcp_eventstore::EventStore;
use hcp_proto::v1 as pb;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};

/// How often execution expects to hear from an agent's stream (its keepalive).
const PING: Duration = Duration::from_secs(5);

/// The service.
pub struct ExecutionService<S>(pub Arc<Execution<S>>);

type Commands = Pin<Box<dyn Stream<Item = Result<pb::AgentCommand, Status>> + Send>>;

#[tonic::async_trait]
impl<S: EventStore> pb::execution_server::Execution for ExecutionService<S> {
    type AttachStream = Commands;

    async fn attach(&self, request: Request<Streaming<pb::AgentMessage>>) -> Result<Response<Commands>, Status> {
        let mut inbound = request.into_inner();
        let first = tokio::time::timeout(Duration::from_secs(10), inbound.message())
            .await
            .map_err(|_| Status::invalid_argument("enrol: the agent sent nothing within 10 s"))??;
        let Some(pb::AgentMessage { message: Some(pb::agent_message::Message::Enrol(enrol)) }) = first else {
            return Err(Status::invalid_argument("enrol: the first message must be an enrolment"));
        };
        if !self.0.token.matches(&enrol.token) {
            tracing::warn!(host = %enrol.host, "enrolment with a wrong token refused");
            return Err(Status::unauthenticated("token: not an enrolment token this execution issued"));
        }
        if enrol.host.is_empty() || enrol.host.len() > 253 {
            return Err(Status::invalid_argument("host: 1-253 characters"));
        }
        let (tx, rx) = mpsc::channel(1024);
        let session = self.0.next();
        let host = enrol.host.clone();
        let _ = tx
            .send(Ok(pb::AgentCommand {
                command: Some(pb::agent_command::Command::Enrolled(pb::Enrolled {
                    ping_interval_ms: PING.as_millis() as u32,
                })),
            }))
            .await;
        self.0.agents().insert(
            host.clone(),
            Link { tx: Some(tx), gpus: enrol.gpu_uuids.len(), runner: enrol.runner.clone(), gone_since: None, session },
        );
        tracing::info!(%host, gpus = enrol.gpu_uuids.len(), runner = %enrol.runner, "agent enrolled");
        let execution = Arc::clone(&self.0);
        tokio::spawn(async move {
            // What it runs first, then everything placed on it is told again.
            let reported: Vec<String> = enrol.running.iter().map(|r| r.workload_id.clone()).collect();
            for report in enrol.running {
                execution.report(&host, report).await;
            }
            let placed = execution.ledger().on_host(&host);
            {
                let mut ledger = execution.ledger();
                ledger.sent.retain(|(w, h), _| h != &host || reported.contains(&w.to_string()));
            }
            for id in placed {
                execution.reconcile(id).await;
            }
            loop {
                match inbound.message().await {
                    Ok(Some(pb::AgentMessage { message: Some(m) })) => match m {
                        pb::agent_message::Message::Report(r) => execution.report(&host, r).await,
                        pb::agent_message::Message::Logs(reply) => {
                            let waiting = execution.queries().remove(&reply.request);
                            if let Some(waiting) = waiting {
                                let _ = waiting.send(reply);
                            }
                        }
                        pb::agent_message::Message::Enrol(_) => tracing::warn!(%host, "enrolled twice on one stream"),
                    },
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
            let mut agents = execution.agents();
            if let Some(link) = agents.get_mut(&host).filter(|l| l.session == session) {
                link.tx = None;
                link.gone_since = Some(Instant::now());
                tracing::warn!(%host, "agent disconnected");
            }
        });
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))))
    }

    async fn logs(&self, request: Request<pb::LogsRequest>) -> Result<Response<pb::LogsResponse>, Status> {
        let r = request.into_inner();
        let id = hcp_domain::ids::WorkloadId::parse(&r.workload_id)
            .map_err(|e| Status::invalid_argument(format!("workload_id: {e}")))?;
        let hosts: Vec<String> = {
            let ledger = self.0.ledger();
            let placed: Vec<String> =
                ledger.placed.get(&id).map(|p| p.hosts.keys().cloned().collect()).unwrap_or_default();
            if placed.is_empty() {
                // Ended: ask every agent; the one that ran it has its log.
                self.0.agents().keys().cloned().collect()
            } else {
                placed
            }
        };
        for host in hosts {
            let request = self.0.next();
            let (tx, rx) = oneshot::channel();
            self.0.queries().insert(request, tx);
            let query = pb::LogsQuery { request, workload_id: r.workload_id.clone(), max_bytes: r.max_bytes };
            if !self.0.send(&host, pb::agent_command::Command::Logs(query)).await {
                continue;
            }
            if let Ok(Ok(reply)) = tokio::time::timeout(Duration::from_secs(5), rx).await
                && reply.found
            {
                return Ok(Response::new(pb::LogsResponse { text: reply.text, host }));
            }
        }
        Err(Status::not_found(format!("workload_id: no connected agent has a log of {}", r.workload_id)))
    }

    async fn list_agents(
        &self,
        _request: Request<pb::ListAgentsRequest>,
    ) -> Result<Response<pb::ListAgentsResponse>, Status> {
        let ledger = self.0.ledger();
        let agents = self
            .0
            .agents()
            .iter()
            .filter(|(_, l)| l.tx.is_some())
            .map(|(host, l)| pb::AgentView {
                host: host.clone(),
                gpus: l.gpus as u32,
                running: ledger.on_host(host).iter().map(ToString::to_string).collect(),
                runner: l.runner.clone(),
            })
            .collect();
        Ok(Response::new(pb::ListAgentsResponse { agents }))
    }
}
