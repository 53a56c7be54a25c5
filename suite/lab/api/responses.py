"""JSON replies as the API server writes them: compact JSON, `kind: Status` on failure.

Everything goes out as plain `application/json`: clients that ask for protobuf or for
aggregated discovery accept it and fall back, as they do against older servers.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ..errors import ApiError

JSON = "application/json"


def dumps(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(text=dumps(body), status=status, content_type=JSON, headers=headers)


def status_reply(error: ApiError) -> web.Response:
    return reply(error.status(), error.code)


def not_found_path() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource")


def method_not_allowed() -> ApiError:
    return ApiError(405, "MethodNotAllowed",
                    "the server does not allow this method on the requested resource")


def internal_error(exc: BaseException) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {exc}")


def success_status(details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                            "status": "Success"}
    if details:
        body["details"] = details
    return body
