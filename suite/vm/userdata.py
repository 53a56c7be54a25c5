"""The guests' cloud-init user data, delivered in a Secret (KubeVirt's UserDataSecretRef,
spelled `secretRef` in the API's JSON).

KubeVirt's VM and VMI admission refuses inline `cloudInitNoCloud.userData` longer than
2048 bytes ("userdata exceeds 2048 byte limit. Should use UserDataSecretRef";
kubevirt/kubevirt `pkg/virt-api/webhooks/validating-webhook/admitters/
vmi-create-admitter.go`), and the probe alone is several KiB. So the document lives in
one Secret per class, keyed `userdata` (the key KubeVirt's cloud-init code reads), made
before the class's first VM and deleted with the class's other objects (it is created
through `Kube.create`, so it is labelled and on the class's cleanup stack; LIFO order
deletes it after the VMs that reference it).

The document also asks cloud-init to install the profile's `guest.packages` (fio and,
on Fedora, its libaio engine `fio-engine-libaio`, a separate sub-package of fio.spec).
Where the guest cannot reach a mirror the install fails and cloud-init reports an
error; the suite then finds fio missing and says how to fix it (an image with fio).
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import yaml

from suite.guest.probe import GUEST_PATH, script_text
from suite.vm.naming import unique_name

if TYPE_CHECKING:
    from suite.checks.base import ClassContext
    from suite.vm.manifests import GuestSpec

SECRET_KEY = "userdata"
INLINE_LIMIT = 2048  # KubeVirt's cloudInitUserMaxLen


def cloud_config(guest: GuestSpec, probe: str | None = None) -> str:
    """`#cloud-config`: the profile's login on the console, the probe, the packages."""
    doc: dict[str, Any] = {
        "user": guest.user,
        "password": guest.password,
        "chpasswd": {"expire": False},
    }
    if guest.packages:
        doc["packages"] = list(guest.packages)
    doc["write_files"] = [
        {"path": GUEST_PATH, "permissions": "0755", "content": probe or script_text()}]
    return "#cloud-config\n" + yaml.safe_dump(doc, sort_keys=False, width=1000)


def secret(name: str, namespace: str, guest: GuestSpec) -> dict[str, Any]:
    """The Secret holding the user data (`data` is base64, as the API stores it)."""
    encoded = base64.b64encode(cloud_config(guest).encode()).decode()
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": namespace,
                         "labels": {"kvstorage.io/role": "cloud-init"}},
            "data": {SECRET_KEY: encoded}}


def volume_source(secret_name: str) -> dict[str, Any]:
    """The `cloudInitNoCloud` volume source that points at the Secret (UserDataSecretRef's
    JSON name is `secretRef`: kubevirt staging/src/kubevirt.io/api/core/v1/schema.go)."""
    return {"secretRef": {"name": secret_name}}


def ensure_secret(ctx: ClassContext, guest: GuestSpec) -> str:
    """The class's user-data Secret, created on first use; returns its name."""
    if ctx.user_data_secret:
        return ctx.user_data_secret
    name = unique_name(ctx.storage_class, "init")
    ctx.kube.create(secret(name, ctx.namespace, guest))
    ctx.user_data_secret = name
    return name
