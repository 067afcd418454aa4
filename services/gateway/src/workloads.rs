//! `/v1/workloads`: customers' workloads over REST, each call forwarded to routing's
//! Workloads API on the caller's behalf. Bodies and answers are the API's own messages in
//! the proto3 JSON mapping. A tenant's key acts for its tenant alone: the tenant of a
//! submitted spec is its own, and another tenant's workload is not found (its existence
//! is not told). The `Idempotency-Key` header is the submit's key, scoped to the tenant.

use crate::auth::Caller;
use crate::body::Body;
use crate::forward::json_of;
use crate::problem::Problem;
use crate::state::Gateway;
use crate::upstream::Upstream;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use hcp_proto::v1 as pb;
use hcp_proto::v1::execution_client::ExecutionClient;
use hcp_proto::v1::workloads_client::WorkloadsClient;
use prost::Message;
use std::collections::HashMap;
use std::sync::Arc;

fn client(g: &Gateway) -> WorkloadsClient<tonic::transport::Channel> {
    WorkloadsClient::new(g.upstreams.channel(Upstream::Routing))
}

/// Whether `caller` may see workloads of `tenant`.
fn sees(caller: &Caller, tenant: &str) -> bool {
    caller.0.tenant.as_ref().is_none_or(|t| t.as_str() == tenant)
}

/// `POST /v1/workloads`: a spec (`hcp.v1.WorkloadSpec`); 201 with the workload.
pub async fn submit(
    State(g): State<Arc<Gateway>>,
    caller: Caller,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, Problem> {
    let bytes = hcp_proto::descriptors::json_to_message("hcp.v1.WorkloadSpec", &body)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, format!("spec: {e}")))?;
    let mut spec = pb::WorkloadSpec::decode(bytes.as_slice())
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, format!("spec: {e}")))?;
    match &caller.0.tenant {
        Some(own) if spec.tenant.is_empty() || spec.tenant == own.as_str() => spec.tenant = own.as_str().to_owned(),
        Some(_) => return Err(Problem::forbidden("spec.tenant: a key acts for its own tenant only")),
        None if spec.tenant.is_empty() => {
            return Err(Problem::new(StatusCode::BAD_REQUEST, "spec.tenant: name the tenant it runs for"));
        }
        None => {}
    }
    let key = headers.get("idempotency-key").map(|v| v.to_str().unwrap_or_default().to_owned()).unwrap_or_default();
    let submit = pb::SubmitWorkloadRequest { spec: Some(spec), request_id: key };
    let view = client(&g).submit(caller.request(submit)).await.map_err(|s| Problem::from_status(&s))?;
    Ok(json_of(StatusCode::CREATED, "hcp.v1.WorkloadView", &view.into_inner()))
}

/// A workload the caller may see, or 404.
async fn visible(g: &Gateway, caller: &Caller, id: &str) -> Result<pb::WorkloadView, Problem> {
    let get = pb::GetWorkloadRequest { workload_id: id.to_owned() };
    let view = client(g).get(caller.request(get)).await.map_err(|s| Problem::from_status(&s))?.into_inner();
    let tenant = view.spec.as_ref().map(|s| s.tenant.as_str()).unwrap_or_default();
    if !sees(caller, tenant) {
        return Err(Problem::not_found(format!("no workload {id}")));
    }
    Ok(view)
}

/// `GET /v1/workloads/{id}`.
pub async fn get(State(g): State<Arc<Gateway>>, caller: Caller, Path(id): Path<String>) -> Result<Response, Problem> {
    let view = visible(&g, &caller, &id).await?;
    Ok(json_of(StatusCode::OK, "hcp.v1.WorkloadView", &view))
}

/// What a workload's owner may do to it.
#[derive(Debug, Clone, Copy)]
enum Action {
    Pause,
    Resume,
    Cancel,
}

async fn act(g: &Gateway, caller: &Caller, id: String, action: Action) -> Result<Response, Problem> {
    visible(g, caller, &id).await?;
    let reason = format!("{} by {}", format!("{action:?}").to_lowercase(), caller.0.id);
    let message = caller.request(pb::WorkloadActionRequest { workload_id: id, reason });
    let mut c = client(g);
    let view = match action {
        Action::Pause => c.pause(message).await,
        Action::Resume => c.resume(message).await,
        Action::Cancel => c.cancel(message).await,
    };
    Ok(json_of(StatusCode::OK, "hcp.v1.WorkloadView", &view.map_err(|s| Problem::from_status(&s))?.into_inner()))
}

/// `POST /v1/workloads/{id}/pause`: it keeps its GPUs (and is billed for them).
pub async fn pause(State(g): State<Arc<Gateway>>, caller: Caller, Path(id): Path<String>) -> Result<Response, Problem> {
    act(&g, &caller, id, Action::Pause).await
}

/// `POST /v1/workloads/{id}/resume`.
pub async fn resume(
    State(g): State<Arc<Gateway>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    act(&g, &caller, id, Action::Resume).await
}

/// `POST /v1/workloads/{id}/cancel`.
pub async fn cancel(
    State(g): State<Arc<Gateway>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    act(&g, &caller, id, Action::Cancel).await
}

/// `GET /v1/workloads/{id}/history`: every event of its life, in order.
pub async fn history(
    State(g): State<Arc<Gateway>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    visible(&g, &caller, &id).await?;
    let get = caller.request(pb::GetWorkloadRequest { workload_id: id });
    let history = client(&g).history(get).await.map_err(|s| Problem::from_status(&s))?;
    Ok(json_of(StatusCode::OK, "hcp.v1.WorkloadHistory", &history.into_inner()))
}

/// `GET /v1/workloads/{id}/why`: why it waits (its reason, message and queue position).
pub async fn why(State(g): State<Arc<Gateway>>, caller: Caller, Path(id): Path<String>) -> Result<Response, Problem> {
    visible(&g, &caller, &id).await?;
    let get = caller.request(pb::GetWorkloadRequest { workload_id: id });
    let pending = client(&g).why(get).await.map_err(|s| Problem::from_status(&s))?;
    Ok(json_of(StatusCode::OK, "hcp.v1.PendingInfo", &pending.into_inner()))
}

/// `GET /v1/workloads?status=&page_size=&page_token=`: the caller's tenant's (a platform
/// key: every tenant's, or `tenant=`).
pub async fn list(
    State(g): State<Arc<Gateway>>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    let page_size = match query.get("page_size") {
        Some(n) => n
            .parse::<u32>()
            .map_err(|_| Problem::new(StatusCode::BAD_REQUEST, format!("page_size: {n:?} is not a count")))?,
        None => 50,
    };
    let tenant = match &caller.0.tenant {
        Some(own) => own.as_str().to_owned(),
        None => query.get("tenant").cloned().unwrap_or_default(),
    };
    let list = pb::ListWorkloadsRequest {
        tenant,
        status: query.get("status").cloned().unwrap_or_default(),
        page_size,
        page_token: query.get("page_token").cloned().unwrap_or_default(),
    };
    let page = client(&g).list(caller.request(list)).await.map_err(|s| Problem::from_status(&s))?;
    Ok(json_of(StatusCode::OK, "hcp.v1.ListWorkloadsResponse", &page.into_inner()))
}

/// `GET /v1/workloads/{id}/logs?max_bytes=`: its output, from the host it runs on.
pub async fn logs(
    State(g): State<Arc<Gateway>>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    visible(&g, &caller, &id).await?;
    let max_bytes = match query.get("max_bytes") {
        Some(n) => n
            .parse::<u32>()
            .map_err(|_| Problem::new(StatusCode::BAD_REQUEST, format!("max_bytes: {n:?} is not a count")))?,
        None => 64 * 1024,
    };
    let mut execution = ExecutionClient::new(g.upstreams.channel(Upstream::Execution));
    let logs = execution
        .logs(caller.request(pb::LogsRequest { workload_id: id, max_bytes }))
        .await
        .map_err(|s| Problem::from_status(&s))?;
    Ok(json_of(StatusCode::OK, "hcp.v1.LogsResponse", &logs.into_inner()))
}
