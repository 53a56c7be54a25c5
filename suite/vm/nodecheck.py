"""Looking below a volume's encryption from its node, with a privileged one-shot pod.

The pod mounts the node's root at /host, finds the device-mapper device whose name
carries the PV's volumeHandle (ceph-csi and other dm-crypt drivers name it
`luks-...<handle>`), follows its `slaves/` link to the raw device the storage returns,
and greps both for the guest's marker. It prints key=value lines read from its log.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from kubernetes import client

from suite.cluster.errors import KubeError
from suite.cluster.waits import poll_until
from suite.vm.manifests import node_pod
from suite.vm.naming import unique_name

if TYPE_CHECKING:
    from suite.checks.base import ClassContext

# A finished container's log can lag its status by a moment: read it for this long.
LOG_LAG_S = 4.0
LOG_POLL_S = 1.0

# Any image with a POSIX shell, grep, head and od; UBI is pullable from every OpenShift.

SCRIPT = r"""
H=/host
scan() { if [ "$SCAN" -gt 0 ]; then head -c "$SCAN" "$1"; else cat "$1"; fi; }
seek() { if scan "$1" | grep -a -q -F "$MARKER"; then echo found; else echo absent; fi; }
for d in "$H"/sys/block/dm-*; do
  [ -r "$d/dm/name" ] || continue
  name=$(cat "$d/dm/name")
  case "$name" in *"$HANDLE"*) ;; *) continue ;; esac
  dm=$(basename "$d"); raw=""
  for s in "$d"/slaves/*; do [ -e "$s" ] && raw=$(basename "$s"); done
  echo "dm=$dm"; echo "dmName=$name"; echo "dmUuid=$(cat "$d/dm/uuid" 2>/dev/null)"
  echo "raw=$raw"
  [ -n "$raw" ] || exit 0
  header=other; head -c 4 "$H/dev/$raw" | grep -q LUKS && header=LUKS
  echo "rawHeader=$header"
  echo "rawMarker=$(seek "$H/dev/$raw")"
  echo "dmMarker=$(seek "$H/dev/$dm")"
  exit 0
done
echo "dm=none"
"""


def inspect_node(ctx: ClassContext, node: str, handle: str, marker: str, timeout_s: float,
                 scan_bytes: int = 0) -> dict[str, str]:
    """Run the inspection on `node`; returns the pod's key=value findings (and 'pod').

    `scan_bytes` limits the search to the start of each device (0 = all of it)."""
    name = unique_name(ctx.storage_class, "node")
    script = (f"HANDLE={shlex.quote(handle)}; MARKER={shlex.quote(marker)}; "
              f"SCAN={int(scan_bytes)}\n{SCRIPT}")
    ctx.kube.create(node_pod(name, ctx.namespace, node, ctx.profile.node_checks.image, script))
    try:
        pod = ctx.kube.wait_for("v1", "Pod", name, _finished, timeout_s,
                                f"node inspection pod {name}", ctx.namespace)
        found = _parse(_logs(ctx, name))
        found.update(pod=name, podPhase=(pod.get("status") or {}).get("phase", ""))
        return found
    finally:
        ctx.kube.delete("v1", "Pod", name, ctx.namespace, wait=False)


def _finished(pod: dict[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def _logs(ctx: ClassContext, name: str) -> str:
    api = client.CoreV1Api(ctx.kube.api_client)

    def read() -> str | None:
        try:
            return str(api.read_namespaced_pod_log(name, ctx.namespace))
        except client.ApiException as error:
            # 404: not there yet; 429/5xx: a busy server (retried like every call)
            if error.status != 404 and error.status != 429 and error.status < 500:
                raise KubeError(error.status, "LogUnavailable", str(error.reason)) from error
            return None

    text = poll_until(read, lambda got: got is not None, timeout_s=LOG_LAG_S,
                      interval_s=LOG_POLL_S, what=f"the log of pod {name}",
                      cancel=ctx.cancelled, last_on_timeout=True)
    return text or ""


def _parse(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
