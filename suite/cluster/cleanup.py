"""A last-in-first-out stack of cleanups that runs every entry even when some fail.

Each resource's cleanup is registered right after the resource is created, so an
interrupted run undoes exactly what it did, newest first. All failures are collected
and reported together at the end instead of hiding behind the first one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class CleanupError:
    description: str
    error: BaseException

    def __str__(self) -> str:
        return f"{self.description}: {type(self.error).__name__}: {self.error}"


class CleanupStack:
    """Thread-safe LIFO of (description, action)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[tuple[str, Callable[[], None]]] = []

    def push(self, description: str, action: Callable[[], None]) -> None:
        with self._lock:
            self._entries.append((description, action))

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _pop(self) -> tuple[str, Callable[[], None]] | None:
        with self._lock:
            return self._entries.pop() if self._entries else None

    def run_all(self) -> list[CleanupError]:
        """Run and drop every entry, newest first; returns the failures (empty when clean)."""
        errors: list[CleanupError] = []
        while (entry := self._pop()) is not None:
            description, action = entry
            try:
                action()
            except KeyboardInterrupt as exc:  # a second Ctrl-C must not skip the rest
                errors.append(CleanupError(description, exc))
            except Exception as exc:
                errors.append(CleanupError(description, exc))
        return errors

    def discard(self) -> list[str]:
        """Forget every entry (``--keep``); returns what would have been cleaned."""
        with self._lock:
            entries, self._entries = self._entries, []
        return [d for d, _ in reversed(entries)]
