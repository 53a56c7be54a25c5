"""A scripted serial session on a QEMU guest: wait for text, log in, run a command.

The lab's benchmarks and tests drive a guest the way a person at the console would; a
unique marker after each command tells where its output ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets

from .guest import QemuGuest


class SerialSession:
    def __init__(self, guest: QemuGuest) -> None:
        self.guest = guest
        self.buffer = bytearray()
        self._more = asyncio.Event()
        guest.attach(self._feed, lambda: None)

    def _feed(self, data: bytes) -> None:
        self.buffer += data
        self._more.set()

    async def expect(self, pattern: str, timeout: float) -> re.Match[str]:
        """Wait until `pattern` appears in what the guest printed; consume up to it."""
        regex = re.compile(pattern)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            text = self.buffer.decode(errors="replace")
            match = regex.search(text)
            if match:
                del self.buffer[:len(text[:match.end()].encode())]
                return match
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(f"{self.guest.name}: no {pattern!r} on the console "
                                   f"within {timeout:.0f}s; last output: {text[-300:]!r}")
            self._more.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._more.wait(), left)

    async def login(self, user: str, password: str, timeout: float = 240.0) -> None:
        await self.guest.send(b"\r")
        await self.expect(r"login: ", timeout)
        await self.guest.send(user.encode() + b"\r")
        await self.expect(r"Password: ", 30)
        await self.guest.send(password.encode() + b"\r")
        await self.expect(r"\][$#] ", 30)
        # a wide line: the shell's editor would otherwise wrap long commands at 80
        await self.run("stty cols 4000 2>/dev/null")

    async def run(self, command: str, timeout: float = 120.0) -> tuple[int, str]:
        """Run `command` in the logged-in shell; its output and exit status."""
        tag = secrets.token_hex(4)
        await self.guest.send(f"{command}; echo @{tag}@$?@\r".encode())
        # the terminal echoes the command line (tag then `$?`) before the output
        match = await self.expect(rf"(?s)^(.*?)@{tag}@(\d+)@", timeout)
        text = match.group(1).rpartition("$?@")[2].replace("\r", "")
        await self.expect(r"\][$#] ", timeout)  # the next prompt: input and output in step
        return int(match.group(2)), text.partition("\n")[2].strip()
