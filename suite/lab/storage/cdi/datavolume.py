"""The DataVolume controller: claim, then populate (import, clone), as CDI does it.

The target claim is named after the DataVolume and owned by it. Imports and host-assisted
clones run in-process (the lab has no importer pods) but walk CDI's phases and write the
pod-phase annotations CDI's importer leaves on the claim. Smart clones go through the
lab's CSI layer: `csi-clone` as a claim with a PVC dataSource, `snapshot` as a temporary
VolumeSnapshot restored into the claim.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...controller import Controller, Key
from ...objects import owner_ref
from ..admission import default_class
from ..common import ANN_SELECTED_NODE, Drivers, Obj, parse_quantity, requested_bytes
from . import annotations as A
from .claims import ClaimNotValid, claim_spec
from .status import DV, event, write_status
from .strategy import SourceMissing, plan_pvc_clone, snapshot_class_for

if TYPE_CHECKING:
    from ...context import LabContext

VS = "snapshot.storage.k8s.io/volumesnapshots"


class SourceNotPopulated(Exception):
    """The clone source exists but is not bound or not yet filled by its DataVolume."""

PVC = "persistentvolumeclaims"
SUCCEEDED = ("False", "Completed", "")


class DataVolumes:
    def __init__(self, ctx: LabContext, drivers: Drivers) -> None:
        self.ctx, self.drivers, self.store = ctx, drivers, ctx.store
        self.queue = Controller(ctx, "datavolumes", self.reconcile)

    def start(self) -> None:
        self.queue.watch(DV)
        self.queue.watch(PVC, _owner_keys)
        self.queue.watch(VS, _snapshot_owner_keys)

    async def reconcile(self, key: Key) -> float | None:
        dv = self.store.try_get(DV, key[0], key[1])
        if not dv or dv["metadata"].get("deletionTimestamp"):
            return None
        pvc = self.store.try_get(PVC, key[0], key[1])
        if pvc is None:
            return await self._create_claim(dv)
        if not _owned_by(pvc, dv):
            event(self.ctx, dv, "ErrResourceExists",
                  f'Resource "{pvc["metadata"]["name"]}" already exists and is not managed by '
                  "DataVolume", "Warning")
            return None
        if pvc["metadata"].get("deletionTimestamp"):
            return None
        if (pvc.get("status") or {}).get("phase") != "Bound":
            return self._pending(dv, pvc)
        return await self._populate(dv, pvc)

    # ------------------------------------------------------------ the claim
    async def _create_claim(self, dv: Obj) -> float | None:
        kind = _source_kind(dv)
        try:
            spec = claim_spec(self.ctx, dv, self._source_size(dv, kind))
            anns = self._source_annotations(dv, kind, spec)
        except ClaimNotValid as exc:
            event(self.ctx, dv, "ErrClaimNotValid", str(exc), "Warning")
            write_status(self.ctx, dv, None, "Pending")
            return None
        except SourceMissing as exc:
            event(self.ctx, dv, "CloneWithoutSource", str(exc), "Warning")
            write_status(self.ctx, dv, None, "CloneScheduled")
            return 1.0
        except SourceNotPopulated:  # CDI waits for the source to be filled before cloning
            write_status(self.ctx, dv, None, "CloneScheduled")
            return 1.0
        if anns is None:
            return None  # waiting for the smart-clone snapshot; its events bring us back
        claim = _claim(dv, spec, anns)
        default_class(self.store, claim)
        pvc = self.store.create(PVC, claim)
        if anns.get(A.ANN_CLONE_FALLBACK):
            reason = [k for k, v in _fallback_events().items()
                      if v == anns[A.ANN_CLONE_FALLBACK]]
            event(self.ctx, pvc, reason[0] if reason else "CloneFallback",
                  anns[A.ANN_CLONE_FALLBACK], "Warning")
        event(self.ctx, dv, "Pending", f"PVC {pvc['metadata']['name']} Pending")
        write_status(self.ctx, dv, pvc, "Pending")
        return None

    def _source_size(self, dv: Obj, kind: str) -> int | None:
        source = dv["spec"]["source"][kind] if kind in ("pvc", "snapshot") else None
        if source is None:
            return None
        ns = source.get("namespace") or dv["metadata"]["namespace"]
        if kind == "pvc":
            src = self.store.try_get(PVC, ns, source.get("name", ""))
            return requested_bytes(src) if src else None
        vs = self.store.try_get(VS, ns, source.get("name", ""))
        size = ((vs or {}).get("status") or {}).get("restoreSize")
        return parse_quantity(size) if size else None

    def _source_annotations(self, dv: Obj, kind: str, spec: Obj) -> dict[str, str] | None:
        base = {A.ANN_CONTENT_TYPE: dv["spec"].get("contentType", "kubevirt"),
                A.ANN_PREALLOCATION: "false", A.ANN_CREATED_FOR: dv["metadata"]["uid"],
                A.ANN_USE_POPULATOR: "false"}
        base.update({k: v for k, v in (dv["metadata"].get("annotations") or {}).items()
                     if k.startswith(A.PREFIX)})
        if kind == "http":
            return {**base, A.ANN_ENDPOINT: dv["spec"]["source"]["http"].get("url", ""),
                    A.ANN_SOURCE: "http"}
        if kind == "blank":
            return {**base, A.ANN_SOURCE: "none"}
        if kind == "pvc":
            return self._clone_annotations(dv, spec, base)
        if kind == "snapshot":
            return self._snapshot_annotations(dv, spec, base)
        raise ClaimNotValid(f"Data volume source {kind or '(none)'} is not supported by the lab; "
                            "use blank, http, pvc or snapshot")

    def _clone_annotations(self, dv: Obj, spec: Obj, base: dict[str, str]) -> dict[str, str] | None:
        plan = plan_pvc_clone(self.ctx, dv, spec)
        if not self._source_populated(plan.source_namespace, plan.source_name):
            raise SourceNotPopulated(plan.source_name)
        anns = {**base, A.ANN_CLONE_TYPE: plan.strategy, A.ANN_CLONE_PHASE: "Pending",
                A.ANN_CLONE_REQUEST: f"{plan.source_namespace}/{plan.source_name}"}
        if plan.fallback_reason:
            anns[A.ANN_CLONE_FALLBACK] = plan.fallback_reason
        if plan.strategy == "csi-clone":
            _set_source(spec, {"kind": "PersistentVolumeClaim", "name": plan.source_name})
        elif plan.strategy == "snapshot":
            snap = self._smart_clone_snapshot(dv, plan.source_name)
            if snap is None:
                return None
            _set_source(spec, {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot",
                               "name": snap})
        return anns

    def _source_populated(self, namespace: str, name: str) -> bool:
        """Bound, and done if a DataVolume fills it (CDI's isSourcePVCPopulated)."""
        src = self.store.try_get(PVC, namespace, name)
        if not src or (src.get("status") or {}).get("phase") != "Bound":
            return False
        owners = [ref["name"] for ref in src["metadata"].get("ownerReferences") or []
                  if ref.get("kind") == "DataVolume"]
        return all((self.store.try_get(DV, namespace, owner) or {}).get("status", {})
                   .get("phase") == "Succeeded" for owner in owners)

    def _smart_clone_snapshot(self, dv: Obj, source: str) -> str | None:
        """The temporary snapshot of a `snapshot` clone; its name once it is ready."""
        meta = dv["metadata"]
        name = f"cdi-tmp-{meta['uid']}"
        vs = self.store.try_get(VS, meta["namespace"], name)
        if vs is None:
            src = self.store.get(PVC, meta["namespace"], source)
            driver = self.drivers.for_pvc(src)
            vs = self.store.create(VS, {
                "metadata": {"name": name, "namespace": meta["namespace"],
                             "labels": dict(A.LABELS),
                             "annotations": {A.ANN_OWNED_BY_DV: f"{meta['namespace']}/"
                                                                f"{meta['name']}"}},
                "spec": {"source": {"persistentVolumeClaimName": source},
                         "volumeSnapshotClassName": snapshot_class_for(
                             self.ctx, driver.provisioner if driver else "")}})
        if (vs.get("status") or {}).get("readyToUse"):
            return name
        if (dv.get("status") or {}).get("phase") != "SnapshotForSmartCloneInProgress":
            event(self.ctx, dv, "SnapshotForSmartCloneInProgress",
                  f"Creating snapshot for smart-clone is in progress (for pvc "
                  f"{meta['namespace']}/{source})")
            write_status(self.ctx, dv, None, "SnapshotForSmartCloneInProgress")
        return None

    def _snapshot_annotations(self, dv: Obj, spec: Obj, base: dict[str, str]) -> dict[str, str]:
        source = dv["spec"]["source"]["snapshot"]
        ns = source.get("namespace") or dv["metadata"]["namespace"]
        if ns != dv["metadata"]["namespace"]:
            raise ClaimNotValid("the lab clones from snapshots in the DataVolume's namespace only")
        if self.store.try_get(VS, ns, source.get("name", "")) is None:
            raise SourceMissing(f"The source snapshot {source.get('name')} doesn't exist")
        _set_source(spec, {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot",
                           "name": source["name"]})
        return {**base, A.ANN_CLONE_TYPE: "snapshot", A.ANN_CLONE_PHASE: "Pending",
                A.ANN_CLONE_REQUEST: f"{ns}/{source['name']}"}

    # ------------------------------------------------------------ waiting
    def _pending(self, dv: Obj, pvc: Obj) -> float | None:
        anns = pvc["metadata"].get("annotations") or {}
        driver = self.drivers.for_pvc(pvc)
        wffc = driver is not None and driver.volume_binding_mode == "WaitForFirstConsumer"
        if wffc and ANN_SELECTED_NODE not in anns:
            if A.ANN_IMMEDIATE_BIND in (dv["metadata"].get("annotations") or {}):
                self._select_node(pvc)
                return None
            if (dv.get("status") or {}).get("phase") != "PendingPopulation":
                event(self.ctx, dv, "PendingPopulation",
                      f"PVC {pvc['metadata']['name']} Pending and waiting for a consumer")
            write_status(self.ctx, dv, pvc, "PendingPopulation")
            return None
        phase = {"csi-clone": "CSICloneInProgress",
                 "snapshot": "CloneFromSnapshotSourceInProgress"}.get(
                     anns.get(A.ANN_CLONE_TYPE, ""), "Pending")
        write_status(self.ctx, dv, pvc, phase)
        return None

    def _select_node(self, pvc: Obj) -> None:
        """What scheduling CDI's worker pod does for an immediate-bind request."""
        node = self.ctx.nodes[0]
        self.store.mutate(PVC, pvc["metadata"]["namespace"], pvc["metadata"]["name"],
                          lambda o: o["metadata"].setdefault("annotations", {}).update(
                              {ANN_SELECTED_NODE: node}))

    # ------------------------------------------------------------ populating
    async def _populate(self, dv: Obj, pvc: Obj) -> float | None:
        from .populate import Populator

        return await Populator(self.ctx, self.drivers, dv, pvc).run(_source_kind(dv))


def _source_kind(dv: Obj) -> str:
    source = (dv.get("spec") or {}).get("source") or {}
    return next(iter(source), "")


def _set_source(spec: Obj, source: Obj) -> None:
    spec["dataSource"] = dict(source)
    spec["dataSourceRef"] = dict(source)


def _fallback_events() -> dict[str, str]:
    from .strategy import FALLBACKS

    return FALLBACKS


def _claim(dv: Obj, spec: Obj, anns: dict[str, str]) -> Obj:
    meta = dv["metadata"]
    labels = {**(meta.get("labels") or {}), **A.LABELS}
    return {"metadata": {"name": meta["name"], "namespace": meta["namespace"],
                         "labels": labels, "annotations": anns,
                         "ownerReferences": [owner_ref(dv)]},
            "spec": spec}


def _owned_by(pvc: Obj, dv: Obj) -> bool:
    return any(ref.get("uid") == dv["metadata"]["uid"] and ref.get("controller")
               for ref in pvc["metadata"].get("ownerReferences") or [])


def _owner_keys(pvc: Obj) -> list[Key]:
    return [(pvc["metadata"].get("namespace"), ref["name"])
            for ref in pvc["metadata"].get("ownerReferences") or []
            if ref.get("kind") == "DataVolume" and ref.get("controller")]


def _snapshot_owner_keys(vs: Obj) -> list[Key]:
    owner = (vs["metadata"].get("annotations") or {}).get(A.ANN_OWNED_BY_DV, "")
    if "/" not in owner:
        return []
    ns, name = owner.split("/", 1)
    return [(ns, name)]

