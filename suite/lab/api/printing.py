"""Printer columns per kind: what `kubectl get` shows, as the real server's table
printers and the CRDs' additionalPrinterColumns define them.

Columns are (header, type, JSONPath) triples so the same data feeds the server-side
Table replies and the CRDs' `additionalPrinterColumns`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

Column = tuple[str, str, str]
AGE: Column = ("Age", "date", ".metadata.creationTimestamp")
OBJECT_REF = "kind/name of .involvedObject"  # not JSONPath: computed, as kubectl prints it

COLUMNS: dict[tuple[str, str], list[Column]] = {
    ("", "namespaces"): [("Status", "string", ".status.phase"), AGE],
    ("", "nodes"): [("Status", "string", ".status.conditions[?(@.type=='Ready')].type"),
                    AGE, ("Version", "string", ".status.nodeInfo.kubeletVersion")],
    ("", "pods"): [("Status", "string", ".status.phase"), AGE,
                   ("IP", "string", ".status.podIP"), ("Node", "string", ".spec.nodeName")],
    ("", "persistentvolumeclaims"): [
        ("Status", "string", ".status.phase"), ("Volume", "string", ".spec.volumeName"),
        ("Capacity", "string", ".status.capacity.storage"),
        ("Access Modes", "string", ".status.accessModes"),
        ("StorageClass", "string", ".spec.storageClassName"),
        ("VolumeAttributesClass", "string", ".spec.volumeAttributesClassName"), AGE,
        ("VolumeMode", "string", ".spec.volumeMode")],
    ("", "persistentvolumes"): [
        ("Capacity", "string", ".spec.capacity.storage"),
        ("Access Modes", "string", ".spec.accessModes"),
        ("Reclaim Policy", "string", ".spec.persistentVolumeReclaimPolicy"),
        ("Status", "string", ".status.phase"), ("Claim", "string", ".spec.claimRef.name"),
        ("StorageClass", "string", ".spec.storageClassName"), AGE],
    ("", "events"): [("Last Seen", "date", ".lastTimestamp"), ("Type", "string", ".type"),
                     ("Reason", "string", ".reason"), ("Object", "string", OBJECT_REF),
                     ("Message", "string", ".message")],
    ("storage.k8s.io", "storageclasses"): [
        ("Provisioner", "string", ".provisioner"),
        ("ReclaimPolicy", "string", ".reclaimPolicy"),
        ("VolumeBindingMode", "string", ".volumeBindingMode"),
        ("AllowVolumeExpansion", "boolean", ".allowVolumeExpansion"), AGE],
    ("storage.k8s.io", "volumeattachments"): [
        ("Attacher", "string", ".spec.attacher"),
        ("PV", "string", ".spec.source.persistentVolumeName"),
        ("Node", "string", ".spec.nodeName"), ("Attached", "boolean", ".status.attached"),
        AGE],
    ("kubevirt.io", "virtualmachines"): [
        AGE, ("Status", "string", ".status.printableStatus"),
        ("Ready", "string", ".status.conditions[?(@.type=='Ready')].status")],
    ("kubevirt.io", "virtualmachineinstances"): [
        AGE, ("Phase", "string", ".status.phase"),
        ("IP", "string", ".status.interfaces[0].ipAddress"),
        ("NodeName", "string", ".status.nodeName"),
        ("Ready", "string", ".status.conditions[?(@.type=='Ready')].status")],
    ("kubevirt.io", "virtualmachineinstancemigrations"): [
        ("Phase", "string", ".status.phase"), ("VMI", "string", ".spec.vmiName")],
    ("cdi.kubevirt.io", "datavolumes"): [
        ("Phase", "string", ".status.phase"), ("Progress", "string", ".status.progress"),
        ("Restarts", "integer", ".status.restartCount"), AGE],
    ("snapshot.storage.k8s.io", "volumesnapshots"): [
        ("ReadyToUse", "boolean", ".status.readyToUse"),
        ("SourcePVC", "string", ".spec.source.persistentVolumeClaimName"),
        ("RestoreSize", "string", ".status.restoreSize"),
        ("SnapshotClass", "string", ".spec.volumeSnapshotClassName"),
        ("SnapshotContent", "string", ".status.boundVolumeSnapshotContentName"), AGE],
    ("snapshot.storage.k8s.io", "volumesnapshotcontents"): [
        ("ReadyToUse", "boolean", ".status.readyToUse"),
        ("RestoreSize", "integer", ".status.restoreSize"),
        ("DeletionPolicy", "string", ".spec.deletionPolicy"),
        ("Driver", "string", ".spec.driver"),
        ("VolumeSnapshot", "string", ".spec.volumeSnapshotRef.name"), AGE],
    ("snapshot.storage.k8s.io", "volumesnapshotclasses"): [
        ("Driver", "string", ".driver"), ("DeletionPolicy", "string", ".deletionPolicy"), AGE],
    ("snapshot.kubevirt.io", "virtualmachinesnapshots"): [
        ("SourceKind", "string", ".spec.source.kind"),
        ("SourceName", "string", ".spec.source.name"), ("Phase", "string", ".status.phase"),
        ("ReadyToUse", "boolean", ".status.readyToUse"),
        ("CreationTime", "date", ".status.creationTime"),
        ("Error", "string", ".status.error.message")],
    ("snapshot.kubevirt.io", "virtualmachinerestores"): [
        ("TargetKind", "string", ".spec.target.kind"),
        ("TargetName", "string", ".spec.target.name"),
        ("Complete", "boolean", ".status.complete"),
        ("RestoreTime", "date", ".status.restoreTime"),
        ("Error", "string", ".status.error.message")],
    ("hco.kubevirt.io", "hyperconvergeds"): [AGE],
}

# Shown only with `-o wide` (priority 1), as the real printers do.
WIDE = {("", "persistentvolumeclaims", "VolumeMode"), ("", "pods", "IP"),
        ("", "pods", "Node")}

_STEP = re.compile(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]|\[\?\(@\.([A-Za-z0-9_]+)=='([^']*)'\)\]")


def columns_for(group: str, plural: str) -> list[Column]:
    return COLUMNS.get((group, plural), [AGE])


def priority(group: str, plural: str, header: str) -> int:
    return 1 if (group, plural, header) in WIDE else 0


def json_path(obj: Any, path: str) -> Any:
    """The value at a simple JSONPath: `.a.b`, `[0]`, `[?(@.type=='Ready')]`."""
    node = obj
    for field, index, key, wanted in _STEP.findall(path):
        if field:
            node = node.get(field) if isinstance(node, dict) else None
        elif index:
            node = node[int(index)] if isinstance(node, list) and len(node) > int(index) else None
        else:
            node = next((i for i in node or [] if isinstance(i, dict)
                         and str(i.get(key)) == wanted), None)
        if node is None:
            return None
    return node


def human_age(timestamp: str | None, now: datetime | None = None) -> str:
    """Ages the way kubectl prints them: 45s, 5m3s, 12m, 3h4m, 9h, 2d3h, 20d, 2y."""
    if not timestamp:
        return "<unknown>"
    then = datetime.strptime(timestamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    seconds = max(int(((now or datetime.now(UTC)) - then).total_seconds()), 0)
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if hours < 3:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    return f"{days}d" if days < 730 else f"{days // 365}y"


_MODES = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX",
          "ReadWriteOncePod": "RWOP"}


def cell(obj: dict[str, Any], column: Column) -> Any:
    _, kind, path = column
    if path == OBJECT_REF:
        ref = obj.get("involvedObject") or {}
        return f"{str(ref.get('kind', '')).lower()}/{ref.get('name', '')}"
    value = json_path(obj, path)
    if path.endswith("accessModes") and isinstance(value, list):
        value = [_MODES.get(v, v) for v in value]
    if kind == "date":
        return human_age(value) if isinstance(value, str) else ""
    if value is None:
        return ""  # as CRD printer columns print a missing value
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return value
