"""KubeVirt's VM export: VirtualMachineExport (export.kubevirt.io/v1beta1) of a stopped VM.

As kubevirt/kubevirt pkg/storage/export/export (export.go, vm-source.go) does it: the
validating webhook refuses a new export while the `VMExport` gate is off ("vm export
feature gate not enabled"); the controller creates the `virt-export-<name>` Service,
waits until every volume of the VM is populated and the VM is not running (Ready False,
reason InUse, "Virtual Machine ns/name is running"), creates the token Secret
`export-token-<name>` (key `token`, 20 random characters) unless `spec.tokenSecretRef`
names one, runs the `virt-export-<name>` exporter pod, then reports phase Ready with
`status.links`: internal links on the Service's cluster DNS name, external links on
the lab's export proxy (exportserver.py), each volume with its `raw` (disk.img) and
`gzip` (disk.img.gz) URL. The token travels as the `x-kubevirt-export-token` header.
"""

from __future__ import annotations

import base64
import secrets
import string
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .. import conditions as cond
from ..admission.webhook import kubevirt_error
from ..api.crds import crd_for
from ..clock import now_rfc3339
from ..events import record_event
from ..resources import ResourceType
from .vm import FINAL, VM, VMI

if TYPE_CHECKING:
    from ..context import LabContext
    from ..store import Store

GROUP, VERSION = "export.kubevirt.io", "v1beta1"
EXPORT = f"{GROUP}/virtualmachineexports"
WEBHOOK = "virtualmachineexport-validator.export.kubevirt.io"
GATE = "VMExport"
SERVICE_LABEL = "kubevirt.io.virt-export-service"
TTL = timedelta(hours=2)  # exportv1.DefaultDurationTTL
TOKEN_CHARS = string.ascii_letters + string.digits
RESOURCES = (
    ResourceType(GROUP, VERSION, "virtualmachineexports", "virtualmachineexport",
                 "VirtualMachineExport", True, ("vmexport", "vmexports"), ("status",),
                 categories=("all",)),
    ResourceType("", "v1", "services", "service", "Service", True, ("svc",), ("status",)),
)


def register(ctx: LabContext) -> None:
    """Serve the two resources (with the CRD a cluster lists) and admit new exports."""
    store = ctx.store
    for resource in RESOURCES:
        if store.registry.get(resource.group, resource.plural) is None:
            store.registry.add(resource)
            if resource.group:
                store.create("customresourcedefinitions.apiextensions.k8s.io",
                             crd_for(resource))

    def admit(op: str, resource: Any, obj: dict[str, Any], old: Any) -> None:
        if getattr(resource, "key", None) == (GROUP, "virtualmachineexports") and \
                op == "CREATE" and not ctx.cluster.has_gate(GATE):
            raise kubevirt_error(WEBHOOK, "vm export feature gate not enabled")
    store.admission.append(admit)


def _condition(status: dict[str, Any], kind: str, value: str, reason: str,
               message: str = "") -> None:
    """Export conditions always carry reason and message (possibly empty). The list is
    copied first: `status` is a shallow copy of the stored one, compared before writing."""
    status["conditions"] = list(status.get("conditions") or [])
    cond.put(status["conditions"], kind, value, reason, message, keep_empty=True)


def _owner(export: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"apiVersion": f"{GROUP}/{VERSION}", "kind": "VirtualMachineExport",
             "name": export["metadata"]["name"], "uid": export["metadata"]["uid"],
             "controller": True, "blockOwnerDeletion": True}]


def claims_of(vm: dict[str, Any]) -> list[str]:
    spec = ((vm.get("spec") or {}).get("template") or {}).get("spec") or {}
    names = []
    for volume in spec.get("volumes") or []:
        if volume.get("dataVolume"):
            names.append(volume["dataVolume"]["name"])
        elif volume.get("persistentVolumeClaim"):
            names.append(volume["persistentVolumeClaim"]["claimName"])
    return names


class ExportController:
    def __init__(self, store: Store, proxy: Any) -> None:
        self.store = store
        self.proxy = proxy  # exportserver.ExportProxy: external host and CA

    async def reconcile(self, namespace: str, name: str) -> float | None:
        export = self.store.try_get(EXPORT, namespace, name)
        if export is None or export["metadata"].get("deletionTimestamp"):
            return None
        service = self._service(export)
        status = dict(export.get("status") or {})
        if not status:
            created = datetime.fromisoformat(
                export["metadata"]["creationTimestamp"].replace("Z", "+00:00"))
            status = {"phase": "Pending", "ttlExpirationTime": (created + TTL).astimezone(UTC)
                      .strftime("%Y-%m-%dT%H:%M:%SZ")}
            _condition(status, "Ready", "False", "Initializing")
            _condition(status, "PVC", "False", "Unknown")
        status["serviceName"] = service["metadata"]["name"]
        source = export["spec"].get("source") or {}
        status["virtualMachineName"] = source.get("name")
        ready, reason, message, pvcs = self._source(namespace, source.get("name", ""))
        pod_name = service["metadata"]["name"]
        if not ready:
            if self.store.try_get("pods", namespace, pod_name) is not None:
                record_event(self.store, export, "ExportPaused", message, type_="Warning",
                             component="export-controller")
                self.store.delete("pods", namespace, pod_name)
            status.update(phase="Pending", links={})
            _condition(status, "Ready", "False", reason, message)
            self._write(export, status)
            return 3.0 if reason != "VMNotFound" else None
        status["tokenSecretRef"] = self._token(export)
        self._exporter_pod(export, pod_name, pvcs)
        _condition(status, "Ready", "True", "PodReady")
        _condition(status, "PVC", "True", "PVCBound")
        status.update(phase="Ready", links=self._links(export, service, pvcs))
        self._write(export, status)
        return None

    # ---------------------------------------------------------------- source
    def _source(self, namespace: str, vm_name: str
                ) -> tuple[bool, str, str, list[dict[str, Any]]]:
        vm = self.store.try_get(VM, namespace, vm_name)
        if vm is None:
            return False, "VMNotFound", f"Virtual Machine {namespace}/{vm_name} not found", []
        pvcs: list[dict[str, Any]] = []
        for claim in claims_of(vm):
            pvc = self.store.try_get("persistentvolumeclaims", namespace, claim)
            dv = self.store.try_get("cdi.kubevirt.io/datavolumes", namespace, claim)
            populated = pvc is not None and (pvc.get("status") or {}).get("phase") == "Bound" \
                and (dv is None or (dv.get("status") or {}).get("phase") == "Succeeded")
            if pvc is None or not populated:
                return (False, "VolumesNotPopulated", "Not all volumes in the Virtual Machine "
                        f"{namespace}/{vm_name} are populated", [])
            pvcs.append(pvc)
        vmi = self.store.try_get(VMI, namespace, vm_name)
        if vmi is not None and (vmi.get("status") or {}).get("phase") not in FINAL:
            return (False, "InUse", f"Virtual Machine {namespace}/{vm_name} is running", [])
        return True, "", "", pvcs

    # ------------------------------------------------------------- children
    def _service(self, export: dict[str, Any]) -> dict[str, Any]:
        ns, name = export["metadata"]["namespace"], f"virt-export-{export['metadata']['name']}"
        found = self.store.try_get("services", ns, name)
        if found is not None:
            return found  # type: ignore[no-any-return]
        service = self.store.create("services", {
            "metadata": {"name": name, "namespace": ns, "ownerReferences": _owner(export),
                         "labels": {"kubevirt.io": "virt-exporter"}},
            "spec": {"ports": [{"protocol": "TCP", "port": 443, "targetPort": 8443}],
                     "selector": {SERVICE_LABEL: export["metadata"]["name"]},
                     "type": "ClusterIP", "clusterIP": f"172.30.{secrets.randbelow(250)}."
                                                       f"{secrets.randbelow(250) + 2}"}})
        record_event(self.store, export, "ServiceCreated", f"Created service {ns}/{name}",
                     component="export-controller")
        return service  # type: ignore[no-any-return]

    def _token(self, export: dict[str, Any]) -> str:
        given = export["spec"].get("tokenSecretRef")
        if given:
            return str(given)
        ns, name = export["metadata"]["namespace"], f"export-token-{export['metadata']['name']}"
        if self.store.try_get("secrets", ns, name) is None:
            token = "".join(secrets.choice(TOKEN_CHARS) for _ in range(20))
            self.store.create("secrets", {
                "metadata": {"name": name, "namespace": ns, "ownerReferences": _owner(export)},
                "type": "Opaque", "data": {"token": base64.b64encode(token.encode()).decode()}})
            record_event(self.store, export, "SecretCreated",
                         f"Created default secret {ns}/{name}", component="export-controller")
        return name

    def _exporter_pod(self, export: dict[str, Any], name: str,
                      pvcs: list[dict[str, Any]]) -> None:
        ns = export["metadata"]["namespace"]
        if self.store.try_get("pods", ns, name) is not None:
            return
        volumes = [{"name": p["metadata"]["name"].replace(".", "-"),
                    "persistentVolumeClaim": {"claimName": p["metadata"]["name"]}}
                   for p in pvcs]
        self.store.create("pods", {
            "metadata": {"name": name, "namespace": ns, "ownerReferences": _owner(export),
                         "labels": {SERVICE_LABEL: export["metadata"]["name"]},
                         "annotations": {"lab.kvstorage.io/runtime": "none"}},
            "spec": {"containers": [{"name": "exportserver",
                                     "image": "registry.redhat.io/container-native-"
                                              "virtualization/virt-exportserver-rhel9",
                                     "ports": [{"containerPort": 8443}]}],
                     "volumes": volumes, "restartPolicy": "Never"},
            "status": {"phase": "Running", "startTime": now_rfc3339(),
                       "conditions": [{"type": "Ready", "status": "True"}],
                       "containerStatuses": [{"name": "exportserver", "ready": True,
                                              "restartCount": 0, "started": True}]}})
        record_event(self.store, export, "ExporterPodCreated",
                     f"Created exporter pod {ns}/{name}", component="export-controller")

    def _links(self, export: dict[str, Any], service: dict[str, Any],
               pvcs: list[dict[str, Any]]) -> dict[str, Any]:
        meta, svc = export["metadata"], service["metadata"]
        internal = f"https://{svc['name']}.{svc['namespace']}.svc"
        external = (f"https://{self.proxy.host}/api/{GROUP}/{VERSION}/namespaces/"
                    f"{meta['namespace']}/virtualmachineexports/{meta['name']}")

        def link(base: str) -> dict[str, Any]:
            return {"cert": self.proxy.ca_pem, "volumes": [
                {"name": p["metadata"]["name"], "formats": [
                    {"format": "raw", "url": f"{base}/volumes/{p['metadata']['name']}/disk.img"},
                    {"format": "gzip",
                     "url": f"{base}/volumes/{p['metadata']['name']}/disk.img.gz"}]}
                for p in pvcs]}
        return {"internal": link(internal), "external": link(external)}

    def _write(self, export: dict[str, Any], status: dict[str, Any]) -> None:
        if status == export.get("status"):
            return
        meta = export["metadata"]
        self.store.mutate(EXPORT, meta["namespace"], meta["name"],
                          lambda o: o.__setitem__("status", status), subresource="status")
