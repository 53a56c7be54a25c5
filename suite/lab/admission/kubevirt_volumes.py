"""KubeVirt's volume checks, shared by the VM and VMI webhooks.

Mirrors `validateVolumes` in kubevirt/kubevirt
pkg/virt-api/webhooks/validating-webhook/admitters/vmi-create-admitter.go: unique names,
exactly one source per volume, a DataVolume volume names its DataVolume, and inline
cloud-init data within 2048 bytes (`cloudInitUserMaxLen`, `cloudInitNetworkMaxLen`:
larger data belongs in a Secret named by UserDataSecretRef / NetworkDataSecretRef, spelled
`secretRef` / `networkDataSecretRef` in the API's JSON).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from .webhook import Cause, invalid, required

CLOUD_INIT_USER_MAX = 2048
CLOUD_INIT_NETWORK_MAX = 2048
SOURCES = ("persistentVolumeClaim", "sysprep", "cloudInitNoCloud", "cloudInitConfigDrive",
           "containerDisk", "ephemeral", "emptyDisk", "hostDisk", "dataVolume", "configMap",
           "secret", "downwardAPI", "serviceAccount", "downwardMetrics", "memoryDump",
           "containerPath")
CLOUD_INIT = ("cloudInitNoCloud", "cloudInitConfigDrive")


def validate_volumes(field: str, volumes: list[dict[str, Any]]) -> list[Cause]:
    causes: list[Cause] = []
    seen: dict[Any, int] = {}
    for idx, volume in enumerate(volumes):
        at = f"{field}[{idx}]"
        name = volume.get("name")
        if name in seen:
            causes.append(invalid(f"{at} and {field}[{seen[name]}] must not have the same "
                                  "Name.", f"{at}.name"))
        else:
            seen[name] = idx
        data_volume = volume.get("dataVolume")
        if data_volume is not None and not (data_volume or {}).get("name"):
            causes.append(required("DataVolume 'name' must be set", f"{at}.name"))
        if sum(volume.get(source) is not None for source in SOURCES) != 1:
            causes.append(invalid(f"{at} must have exactly one source type set", at))
        kind = next((k for k in CLOUD_INIT if volume.get(k) is not None), None)
        if kind is not None:
            causes += _cloud_init(f"{at}.{kind}", kind, volume.get(kind) or {})
    return causes


def _cloud_init(at: str, kind: str, source: dict[str, Any]) -> list[Cause]:
    """Sizes and sources of one cloud-init volume, in KubeVirt's order."""
    causes: list[Cause] = []
    user_count, user_len = _data_source(at, kind, source, "userData", causes)
    if user_count > 1:
        causes.append(invalid(f"{at} must have only one userdatasource set.", at))
    if user_len > CLOUD_INIT_USER_MAX:
        causes.append(invalid(f"{at} userdata exceeds {CLOUD_INIT_USER_MAX} byte limit. "
                              "Should use UserDataSecretRef for larger data.", at))
    net_count, net_len = _data_source(at, kind, source, "networkData", causes)
    if net_count > 1:
        causes.append(invalid(f"{at} must have only one networkdata source set.", at))
    if net_len > CLOUD_INIT_NETWORK_MAX:
        causes.append(invalid(f"{at} networkdata exceeds {CLOUD_INIT_NETWORK_MAX} byte "
                              "limit. Should use NetworkDataSecretRef for larger data.", at))
    if user_count == 0 and net_count == 0:
        causes.append(invalid(f"{at} must have at least one userdatasource or one "
                              "networkdatasource set.", at))
    return causes


def _data_source(at: str, kind: str, source: dict[str, Any], key: str,
                 causes: list[Cause]) -> tuple[int, int]:
    """(how many of secret ref / base64 / inline are set, length of the data in bytes).
    Length is UTF-8 bytes, as Go's len() of a string; inline text wins over base64."""
    count, length = 0, 0
    # UserDataSecretRef's JSON name is `secretRef`; NetworkDataSecretRef's is its own
    ref_key = "secretRef" if key == "userData" else f"{key}SecretRef"
    if (source.get(ref_key) or {}).get("name"):
        count += 1
    encoded = source.get(f"{key}Base64") or ""
    if encoded:
        count += 1
        try:
            length = len(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            field = f"{at}.{key}Base64"
            causes.append(invalid(f"{field}.{kind}.{key}Base64 is not a valid base64 value.",
                                  field))
    inline = source.get(key) or ""
    if inline:
        count += 1
        length = len(inline.encode())
    return count, length
