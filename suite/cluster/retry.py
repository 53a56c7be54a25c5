"""The bounded retry policy for API calls (tenacity).

Transient failures (429, 5xx, no reply) are retried with exponential backoff, honouring
the server's Retry-After; anything else in 4xx fails at once because it would fail again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import tenacity

from suite.cluster.errors import KubeError, ServerError, TooManyRequests, Unreachable

log = logging.getLogger("suite.cluster")
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts in total and the backoff between them (seconds)."""

    attempts: int = 5
    initial_backoff_s: float = 0.2
    max_backoff_s: float = 5.0


def is_transient(error: BaseException) -> bool:
    return isinstance(error, TooManyRequests | ServerError | Unreachable)


def _wait(policy: RetryPolicy) -> Callable[[tenacity.RetryCallState], float]:
    backoff = tenacity.wait_exponential(
        multiplier=policy.initial_backoff_s, max=policy.max_backoff_s)

    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, KubeError) and error.retry_after_s is not None:
            return min(error.retry_after_s, policy.max_backoff_s * 6)
        return float(backoff(state))

    return wait


def _log_attempt(policy: RetryPolicy) -> Callable[[tenacity.RetryCallState], None]:
    def before_sleep(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning("attempt %d/%d failed (%s); retrying", state.attempt_number,
                    policy.attempts, error)

    return before_sleep


def call_with_retries(policy: RetryPolicy, fn: Callable[[], T]) -> T:
    """Call ``fn`` under the policy; the last error propagates unchanged."""
    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.attempts),
        wait=_wait(policy),
        retry=tenacity.retry_if_exception(is_transient),
        before_sleep=_log_attempt(policy),
        reraise=True,
    )
    return retrying(fn)
