"""API errors shaped exactly like the Kubernetes API server's `kind: Status` replies.

Every layer of the lab raises `ApiError`; only the HTTP layer turns it into a response,
so controllers and the store never build HTTP bodies themselves.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A failed API call: HTTP code, machine-readable reason and a human message."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details or {}

    def status(self) -> dict[str, Any]:
        """The `kind: Status` body a real API server would send."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def _details(resource: str, name: str, group: str = "") -> dict[str, Any]:
    details: dict[str, Any] = {"kind": resource}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    return details


def _qualified(resource: str, group: str) -> str:
    return f"{resource}.{group}" if group else resource


def not_found(resource: str, name: str, group: str = "") -> ApiError:
    return ApiError(
        404, "NotFound", f'{_qualified(resource, group)} "{name}" not found',
        _details(resource, name, group),
    )


def already_exists(resource: str, name: str, group: str = "") -> ApiError:
    return ApiError(
        409, "AlreadyExists", f'{_qualified(resource, group)} "{name}" already exists',
        _details(resource, name, group),
    )


def conflict(resource: str, name: str, group: str = "") -> ApiError:
    message = (
        f'Operation cannot be fulfilled on {_qualified(resource, group)} "{name}": '
        "the object has been modified; please apply your changes to the latest version "
        "and try again"
    )
    return ApiError(409, "Conflict", message, _details(resource, name, group))


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def forbidden(message: str, resource: str = "", name: str = "", group: str = "") -> ApiError:
    details = _details(resource, name, group) if resource else None
    return ApiError(403, "Forbidden", message, details)


def invalid(
    kind: str, name: str, causes: list[dict[str, str]], group: str = "",
) -> ApiError:
    """422 Invalid with one cause per field, like the server's field validation."""
    parts = [f"{c.get('field', '')}: {c.get('message', '')}".strip(": ") for c in causes]
    # One cause reads plainly; several are bracketed, as apimachinery's aggregate prints.
    summary = parts[0] if len(parts) == 1 else f"[{', '.join(parts)}]"
    message = f'{_qualified(kind, group)} "{name}" is invalid: {summary}'
    details = {"name": name, "kind": kind, "causes": causes}
    if group:
        details["group"] = group
    return ApiError(422, "Invalid", message, details)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")
