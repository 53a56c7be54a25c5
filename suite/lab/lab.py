"""One lab: the store, the controllers, the data plane and the HTTPS API, started in order.

`Lab` runs everything on its own thread and event loop so that pytest (or any
synchronous caller) can start it, talk to it over HTTPS like a cluster, and stop it.
The CLI uses `start_async()` / `stop_async()` on its own loop instead. Startup and
shutdown order are documented in docs/internals.md ("Composition").
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from . import kubeconfig, tls
from .api import ApiServer
from .api.crds import crd_for, custom_resources
from .api.faults import FaultPlan
from .compute.qemu import loopdev
from .context import LabContext
from .labprofile import load_lab_profile
from .store import Store

log = logging.getLogger("suite.lab")
T = TypeVar("T")

BOOTSTRAP_NAMESPACES = ("default", "kube-system", "kube-public", "openshift-cnv")
START_TIMEOUT_S = 120.0


def _make_dataplane(state_dir: Path) -> Any:
    from .dataplane import DataPlane

    return DataPlane(state_dir)


def bootstrap(store: Store, schemas: Any = None) -> None:
    """The objects every cluster has before anyone uses it."""
    for name in BOOTSTRAP_NAMESPACES:
        store.create("namespaces", {"metadata": {"name": name},
                                    "spec": {"finalizers": ["kubernetes"]},
                                    "status": {"phase": "Active"}})
    for resource in custom_resources(store.registry):
        schema = schemas.crd_schema(resource) if schemas is not None else None
        store.create("customresourcedefinitions.apiextensions.k8s.io",
                     crd_for(resource, schema))


class Lab:
    """An embedded Kubernetes-like cluster on 127.0.0.1 (see docs/internals.md)."""

    def __init__(self, drivers_file: str | Path | None = None,
                 state_dir: str | Path | None = None, port: int = 0,
                 guests: str | None = None) -> None:
        self.drivers_file = Path(drivers_file) if drivers_file else None
        self.guests = guests  # overrides the driver file's cluster.guests (--lab-guests)
        self._own_state_dir = state_dir is None
        self.state_dir = Path(state_dir) if state_dir else None
        self.port = port
        self._ctx: LabContext | None = None
        self._api: ApiServer | None = None
        self.token = secrets.token_urlsafe(32)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # --------------------------------------------------------- properties
    @property
    def server_url(self) -> str:
        return self.server.url

    @property
    def kubeconfig_path(self) -> Path:
        assert self.state_dir is not None, "the lab is not started"
        return self.state_dir / "kubeconfig"

    @property
    def faults(self) -> FaultPlan:
        return self.server.faults

    @property
    def ctx(self) -> LabContext:
        if self._ctx is None:
            raise RuntimeError("the lab is not started")
        return self._ctx

    @property
    def server(self) -> ApiServer:
        if self._api is None:
            raise RuntimeError("the lab is not started")
        return self._api

    def token_for(self, namespace: str, service_account: str,
                  expiration_s: int = 3600) -> str:
        """A ServiceAccount token of any lifetime (what `kubectl create token` returns,
        without its 10-minute minimum, so tests can hold an expired one)."""
        return self.call(self.server.auth.issue_token, namespace, service_account,
                         expiration_s)

    def write_kubeconfig(self, path: str | Path) -> Path:
        server = self.server
        return kubeconfig.write(Path(path), server.url, server.tls.ca_pem(), self.token)

    # ------------------------------------------------------- async lifecycle
    async def start_async(self) -> Lab:
        try:
            await self._start_parts()
        except BaseException:
            await self.stop_async()
            raise
        return self

    async def _start_parts(self) -> None:
        profile = load_lab_profile(self.drivers_file)
        cluster = profile.cluster
        if self.guests and self.guests != cluster.guests:
            from dataclasses import replace

            from .clusterprofile import require_qemu_image
            if self.guests == "qemu":
                require_qemu_image("--lab-guests")
            cluster = replace(cluster, guests=self.guests)
        if self.state_dir is None:
            self.state_dir = Path(tempfile.mkdtemp(prefix="kvs-lab-"))
        self.state_dir.mkdir(parents=True, exist_ok=True)
        server_tls = tls.generate(self.state_dir / "tls")
        ctx = self._ctx = LabContext(Store(), self.state_dir, list(profile.drivers),
                                     cluster=cluster)
        self._api = ApiServer(ctx, server_tls, self.token, self.port)
        self._api.bind()
        bootstrap(ctx.store, self._api.schemas)
        self._api.auth.bootstrap()
        ctx.dataplane = _make_dataplane(self.state_dir)
        from . import admission, compute, storage

        await compute.start(ctx)
        await storage.start(ctx)
        admission.register(ctx)  # webhook and API server rules (docs/admission.md)
        await self._api.start()
        self.write_kubeconfig(self.kubeconfig_path)

    async def stop_async(self) -> None:
        """Stop serving, stop the controllers, then the data plane; idempotent."""
        if self._api is not None:
            await self._api.stop()
        if self._ctx is not None:
            for failure in await self._ctx.stop():
                log.error("lab cleanup failed: %s", failure)
            if self.state_dir is not None:  # a QEMU guest killed before its own cleanup
                await asyncio.to_thread(loopdev.detach_under, self.state_dir)
            await self._shutdown_dataplane(self._ctx)
        if self._own_state_dir and self.state_dir is not None:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    @staticmethod
    async def _shutdown_dataplane(ctx: LabContext) -> None:
        dataplane, ctx.dataplane = ctx.dataplane, None
        if dataplane is not None:
            await dataplane.shutdown()

    # ------------------------------------------------------ threaded lifecycle
    def start(self) -> Lab:
        """Start on a private thread and loop; returns once the API serves."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="lab-loop",
                                        daemon=True)
        self._thread.start()
        try:
            self.run(self.start_async(), timeout_s=START_TIMEOUT_S)
        except BaseException:
            self._end_thread()
            raise
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        try:
            self.run(self.stop_async(), timeout_s=START_TIMEOUT_S)
        finally:
            self._end_thread()

    def _end_thread(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float | None = 60.0) -> T:
        """Run a coroutine on the lab's loop from another thread and wait for it."""
        if self._loop is None:
            raise RuntimeError("the lab runs no thread of its own (started with start_async)")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout_s)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Call a synchronous function (e.g. a store method) on the lab's loop."""
        async def invoke() -> T:
            return fn(*args)

        return self.run(invoke())

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
