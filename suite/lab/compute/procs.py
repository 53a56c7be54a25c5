"""Ending the lab's guest and pod processes for good.

A guest's shell puts itself in its own process group (job control), and commands the
user starts may do the same, so killing one group is not enough. Every lab process is
started as the leader of a new session, and the session id is what we sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path


def session_members(sid: int) -> list[int]:
    """Pids whose session id is `sid` (read from /proc/<pid>/stat)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        # zombies are already dead; their parent (maybe not us) reaps them
        if len(fields) > 3 and int(fields[3]) == sid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def kill_session(sid: int, sig: int = signal.SIGKILL) -> None:
    for pid in session_members(sid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


async def end_session(process: asyncio.subprocess.Process, grace_s: float = 0.0) -> None:
    """SIGTERM (when a grace is given) then SIGKILL every member, and reap the leader."""
    sid = process.pid
    if grace_s > 0:
        kill_session(sid, signal.SIGTERM)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(process.wait(), grace_s)
    for _ in range(50):
        kill_session(sid)
        if process.returncode is None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(process.wait(), 0.2)
        if process.returncode is not None and not session_members(sid):
            return
        await asyncio.sleep(0.02)


def is_stopped(pid: int) -> bool:
    """Stopped (T), a zombie or gone: it runs no system call any more."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("T", "t", "Z", "X")


async def stop_until_still(sid: int, rounds: int = 250) -> list[int]:
    """SIGSTOP the session until it is still: no new process appeared since the last
    sweep (a fork in flight escapes one sweep) and every one is stopped or gone. Used
    where the guest must not write for a moment (a volume's switch-over, a freeze).
    Returns every process seen."""
    seen: set[int] = set()
    for _ in range(rounds):
        pids = session_members(sid)
        for pid in pids:
            if pid not in seen:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGSTOP)
        seen |= set(pids)
        await asyncio.sleep(0.01)
        if set(session_members(sid)) <= seen and all(is_stopped(p) for p in pids):
            break
    return sorted(seen)
