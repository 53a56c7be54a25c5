"""A shell session over KubeVirt's serial console.

The suite reaches a guest only through the VMI `console` subresource (a websocket of raw
serial bytes), so the same code works against the lab and a real cluster, needs no guest
network and no guest agent. The session logs in with the profile's credentials, turns
echo off, and runs each command between unique markers so output and exit code can be
read back exactly, whatever the guest prints around them.
"""

from __future__ import annotations

import contextlib
import re
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import websocket

from suite.cluster.errors import Cancelled
from suite.cluster.waits import poll_until
from suite.guest.transport import console_url, websocket_options

SUBPROTOCOL = "plain.kubevirt.io"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b[=>]")
_LOGIN = re.compile(r"login:\s*$", re.IGNORECASE)
_PASSWORD = re.compile(r"password:\s*$", re.IGNORECASE)
# A shell prompt: a short last line ending in "$ " or "# " (boot messages rarely do both)
_PROMPT = re.compile(r"(?:^|\n)[^\n]{0,80}[$#] $")
_BAD_LOGIN = re.compile(r"login incorrect|authentication failure", re.IGNORECASE)
_NUDGE_EVERY_S = 5.0
_RETRY_S = 3.0
_POLL_S = 0.2
_CONNECT_RETRY_S = 1.0  # the console websocket, while virt-handler is not ready
_MAX_LINE = 1000  # a tty in canonical mode cuts lines near 4096 bytes; stay well under


class ConsoleError(Exception):
    """A one-line reason the console could not be used (login, timeout, connection)."""


class ConsoleTimeout(ConsoleError):
    """A command did not finish in time; the message carries the last output seen."""


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str


@dataclass(frozen=True)
class CommandResult:
    exit_code: int
    output: str


def clean(text: str) -> str:
    """Terminal bytes -> plain text: no escape sequences, no carriage returns."""
    return _ANSI.sub("", text).replace("\r", "")


def _tail(text: str, n: int = 160) -> str:
    return repr(clean(text)[-n:])


class ConsoleSession:
    """One logged-in shell on a VMI's serial console; reconnect() after a migration."""

    def __init__(
        self,
        api_client: Any,
        namespace: str,
        vmi: str,
        credentials: Credentials,
        *,
        login_timeout_s: float = 300.0,
        connect: Callable[..., Any] = websocket.create_connection,
        cancel: threading.Event | None = None,
    ) -> None:
        self.namespace, self.vmi, self.credentials = namespace, vmi, credentials
        self.cancel = cancel  # the run's: Ctrl-C ends connecting, logging in and commands
        self.login_timeout_s = login_timeout_s
        self._api_client, self._connect = api_client, connect
        self._ws: Any = None
        self._buffer = ""

    def __enter__(self) -> ConsoleSession:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        deadline = time.monotonic() + self.login_timeout_s
        self._ws = self._open_socket(deadline)
        self._buffer = ""
        self._reach_shell(deadline)
        self._prepare_shell(deadline)

    def reconnect(self) -> None:
        self.close()
        self.open()

    def logout(self, timeout_s: float = 10.0) -> None:
        """End the shell (back to `login:`) and disconnect; the next client must log in."""
        if self._ws is not None:
            self._buffer = ""
            self._send("exit\r")
            deadline = time.monotonic() + timeout_s
            while not _LOGIN.search(clean(self._buffer)) and time.monotonic() < deadline:
                self._receive()
        self.close()

    def close(self) -> None:
        if self._ws is not None:
            # the peer may already be gone (VMI deleted or migrated away)
            with contextlib.suppress(OSError, websocket.WebSocketException):
                self._ws.close()
            self._ws = None

    # -- commands -------------------------------------------------------------------

    def run(self, command: str, timeout_s: float = 60.0) -> CommandResult:
        """Run one shell command line; returns its exit code and output (stdout+stderr)."""
        if self._ws is None:
            raise ConsoleError(f"console of {self.vmi} is not open")
        token = uuid.uuid4().hex[:12]
        # The markers are split in the command text so an echoed command never matches.
        line = (
            f"printf '%s%s\\n' '<<KVS' 'B:{token}>>'; {{ {command} ; }} </dev/null 2>&1; "
            f"printf '%s%s:%d>>\\n' '<<KVS' 'E:{token}' \"$?\""
        )
        if len(line) > _MAX_LINE:
            raise ConsoleError(f"command too long for a serial console line ({len(line)} bytes)")
        self._send(line + "\r")
        return self._await_result(token, command, time.monotonic() + timeout_s, timeout_s)

    def put_file(self, path: str, text: str, timeout_s: float = 30.0) -> None:
        """Write text (no single quotes) to a guest file in console-sized pieces."""
        if "'" in text:
            raise ConsoleError("put_file cannot carry single quotes")
        self.run(f": > {path}", timeout_s)
        for start in range(0, len(text), 700):
            piece = text[start : start + 700]
            result = self.run(f"printf '%s' '{piece}' >> {path}", timeout_s)
            if result.exit_code != 0:
                raise ConsoleError(f"writing {path} in the guest failed: {result.output.strip()}")

    def _await_result(
        self, token: str, command: str, deadline: float, timeout_s: float
    ) -> CommandResult:
        pattern = re.compile(
            rf"<<KVSB:{token}>>\n(.*?)<<KVSE:{token}:(\d+)>>\n?", re.DOTALL
        )
        while True:
            match = pattern.search(clean(self._buffer))
            if match:
                self._buffer = ""
                return CommandResult(int(match.group(2)), match.group(1))
            if self.cancel is not None and self.cancel.is_set():
                self._send("\x03")  # the run is interrupted: stop the command too
                raise Cancelled(f"run interrupted while '{command[:60]}' ran on {self.vmi}")
            if time.monotonic() > deadline:
                seen = self._buffer
                self._send("\x03")  # leave the shell usable for the next command
                raise ConsoleTimeout(
                    f"'{command[:60]}' did not finish within {timeout_s:.0f}s on "
                    f"{self.vmi}; last output: {_tail(seen)}"
                )
            self._receive()

    # -- login ----------------------------------------------------------------------

    def _reach_shell(self, deadline: float) -> None:
        """Answer login prompts until a shell prompt shows.

        A prompt is only answered once the line is quiet, and a repeated login prompt is
        only answered again after a pause: getty may still be reading our last answer,
        and a second user name would be taken for the password.
        """
        self._drain(0.5)  # whatever the guest printed while nobody was attached
        stage, sent_at = "connect", 0.0
        while time.monotonic() < deadline:
            if self.cancel is not None and self.cancel.is_set():
                raise Cancelled(f"run interrupted while logging in to {self.vmi}")
            if self._receive():
                continue
            text, now = clean(self._buffer), time.monotonic()
            if stage == "password" and _BAD_LOGIN.search(text):
                raise ConsoleError(
                    f"login as '{self.credentials.user}' on {self.vmi} was refused: "
                    "check the profile's guest user and password"
                )
            if _PROMPT.search(text) and stage in ("connect", "password"):
                return
            if _PASSWORD.search(text) and stage == "user":
                stage, answer = "password", self.credentials.password
            elif _LOGIN.search(text) and (stage == "connect" or now - sent_at > _RETRY_S):
                stage, answer = "user", self.credentials.user
            elif now - sent_at > _NUDGE_EVERY_S:
                stage, answer = "connect", ""
            else:
                continue
            self._buffer, sent_at = "", now
            self._send(answer + "\r")
        raise ConsoleError(
            f"no login prompt or shell on the console of {self.vmi} within "
            f"{self.login_timeout_s:.0f}s; last output: {_tail(self._buffer)}"
        )

    def _drain(self, seconds: float) -> None:
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            self._receive()

    def _prepare_shell(self, deadline: float) -> None:
        self._send("stty -echo 2>/dev/null; PS1='kvs$ '; PS2=''; export PS1 PS2\r")
        left = max(5.0, deadline - time.monotonic())
        result = self.run("echo ready", timeout_s=left)
        if "ready" not in result.output:
            raise ConsoleError(f"the shell on {self.vmi} did not answer a test command")

    # -- transport ------------------------------------------------------------------

    def _open_socket(self, deadline: float) -> Any:
        url = console_url(self._api_client, self.namespace, self.vmi)
        options = websocket_options(self._api_client)
        last = ""

        def attempt() -> Any:
            nonlocal last
            try:
                ws = self._connect(url, subprotocols=[SUBPROTOCOL], **options)
                ws.settimeout(_POLL_S)
                return ws
            except websocket.WebSocketBadStatusException as exc:
                last = f"HTTP {getattr(exc, 'status_code', '?')}: {_body(exc)}"
                if getattr(exc, "status_code", 0) in (401, 403, 404):
                    raise ConsoleError(f"cannot open the console of {self.vmi}: {last}") from None
            except (OSError, ssl.SSLError, websocket.WebSocketException) as exc:
                last = str(exc) or type(exc).__name__
            return None

        ws = poll_until(attempt, lambda got: got is not None,
                        timeout_s=deadline - time.monotonic(), interval_s=_CONNECT_RETRY_S,
                        what=f"the console of {self.vmi}", cancel=self.cancel,
                        last_on_timeout=True)
        if ws is None:
            raise ConsoleError(f"cannot open the console of {self.vmi}: {last}")
        return ws

    def _send(self, text: str) -> None:
        try:
            self._ws.send_binary(text.encode())
        except (OSError, websocket.WebSocketException) as exc:
            raise ConsoleError(f"console of {self.vmi} closed while sending: {exc}") from exc

    def _receive(self) -> bool:
        try:
            opcode, data = self._ws.recv_data()
        except websocket.WebSocketTimeoutException:
            return False
        except (OSError, websocket.WebSocketException) as exc:
            raise ConsoleError(
                f"console of {self.vmi} closed: {exc or type(exc).__name__}; "
                f"last output: {_tail(self._buffer)}"
            ) from exc
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            raise ConsoleError(f"console of {self.vmi} was closed by the server")
        if isinstance(data, bytes):
            data = data.decode("utf-8", errors="replace")
        self._buffer += data
        self._buffer = self._buffer[-2_000_000:]
        return bool(data)


def _body(exc: Exception) -> str:
    body = getattr(exc, "resp_body", None) or b""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    return " ".join(str(body).split())[:200] or str(exc)
