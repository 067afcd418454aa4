"""Errors: every refusal of the API is an RFC 9457 problem, raised as an :class:`ApiError`."""

from __future__ import annotations

from typing import Any, Optional


class ApiError(Exception):
    """The API refused: its HTTP status, its detail, and the field at fault where it names one."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.detail: str = str(problem.get("detail", ""))
        errors = problem.get("errors") or []
        self.pointer: Optional[str] = errors[0].get("pointer") if errors else None
        super().__init__(f"HTTP {status}: {self.detail}")


class RateLimited(ApiError):
    """429: over the key's (or tenant's) rate, or its daily quota; retry after ``retry_after`` seconds."""

    def __init__(self, status: int, problem: dict[str, Any], retry_after: float) -> None:
        super().__init__(status, problem)
        self.retry_after = retry_after
