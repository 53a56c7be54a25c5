"""The lab's kubelet for simple pods: each container's command is a host process.

Scheduling (nodeName / nodeSelector, WaitForFirstConsumer claims get the node), volume
attachment for claims, a sandbox per container (see sandbox.py), status as a kubelet
reports it, restart policies, and deletion that ends every process of the pod.
Pods whose status another component owns (virt-launcher) are left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..clock import now_rfc3339
from . import podspec
from .podvolumes import PodVolumes
from .procs import end_session
from .runtime import Compute

SANDBOX = Path(__file__).with_name("sandbox.py")


@dataclass
class Container:
    spec: dict[str, Any]
    process: asyncio.subprocess.Process | None = None
    state: dict[str, Any] = field(default_factory=dict)
    started: str = ""
    restarts: int = 0
    cid: str = ""


@dataclass
class PodRun:
    uid: str
    node: str
    workdir: Path
    containers: dict[str, Container] = field(default_factory=dict)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    stopping: bool = False


class PodRuntime:
    def __init__(self, compute: Compute) -> None:
        self.compute = compute
        self.store = compute.store
        self.volumes = PodVolumes(compute)
        self.runs: dict[tuple[str, str], PodRun] = {}

    async def reconcile(self, namespace: str, name: str) -> float | None:
        key = (namespace, name)
        pod = self.store.try_get("pods", namespace, name)
        run = self.runs.get(key)
        if run is not None and (pod is None or pod["metadata"]["uid"] != run.uid
                                or pod["metadata"].get("deletionTimestamp")):
            await self.kill(key)
            return None
        if pod is None or podspec.externally_managed(pod) or pod["metadata"].get(
                "deletionTimestamp") or pod.get("status", {}).get("phase") in (
                "Succeeded", "Failed"):
            return None
        if not pod.get("status", {}).get("phase"):
            self._status(pod, {"phase": "Pending", "qosClass": "BestEffort"})
        if not pod["spec"].get("nodeName"):
            return self._schedule(pod)
        if run is None:
            return await self._start(pod)
        return None

    def _schedule(self, pod: dict[str, Any]) -> float | None:
        nodes = [n for n in self.store.list("nodes")[0] if podspec.fits(n, pod)]
        if not nodes:
            self._status(pod, {"phase": "Pending", "conditions": [{
                "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": "0/3 nodes are available: 3 node(s) didn't match Pod's node "
                           "affinity/selector."}]})
            return 5.0
        names = {n["metadata"]["name"] for n in nodes}
        node = self.compute.pick_node()
        node = node if node in names else sorted(names)[0]
        self.store.mutate("pods", pod["metadata"]["namespace"], pod["metadata"]["name"],
                          lambda p: p["spec"].__setitem__("nodeName", node))
        return 0.0

    async def _start(self, pod: dict[str, Any]) -> float | None:
        node = pod["spec"]["nodeName"]
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        run = PodRun(pod["metadata"]["uid"], node, Path(tempfile.mkdtemp(prefix="kvs-pod-")))
        self.runs[key] = run  # from here on, kill() cleans up whatever happens
        mounts = await self.volumes.prepare(pod, node, run.workdir)
        if mounts is None:
            await self.kill(key)
            self._status(pod, {"phase": "Pending", "conditions": podspec.pod_conditions(
                False, now_rfc3339())})
            return 1.0
        for spec in pod["spec"].get("containers", []):
            container = Container(spec)
            run.containers[spec["name"]] = container
            await self._launch(pod, run, container, mounts.get(spec["name"], []))
        self._report(key)
        return None

    async def _launch(self, pod: dict[str, Any], run: PodRun, container: Container,
                      mounts: list[dict[str, Any]]) -> None:
        name = container.spec["name"]
        spec = {"root": str(run.workdir / name / "root"), "mounts": mounts,
                "state_dir": str(self.compute.ctx.state_dir),
                "workdir": container.spec.get("workingDir") or "/",
                "command": podspec.command_of(container.spec),
                "env": podspec.env_of(pod, container.spec)}
        spec_path = run.workdir / f"{name}.json"
        spec_path.write_text(json.dumps(spec))
        log = (run.workdir / f"{name}.log").open("ab")
        container.process = await asyncio.create_subprocess_exec(
            "unshare", "--mount", "--propagation", "slave", sys.executable, str(SANDBOX),
            str(spec_path), stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True)
        log.close()
        await _sandboxed(container.process)
        container.started, container.cid = now_rfc3339(), podspec.container_id()
        container.state = podspec.running_state(container.started)
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        run.tasks.append(asyncio.get_running_loop().create_task(
            self._watch(key, pod, run, container, mounts)))

    async def _watch(self, key: tuple[str, str], pod: dict[str, Any], run: PodRun,
                     container: Container, mounts: list[dict[str, Any]]) -> None:
        assert container.process is not None
        code = await container.process.wait()
        await end_session(container.process)  # what the command left running dies too
        if run.stopping:
            return
        container.state = podspec.terminated_state(code, container.started)
        policy = pod["spec"].get("restartPolicy", "Always")
        if policy == "Always" or (policy == "OnFailure" and code != 0):
            await asyncio.sleep(min(10.0, 0.5 * 2 ** container.restarts))
            container.restarts += 1
            if not run.stopping:
                await self._launch(pod, run, container, mounts)
        self._report(key)

    def _report(self, key: tuple[str, str]) -> None:
        run = self.runs.get(key)
        pod = self.store.try_get("pods", *key)
        if run is None or pod is None or pod["metadata"]["uid"] != run.uid:
            return
        states = [c.state for c in run.containers.values()]
        phase = podspec.pod_phase(states, pod["spec"].get("restartPolicy", "Always"))
        first = min((c.started for c in run.containers.values()), default=now_rfc3339())
        ip = f"10.128.{self.compute.node_index(run.node)}.{100 + len(self.runs) % 150}"
        self._status(pod, {
            "phase": phase, "hostIP": self.compute.node_ip(run.node), "podIP": ip,
            "podIPs": [{"ip": ip}], "startTime": first, "qosClass": "BestEffort",
            "conditions": podspec.pod_conditions(phase == "Running", first),
            "containerStatuses": [podspec.container_status(c.spec, c.state, c.restarts, c.cid)
                                  for c in run.containers.values()]})
        if phase in ("Succeeded", "Failed"):
            self.volumes.release(pod, run.node)

    def _status(self, pod: dict[str, Any], status: dict[str, Any]) -> None:
        meta = pod["metadata"]
        with contextlib.suppress(Exception):
            self.store.mutate("pods", meta["namespace"], meta["name"],
                              lambda p: p.__setitem__("status", status))

    def pid_of(self, namespace: str, name: str, container: str | None) -> int | None:
        """The pid of a running container (the first one when none is named)."""
        run = self.runs.get((namespace, name))
        if run is None:
            return None
        for cname, c in run.containers.items():
            if (container in (None, "", cname)) and c.process and c.process.returncode is None:
                return c.process.pid
        return None

    def log_path(self, namespace: str, name: str, container: str | None) -> Path | None:
        run = self.runs.get((namespace, name))
        if run is None:
            return None
        cname = container or next(iter(run.containers), "")
        return run.workdir / f"{cname}.log"

    async def kill(self, key: tuple[str, str]) -> None:
        run = self.runs.pop(key, None)
        if run is None:
            return
        run.stopping = True
        for container in run.containers.values():
            if container.process is not None:
                await end_session(container.process)
        for task in run.tasks:
            task.cancel()
        await asyncio.gather(*run.tasks, return_exceptions=True)
        self.volumes.release_by_key(key, run.node)
        _remove_root(run.workdir)

    async def stop_all(self) -> None:
        for key in list(self.runs):
            await self.kill(key)


async def _sandboxed(process: asyncio.subprocess.Process, timeout_s: float = 10.0) -> None:
    """Wait until the container runs in its own root (or ended): only then is it Running,
    so an exec never lands in a half-built sandbox."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while process.returncode is None and asyncio.get_running_loop().time() < deadline:
        try:
            if os.readlink(f"/proc/{process.pid}/root") != "/":
                return
        except OSError:
            return
        await asyncio.sleep(0.01)


def _remove_root(workdir: Path) -> None:
    """Delete a pod's folder, but never through a mount that is still there."""
    mounts = Path("/proc/self/mounts").read_text()
    if str(workdir) in mounts:
        return
    shutil.rmtree(workdir, ignore_errors=True)
