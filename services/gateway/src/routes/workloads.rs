//! Health, customers' workloads and the live stream: the routes the gateway answers itself.

use super::{READERS, Route, TENANT_READ, TENANT_WRITE, WORKLOAD, open, own};

/// The routes of this part of the API.
pub const WORKLOADS: &[Route] = &[
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
];
