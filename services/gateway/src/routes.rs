//! Every route of the REST API in one table: what it does, who may call it, and, for the
//! routes that are a service's gRPC method over HTTP, which method. The router, the
//! role check (in [`crate::auth`], for every route at once) and the OpenAPI document are
//! all made from it, so none of them can leave a route out.

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
        ROUTES.iter().find(|r| r.path == path && r.method.eq_ignore_ascii_case(method))
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

const fn open(method: &'static str, path: &'static str, summary: &'static str) -> Route {
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
const fn grpc(
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
const fn tenants(
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
const fn webhooks(
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
const fn tenanted(route: Route) -> Route {
    let mut route = route;
    if let Some(forward) = &mut route.forward {
        forward.tenanted = true;
    }
    route
}

/// A route the gateway answers itself (its handler is in the router).
const fn own(
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

const WORKLOAD: &str = "The workload's id";
const SITE: (&str, &str) = ("site", "The site's id");
const HOST: (&str, &str) = ("host", "The host's name");
const TENANT: (&str, &str) = ("id", "The tenant's id");
const NO_ID: (&str, &str) = ("", "");
const ENDPOINT: (&str, &str) = ("id", "The webhook endpoint's id");
use Upstream::{Discovery, Execution, Optimization, Pricing, Routing};

/// Every route.
pub const ROUTES: &[Route] = &[
    open("get", "/v1/health", "Whether the gateway answers"),
    open("get", "/v1/ready", "Whether every service behind the gateway answers (503 when one does not)"),
    own(
        "post",
        "/v1/workloads",
        "Submit a workload for the key's tenant (Idempotency-Key header: the same key answers the same workload for 24 h)",
        TENANT_WRITE,
        Some("hcp.v1.WorkloadSpec"),
        (201, "hcp.v1.WorkloadView"),
        "",
    ),
    Route {
        query: &[
            ("status", "string", "Only this status (queued, running, ...)"),
            ("page_size", "integer", "At most this many (default 50)"),
            ("page_token", "string", "The next_page_token of the page before"),
            ("tenant", "string", "Only this tenant (platform keys; a tenant's key sees its own)"),
        ],
        ..own(
            "get",
            "/v1/workloads",
            "The tenant's workloads, newest first, a page at a time",
            TENANT_READ,
            None,
            (200, "hcp.v1.ListWorkloadsResponse"),
            "",
        )
    },
    own("get", "/v1/workloads/{id}", "A workload", TENANT_READ, None, (200, "hcp.v1.WorkloadView"), WORKLOAD),
    own(
        "post",
        "/v1/workloads/{id}/pause",
        "Pause it (it keeps its GPUs)",
        TENANT_WRITE,
        None,
        (200, "hcp.v1.WorkloadView"),
        WORKLOAD,
    ),
    own("post", "/v1/workloads/{id}/resume", "Resume it", TENANT_WRITE, None, (200, "hcp.v1.WorkloadView"), WORKLOAD),
    own("post", "/v1/workloads/{id}/cancel", "Cancel it", TENANT_WRITE, None, (200, "hcp.v1.WorkloadView"), WORKLOAD),
    own(
        "get",
        "/v1/workloads/{id}/history",
        "Every event of its life, in order",
        TENANT_READ,
        None,
        (200, "hcp.v1.WorkloadHistory"),
        WORKLOAD,
    ),
    own(
        "get",
        "/v1/workloads/{id}/why",
        "Why it waits: the reason, the message and its place in the queue",
        TENANT_READ,
        None,
        (200, "hcp.v1.PendingInfo"),
        WORKLOAD,
    ),
    Route {
        query: &[("max_bytes", "integer", "At most this many bytes, the latest (default 64 KiB)")],
        ..own(
            "get",
            "/v1/workloads/{id}/logs",
            "Its output, from the host it runs on",
            TENANT_READ,
            None,
            (200, "hcp.v1.LogsResponse"),
            WORKLOAD,
        )
    },
    Route {
        query: &[
            ("after", "string", "Resume after this log position (the last message's `position`)"),
            ("kinds", "string", "workload, resource (platform keys), or both, comma-separated"),
            ("workload", "string", "Only this workload's events"),
        ],
        ..own(
            "get",
            "/v1/stream",
            "A WebSocket of the events the caller may see, live, in log order",
            READERS,
            None,
            (101, ""),
            "",
        )
    },
    Route {
        query: &[
            ("after", "string", "Resume after this log position (or the Last-Event-ID header)"),
            ("kinds", "string", "workload, resource (platform keys), or both, comma-separated"),
            ("workload", "string", "Only this workload's events"),
        ],
        ..own(
            "get",
            "/v1/events",
            "The same events as Server-Sent Events (id: the log position)",
            READERS,
            None,
            (200, ""),
            "",
        )
    },
    grpc(
        "get",
        "/v1/resources",
        "The fleet's devices, a page at a time",
        PLATFORM,
        Discovery,
        "/hcp.v1.Inventory/ListResources",
        "hcp.v1.ListResourcesRequest",
        "hcp.v1.ListResourcesResponse",
        NO_ID,
    ),
    grpc(
        "get",
        "/v1/resources/{id}",
        "A device, with its latest telemetry",
        PLATFORM,
        Discovery,
        "/hcp.v1.Inventory/GetResource",
        "hcp.v1.GetResourceRequest",
        "hcp.v1.Resource",
        ("id", "The resource's id"),
    ),
    grpc(
        "get",
        "/v1/resources/{id}/samples",
        "A device's recent telemetry, oldest first",
        PLATFORM,
        Discovery,
        "/hcp.v1.Inventory/Samples",
        "hcp.v1.SamplesRequest",
        "hcp.v1.SamplesResponse",
        ("resource_id", "The resource's id"),
    ),
    grpc(
        "get",
        "/v1/sites",
        "Each site: its cap, its power now and its mix of mining, AI and curtailed",
        PLATFORM,
        Optimization,
        "/hcp.v1.Optimization/ListSites",
        "hcp.v1.ListSitesRequest",
        "hcp.v1.ListSitesResponse",
        NO_ID,
    ),
    grpc(
        "post",
        "/v1/sites/{id}/cap",
        "Set a site's power cap",
        PLATFORM,
        Optimization,
        "/hcp.v1.Optimization/SetSiteCap",
        "hcp.v1.SetSiteCapRequest",
        "hcp.v1.SiteView",
        SITE,
    ),
    grpc(
        "post",
        "/v1/sites/{id}/curtail",
        "Curtail miners at a site (dry_run: the preview)",
        PLATFORM,
        Execution,
        "/hcp.v1.Fleet/Curtail",
        "hcp.v1.CurtailRequest",
        "hcp.v1.CurtailResponse",
        SITE,
    ),
    grpc(
        "post",
        "/v1/sites/{id}/wake",
        "Lift a site's curtailments (dry_run: the preview)",
        PLATFORM,
        Execution,
        "/hcp.v1.Fleet/Wake",
        "hcp.v1.WakeRequest",
        "hcp.v1.WakeResponse",
        SITE,
    ),
    grpc(
        "get",
        "/v1/sites/{id}/fleet",
        "A site's curtailments in force and each miner's desired and observed state",
        PLATFORM,
        Execution,
        "/hcp.v1.Fleet/Status",
        "hcp.v1.FleetStatusRequest",
        "hcp.v1.FleetStatusResponse",
        SITE,
    ),
    grpc(
        "get",
        "/v1/prices/{id}",
        "A site's current power price",
        READERS,
        Pricing,
        "/hcp.v1.Pricing/GetQuote",
        "hcp.v1.GetQuoteRequest",
        "hcp.v1.Quote",
        SITE,
    ),
    grpc(
        "get",
        "/v1/prices/{id}/history",
        "A site's power prices over a span",
        READERS,
        Pricing,
        "/hcp.v1.Pricing/GetHistory",
        "hcp.v1.GetHistoryRequest",
        "hcp.v1.GetHistoryResponse",
        SITE,
    ),
    grpc(
        "get",
        "/v1/hashprice",
        "Today's hashprice",
        READERS,
        Pricing,
        "/hcp.v1.Pricing/GetHashprice",
        "hcp.v1.GetHashpriceRequest",
        "hcp.v1.Hashprice",
        NO_ID,
    ),
    grpc(
        "get",
        "/v1/plans",
        "A site's allocation plans, newest first",
        PLATFORM,
        Optimization,
        "/hcp.v1.Optimization/ListPlans",
        "hcp.v1.ListPlansRequest",
        "hcp.v1.ListPlansResponse",
        NO_ID,
    ),
    grpc(
        "get",
        "/v1/plans/{id}",
        "An allocation plan with its reasons",
        PLATFORM,
        Optimization,
        "/hcp.v1.Optimization/Explain",
        "hcp.v1.ExplainRequest",
        "hcp.v1.AllocationPlanned",
        ("plan_id", "The plan's id"),
    ),
    grpc(
        "get",
        "/v1/hosts",
        "The GPU hosts: GPUs, busy GPUs, state and workloads",
        PLATFORM,
        Routing,
        "/hcp.v1.Hosts/List",
        "hcp.v1.ListHostsRequest",
        "hcp.v1.ListHostsResponse",
        NO_ID,
    ),
    grpc(
        "post",
        "/v1/hosts/{id}/cordon",
        "Cordon a host: no new work",
        PLATFORM,
        Routing,
        "/hcp.v1.Hosts/Cordon",
        "hcp.v1.HostRequest",
        "hcp.v1.HostView",
        HOST,
    ),
    grpc(
        "post",
        "/v1/hosts/{id}/drain",
        "Drain a host: no new work, its preemptible work moved",
        PLATFORM,
        Routing,
        "/hcp.v1.Hosts/Drain",
        "hcp.v1.HostRequest",
        "hcp.v1.HostView",
        HOST,
    ),
    grpc(
        "post",
        "/v1/hosts/{id}/uncordon",
        "Take a host back into service",
        PLATFORM,
        Routing,
        "/hcp.v1.Hosts/Uncordon",
        "hcp.v1.HostRequest",
        "hcp.v1.HostView",
        HOST,
    ),
    grpc(
        "get",
        "/v1/tenants",
        "Every tenant",
        ADMIN,
        Routing,
        "/hcp.v1.Tenants/List",
        "hcp.v1.ListTenantsRequest",
        "hcp.v1.ListTenantsResponse",
        NO_ID,
    ),
    grpc(
        "post",
        "/v1/tenants",
        "Create a tenant",
        ADMIN,
        Routing,
        "/hcp.v1.Tenants/Create",
        "hcp.v1.CreateTenantRequest",
        "hcp.v1.TenantView",
        NO_ID,
    ),
    grpc(
        "post",
        "/v1/tenants/{id}/quota",
        "Set a tenant's quota and weight",
        ADMIN,
        Routing,
        "/hcp.v1.Tenants/SetQuota",
        "hcp.v1.SetTenantQuotaRequest",
        "hcp.v1.TenantView",
        TENANT,
    ),
    grpc(
        "post",
        "/v1/tenants/{id}/grant",
        "Grant a tenant a workload class",
        ADMIN,
        Routing,
        "/hcp.v1.Tenants/Grant",
        "hcp.v1.GrantClassRequest",
        "hcp.v1.TenantView",
        TENANT,
    ),
    grpc(
        "post",
        "/v1/tenants/{id}/revoke",
        "Take a workload class from a tenant",
        ADMIN,
        Routing,
        "/hcp.v1.Tenants/Revoke",
        "hcp.v1.GrantClassRequest",
        "hcp.v1.TenantView",
        TENANT,
    ),
    tenants(
        "get",
        "/v1/usage",
        "The tenant's metered GPU time from `from_unix_micros` to `to_unix_micros`, grouped by model, site, workload or period",
        READERS,
        "/hcp.v1.Metering/GetUsage",
        "hcp.v1.UsageRequest",
        "hcp.v1.UsageResponse",
        NO_ID,
    ),
    tenants(
        "get",
        "/v1/invoices",
        "The tenant's issued invoices, newest first",
        READERS,
        "/hcp.v1.Metering/ListInvoices",
        "hcp.v1.ListInvoicesRequest",
        "hcp.v1.ListInvoicesResponse",
        NO_ID,
    ),
    tenants(
        "get",
        "/v1/invoices/preview",
        "The invoice the current period would get now (closed spans and the spans open up to now)",
        READERS,
        "/hcp.v1.Metering/PreviewInvoice",
        "hcp.v1.PreviewInvoiceRequest",
        "hcp.v1.InvoiceView",
        NO_ID,
    ),
    grpc(
        "post",
        "/v1/invoices/issue",
        "Issue every invoice that is due now (metering also does this on its own)",
        ADMIN,
        Upstream::Metering,
        "/hcp.v1.Metering/IssueInvoices",
        "hcp.v1.IssueInvoicesRequest",
        "hcp.v1.IssueInvoicesResponse",
        NO_ID,
    ),
    tenants(
        "post",
        "/v1/estimate",
        "What a workload of this shape would cost the tenant, at its rate card and this period's usage",
        READERS,
        "/hcp.v1.Metering/Estimate",
        "hcp.v1.EstimateRequest",
        "hcp.v1.EstimateResponse",
        NO_ID,
    ),
    tenants(
        "get",
        "/v1/budgets",
        "The tenant's budget per period and this period's spend against it",
        READERS,
        "/hcp.v1.Metering/GetBudget",
        "hcp.v1.GetBudgetRequest",
        "hcp.v1.BudgetView",
        NO_ID,
    ),
    tenants(
        "post",
        "/v1/budgets",
        "Set the tenant's budget per period (alerts at 50, 80 and 100%)",
        BILLING,
        "/hcp.v1.Metering/SetBudget",
        "hcp.v1.SetBudgetRequest",
        "hcp.v1.BudgetView",
        NO_ID,
    ),
    tenants(
        "get",
        "/v1/ratecards/{id}",
        "A tenant's rate card (the default card when it has none of its own)",
        BILLING,
        "/hcp.v1.Metering/GetRateCard",
        "hcp.v1.GetRateCardRequest",
        "hcp.v1.RateCardView",
        ("tenant", "The tenant's id"),
    ),
    grpc(
        "post",
        "/v1/ratecards/{id}",
        "Set a tenant's rate card (applies to invoices issued from then on)",
        ADMIN,
        Upstream::Metering,
        "/hcp.v1.Metering/SetRateCard",
        "hcp.v1.SetRateCardRequest",
        "hcp.v1.RateCardView",
        ("tenant", "The tenant's id"),
    ),
    grpc(
        "get",
        "/v1/margins",
        "Each site's margin over a span: mining revenue + AI revenue - power cost",
        PLATFORM,
        Upstream::Metering,
        "/hcp.v1.Metering/GetSiteMargins",
        "hcp.v1.SiteMarginsRequest",
        "hcp.v1.SiteMarginsResponse",
        NO_ID,
    ),
    webhooks(
        "get",
        "/v1/webhooks",
        "The tenant's webhook endpoints (never their secrets)",
        READERS,
        "/hcp.v1.Notifications/ListEndpoints",
        "hcp.v1.ListEndpointsRequest",
        "hcp.v1.ListEndpointsResponse",
        false,
    ),
    webhooks(
        "post",
        "/v1/webhooks",
        "Subscribe an endpoint (Standard Webhooks): the answer holds its secret, this once",
        TENANT_WRITE,
        "/hcp.v1.Notifications/CreateEndpoint",
        "hcp.v1.CreateEndpointRequest",
        "hcp.v1.CreatedEndpoint",
        false,
    ),
    webhooks(
        "post",
        "/v1/webhooks/{id}/rotate",
        "A new secret; deliveries carry both signatures until the old one expires",
        TENANT_WRITE,
        "/hcp.v1.Notifications/RotateSecret",
        "hcp.v1.EndpointRequest",
        "hcp.v1.CreatedEndpoint",
        true,
    ),
    webhooks(
        "post",
        "/v1/webhooks/{id}/disable",
        "Stop deliveries to an endpoint",
        TENANT_WRITE,
        "/hcp.v1.Notifications/DisableEndpoint",
        "hcp.v1.EndpointRequest",
        "hcp.v1.EndpointView",
        true,
    ),
    webhooks(
        "post",
        "/v1/webhooks/{id}/enable",
        "Restart deliveries to an endpoint",
        TENANT_WRITE,
        "/hcp.v1.Notifications/EnableEndpoint",
        "hcp.v1.EndpointRequest",
        "hcp.v1.EndpointView",
        true,
    ),
    webhooks(
        "get",
        "/v1/webhooks/{id}/deliveries",
        "An endpoint's deliveries, newest first, each with every attempt and its answer",
        READERS,
        "/hcp.v1.Notifications/ListDeliveries",
        "hcp.v1.ListDeliveriesRequest",
        "hcp.v1.ListDeliveriesResponse",
        true,
    ),
    webhooks(
        "post",
        "/v1/webhooks/{id}/replay",
        "Send every dead-lettered delivery of an endpoint again",
        TENANT_WRITE,
        "/hcp.v1.Notifications/Replay",
        "hcp.v1.EndpointRequest",
        "hcp.v1.ReplayResponse",
        true,
    ),
    webhooks(
        "post",
        "/v1/webhooks/{id}/test",
        "Send a test notification to an endpoint",
        TENANT_WRITE,
        "/hcp.v1.Notifications/SendTest",
        "hcp.v1.EndpointRequest",
        "hcp.v1.Notification",
        true,
    ),
    webhooks(
        "get",
        "/v1/contacts",
        "The tenant's email and SMS contacts, their addresses masked",
        READERS,
        "/hcp.v1.Notifications/ListContacts",
        "hcp.v1.ListContactsRequest",
        "hcp.v1.ListContactsResponse",
        false,
    ),
    webhooks(
        "post",
        "/v1/contacts",
        "Subscribe an email address or phone number to notifications (sealed under the tenant's key)",
        TENANT_WRITE,
        "/hcp.v1.Notifications/CreateContact",
        "hcp.v1.CreateContactRequest",
        "hcp.v1.ContactView",
        false,
    ),
    own(
        "get",
        "/v1/users",
        "Every user a token from the issuer has been taken for, with their tenant and roles",
        ADMIN,
        None,
        (200, "hcp.v1.ListUsersResponse"),
        "",
    ),
    own("get", "/v1/keys", "Every API key (never its secret)", ADMIN, None, (200, "hcp.v1.ListApiKeysResponse"), ""),
    own(
        "post",
        "/v1/keys",
        "Create an API key: the whole key is in this answer only",
        ADMIN,
        Some("hcp.v1.CreateApiKeyRequest"),
        (201, "hcp.v1.CreatedApiKey"),
        "",
    ),
    own(
        "post",
        "/v1/keys/{id}/revoke",
        "Revoke a key (at once, or from a later instant)",
        ADMIN,
        Some("hcp.v1.RevokeApiKeyRequest"),
        (200, "hcp.v1.ApiKeyView"),
        "The key's id",
    ),
    own(
        "post",
        "/v1/keys/{id}/rotate",
        "A new key for the same tenant and role; the old one keeps working for the overlap",
        ADMIN,
        Some("hcp.v1.RotateApiKeyRequest"),
        (201, "hcp.v1.CreatedApiKey"),
        "The key's id",
    ),
];
