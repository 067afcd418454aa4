//! The Notifications gRPC API: endpoints, their secrets and rotation, deliveries, replay,
//! a test send, and the erasure of a tenant's secrets. What it records it waits to see in
//! the view, so a read after a write sees the write.

use crate::channels::mask;
use crate::keys::Keys;
use crate::rules::{WATCHED, notification};
use crate::view::{Endpoint, View};
use crate::{endpoint_stream, fanout, notify_stream, types};
use hcp_eventstore::{EventStore, ExpectedVersion, NewEvent, Position};
use hcp_notify::webhook::Secret;
use hcp_proto::v1 as pb;
use hcp_proto::v1::notifications_server::Notifications;
use hcp_runtime::config::NotificationsConfig;
use hcp_runtime::grpc::request_context;
use hcp_runtime::host::ReactorWatch;
use prost::Message;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// The notification type a test send has.
pub const TEST_TYPE: &str = "test";

/// The service.
pub struct NotificationsService<S> {
    /// The store.
    pub store: Arc<S>,
    /// The view.
    pub view: Arc<View>,
    /// The view's reactor.
    pub watch: ReactorWatch,
    /// Tenants' keys.
    pub keys: Keys,
    /// `[notifications]`.
    pub config: NotificationsConfig,
}

fn store_status(e: &hcp_eventstore::StoreError) -> Status {
    hcp_runtime::status(e)
}

fn required<'a>(field: &str, value: &'a str) -> Result<&'a str, Status> {
    if value.trim().is_empty() {
        return Err(Status::invalid_argument(format!("{field}: required")));
    }
    Ok(value)
}

impl<S: EventStore> NotificationsService<S> {
    async fn append(&self, stream: &str, expected: ExpectedVersion, event: NewEvent) -> Result<(), Status> {
        let appended = self.store.append(stream, expected, vec![event]).await.map_err(|e| store_status(&e))?;
        self.seen(appended.last_position).await;
        Ok(())
    }

    async fn seen(&self, position: Position) {
        self.watch.caught_up(position).await;
    }

    fn view_of(&self, e: &Endpoint) -> pb::EndpointView {
        let tenant = &e.created.tenant;
        let readable = self.keys.get(tenant).ok().flatten().is_some_and(|k| k.open(tenant, &e.secret_sealed).is_ok());
        pb::EndpointView {
            id: e.created.id.clone(),
            tenant: tenant.clone(),
            url: e.created.url.clone(),
            types: e.created.types.clone(),
            description: e.created.description.clone(),
            disabled: e.disabled.is_some(),
            disabled_reason: e.disabled.clone().unwrap_or_default(),
            readable,
        }
    }

    /// The tenant's endpoint `id`, or NotFound (another tenant's is not found either).
    fn owned(&self, tenant: &str, id: &str) -> Result<Endpoint, Status> {
        required("tenant", tenant)?;
        self.view
            .endpoint(required("id", id)?)
            .filter(|e| e.created.tenant == tenant)
            .ok_or_else(|| Status::not_found(format!("id: no endpoint {id:?} of tenant {tenant:?}")))
    }

    fn seal(&self, tenant: &str, secret: &Secret) -> Result<String, Status> {
        self.seal_text(tenant, &secret.expose())
    }

    fn seal_text(&self, tenant: &str, text: &str) -> Result<String, Status> {
        let key = self.keys.get_or_make(tenant).map_err(|e| hcp_runtime::status(&e))?;
        Ok(key.seal(tenant, text.as_bytes()))
    }

    /// Disables (`endpoint.disabled`, naming who) or enables an endpoint of the tenant's.
    async fn set_state(
        &self,
        request: Request<pb::EndpointRequest>,
        kind: &str,
    ) -> Result<Response<pb::EndpointView>, Status> {
        let context = request_context("notifications", &request);
        let r = request.into_inner();
        self.owned(&r.tenant, &r.id)?;
        let reason =
            if kind == types::ENDPOINT_DISABLED { format!("disabled by {}", context.actor) } else { String::new() };
        let changed = pb::EndpointStateChanged { reason };
        let event = context.event(0, kind, changed.encode_to_vec(), hcp_runtime::clock::now_micros());
        self.append(&endpoint_stream(&r.id), ExpectedVersion::Any, event).await?;
        Ok(Response::new(self.view_of(&self.owned(&r.tenant, &r.id)?)))
    }

    /// The tenant's endpoint or contact `id` (deliveries, replays and tests take either).
    fn target(&self, tenant: &str, id: &str) -> Result<(), Status> {
        if self.view.contact(id).is_some_and(|c| c.tenant == tenant) {
            return Ok(());
        }
        self.owned(tenant, id).map(|_| ())
    }

    fn contact_view(&self, c: &pb::ContactCreated) -> pb::ContactView {
        let key = self.keys.get(&c.tenant).ok().flatten();
        let address = key.and_then(|k| k.open(&c.tenant, &c.address_sealed).ok());
        pb::ContactView {
            id: c.id.clone(),
            tenant: c.tenant.clone(),
            channel: c.channel.clone(),
            address: address.as_deref().map(|a| mask(&String::from_utf8_lossy(a))).unwrap_or_default(),
            types: c.types.clone(),
            readable: address.is_some(),
        }
    }
}

/// Whether every type named is one the rules raise (or a test's).
fn valid_types(types: &[String]) -> Result<(), Status> {
    match types.iter().find(|t| !WATCHED.contains(&t.as_str()) && t.as_str() != TEST_TYPE) {
        Some(bad) => Err(Status::invalid_argument(format!("types: {bad:?} is not one of {}", WATCHED.join(", ")))),
        None => Ok(()),
    }
}

/// Whether `address` is one `channel` can reach: an email address, or an E.164 number.
fn valid_address(channel: &str, address: &str) -> Result<(), Status> {
    let ok = match channel {
        "email" => address.parse::<lettre::Address>().is_ok(),
        "sms" => {
            let digits = address.strip_prefix('+').unwrap_or("");
            (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit())
        }
        _ => return Err(Status::invalid_argument(format!("channel: {channel:?} is not email or sms"))),
    };
    if ok { Ok(()) } else { Err(Status::invalid_argument(format!("address: not a valid {channel} address"))) }
}

#[tonic::async_trait]
impl<S: EventStore> Notifications for NotificationsService<S> {
    async fn create_contact(
        &self,
        request: Request<pb::CreateContactRequest>,
    ) -> Result<Response<pb::ContactView>, Status> {
        let context = request_context("notifications", &request);
        let r = request.into_inner();
        let tenant = required("tenant", &r.tenant)?;
        valid_address(&r.channel, r.address.trim())?;
        valid_types(&r.types)?;
        let id = format!("ct_{}", uuid::Uuid::now_v7().simple());
        let created = pb::ContactCreated {
            id: id.clone(),
            tenant: tenant.to_owned(),
            channel: r.channel,
            address_sealed: self.seal_text(tenant, r.address.trim())?,
            types: r.types,
        };
        let now = hcp_runtime::clock::now_micros();
        let event = context.with_tenant(tenant).event(0, types::CONTACT_CREATED, created.encode_to_vec(), now);
        self.append(&crate::contact_stream(&id), ExpectedVersion::NoStream, event).await?;
        Ok(Response::new(self.contact_view(&created)))
    }

    async fn erase_secrets(
        &self,
        request: Request<pb::EraseSecretsRequest>,
    ) -> Result<Response<pb::SecretsErased>, Status> {
        let context = request_context("notifications", &request);
        let r = request.into_inner();
        let tenant = required("tenant", &r.tenant)?;
        let had_key = self.keys.get(tenant).map_err(|e| hcp_runtime::status(&e))?.is_some();
        let enabled = self.view.endpoints(tenant).into_iter().filter(|e| e.disabled.is_none());
        let reason = match r.reason.trim() {
            "" => format!("erased by {}", context.actor),
            why => why.to_owned(),
        };
        let erased = pb::SecretsErased {
            tenant: tenant.to_owned(),
            reason,
            had_key,
            endpoints_disabled: enabled.map(|e| e.created.id).collect(),
        };
        // Recorded first: the log says who erased the key and why even if what follows
        // fails (asked again, it goes on; the key's erasure answers the same).
        let now = hcp_runtime::clock::now_micros();
        let context = context.with_tenant(tenant);
        let event = context.event(0, types::SECRETS_ERASED, erased.encode_to_vec(), now);
        self.append(&crate::secrets_stream(tenant), ExpectedVersion::Any, event).await?;
        self.keys.erase(tenant).map_err(|e| hcp_runtime::status(&e))?;
        for (n, id) in erased.endpoints_disabled.iter().enumerate() {
            let changed = pb::EndpointStateChanged { reason: "the tenant's secrets were erased".into() };
            let event = context.event(n + 1, types::ENDPOINT_DISABLED, changed.encode_to_vec(), now);
            self.append(&endpoint_stream(id), ExpectedVersion::Any, event).await?;
        }
        tracing::warn!(tenant, endpoints = erased.endpoints_disabled.len(), "a tenant's secrets were erased");
        Ok(Response::new(erased))
    }

    async fn list_contacts(
        &self,
        request: Request<pb::ListContactsRequest>,
    ) -> Result<Response<pb::ListContactsResponse>, Status> {
        let r = request.into_inner();
        let contacts =
            self.view.contacts(required("tenant", &r.tenant)?).iter().map(|c| self.contact_view(c)).collect();
        Ok(Response::new(pb::ListContactsResponse { contacts }))
    }

    async fn create_endpoint(
        &self,
        request: Request<pb::CreateEndpointRequest>,
    ) -> Result<Response<pb::CreatedEndpoint>, Status> {
        let context = request_context("notifications", &request);
        let r = request.into_inner();
        let tenant = required("tenant", &r.tenant)?;
        let url = required("url", &r.url)?;
        if !(url.starts_with("http://") || url.starts_with("https://"))
            || url.parse::<tonic::codegen::http::Uri>().is_err()
        {
            return Err(Status::invalid_argument(format!("url: {url:?} is not an http(s):// URL")));
        }
        valid_types(&r.types)?;
        let id = format!("ep_{}", uuid::Uuid::now_v7().simple());
        let secret = Secret::generate();
        let created = pb::EndpointCreated {
            id: id.clone(),
            tenant: tenant.to_owned(),
            url: url.to_owned(),
            types: r.types,
            description: r.description,
            secret_sealed: self.seal(tenant, &secret)?,
        };
        let event = context.with_tenant(tenant).event(
            0,
            types::ENDPOINT_CREATED,
            created.encode_to_vec(),
            hcp_runtime::clock::now_micros(),
        );
        self.append(&endpoint_stream(&id), ExpectedVersion::NoStream, event).await?;
        let endpoint = self.view.endpoint(&id).map(|e| self.view_of(&e));
        Ok(Response::new(pb::CreatedEndpoint { endpoint, secret: secret.expose() }))
    }

    async fn list_endpoints(
        &self,
        request: Request<pb::ListEndpointsRequest>,
    ) -> Result<Response<pb::ListEndpointsResponse>, Status> {
        let r = request.into_inner();
        let endpoints = self.view.endpoints(required("tenant", &r.tenant)?).iter().map(|e| self.view_of(e)).collect();
        Ok(Response::new(pb::ListEndpointsResponse { endpoints }))
    }

    async fn rotate_secret(
        &self,
        request: Request<pb::EndpointRequest>,
    ) -> Result<Response<pb::CreatedEndpoint>, Status> {
        let context = request_context("notifications", &request);
        let r = request.into_inner();
        let endpoint = self.owned(&r.tenant, &r.id)?;
        let secret = Secret::generate();
        let overlap = (self.config.rotation_overlap_seconds * 1e6) as i64;
        let now = hcp_runtime::clock::now_micros();
        let rotated = pb::EndpointSecretRotated {
            secret_sealed: self.seal(&r.tenant, &secret)?,
            previous_sealed: endpoint.secret_sealed,
            previous_until_unix_micros: now + overlap,
        };
        let event =
            context.with_tenant(r.tenant.as_str()).event(0, types::SECRET_ROTATED, rotated.encode_to_vec(), now);
        self.append(&endpoint_stream(&r.id), ExpectedVersion::Any, event).await?;
        let endpoint = self.view.endpoint(&r.id).map(|e| self.view_of(&e));
        Ok(Response::new(pb::CreatedEndpoint { endpoint, secret: secret.expose() }))
    }

    async fn disable_endpoint(
        &self,
        request: Request<pb::EndpointRequest>,
    ) -> Result<Response<pb::EndpointView>, Status> {
        self.set_state(request, types::ENDPOINT_DISABLED).await
    }

    async fn enable_endpoint(
        &self,
        request: Request<pb::EndpointRequest>,
    ) -> Result<Response<pb::EndpointView>, Status> {
        self.set_state(request, types::ENDPOINT_ENABLED).await
    }

    async fn list_deliveries(
        &self,
        request: Request<pb::ListDeliveriesRequest>,
    ) -> Result<Response<pb::ListDeliveriesResponse>, Status> {
        let r = request.into_inner();
        self.target(&r.tenant, &r.id)?;
        Ok(Response::new(pb::ListDeliveriesResponse { deliveries: self.view.deliveries(&r.id) }))
    }

    async fn replay(&self, request: Request<pb::EndpointRequest>) -> Result<Response<pb::ReplayResponse>, Status> {
        let r = request.into_inner();
        self.target(&r.tenant, &r.id)?;
        let dead = self.view.dead_lettered(&r.id);
        let now = hcp_runtime::clock::now_micros();
        for (id, d) in &dead {
            let n = pb::Notification {
                id: id.clone(),
                tenant: r.tenant.clone(),
                r#type: d.kind.clone(),
                body: d.body.clone(),
                ..Default::default()
            };
            fanout::schedule(self.store.as_ref(), &r.id, &n, d.round + 1, now).await.map_err(|e| store_status(&e))?;
        }
        self.seen(self.store.head().await.map_err(|e| store_status(&e))?).await;
        Ok(Response::new(pb::ReplayResponse { replayed: dead.len() as u32 }))
    }

    async fn send_test(&self, request: Request<pb::EndpointRequest>) -> Result<Response<pb::Notification>, Status> {
        let context = request_context("notifications", &request);
        let r = request.into_inner();
        self.target(&r.tenant, &r.id)?;
        let now = hcp_runtime::clock::now_micros();
        let data = serde_json::json!({"endpoint": r.id, "message": "a test from HCP"});
        let context = context.with_tenant(r.tenant.as_str());
        let event = notification(&context, now, &r.tenant, TEST_TYPE, &r.id, data, &r.id);
        let raised = pb::Notification::decode(event.payload.as_ref()).map_err(|e| Status::internal(e.to_string()))?;
        self.append(&notify_stream(&r.tenant), ExpectedVersion::Any, event).await?;
        Ok(Response::new(raised))
    }
}
