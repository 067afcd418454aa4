"""The messages the client sends and reads, typed after the OpenAPI document's schemas.

Fields are optional as in proto3: one left at its default is left out of an answer.
"""

from __future__ import annotations

from typing import Any, Dict, List, NotRequired, TypedDict


class WorkloadSpec(TypedDict, total=False):
    """What to run: ``kind`` (``WORKLOAD_KIND_TRAINING``, ``..._BATCH_INFERENCE``, ``..._REALTIME_INFERENCE``),
    the GPUs it needs, and what to start on them."""

    tenant: str
    kind: str
    gpuModel: str
    gpuCount: int
    memoryMib: str
    maxLatencyMs: str
    priority: int
    image: str
    command: List[str]
    env: Dict[str, str]
    maxRunTimeSeconds: str
    preemptible: bool
    checkpointing: bool
    port: int
    site: str
    locality: str


class PendingInfo(TypedDict, total=False):
    """Why a workload waits: a reason users know (``WaitingForQuota``, ``Resources``, ...), a message, its place."""

    workloadId: str
    status: str
    reason: str
    message: str
    position: int


class WorkloadView(TypedDict, total=False):
    """A workload as it stands."""

    workloadId: str
    spec: WorkloadSpec
    status: str
    resources: List[str]
    attempts: int
    reason: str
    endpoint: str
    progressMs: str
    submittedUnixMicros: str
    updatedUnixMicros: str
    version: str
    pending: PendingInfo


class HistoryEvent(TypedDict, total=False):
    """One event of a workload's life."""

    version: str
    eventType: str
    timeUnixMicros: str
    actor: str
    detail: str


class Event(TypedDict):
    """One event of the live stream: its log position (resume after it), stream, type and payload."""

    position: int
    stream: str
    type: str
    time: str
    payload: Dict[str, Any]
    tenant: NotRequired[str]
    actor: NotRequired[str]
