//! Every route of the REST API in one table (kept in parts, by area, and read whole
//! through [`all`]): what it does, who may call it, and, for the routes that are a
//! service's gRPC method over HTTP, which method. The router, the role check (in
//! [`crate::auth`], for every route at once) and the OpenAPI document are all made from
//! it, so none of them can leave a route out.

use crate::upstream::Upstream;
use hcp_domain::apikey::Role;

/// A route that is one gRPC method: the request is built from the body (a POST), the
/// query (a GET) and the path's `{id}`; the reply is the method's message as JSON.
pub struct Forward {
    /// The service.
    pub upstream: Upstream,
    /// The method's path, `/hcp.v1.Inventory/ListResources`.
    pub rpc: &'static str,
    /// The request message.
    pub request: &'static str,
    /// The request's field that the path's `{id}` fills ("" when the path has none).
    pub id_field: &'static str,
    /// Whether the request's `tenant` is the caller's when the caller is a tenant's key
    /// (naming another is refused); a platform key names it.
    pub tenanted: bool,
}

/// A route.
pub struct Route {
    /// `get` or `post`.
    pub method: &'static str,
    /// The path (axum's syntax, as OpenAPI's: `{id}`).
    pub path: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// The request body's message (for a forwarded POST: its request, less the field its
    /// path fills).
    pub body: Option<&'static str>,
    /// Whether the body may be left out (its fields are all optional).
    pub body_optional: bool,
    /// The success status and its message ("" for a plain object).
    pub ok: (u16, &'static str),
    /// Query parameters beyond a forwarded request's fields: (name, type, description).
    pub query: &'static [(&'static str, &'static str, &'static str)],
    /// The roles that may call it; none: open to all, without a key.
    pub roles: &'static [Role],
    /// What the path's `{id}` names.
    pub id: &'static str,
    /// The gRPC method it is, if it is one.
    pub forward: Option<Forward>,
}

impl Route {
    /// Whether it needs a key.
    pub fn keyed(&self) -> bool {
        !self.roles.is_empty()
    }

    /// The route of a request, by its method and matched path.
    pub fn find(method: &str, path: &str) -> Option<&'static Route> {
        all().find(|r| r.path == path && r.method.eq_ignore_ascii_case(method))
    }
}

/// Anyone with a key: a tenant's read roles and the platform's.
pub const READERS: &[Role] = &[Role::Viewer, Role::Developer, Role::Billing, Role::Operator, Role::Admin];
/// Who may see a tenant's workloads.
pub const TENANT_READ: &[Role] = &[Role::Viewer, Role::Developer, Role::Operator, Role::Admin];
/// Who may submit and control a tenant's workloads.
pub const TENANT_WRITE: &[Role] = &[Role::Developer, Role::Admin];
/// The platform's people: the fleet, sites, plans, hosts.
pub const PLATFORM: &[Role] = &[Role::Operator, Role::Admin];
/// Tenants and keys.
pub const ADMIN: &[Role] = &[Role::Admin];
/// Who may see and set a tenant's budget: its billing people and the platform's admins.
pub const BILLING: &[Role] = &[Role::Billing, Role::Admin];

pub(crate) const fn open(method: &'static str, path: &'static str, summary: &'static str) -> Route {
    Route {
        method,
        path,
        summary,
        body: None,
        body_optional: false,
        ok: (200, ""),
        query: &[],
        roles: &[],
        id: "",
        forward: None,
    }
}

/// A route that is `rpc` on `upstream`, for `roles`.
#[allow(clippy::too_many_arguments)]
pub(crate) const fn grpc(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    roles: &'static [Role],
    upstream: Upstream,
    rpc: &'static str,
    request: &'static str,
    reply: &'static str,
    id: (&'static str, &'static str),
) -> Route {
    let body = if method.len() == 4 { Some(request) } else { None }; // "post"
    Route {
        method,
        path,
        summary,
        body,
        body_optional: true,
        ok: (200, reply),
        query: &[],
        roles,
        id: id.1,
        forward: Some(Forward { upstream, rpc, request, id_field: id.0, tenanted: false }),
    }
}

/// A [`grpc`] route on a tenant's data: a tenant's key reads and changes its own only.
#[allow(clippy::too_many_arguments)]
pub(crate) const fn tenants(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    roles: &'static [Role],
    rpc: &'static str,
    request: &'static str,
    reply: &'static str,
    id: (&'static str, &'static str),
) -> Route {
    tenanted(grpc(method, path, summary, roles, Upstream::Metering, rpc, request, reply, id))
}

/// A tenant's webhook route (notifications), the endpoint's id in the path if `id`.
#[allow(clippy::too_many_arguments)]
pub(crate) const fn webhooks(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    roles: &'static [Role],
    rpc: &'static str,
    request: &'static str,
    reply: &'static str,
    id: bool,
) -> Route {
    let id = if id { ENDPOINT } else { NO_ID };
    tenanted(grpc(method, path, summary, roles, Upstream::Notifications, rpc, request, reply, id))
}

/// `route` scoped to the caller's tenant.
pub(crate) const fn tenanted(route: Route) -> Route {
    let mut route = route;
    if let Some(forward) = &mut route.forward {
        forward.tenanted = true;
    }
    route
}

/// A route the gateway answers itself (its handler is in the router).
pub(crate) const fn own(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    roles: &'static [Role],
    body: Option<&'static str>,
    ok: (u16, &'static str),
    id: &'static str,
) -> Route {
    Route { method, path, summary, body, body_optional: false, ok, query: &[], roles, id, forward: None }
}

pub(crate) const WORKLOAD: &str = "The workload's id";
pub(crate) const SITE: (&str, &str) = ("site", "The site's id");
pub(crate) const HOST: (&str, &str) = ("host", "The host's name");
pub(crate) const TENANT: (&str, &str) = ("id", "The tenant's id");
pub(crate) const NO_ID: (&str, &str) = ("", "");
pub(crate) const ENDPOINT: (&str, &str) = ("id", "The webhook endpoint's id");

mod admin;
mod billing;
mod fleet;
mod workloads;

/// Every route, in the order the API documents them.
pub fn all() -> impl Iterator<Item = &'static Route> {
    [workloads::WORKLOADS, fleet::FLEET, billing::BILLING_AND_NOTIFICATIONS, admin::ADMINISTRATION]
        .into_iter()
        .flatten()
}
