"""Garbage collection uses only the store's public API (store_marked, remove_now), and
those do what deletion needs: a marked object stays with its finalizer, removal cascades."""

from __future__ import annotations

import ast
from pathlib import Path

import suite.lab.gc as gc
from suite.lab.store import Store


def test_gc_calls_no_private_store_method() -> None:
    tree = ast.parse(Path(gc.__file__).read_text())
    private = [f"line {node.lineno}: store.{node.attr}" for node in ast.walk(tree)
               if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
               and node.value.id == "store" and node.attr.startswith("_")]
    assert private == []


def test_marked_then_removed_cascades_to_dependents() -> None:
    store = Store()
    store.create("namespaces", {"metadata": {"name": "ns"}})
    owner = store.create("configmaps", {"metadata": {"name": "owner", "namespace": "ns"}})
    store.create("configmaps", {"metadata": {
        "name": "dep", "namespace": "ns", "ownerReferences": [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
             "uid": owner["metadata"]["uid"]}]}})
    resource = store.resource("configmaps")
    held = store.get("configmaps", "ns", "owner")
    held["metadata"].update(finalizers=["example.com/hold"], deletionTimestamp="t")
    store.store_marked(resource, held)
    assert store.get("configmaps", "ns", "owner")["metadata"]["finalizers"] == \
        ["example.com/hold"]
    gone = store.remove_now(resource, store.get("configmaps", "ns", "owner"))
    assert gone["metadata"]["name"] == "owner"
    assert store.try_get("configmaps", "ns", "owner") is None
    assert store.try_get("configmaps", "ns", "dep") is None  # collected after its owner
