"""State the compute controllers share: running guests, node facts, driver lookups.

The store holds what the API shows; this holds what only the node knows (the guest
processes and where each one's disks point), keyed by VMI uid.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .guest import Guest
from .volumes import csi_of, pv_of

if TYPE_CHECKING:
    from ..context import LabContext


class Compute:
    def __init__(self, ctx: LabContext) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.guests: dict[str, Guest] = {}
        self.guest_root = Path(ctx.state_dir) / "guests"

    # ----------------------------------------------------------------- nodes
    def node_index(self, node: str) -> int:
        nodes = list(self.ctx.nodes)
        return nodes.index(node) if node in nodes else 0

    def node_ip(self, node: str) -> str:
        return f"192.168.126.{10 + self.node_index(node)}"

    def fitting_nodes(self, avoid: str | None = None,
                      selector: dict[str, str] | None = None) -> list[str]:
        """Workers that accept VMs (control-plane nodes are tainted) matching `selector`."""
        return [node for node in self.ctx.schedulable_nodes
                if node != avoid and self._matches(node, selector or {})]

    def pick_node(self, avoid: str | None = None,
                  selector: dict[str, str] | None = None) -> str:
        """The node matching `selector` that runs the fewest launcher and lab pods."""
        load = dict.fromkeys(self.fitting_nodes(avoid, selector), 0)
        if not load:  # nothing fits: stay schedulable, as a lab should not deadlock
            load = {node: 0 for node in self.ctx.schedulable_nodes if node != avoid} or {
                node: 0 for node in self.ctx.schedulable_nodes}
        for pod in self.store.list("pods")[0]:
            node = pod.get("spec", {}).get("nodeName")
            if node in load and pod.get("status", {}).get("phase") in ("Pending", "Running"):
                load[node] += 1
        return min(load, key=lambda n: (load[n], n))

    def _matches(self, node: str, selector: dict[str, str]) -> bool:
        obj = self.store.try_get("nodes", None, node) or {}
        labels = obj.get("metadata", {}).get("labels") or {}
        return all(labels.get(k) == v for k, v in selector.items())

    # ---------------------------------------------------------------- drivers
    def driver_named(self, storage_class: str | None) -> Any:
        return next((d for d in self.ctx.drivers if d.name == storage_class), None)

    def has_fault(self, pvc: dict[str, Any], fault: str) -> bool:
        driver = self.driver_named(pvc.get("spec", {}).get("storageClassName"))
        return driver is not None and fault in tuple(getattr(driver, "faults", ()))

    async def device_path(self, pvc: dict[str, Any], node: str) -> Path | None:
        pv = pv_of(self.store, pvc)
        if pv is None or self.ctx.dataplane is None:
            return None
        handle, _ = csi_of(pv)
        return Path(await self.ctx.dataplane.device_path(handle, node))
