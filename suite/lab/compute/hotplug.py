"""virt-api's volume hotplug subresources: addvolume / removevolume (PUT, 202).

As kubevirt/kubevirt pkg/virt-api/rest/subresource.go does it: the `HotplugVolumes`
feature gate is checked first (400 when off), the options are checked for a name, a
disk and a volume source, then either the VMI's spec is changed at once
(virtualmachineinstances/..., what `virtctl addvolume` does without --persist) or the
request is queued in the VM's `status.volumeRequests` (virtualmachines/..., --persist),
which the VM controller applies to the VM and its running VMI (see hotplugctl.py).
Refusals keep upstream's texts, e.g. "Unable to add volume [x] because volume with that
name already exists" as a 409.
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..errors import ApiError
from .vm import VM, VMI

if TYPE_CHECKING:
    from ..store import Store

GATE = "HotplugVolumes"
VMI_NOT_RUNNING = "VMI is not running"


def _bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def _conflict(resource: str, name: str, message: str) -> ApiError:
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {resource}.kubevirt.io '
                    f'"{name}": {message}', {"name": name, "group": "kubevirt.io",
                                              "kind": resource})


def _not_found(resource: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{resource}.kubevirt.io "{name}" not found',
                    {"name": name, "group": "kubevirt.io", "kind": resource})


def source_name(volume: dict[str, Any]) -> str:
    """The claim (or DataVolume) behind a volume or a hotplug volume source."""
    if volume.get("dataVolume"):
        return str(volume["dataVolume"].get("name", ""))
    if volume.get("persistentVolumeClaim"):
        return str(volume["persistentVolumeClaim"].get("claimName", ""))
    return ""


def hotpluggable(volume: dict[str, Any]) -> bool:
    return bool((volume.get("dataVolume") or {}).get("hotpluggable")
                or (volume.get("persistentVolumeClaim") or {}).get("hotpluggable"))


def verify(volumes: list[dict[str, Any]], request: dict[str, Any]) -> str | None:
    """verifyVolumeOption: the refusal text, or None when the request may proceed."""
    add, remove = request.get("addVolumeOptions"), request.get("removeVolumeOptions")
    for volume in volumes:
        if add is not None:
            if volume.get("name") == add["name"]:
                return (f"Unable to add volume [{add['name']}] because volume with that name "
                        "already exists")
            wanted = source_name(add.get("volumeSource") or {})
            if wanted and source_name(volume) == wanted:
                return f"Unable to add volume source [{wanted}] because it already exists"
        elif remove is not None and remove["name"] in (volume.get("name"), source_name(volume)):
            if not hotpluggable(volume):
                return (f"Unable to remove volume [{volume.get('name')}] because it is not "
                        "hotpluggable")
            return None
    if remove is not None:
        return f"Unable to remove volume [{remove['name']}] because it does not exist"
    return None


def apply(spec: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """ApplyVolumeRequestOnVMISpec: a copy of `spec` with the volume added or removed."""
    spec = copy.deepcopy(spec)
    volumes = spec.setdefault("volumes", [])
    disks = spec.setdefault("domain", {}).setdefault("devices", {}).setdefault("disks", [])
    add, remove = request.get("addVolumeOptions"), request.get("removeVolumeOptions")
    if add is not None:
        if not any(v.get("name") == add["name"] for v in volumes):
            volumes.append({"name": add["name"], **copy.deepcopy(add["volumeSource"])})
        if not any(d.get("name") == add["name"] for d in disks):
            disks.append(copy.deepcopy(add["disk"]))
    elif remove is not None:
        gone = {v.get("name") for v in volumes
                if remove["name"] in (v.get("name"), source_name(v))}
        spec["volumes"] = [v for v in volumes if v.get("name") not in gone]
        spec["domain"]["devices"]["disks"] = [d for d in disks if d.get("name") not in gone]
    return spec


async def _options(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise _bad_request(f"Can not unmarshal Request body to struct, error: {exc}") from exc
    return body if isinstance(body, dict) else {}


def add_request(opts: dict[str, Any]) -> dict[str, Any]:
    if not opts.get("name"):
        raise _bad_request("AddVolumeOptions requires name to be set")
    if opts.get("disk") is None:
        raise _bad_request("AddVolumeOptions requires disk to not be nil")
    if opts.get("volumeSource") is None:
        raise _bad_request("AddVolumeOptions requires VolumeSource to not be nil")
    opts = copy.deepcopy(opts)
    opts["disk"]["name"] = opts["name"]
    for key in ("dataVolume", "persistentVolumeClaim"):
        if opts["volumeSource"].get(key) is not None:
            opts["volumeSource"][key]["hotpluggable"] = True
            break
    return {"addVolumeOptions": opts}


def remove_request(opts: dict[str, Any]) -> dict[str, Any]:
    if not opts.get("name"):
        raise _bad_request("RemoveVolumeOptions requires name to be set")
    return {"removeVolumeOptions": dict(opts)}


class HotplugApi:
    """The four handlers: VM and VMI, add and remove."""

    def __init__(self, store: Store, gates: Any) -> None:
        self.store = store
        self.gates = gates  # () -> set of KubeVirt feature gates in effect

    def _gate(self, verb: str) -> None:
        if GATE not in self.gates():
            raise _bad_request(f"Unable to {verb} Volume because HotplugVolumes feature gate "
                               "is not enabled.")

    async def vm_add(self, request: web.Request, namespace: str, name: str) -> web.Response:
        self._gate("Add")
        return self._on_vm(namespace, name, add_request(await _options(request)))

    async def vm_remove(self, request: web.Request, namespace: str, name: str) -> web.Response:
        self._gate("Remove")
        return self._on_vm(namespace, name, remove_request(await _options(request)))

    async def vmi_add(self, request: web.Request, namespace: str, name: str) -> web.Response:
        self._gate("Add")
        return self._on_vmi(namespace, name, add_request(await _options(request)))

    async def vmi_remove(self, request: web.Request, namespace: str, name: str
                         ) -> web.Response:
        self._gate("Remove")
        return self._on_vmi(namespace, name, remove_request(await _options(request)))

    def _on_vmi(self, namespace: str, name: str, request: dict[str, Any]) -> web.Response:
        vmi = self.store.try_get(VMI, namespace, name)
        if vmi is None:
            raise _not_found("virtualmachineinstance", name)
        if (vmi.get("status") or {}).get("phase") != "Running":
            raise _conflict("virtualmachineinstance", name, VMI_NOT_RUNNING)
        refusal = verify(vmi["spec"].get("volumes") or [], request)
        if refusal:
            raise _conflict("virtualmachineinstance", name, refusal)
        if not _dry_run(request):
            self.store.mutate(VMI, namespace, name,
                              lambda o: o.__setitem__("spec", apply(o["spec"], request)),
                              subresource=None)
        return web.Response(status=202)

    def _on_vm(self, namespace: str, name: str, request: dict[str, Any]) -> web.Response:
        vm = self.store.try_get(VM, namespace, name)
        if vm is None:
            raise _not_found("virtualmachine", name)
        template = ((vm.get("spec") or {}).get("template") or {}).get("spec") or {}
        refusal = verify(template.get("volumes") or [], request)
        queued = (vm.get("status") or {}).get("volumeRequests") or []
        refusal = refusal or _queued_refusal(queued, request)
        if refusal:
            raise _conflict("virtualmachine", name, refusal)
        if not _dry_run(request):
            def queue(obj: dict[str, Any]) -> None:
                status = obj.setdefault("status", {})
                kept = status.get("volumeRequests") or []
                if "removeVolumeOptions" in request:  # a remove drops a queued add
                    target = request["removeVolumeOptions"]["name"]
                    kept = [r for r in kept
                            if (r.get("addVolumeOptions") or {}).get("name") != target]
                status["volumeRequests"] = [*kept, request]
            self.store.mutate(VM, namespace, name, queue, subresource="status")
        return web.Response(status=202)


def _queued_refusal(queued: list[dict[str, Any]], request: dict[str, Any]) -> str | None:
    add, remove = request.get("addVolumeOptions"), request.get("removeVolumeOptions")
    for entry in queued:
        adding = (entry.get("addVolumeOptions") or {}).get("name")
        removing = (entry.get("removeVolumeOptions") or {}).get("name")
        if add is not None and adding == add["name"]:
            return f"add volume request for volume [{add['name']}] already exists"
        if add is not None and removing == add["name"]:
            return (f"unable to add volume since a remove volume request for volume "
                    f"[{add['name']}] already exists and is still being processed")
        if remove is not None and removing == remove["name"]:
            return (f"a remove volume request for volume [{remove['name']}] already exists "
                    "and is still being processed")
    return None


def _dry_run(request: dict[str, Any]) -> bool:
    opts = request.get("addVolumeOptions") or request.get("removeVolumeOptions") or {}
    return (opts.get("dryRun") or [None])[0] == "All"


HOTPLUG_FIELDS = ("phase", "reason", "message", "hotplugVolume")


def keep_hotplug(old: list[dict[str, Any]] | None, fresh: list[dict[str, Any]]
                 ) -> list[dict[str, Any]]:
    """volumeStatus rebuilt from the spec, keeping what the hotplug flow wrote: the
    phase fields of hotplugged volumes, and the entries of volumes being unplugged
    (kept until their attachment pod is gone, as virt-controller keeps them)."""
    by_name = {e["name"]: dict(e) for e in fresh}
    for entry in old or []:
        if entry.get("hotplugVolume") is None:
            continue
        if entry["name"] in by_name:
            merged = by_name[entry["name"]]
            merged.update({k: entry[k] for k in HOTPLUG_FIELDS if k in entry})
            if entry.get("phase") != "Ready":
                merged["target"] = ""  # the domain names the target only once attached
        else:
            by_name[entry["name"]] = entry
    return sorted(by_name.values(), key=lambda e: e["name"])
