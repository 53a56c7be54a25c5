"""A seam for injecting API-level faults: slow calls, bursts of 429/5xx, dropped watches.

Clients must survive what real control planes do under load (throttling, apiserver
restarts, watch streams cut by load balancers). A `FaultPlan` is inert until a test or a
later component adds rules to it; it is reachable as `lab.faults`. Rules may be added
from any thread: each is a small immutable record appended to a list.
"""

from __future__ import annotations

import asyncio
import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ..errors import ApiError

_REASONS = {429: ("TooManyRequests", "Too many requests, please try again later."),
            500: ("InternalError", "Internal error occurred: injected fault"),
            502: ("InternalError", "Internal error occurred: injected fault"),
            503: ("ServiceUnavailable", "The server is currently unable to handle the request"),
            504: ("Timeout", "The server was unable to return a response in the time allotted")}


@dataclass
class _Rule:
    path: re.Pattern[str]
    method: str | None

    def matches(self, request: web.Request) -> bool:
        if self.method and request.method != self.method.upper():
            return False
        return bool(self.path.search(request.path_qs))


@dataclass
class _Delay(_Rule):
    seconds: float = 0.0


@dataclass
class _Burst(_Rule):
    code: int = 429
    remaining: int = 1
    retry_after_s: int = 1


@dataclass
class _Drop(_Rule):
    after_events: int = 1
    remaining: int | None = None


def fault_error(code: int, retry_after_s: int) -> ApiError:
    reason, message = _REASONS.get(code, ("InternalError", "injected fault"))
    details = {"retryAfterSeconds": retry_after_s} if code == 429 else None
    return ApiError(code, reason, message, details)


@dataclass
class FaultPlan:
    """Rules checked for every API request; empty (inactive) by default."""

    delays: list[_Delay] = field(default_factory=list)
    bursts: list[_Burst] = field(default_factory=list)
    drops: list[_Drop] = field(default_factory=list)
    injected: int = 0
    # The driver file's `cluster.api` (DESIGN.md): shares of requests refused at random,
    # added latency, and a cap on every watch's life. Requests to /lab/ are never touched.
    throttle_share: float = 0.0
    error_share: float = 0.0
    latency_s: float = 0.0
    watch_cut_after_s: float = 0.0
    counts: dict[int, int] = field(default_factory=dict)
    _random: random.Random = field(default_factory=lambda: random.Random(20261130),
                                   repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def apply_profile(self, api: Any) -> None:
        """Take the driver file's `cluster.api` (an ApiFaultProfile)."""
        self.throttle_share = float(api.throttle429)
        self.error_share = float(api.errors5xx)
        self.latency_s = float(api.latency_ms) / 1000.0
        self.watch_cut_after_s = float(api.watch_cut_after_s)

    def add_delay(self, path: str, seconds: float, method: str | None = None) -> None:
        """Delay matching requests (path regex against path + query) by `seconds`."""
        self.delays.append(_Delay(re.compile(path), method, seconds))

    def add_errors(self, path: str, code: int = 429, count: int = 1,
                   method: str | None = None, retry_after_s: int = 1) -> None:
        """Answer the next `count` matching requests with `code` (429 adds Retry-After)."""
        self.bursts.append(_Burst(re.compile(path), method, code, count, retry_after_s))

    def drop_watches(self, path: str = ".*", after_events: int = 1,
                     times: int | None = None) -> None:
        """Cut matching watch streams after they delivered `after_events` events."""
        self.drops.append(_Drop(re.compile(path), None, after_events, times))

    def clear(self) -> None:
        self.delays.clear()
        self.bursts.clear()
        self.drops.clear()
        self.throttle_share = self.error_share = self.latency_s = 0.0
        self.watch_cut_after_s = 0.0

    @property
    def active(self) -> bool:
        return bool(self.delays or self.bursts or self.drops or self.throttle_share
                    or self.error_share or self.latency_s)

    def _random_fault(self) -> tuple[ApiError, int] | None:
        """A 429 (Retry-After: 1) or a 500/503 for the profile's share of requests."""
        draw = self._random.random()
        if draw < self.throttle_share:
            code = 429
        elif draw < self.throttle_share + self.error_share:
            code = self._random.choice((500, 503))
        else:
            return None
        self.injected += 1
        self.counts[code] = self.counts.get(code, 0) + 1
        return fault_error(code, 1), 1

    async def before(self, request: web.Request) -> tuple[ApiError, int] | None:
        """Apply delays; return (error, retry_after) when a burst claims this request."""
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        for delay in list(self.delays):
            if delay.matches(request):
                await asyncio.sleep(delay.seconds)
        with self._lock:
            if (self.throttle_share or self.error_share) and _api_path(request.path):
                found = self._random_fault()
                if found is not None:
                    return found
            for burst in self.bursts:
                if burst.remaining > 0 and burst.matches(request):
                    burst.remaining -= 1
                    self.injected += 1
                    return fault_error(burst.code, burst.retry_after_s), burst.retry_after_s
        return None

    def should_drop(self, request: web.Request, sent: int) -> bool:
        with self._lock:
            for drop in self.drops:
                if drop.remaining == 0 or not drop.matches(request):
                    continue
                if sent >= drop.after_events:
                    if drop.remaining is not None:
                        drop.remaining -= 1
                    self.injected += 1
                    return True
        return False


def _api_path(path: str) -> bool:
    """Requests a real API server's priority-and-fairness and handlers could refuse."""
    return path.startswith(("/api/", "/apis/")) or path in ("/api", "/apis")
