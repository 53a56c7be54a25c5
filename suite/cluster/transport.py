"""Raw REST calls through the official client, and kind -> resource resolution.

The suite handles many custom kinds (KubeVirt, CDI, snapshots) as plain dicts, so it
calls the REST paths itself through ``ApiClient.call_api`` (same auth, TLS and proxy
handling as the generated APIs) and resolves each kind once from the server's discovery.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException
from kubernetes.watch.watch import iter_resp_lines

from suite.cluster.errors import NotFound, Unreachable, from_response
from suite.cluster.retry import RetryPolicy, call_with_retries


@dataclass(frozen=True)
class Resource:
    """Where a kind lives: ``/apis/<group>/<version>/[namespaces/<ns>/]<plural>``."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool

    def path(self, namespace: str | None = None, name: str | None = None,
             sub: str | None = None) -> str:
        root = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        parts = [root]
        if self.namespaced and namespace:
            parts.append(f"namespaces/{namespace}")
        parts.append(self.plural)
        if name:
            parts.append(name)
        if sub:
            parts.append(sub)
        return "/".join(parts)


class Stats:
    """Seconds spent in API calls and in waits (thread-safe); the benchmark reads them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.call_s = 0.0
        self.wait_s = 0.0
        self.calls = 0

    def add_call(self, seconds: float) -> None:
        with self._lock:
            self.call_s += seconds
            self.calls += 1

    def add_wait(self, seconds: float) -> None:
        with self._lock:
            self.wait_s += seconds

    def as_dict(self) -> dict[str, float]:
        with self._lock:
            return {"apiCallSeconds": round(self.call_s, 3), "waitSeconds": round(self.wait_s, 3),
                    "apiCalls": self.calls}


class Transport:
    """JSON in, JSON out, typed errors, retries; shared by every ``Kube`` of a run."""

    def __init__(self, api_client: ApiClient, retry: RetryPolicy | None = None,
                 request_timeout_s: float = 60.0):
        self.api_client = api_client
        self.retry = retry or RetryPolicy()
        self.request_timeout_s = request_timeout_s
        self.stats = Stats()
        self._resources: dict[tuple[str, str], Resource] = {}
        self._lock = threading.Lock()

    def request(self, method: str, path: str, *, query: dict[str, Any] | None = None,
                body: Any = None, content_type: str = "application/json") -> Any:
        """One call with retries; returns the decoded JSON reply (or None when empty)."""
        return call_with_retries(
            self.retry, lambda: self._once(method, path, query, body, content_type))

    def _once(self, method: str, path: str, query: dict[str, Any] | None, body: Any,
              content_type: str) -> Any:
        start = time.monotonic()
        try:
            resp = self._raw(method, path, query, body, content_type, self.request_timeout_s)
            data = resp.data
        finally:
            self.stats.add_call(time.monotonic() - start)
        return json.loads(data) if data else None

    def _raw(self, method: str, path: str, query: dict[str, Any] | None, body: Any,
             content_type: str, timeout: Any) -> Any:
        headers = {"Accept": "application/json", "Content-Type": content_type}
        try:
            return self.api_client.call_api(
                path, method, query_params=list((query or {}).items()), header_params=headers,
                body=body, auth_settings=["BearerToken"], _preload_content=False,
                _return_http_data_only=True,
                _request_timeout=timeout)
        except ApiException as exc:
            if not exc.status:
                raise Unreachable(f"{method} {path}: {exc.reason}") from exc
            raise from_response(exc.status, exc.body or b"", exc.headers) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise Unreachable(f"{method} {path}: {exc}") from exc

    def stream_lines(self, path: str, query: dict[str, Any], read_timeout_s: float
                     ) -> Iterator[dict[str, Any]]:
        """A watch: yields decoded events until the server ends the stream."""
        resp = self._raw("GET", path, query, None, "application/json", (10, read_timeout_s))
        try:
            for line in iter_resp_lines(resp):
                if line:
                    yield json.loads(line)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise Unreachable(f"watch {path}: {exc}") from exc
        finally:
            resp.release_conn()

    def resource(self, api_version: str, kind: str) -> Resource:
        """Resolve a kind through discovery (cached): plural and scope."""
        key = (api_version, kind)
        with self._lock:
            if key in self._resources:
                return self._resources[key]
        root = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        listing = self.request("GET", root) or {}
        for item in listing.get("resources", []):
            if item.get("kind") == kind and "/" not in item.get("name", ""):
                found = Resource(api_version, kind, item["name"], bool(item.get("namespaced")))
                with self._lock:
                    self._resources[key] = found
                return found
        raise NotFound(404, "NotFound", f"the server has no kind {kind} in {api_version}")
