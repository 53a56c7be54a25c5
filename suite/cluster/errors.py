"""Exceptions for talking to a cluster, one type per HTTP status family.

Callers catch what they can act on (``NotFound``, ``Conflict``, ``Invalid``) and let
the rest propagate; the session turns anything unexpected into ``inconclusive``.
"""

from __future__ import annotations

import json
from typing import Any


class KubeError(Exception):
    """An API call failed; ``status`` is the HTTP status (0 when no reply came)."""

    def __init__(self, status: int, reason: str, message: str, body: dict[str, Any] | None = None):
        super().__init__(f"{status} {reason}: {message}" if status else message)
        self.status = status
        self.reason = reason
        self.message = message
        self.body = body or {}
        self.retry_after_s: float | None = None


class BadRequest(KubeError):
    """400."""


class Unauthorized(KubeError):
    """401: the kubeconfig's credentials were refused."""


class Forbidden(KubeError):
    """403: RBAC or a terminating namespace."""


class NotFound(KubeError):
    """404."""


class Conflict(KubeError):
    """409: stale resourceVersion or AlreadyExists (see ``reason``)."""


class Gone(KubeError):
    """410: a watch's resourceVersion left the server's history."""


class Invalid(KubeError):
    """422: the object was rejected (schema, webhook, immutable field)."""


class TooManyRequests(KubeError):
    """429: retried, honouring Retry-After."""


class ServerError(KubeError):
    """5xx: retried."""


class Unreachable(KubeError):
    """No HTTP reply at all (connection refused or reset, TLS failure, timeout): retried."""

    def __init__(self, message: str):
        super().__init__(0, "Unreachable", message)


class _WaitEnded(Exception):
    """A wait ended without success; ``what`` was awaited, ``last`` is the last object seen."""

    def __init__(self, message: str, what: str, last: dict[str, Any] | None):
        super().__init__(message)
        self.what = what
        self.last = last


class WaitTimeout(_WaitEnded):
    """A wait reached its deadline; ``last`` is the last object seen (or None)."""

    def __init__(self, what: str, timeout_s: float, last: dict[str, Any] | None):
        super().__init__(f"timed out after {timeout_s:g}s waiting for {what}", what, last)
        self.timeout_s = timeout_s


class Cancelled(Exception):
    """The run is being interrupted (Ctrl-C): no new objects, no more waiting."""


class WaitFailed(_WaitEnded):
    """A wait's predicate returned a reason to stop early; ``last`` is the object."""

    def __init__(self, what: str, reason: str, last: dict[str, Any] | None):
        super().__init__(f"{what}: {reason}", what, last)
        self.reason = reason


_BY_STATUS: dict[int, type[KubeError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound,
    409: Conflict, 410: Gone, 422: Invalid, 429: TooManyRequests,
}


def from_response(status: int, data: bytes | str, headers: Any = None) -> KubeError:
    """The exception for one failed HTTP reply, parsed from its ``kind: Status`` body."""
    body = _parse(data)
    reason = str(body.get("reason") or "")
    raw = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
    message = str(body.get("message") or raw[:300])
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else KubeError)
    error = cls(status, reason or cls.__name__, message, body)
    retry_after = (headers or {}).get("Retry-After") if headers is not None else None
    if retry_after:
        try:
            error.retry_after_s = float(retry_after)
        except ValueError:
            error.retry_after_s = None
    return error


def _parse(data: bytes | str) -> dict[str, Any]:
    try:
        parsed = json.loads(data or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
