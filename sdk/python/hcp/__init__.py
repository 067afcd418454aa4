"""HCP's public REST API (``/v1``) from Python: submit workloads, follow them, read their history.

>>> from hcp import Client
>>> hcp = Client("http://127.0.0.1:9478", api_key="hcp_...")
>>> w = hcp.submit({"kind": "WORKLOAD_KIND_TRAINING", "gpuModel": "H100", "gpuCount": 8,
...                 "memoryMib": "81920", "maxRunTimeSeconds": "7200"}, idempotency_key="train-1")
>>> hcp.wait(w["workloadId"], until={"running"})["status"]
'running'
>>> [e["eventType"] for e in hcp.history(w["workloadId"])]
['workload.submitted', 'workload.queued', 'workload.scheduled', 'workload.started']

Bodies and answers are the API's messages in the proto3 JSON mapping (camelCase fields, 64-bit
integers as strings, enums by name), as the OpenAPI document at ``/v1/openapi.json`` describes.
"""

from .client import Client
from .errors import ApiError, RateLimited
from .models import Event, HistoryEvent, PendingInfo, WorkloadSpec, WorkloadView

__all__ = [
    "ApiError",
    "Client",
    "Event",
    "HistoryEvent",
    "PendingInfo",
    "RateLimited",
    "WorkloadSpec",
    "WorkloadView",
]
