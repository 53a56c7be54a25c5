"""The suite's own client (Transport, Kube, run_wait) against a lab whose driver file
asks for API faults: retries honour Retry-After, waits resume cut watches from their
last resourceVersion, and no fault surfaces as an error."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from suite.cluster.connect import connect
from suite.cluster.kube import Kube
from suite.cluster.transport import Transport
from suite.lab.lab import Lab

DRIVER = """
drivers:
  - {name: quiet, provisioner: quiet.csi.lab.io, volumeBindingMode: Immediate,
     modes: {Filesystem: [ReadWriteOnce]}, expansion: none, snapshots: false,
     clone: copy, encryption: none, faults: []}
cluster:
  api: %s
"""


def _counting(transport: Transport) -> list[str]:
    """Record every non-watch call's method and path (watches use stream_lines)."""
    calls: list[str] = []
    original = transport.request

    def request(method: str, path: str, **kwargs: Any) -> Any:
        calls.append(f"{method} {path}")
        return original(method, path, **kwargs)

    transport.request = request  # type: ignore[method-assign]
    return calls


def _later(seconds: float, action: Callable[[], Any]) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _configmap(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}


@pytest.mark.slow
def test_a_wait_resumes_cut_watches_without_listing_again(
        lab_factory: Callable[[str], Lab]) -> None:
    lab = lab_factory(DRIVER % "{watchCutAfterS: 1}")
    kube = Kube(connect(str(lab.kubeconfig_path)), "faults", "default")
    kube.create(_configmap("resume"))
    calls = _counting(kube.transport)
    _later(3.5, lambda: kube.patch("v1", "ConfigMap", "resume", {"data": {"k": "v"}}))
    start = time.monotonic()
    found = kube.wait_for("v1", "ConfigMap", "resume", lambda o: bool(o.get("data")), 20,
                          "data")
    assert found["data"] == {"k": "v"}
    assert time.monotonic() - start < 6
    lists = [c for c in calls if c.startswith("GET /api/v1/namespaces/default/configmaps")]
    assert lists == ["GET /api/v1/namespaces/default/configmaps"]  # three cuts, one list


@pytest.mark.slow
def test_calls_and_waits_get_through_throttling_errors_and_cuts(
        lab_factory: Callable[[str], Lab]) -> None:
    lab = lab_factory(DRIVER % "{throttle429: 0.1, errors5xx: 0.05, watchCutAfterS: 1, "
                               "latencyMs: 10}")
    kube = Kube(connect(str(lab.kubeconfig_path)), "faults", "default")
    for index in range(30):
        created = kube.create(_configmap(f"cm-{index}"))
        assert kube.get("v1", "ConfigMap", created["metadata"]["name"])["metadata"]["name"]
    assert len(kube.list("v1", "ConfigMap", label_selector="kvstorage.io/run-id")) == 30
    _later(2.5, lambda: kube.patch("v1", "ConfigMap", "cm-0", {"data": {"k": "v"}}))
    found = kube.wait_for("v1", "ConfigMap", "cm-0", lambda o: bool(o.get("data")), 30,
                          "data")
    assert found["data"] == {"k": "v"}
    assert kube.cleanup.run_all() == []
    assert kube.list("v1", "ConfigMap", label_selector="kvstorage.io/run-id") == []
    injected = kube.transport.request("GET", "/lab/faults")
    assert injected["byCode"].get("429", 0) >= 3, injected  # the faults really happened
