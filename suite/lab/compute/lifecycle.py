"""virt-api's VM lifecycle subresources: start, stop, restart, migrate (PUT, 202).

They rewrite the VM the way virt-api does (runStrategy for Always/Halted VMs,
status.stateChangeRequests otherwise) and answer with KubeVirt's refusal texts, so a
client that drives real KubeVirt drives the lab unchanged.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..errors import ApiError
from .vm import FINAL, VM, VMI, run_strategy

if TYPE_CHECKING:
    from ..store import Store

MIGRATION = "kubevirt.io/virtualmachineinstancemigrations"


def _conflict(name: str, message: str) -> ApiError:
    return ApiError(409, "Conflict",
                    f'Operation cannot be fulfilled on virtualmachine.kubevirt.io "{name}": '
                    f"{message}", {"name": name, "group": "kubevirt.io",
                                   "kind": "virtualmachine"})


def _not_found(kind: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{kind}.kubevirt.io "{name}" not found',
                    {"name": name, "group": "kubevirt.io", "kind": kind})


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, "BadRequest",
                       f"Can not unmarshal Request body to struct, error: {exc}") from exc
    return body if isinstance(body, dict) else {}


class Lifecycle:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _load(self, namespace: str, name: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
        vm = self.store.try_get(VM, namespace, name)
        if vm is None:
            raise _not_found("virtualmachine", name)
        return vm, self.store.try_get(VMI, namespace, name)

    def _set_running(self, vm: dict[str, Any], running: bool) -> None:
        def change(obj: dict[str, Any]) -> None:
            if "running" in obj["spec"] and "runStrategy" not in obj["spec"]:
                obj["spec"]["running"] = running
            else:
                obj["spec"]["runStrategy"] = "Always" if running else "Halted"
        self.store.mutate(VM, vm["metadata"]["namespace"], vm["metadata"]["name"], change,
                          subresource=None)

    def _request(self, vm: dict[str, Any], *requests: dict[str, Any]) -> None:
        def change(obj: dict[str, Any]) -> None:
            status = obj.setdefault("status", {})
            if status.get("stateChangeRequests"):
                raise ApiError(409, "Conflict",
                               "unable to complete request: stop/start already underway")
            status["stateChangeRequests"] = list(requests)
        self.store.mutate(VM, vm["metadata"]["namespace"], vm["metadata"]["name"], change,
                          subresource="status")

    async def start(self, request: web.Request, namespace: str, name: str) -> web.Response:
        await _body(request)
        vm, vmi = self._load(namespace, name)
        phase = (vmi or {}).get("status", {}).get("phase", "")
        if vmi is not None and phase not in FINAL and phase not in ("", "Unknown"):
            raise _conflict(name, "VM is already running")
        strategy = run_strategy(vm)
        if strategy in ("Always", "Once"):
            raise _conflict(name, f"{strategy} does not support manual start requests")
        if strategy == "Halted":
            self._set_running(vm, True)
        elif strategy == "RerunOnFailure" and phase == "Failed":
            raise _conflict(name, "RerunOnFailure does not support starting VM from failed state")
        elif vmi is not None:
            self._request(vm, {"action": "Stop", "uid": vmi["metadata"]["uid"]},
                          {"action": "Start"})
        else:
            self._request(vm, {"action": "Start"})
        return web.Response(status=202)

    async def stop(self, request: web.Request, namespace: str, name: str) -> web.Response:
        body = await _body(request)
        vm, vmi = self._load(namespace, name)
        strategy = run_strategy(vm)
        final = vmi is None or vmi.get("status", {}).get("phase") in FINAL
        if strategy in ("Always", "Once"):
            self._set_running(vm, False)
        elif strategy == "Halted":
            if vmi is None:
                raise _conflict(name, "VM is not running")
            if body.get("gracePeriod") is None:
                raise _conflict(name, "Halted only supports manual stop requests with a "
                                      "shorter graceperiod")
            self.store.delete(VMI, namespace, name)
        elif final:
            raise _conflict(name, "VM is not running")
        else:
            assert vmi is not None
            self._request(vm, {"action": "Stop", "uid": vmi["metadata"]["uid"]})
        return web.Response(status=202)

    async def restart(self, request: web.Request, namespace: str, name: str) -> web.Response:
        body = await _body(request)
        grace = body.get("gracePeriodSeconds")
        if grace is not None and grace > 0:
            raise ApiError(400, "BadRequest",
                           "For force restart, only gracePeriod=0 is supported for now")
        if grace is not None and grace < 0:
            raise ApiError(400, "BadRequest", "gracePeriod has to be greater or equal to 0")
        vm, vmi = self._load(namespace, name)
        strategy = run_strategy(vm)
        if strategy in ("Halted", "Once"):
            raise _conflict(name, f"RunStategy {strategy} does not support manual restart "
                                  "requests")
        if vmi is None:
            raise _conflict(name, f"VM is not running: {strategy}")
        self._request(vm, {"action": "Stop", "uid": vmi["metadata"]["uid"]},
                      {"action": "Start"})
        return web.Response(status=202)

    async def migrate(self, request: web.Request, namespace: str, name: str) -> web.Response:
        body = await _body(request)
        _, vmi = self._load(namespace, name)
        if vmi is None:
            raise _not_found("virtualmachineinstance", name)
        if vmi.get("status", {}).get("phase") != "Running":
            raise _conflict(name, "VM is not running")
        migration = {"metadata": {"generateName": "kubevirt-migrate-vm-", "namespace": namespace},
                     "spec": {"vmiName": name}}
        if body.get("addedNodeSelector"):
            migration["spec"]["addedNodeSelector"] = body["addedNodeSelector"]
        try:
            self.store.create(MIGRATION, migration, admit=True)
        except ApiError as exc:
            raise ApiError(500, "InternalError", f"Internal error occurred: {exc.message}",
                           {"causes": [{"message": exc.message}]}) from exc
        return web.Response(status=202)
