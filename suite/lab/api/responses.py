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


class JsonCache:
    """Serialised stored objects by (uid, resourceVersion).

    A stored object never changes without getting a new resourceVersion, so its JSON can
    be reused by every GET, LIST and watch event that sends it; a LIST of a thousand
    objects then costs a join instead of a thousand encodings.
    """

    def __init__(self, limit: int = 50_000) -> None:
        self.limit = limit
        self._cache: dict[tuple[str, str], bytes] = {}

    def encode(self, obj: Any) -> bytes:
        meta = obj.get("metadata") if isinstance(obj, dict) else None
        if not isinstance(meta, dict) or not meta.get("uid") or not meta.get("resourceVersion"):
            return dumps(obj).encode()
        key = (str(meta["uid"]), str(meta["resourceVersion"]))
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = dumps(obj).encode()
            if len(self._cache) > self.limit:
                del self._cache[next(iter(self._cache))]  # the oldest entry
        return cached

    def encode_list(self, body: dict[str, Any]) -> bytes:
        """A List body whose items come from the cache."""
        head = {k: v for k, v in body.items() if k != "items"}
        items = b",".join(self.encode(item) for item in body["items"])
        return dumps(head)[:-1].encode() + b',"items":[' + items + b"]}"
