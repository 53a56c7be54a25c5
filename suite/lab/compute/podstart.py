"""What kubelet does between placing a virt-launcher pod and running it, where it can stall.

Two stalls a real cluster shows and the lab reproduces:
- a cloud-init `secretRef` (Go: UserDataSecretRef) naming a missing Secret: KubeVirt
  mounts the Secret into the launcher pod (volume `<volume>-udata`, kubevirt
  pkg/virt-controller/services/rendervolumes.go), so kubelet cannot set the volume up;
  the pod stays ContainerCreating with `FailedMount` Warnings until the Secret appears;
- a containerDisk image the cluster cannot pull (one the cluster profile does not list):
  kubelet's `ErrImagePull`, then `ImagePullBackOff`; virt-controller copies the waiting
  reason and message into the VMI's Synchronized condition
  (pkg/virt-controller/watch/vmi/lifecycle.go `checkForContainerImageError`), from which
  the VM's printableStatus becomes ErrImagePull / ImagePullBackOff.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .. import conditions as cond
from ..clock import now_rfc3339
from ..events import record_event

if TYPE_CHECKING:
    from ..store import Store

VMI = "kubevirt.io/virtualmachineinstances"
BACKOFF_AFTER_S = 2.0  # kubelet's first retry comes quickly, then it backs off


def missing_user_data_secret(store: Store, vmi: dict[str, Any]) -> tuple[str, str] | None:
    """(pod volume name, Secret name) of a referenced cloud-init Secret that is missing."""
    ns = vmi["metadata"]["namespace"]
    for volume in vmi["spec"].get("volumes", []):
        source = volume.get("cloudInitNoCloud") or volume.get("cloudInitConfigDrive")
        for key, suffix in (("secretRef", "udata"), ("networkDataSecretRef", "ndata")):
            ref = (source or {}).get(key)
            if ref and store.try_get("secrets", ns, ref.get("name", "")) is None:
                return f"{volume['name']}-{suffix}", ref.get("name", "")
    return None


def report_failed_mount(store: Store, pod: dict[str, Any], volume: str, secret: str) -> None:
    record_event(store, pod, "FailedMount",
                 f'MountVolume.SetUp failed for volume "{volume}" : secret "{secret}" not found',
                 type_="Warning", component="kubelet")


def unpullable_image(cluster: Any, vmi: dict[str, Any]) -> tuple[str, str] | None:
    """(container name, image) of the first containerDisk the cluster cannot pull."""
    for volume in vmi["spec"].get("volumes", []):
        image = (volume.get("containerDisk") or {}).get("image")
        if image and cluster.image(image) is None:
            return f"volume{volume['name']}", image
    return None


def pull_error(image: str) -> str:
    """What CRI-O says for an image its registry does not have."""
    repository = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    tag = image.rsplit(":", 1)[1] if repository != image else "latest"
    return (f"rpc error: code = Unknown desc = reading manifest {tag} in {repository}: "
            "manifest unknown")


def report_pull_failure(store: Store, vmi: dict[str, Any], pod: dict[str, Any],
                        container: str, image: str, elapsed_s: float) -> None:
    """Pod events, container waiting state and the VMI's Synchronized condition."""
    backoff = elapsed_s >= BACKOFF_AFTER_S
    reason = "ImagePullBackOff" if backoff else "ErrImagePull"
    message = f'Back-off pulling image "{image}"' if backoff else pull_error(image)
    if backoff:
        record_event(store, pod, "BackOff", message, component="kubelet")
    else:
        record_event(store, pod, "Pulling", f'Pulling image "{image}"', component="kubelet")
        record_event(store, pod, "Failed", f'Failed to pull image "{image}": {message}',
                     type_="Warning", component="kubelet")
    record_event(store, pod, "Failed", f"Error: {reason}", type_="Warning", component="kubelet")

    def waiting(obj: dict[str, Any]) -> None:
        statuses = obj.setdefault("status", {}).setdefault("containerStatuses", [])
        entry = {"name": container, "ready": False, "restartCount": 0, "image": image,
                 "imageID": "", "started": False,
                 "state": {"waiting": {"reason": reason, "message": message}}}
        obj["status"]["containerStatuses"] = [
            s for s in statuses if s.get("name") != container] + [entry]
    store.mutate("pods", pod["metadata"]["namespace"], pod["metadata"]["name"], waiting)

    def synchronized(obj: dict[str, Any]) -> None:
        cond.put(obj.setdefault("status", {}).setdefault("conditions", []),
                 "Synchronized", "False", reason, message)
    store.mutate(VMI, vmi["metadata"]["namespace"], vmi["metadata"]["name"], synchronized)


def clear_pull_failure(store: Store, vmi: dict[str, Any]) -> None:
    conditions = (vmi.get("status") or {}).get("conditions") or []
    synced = cond.get(conditions, "Synchronized") or {}
    if synced.get("reason") in ("ErrImagePull", "ImagePullBackOff"):
        store.mutate(VMI, vmi["metadata"]["namespace"], vmi["metadata"]["name"],
                     lambda obj: cond.drop(obj["status"]["conditions"], "Synchronized"))


# `schedule-backoff` noise: the scheduler's informer has not seen a claim that was bound a
# moment ago, so the VolumeBinding plugin's PreFilter rejects the launcher pod; it is
# retried after the scheduler's backoff and then placed (VMI shows ErrorUnschedulable).
SCHEDULE_WINDOW_S = 10.0
SCHEDULE_BACKOFF_S = 3.0


def unbound_claims_message(nodes: int) -> str:
    return (f"0/{nodes} nodes are available: pod has unbound immediate "
            f"PersistentVolumeClaims. preemption: 0/{nodes} nodes are available: {nodes} "
            "Preemption is not helpful for scheduling.")


def bound_a_moment_ago(store: Store, compute: Any, pvcs: dict[str, dict[str, Any]]) -> bool:
    """A claim of a `schedule-backoff` class whose PV turned Bound in the last seconds."""
    now = datetime.now(UTC)
    for pvc in pvcs.values():
        driver = compute.driver_named((pvc.get("spec") or {}).get("storageClassName"))
        if driver is None or not driver.has_noise("schedule-backoff"):
            continue
        pv = store.try_get("persistentvolumes", None, pvc["spec"].get("volumeName") or "")
        stamp = ((pv or {}).get("status") or {}).get("lastPhaseTransitionTime")
        try:
            bound = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
        except ValueError:
            continue
        if (now - bound).total_seconds() < SCHEDULE_WINDOW_S:
            return True
    return False


def unscheduled(pod: dict[str, Any], message: str) -> dict[str, Any]:
    """The launcher pod as the scheduler left it: no node, PodScheduled False."""
    pod["spec"].pop("nodeName", None)
    pod["metadata"]["labels"].pop("kubevirt.io/nodeName", None)
    pod["status"] = {"phase": "Pending", "qosClass": "Burstable", "conditions": [
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
         "message": message, "lastProbeTime": None, "lastTransitionTime": now_rfc3339()}]}
    return pod
