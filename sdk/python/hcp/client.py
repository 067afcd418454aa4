"""The client: one method per route of ``/v1/workloads``, the live event stream, and ``wait``."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Generator, Iterable, Iterator, List, Optional, cast

from .errors import ApiError, RateLimited
from .models import Event, HistoryEvent, PendingInfo, WorkloadSpec, WorkloadView

#: Statuses a workload does not leave.
FINAL = frozenset({"completed", "failed", "cancelled"})


class Client:
    """HCP's REST API at ``base_url`` (``http://127.0.0.1:9478``), as the holder of ``api_key``
    (an API key ``hcp_...`` or an OIDC token)."""

    def __init__(self, base_url: str, api_key: str, timeout: float = 30.0, retries: int = 3) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries

    # -- workloads --------------------------------------------------------------------------

    def submit(self, spec: WorkloadSpec, idempotency_key: Optional[str] = None) -> WorkloadView:
        """Submits ``spec`` for the key's tenant. With ``idempotency_key``, a retry (by this
        client after a dropped connection, or by you) answers the same workload."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return cast(WorkloadView, self._call("POST", "/v1/workloads", body=dict(spec), headers=headers))

    def get(self, workload_id: str) -> WorkloadView:
        """The workload as it stands (another tenant's is not found: :class:`ApiError` 404)."""
        return cast(WorkloadView, self._call("GET", f"/v1/workloads/{_quote(workload_id)}"))

    def list(self, status: Optional[str] = None, page_size: int = 50) -> Iterator[WorkloadView]:
        """The tenant's workloads, newest first, every page."""
        token = ""
        while True:
            query = {"page_size": str(page_size)}
            if status:
                query["status"] = status
            if token:
                query["page_token"] = token
            page = self._call("GET", "/v1/workloads", query=query)
            yield from cast(List[WorkloadView], page.get("workloads", []))
            token = str(page.get("nextPageToken", ""))
            if not token:
                return

    def pause(self, workload_id: str) -> WorkloadView:
        """Pauses it: it keeps its GPUs."""
        return cast(WorkloadView, self._call("POST", f"/v1/workloads/{_quote(workload_id)}/pause"))

    def resume(self, workload_id: str) -> WorkloadView:
        """Resumes a paused workload."""
        return cast(WorkloadView, self._call("POST", f"/v1/workloads/{_quote(workload_id)}/resume"))

    def cancel(self, workload_id: str) -> WorkloadView:
        """Cancels it."""
        return cast(WorkloadView, self._call("POST", f"/v1/workloads/{_quote(workload_id)}/cancel"))

    def history(self, workload_id: str) -> List[HistoryEvent]:
        """Every event of its life, oldest first."""
        answer = self._call("GET", f"/v1/workloads/{_quote(workload_id)}/history")
        return cast(List[HistoryEvent], answer.get("events", []))

    def why(self, workload_id: str) -> PendingInfo:
        """Why it waits: the reason, a message, and its place in the queue."""
        return cast(PendingInfo, self._call("GET", f"/v1/workloads/{_quote(workload_id)}/why"))

    def logs(self, workload_id: str, max_bytes: int = 65536) -> str:
        """The latest of its output, from the host it runs on."""
        query = {"max_bytes": str(max_bytes)}
        answer = self._call("GET", f"/v1/workloads/{_quote(workload_id)}/logs", query=query)
        return str(answer.get("text", ""))

    def wait(
        self, workload_id: str, until: Iterable[str] = FINAL, timeout: float = 600.0, poll: float = 0.5
    ) -> WorkloadView:
        """Polls until the workload's status is one of ``until`` (or final); raises ``TimeoutError``."""
        wanted = set(until) | FINAL
        deadline = time.monotonic() + timeout
        while True:
            view = self.get(workload_id)
            if view.get("status") in wanted:
                return view
            if time.monotonic() > deadline:
                raise TimeoutError(f"{workload_id} is {view.get('status')} after {timeout} s")
            time.sleep(poll)

    # -- live events ------------------------------------------------------------------------

    def events(
        self, after: Optional[int] = None, workload: Optional[str] = None, kinds: Optional[str] = None
    ) -> Generator[Event, None, None]:
        """The events the key may see, live, from Server-Sent Events; each carries its log
        ``position``: pass the last one seen as ``after`` to resume without missing any."""
        query: Dict[str, str] = {}
        if after is not None:
            query["after"] = str(after)
        if workload:
            query["workload"] = workload
        if kinds:
            query["kinds"] = kinds
        request = self._request("GET", "/v1/events", query=query, headers={"Accept": "text/event-stream"})
        with urllib.request.urlopen(request, timeout=None) as response:  # noqa: S310 (the caller's URL)
            data: List[str] = []
            for raw in response:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line.startswith("data:"):
                    data.append(line[5:].lstrip(" "))
                elif not line and data:
                    yield cast(Event, json.loads("\n".join(data)))
                    data = []

    # -- plumbing ---------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        body: Optional[Dict[str, Any]] = None,
        query: Optional[Dict[str, str]] = None,
        headers: Optional[Dict[str, str]] = None,
    ) -> urllib.request.Request:
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.api_key}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        return request

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One call; 429 and 503 are retried (after Retry-After, or a short backoff) up to ``retries`` times."""
        for attempt in range(self.retries + 1):
            try:
                with urllib.request.urlopen(self._request(method, path, **kwargs), timeout=self.timeout) as r:  # noqa: S310
                    return json.loads(r.read() or b"{}")
            except urllib.error.HTTPError as e:
                problem = _problem(e)
                retry_after = float(e.headers.get("Retry-After") or 0.2 * 2**attempt)
                if e.code == 429:
                    if attempt < self.retries:
                        time.sleep(retry_after)
                        continue
                    raise RateLimited(e.code, problem, retry_after) from None
                if e.code == 503 and attempt < self.retries:
                    time.sleep(retry_after)
                    continue
                raise ApiError(e.code, problem) from None
        raise AssertionError("unreachable")


def _problem(e: urllib.error.HTTPError) -> Dict[str, Any]:
    try:
        problem = json.loads(e.read() or b"{}")
        return problem if isinstance(problem, dict) else {"detail": str(problem)}
    except ValueError:
        return {"detail": e.reason}


def _quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")
