"""Query parameters and request bodies, read once per request with the server's rules."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml
from aiohttp import web

from ..errors import bad_request

FIELD_VALIDATION = ("Strict", "Warn", "Ignore")


def _truthy(value: str | None) -> bool:
    return value in ("true", "1", "True")


@dataclass(frozen=True)
class Options:
    """What a request asked for beyond its path."""

    dry_run: bool
    field_validation: str
    label_selector: str | None
    field_selector: str | None
    watch: bool
    resource_version: str | None
    limit: int
    continue_token: str | None
    timeout_s: float | None
    bookmarks: bool
    propagation: str | None


def _limit(raw: str | None) -> int:
    try:
        return max(int(raw or 0), 0)
    except ValueError:
        raise bad_request(f"invalid limit: {raw!r}") from None


def _resource_version(raw: str | None) -> str | None:
    if raw and not raw.isdigit():
        raise bad_request(f'invalid resource version "{raw}": must be an unsigned integer')
    return raw or None


def _timeout(raw: str | None) -> float | None:
    if raw in (None, ""):
        return None
    try:
        return float(raw)
    except ValueError:
        raise bad_request(f"invalid timeoutSeconds: {raw!r}") from None


_DEFAULT = Options(dry_run=False, field_validation="Warn", label_selector=None,
                   field_selector=None, watch=False, resource_version=None, limit=0,
                   continue_token=None, timeout_s=None, bookmarks=False, propagation=None)


def parse_options(request: web.Request) -> Options:
    if not request.query_string:
        return _DEFAULT  # the common case (plain GET/PUT) skips query parsing
    q = request.query
    validation = q.get("fieldValidation") or "Warn"
    if validation not in FIELD_VALIDATION:
        raise bad_request(f"fieldValidation must be one of {', '.join(FIELD_VALIDATION)}, "
                          f"got {validation!r}")
    return Options(
        dry_run="All" in q.getall("dryRun", []),
        field_validation=validation,
        label_selector=q.get("labelSelector") or None,
        field_selector=q.get("fieldSelector") or None,
        watch=_truthy(q.get("watch")),
        resource_version=_resource_version(q.get("resourceVersion")),
        limit=_limit(q.get("limit")),
        continue_token=q.get("continue") or None,
        timeout_s=_timeout(q.get("timeoutSeconds")),
        bookmarks=_truthy(q.get("allowWatchBookmarks")),
        propagation=q.get("propagationPolicy") or None,
    )


async def read_body(request: web.Request, *, optional: bool = False) -> Any:
    """The decoded JSON (or YAML) body; 400 BadRequest as the server says when unreadable."""
    raw = await request.read()
    if not raw.strip():
        if optional:
            return None
        raise bad_request("the body of the request was empty")
    try:
        if "yaml" in (request.content_type or ""):
            return yaml.safe_load(raw)
        return json.loads(raw)
    except (ValueError, yaml.YAMLError) as exc:
        raise bad_request(f"error decoding request body: {exc}") from None


async def read_object(request: web.Request) -> dict[str, Any]:
    body = await read_body(request)
    if not isinstance(body, dict):
        raise bad_request("the body of the request must be a JSON object")
    return body
