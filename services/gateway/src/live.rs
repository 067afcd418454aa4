//! Live updates: `GET /v1/stream` (a WebSocket) and `GET /v1/events` (Server-Sent
//! Events) send each new event the caller may see, as JSON, in log order. A tenant's key
//! sees its own workloads' events; a platform key sees every workload's and resource's.
//! Filters: `kinds=workload,resource`, `workload=<id>`. Each message carries its log
//! position; a client that reconnects with `after=<position>` (or SSE's `Last-Event-ID`)
//! gets everything after it, so it misses nothing. The WebSocket is pinged every 15 s
//! (and answers pings); SSE sends a keep-alive comment.

use crate::auth::Caller;
use crate::problem::Problem;
use crate::state::{Gateway, Log};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use hcp_eventstore::{RecordedEvent, Subscription};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How often an idle WebSocket is pinged.
const PING_EVERY: Duration = Duration::from_secs(15);

/// Which tenant each workload is for (read once from its first event, then kept).
#[derive(Default)]
pub struct Tenancy(RwLock<HashMap<String, Option<String>>>);

impl Tenancy {
    /// The tenant of workload `id`, whose event `event` is.
    async fn of(&self, log: &dyn Log, id: &str, event: &RecordedEvent) -> Option<String> {
        if let Some(known) = self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(id) {
            return known.clone();
        }
        // Its submission carries the tenant; a later event may not.
        let tenant = match &event.metadata.tenant {
            Some(t) if event.version == 1 => Some(t.clone()),
            _ => log.first(&event.stream).await.ok().flatten().and_then(|first| first.metadata.tenant),
        };
        self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner).insert(id.to_owned(), tenant.clone());
        tenant
    }
}

/// What a caller asked to follow.
#[derive(Debug, Clone)]
struct Filter {
    /// The caller's tenant (none: the platform, which sees every tenant).
    tenant: Option<String>,
    workloads: bool,
    resources: bool,
    workload: Option<String>,
    /// The first position to send.
    from: Option<u64>,
}

impl Filter {
    fn parse(caller: &Caller, query: &HashMap<String, String>, last_event_id: Option<&str>) -> Result<Self, Problem> {
        let bad = |detail: String| Problem::new(StatusCode::BAD_REQUEST, detail);
        for name in query.keys() {
            if !["after", "kinds", "workload", "access_token"].contains(&name.as_str()) {
                return Err(bad(format!("{name}: no such parameter (after, kinds, workload)")));
            }
        }
        let tenant = caller.0.tenant.as_ref().map(|t| t.as_str().to_owned());
        let (mut workloads, mut resources) = (true, tenant.is_none());
        if let Some(kinds) = query.get("kinds") {
            (workloads, resources) = (false, false);
            for kind in kinds.split(',').map(str::trim) {
                match kind {
                    "workload" => workloads = true,
                    "resource" if tenant.is_none() => resources = true,
                    "resource" => return Err(Problem::forbidden("kinds: resources are the platform's")),
                    other => return Err(bad(format!("kinds: {other:?} is not workload or resource"))),
                }
            }
        }
        let after = query.get("after").map(String::as_str).or(last_event_id);
        let from = match after {
            Some(a) => Some(
                a.trim().parse::<u64>().map_err(|_| bad(format!("after: {a:?} is not a position")))?.saturating_add(1),
            ),
            None => None,
        };
        Ok(Filter { tenant, workloads, resources, workload: query.get("workload").cloned(), from })
    }
}

/// A caller's filtered view of the log.
struct Feed {
    gateway: Arc<Gateway>,
    filter: Filter,
    subscription: Subscription,
}

impl Feed {
    async fn open(gateway: Arc<Gateway>, filter: Filter) -> Result<Self, Problem> {
        let unavailable = |e: hcp_eventstore::StoreError| {
            Problem::new(StatusCode::SERVICE_UNAVAILABLE, format!("the event log is unavailable: {e}"))
        };
        let from = match filter.from {
            Some(from) => from,
            None => gateway.log.head().await.map_err(unavailable)? + 1,
        };
        let subscription = gateway.log.subscribe(from).await.map_err(unavailable)?;
        Ok(Feed { gateway, filter, subscription })
    }

    /// Whether the caller sees `event`.
    async fn sees(&self, event: &RecordedEvent) -> bool {
        let f = &self.filter;
        if let Some(id) = event.stream.strip_prefix("workload-") {
            if !f.workloads || f.workload.as_ref().is_some_and(|w| w != id) {
                return false;
            }
            match &f.tenant {
                None => true,
                Some(own) => self.gateway.tenancy.of(self.gateway.log.as_ref(), id, event).await.as_ref() == Some(own),
            }
        } else {
            event.stream.starts_with("resource-") && f.resources && f.workload.is_none()
        }
    }

    /// The next event the caller sees: (its position, its JSON); `None` when the log ends.
    async fn next(&mut self) -> Option<Result<(u64, String), String>> {
        loop {
            let event = match self.subscription.next().await? {
                Ok(e) => e,
                Err(e) => return Some(Err(e.to_string())),
            };
            if self.sees(&event).await {
                let json: Value = hcp_runtime::render::event_json(&event);
                return Some(Ok((event.position, json.to_string())));
            }
        }
    }
}

/// `GET /v1/stream`: the WebSocket.
pub async fn websocket(
    State(g): State<Arc<Gateway>>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, Problem> {
    let filter = Filter::parse(&caller, &query, None)?;
    let upgrade = upgrade.map_err(|e| {
        Problem::new(StatusCode::UPGRADE_REQUIRED, format!("a WebSocket handshake is required here: {}", e.body_text()))
    })?;
    let feed = Feed::open(g, filter).await?;
    Ok(upgrade.on_upgrade(move |socket| pump(socket, feed)).into_response())
}

async fn pump(mut socket: WebSocket, mut feed: Feed) {
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            next = feed.next() => match next {
                Some(Ok((_, json))) => {
                    if socket.send(Message::Text(json.into())).await.is_err() {
                        return;
                    }
                }
                Some(Err(e)) => {
                    let frame = axum::extract::ws::CloseFrame { code: 1011, reason: format!("the event log failed: {e}").into() };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                    return;
                }
                None => return,
            },
            _ = ping.tick() => {
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
            }
            received = socket.recv() => match received {
                // Pongs, and pings (answered by the socket itself), keep it alive; the
                // client says nothing else.
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

/// `GET /v1/events`: the same as Server-Sent Events (`id:` the position, `data:` the event).
pub async fn server_sent(
    State(g): State<Arc<Gateway>>,
    caller: Caller,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    let last = headers.get("last-event-id").and_then(|v| v.to_str().ok());
    let filter = Filter::parse(&caller, &query, last)?;
    let feed = Feed::open(g, filter).await?;
    let stream = futures_util::stream::unfold(feed, |mut feed| async move {
        let event = match feed.next().await? {
            Ok((position, json)) => Event::default().id(position.to_string()).data(json),
            Err(e) => Event::default().event("error").data(e),
        };
        Some((Ok::<_, std::convert::Infallible>(event), feed))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()).into_response())
}
