"""The compute half of the lab: nodes, pods, KubeVirt's VMs, guests, consoles, migrations,
VM snapshots and restores (see docs/internals.md, "Composition" and "Guests and the
console")."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..controller import Controller, Key, Reconcile, by_name, quiet_retry
from . import cluster
from .agent import AgentHandlers, FsFreezer
from .console import ConsoleHandler
from .export import EXPORT, ExportController
from .export import register as register_export
from .exportserver import ExportProxy
from .hotplug import HotplugApi
from .hotplugctl import HotplugController
from .lifecycle import Lifecycle
from .migration import VMIM, MigrationController, admit
from .podexec import ExecHandler, LogHandler
from .pods import PodRuntime
from .runtime import Compute
from .vm import VM, VMI, VmController
from .vmi import VmiController
from .vmrestore import RESTORE, VmRestoreController
from .vmsnapshot import SNAP, VmSnapshotController
from .vmstate import VmStateController
from .volumemigration import VolumeMigrationController

if TYPE_CHECKING:
    from aiohttp import web

    from ..context import LabContext, SubresourceHandler
    from ..store import Store

SUBRESOURCES = "subresources.kubevirt.io"


def _controller(ctx: LabContext, name: str, reconcile: Any) -> Controller:
    """A compute controller: `reconcile(namespace, name)` on one worker, API errors retried
    quietly (the compute reconciles share guest state, so they run one at a time)."""
    run: Reconcile = by_name(reconcile)
    return Controller(ctx, name, run, workers=1, on_api_error=quiet_retry)


def _same_namespace(store: Store, ref: str) -> Any:
    """Map an event to every object of `ref` in the event's namespace (few in a lab)."""
    def keys(obj: dict[str, Any]) -> list[Key]:
        ns = obj.get("metadata", {}).get("namespace")
        items = store.list(ref, ns)[0] if ns else store.list(ref)[0]
        return [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in items]
    return keys


def _owner_vmi(obj: dict[str, Any]) -> list[Key]:
    ns = obj["metadata"].get("namespace", "")
    return [(ns, ref["name"]) for ref in obj["metadata"].get("ownerReferences") or []
            if ref.get("kind") == "VirtualMachineInstance"]


def _start_vmis(ctx: LabContext, compute: Compute) -> VmiController:
    controller = VmiController(compute)
    vmis = _controller(ctx, "vmi-controller", controller.reconcile)
    vmis.watch(VMI)
    vmis.watch("persistentvolumeclaims", _same_namespace(ctx.store, VMI))
    vmis.watch("cdi.kubevirt.io/datavolumes", _same_namespace(ctx.store, VMI))
    vmis.watch("volumeattachments.storage.k8s.io", _same_namespace(ctx.store, VMI))
    vmis.watch("pods", _owner_vmi)
    vmis.start()
    return controller


def _start_migrations(ctx: LabContext, compute: Compute, vmis: VmiController) -> None:
    ctx.store.admission.append(admit(ctx.store))
    migrations = _controller(ctx, "migration-controller",
                             MigrationController(compute, vmis).reconcile)
    migrations.watch(VMIM)
    migrations.start()


def _start_vms(ctx: LabContext) -> Controller:
    vms = _controller(ctx, "vm-controller", VmController(ctx.store).reconcile)
    vms.watch(VM)
    vms.watch(VMI)
    for ref in ("persistentvolumeclaims", "cdi.kubevirt.io/datavolumes"):
        vms.watch(ref, _same_namespace(ctx.store, VM))
    vms.start()
    return vms


def _start_snapshots(ctx: LabContext, compute: Compute) -> None:
    snapshots = _controller(ctx, "vmsnapshot-controller",
                            VmSnapshotController(ctx.store, FsFreezer(compute)).reconcile)
    snapshots.watch(SNAP)
    snapshots.watch("snapshot.storage.k8s.io/volumesnapshots", _same_namespace(ctx.store, SNAP))
    snapshots.start()
    restores = _controller(ctx, "vmrestore-controller", VmRestoreController(ctx.store).reconcile)
    restores.watch(RESTORE)
    for ref in (VMI, "persistentvolumeclaims"):
        restores.watch(ref, _same_namespace(ctx.store, RESTORE))
    restores.start()


def _start_pods(ctx: LabContext, compute: Compute) -> PodRuntime:
    runtime = PodRuntime(compute)
    pods = _controller(ctx, "pod-runtime", runtime.reconcile)
    pods.watch("pods")
    pods.watch("persistentvolumeclaims", _same_namespace(ctx.store, "pods"))
    pods.watch("volumeattachments.storage.k8s.io", _same_namespace(ctx.store, "pods"))
    pods.start()
    ctx.http.add_subresource("", "v1", "pods", "exec", ExecHandler(runtime))
    ctx.http.add_subresource("", "v1", "pods", "log", LogHandler(runtime))
    return runtime


def _start_hotplug(ctx: LabContext, compute: Compute) -> HotplugController:
    hotplug = HotplugController(compute)
    vmis = _controller(ctx, "hotplug-controller", hotplug.reconcile)
    vmis.watch(VMI)
    vmis.watch("persistentvolumeclaims", _same_namespace(ctx.store, VMI))
    vmis.watch("cdi.kubevirt.io/datavolumes", _same_namespace(ctx.store, VMI))
    vmis.watch("volumeattachments.storage.k8s.io", _same_namespace(ctx.store, VMI))
    vmis.start()
    requests = _controller(ctx, "vm-volume-requests", hotplug.reconcile_vm)
    requests.watch(VM)
    requests.start()
    return hotplug


async def _start_export(ctx: LabContext) -> None:
    register_export(ctx)
    proxy = ExportProxy(ctx)
    await proxy.start()
    ctx.on_stop(proxy.stop)
    exports = _controller(ctx, "export-controller", ExportController(ctx.store, proxy).reconcile)
    exports.watch(EXPORT)
    for ref in (VM, VMI, "persistentvolumeclaims", "cdi.kubevirt.io/datavolumes"):
        exports.watch(ref, _same_namespace(ctx.store, EXPORT))
    exports.start()


def _start_vm_state(ctx: LabContext, compute: Compute) -> None:
    states = _controller(ctx, "vm-state-controller", VmStateController(compute).reconcile)
    states.watch(VMI)
    states.watch("persistentvolumeclaims", _same_namespace(ctx.store, VMI))
    states.start()


def _start_volume_migrations(ctx: LabContext, compute: Compute) -> None:
    moves = _controller(ctx, "volume-migration", VolumeMigrationController(compute).reconcile)
    moves.watch(VM)
    moves.watch(VMI)
    for ref in ("persistentvolumeclaims", "cdi.kubevirt.io/datavolumes"):
        moves.watch(ref, _same_namespace(ctx.store, VM))
    moves.start()


NamespacedHandler = Callable[["web.Request", str, str], Awaitable["web.StreamResponse"]]


def _namespaced(handler: NamespacedHandler) -> SubresourceHandler:
    """KubeVirt's VM and VMI subresources are namespaced: the API server always passes the
    namespace, so these handlers take it as a plain string."""
    async def serve(request: web.Request, namespace: str | None, name: str
                    ) -> web.StreamResponse:
        return await handler(request, namespace or "", name)
    return serve


def _serve_subresources(ctx: LabContext, compute: Compute) -> None:
    lifecycle, agent = Lifecycle(ctx.store), AgentHandlers(compute)
    hotplug = HotplugApi(ctx.store, lambda: set(ctx.cluster.feature_gates))
    handlers: dict[tuple[str, str], NamespacedHandler] = {
                ("virtualmachines", "start"): lifecycle.start,
                ("virtualmachines", "stop"): lifecycle.stop,
                ("virtualmachines", "restart"): lifecycle.restart,
                ("virtualmachines", "migrate"): lifecycle.migrate,
                ("virtualmachines", "addvolume"): hotplug.vm_add,
                ("virtualmachines", "removevolume"): hotplug.vm_remove,
                ("virtualmachineinstances", "addvolume"): hotplug.vmi_add,
                ("virtualmachineinstances", "removevolume"): hotplug.vmi_remove,
                ("virtualmachineinstances", "console"): ConsoleHandler(compute),
                ("virtualmachineinstances", "guestosinfo"): agent.guestosinfo,
                ("virtualmachineinstances", "userlist"): agent.userlist,
                ("virtualmachineinstances", "filesystemlist"): agent.filesystemlist}
    for version in ("v1", "v1alpha3"):
        for (plural, sub), handler in handlers.items():
            ctx.http.add_subresource(SUBRESOURCES, version, plural, sub, _namespaced(handler))
        ctx.http.add_discovery_group(SUBRESOURCES, version, [
            {"name": f"{plural}/{sub}", "singularName": "", "namespaced": True, "kind": "",
             "verbs": ["get"] if plural == "virtualmachineinstances" and sub not in (
                 "addvolume", "removevolume") else ["update"]}
            for plural, sub in handlers])


async def start(ctx: LabContext) -> None:
    """Launch this half's objects, controllers and subresource handlers on the lab loop."""
    cluster.bootstrap(ctx.store, tuple(ctx.nodes), ctx.cluster.schedulable_nodes,
                      ctx.cluster.feature_gates)
    compute = Compute(ctx)
    ctx.extras["compute"] = compute
    vmis = _start_vmis(ctx, compute)
    _start_vms(ctx)
    _start_migrations(ctx, compute, vmis)
    _start_snapshots(ctx, compute)
    _start_hotplug(ctx, compute)
    await _start_export(ctx)
    _start_vm_state(ctx, compute)
    _start_volume_migrations(ctx, compute)
    _serve_subresources(ctx, compute)
    pods = _start_pods(ctx, compute)
    ctx.extras["pods"] = pods

    async def stop_processes() -> None:
        await pods.stop_all()
        for uid in list(compute.guests):
            await compute.guests.pop(uid).stop()
    ctx.on_stop(stop_processes)
