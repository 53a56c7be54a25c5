"""The serial console's one-client port, shared by both guest runtimes.

virt-handler serves one console client at a time: a new client displaces the old one
(kubevirt `pkg/virt-handler/rest/console.go`). Output that arrives while nobody is
attached is kept (up to `backlog_bytes`) so a client that connects after boot still sees
the login prompt.
"""

from __future__ import annotations

from collections.abc import Callable

Sink = Callable[[bytes], None]


class ConsolePort:
    """Mixin: `_init_console()` in `__init__`, `_deliver(data)` for guest output."""

    backlog_bytes = 64 * 1024

    def _init_console(self) -> None:
        self._sink: Sink | None = None
        self._on_detach: Callable[[], None] | None = None
        self._backlog = bytearray()

    def _deliver(self, data: bytes) -> None:
        if self._sink is not None:
            self._sink(data)
            return
        self._backlog += data
        del self._backlog[:-self.backlog_bytes]

    def attach(self, sink: Sink, on_detach: Callable[[], None]) -> None:
        """Make `sink` the console client; a previous client is told to go away."""
        if self._on_detach is not None:
            self._on_detach()
        self._sink, self._on_detach = sink, on_detach
        if self._backlog:
            sink(bytes(self._backlog))
            self._backlog.clear()

    def detach(self, sink: Sink) -> None:
        if self._sink == sink:  # bound methods compare equal, never identical
            self._sink, self._on_detach = None, None

    def _drop_client(self) -> None:
        """The guest is gone: tell the client and forget it."""
        if self._on_detach is not None:
            self._on_detach()
        self._sink = self._on_detach = None
