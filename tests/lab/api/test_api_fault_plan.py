"""The fault-injection seam: inert by default, then 429 bursts, delays and dropped
watch streams exactly where a rule says."""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from suite.lab.lab import Lab


@pytest.fixture
def faulty(lab: Lab) -> Iterator[Lab]:
    assert not lab.faults.active
    yield lab
    lab.faults.clear()


@pytest.fixture
def ns(api_client: client.ApiClient, unique_name: Callable[[str], str]) -> str:
    name = unique_name("faults")
    client.CoreV1Api(api_client).create_namespace({"metadata": {"name": name}})
    return name


def test_burst_of_429_with_retry_after(faulty: Lab, api_client: client.ApiClient,
                                       ns: str) -> None:
    faulty.faults.add_errors(rf"/namespaces/{ns}/configmaps", code=429, count=1,
                             retry_after_s=3)
    context = ssl.create_default_context(cafile=str(faulty.server.tls.ca_cert))
    request = urllib.request.Request(f"{faulty.server_url}/api/v1/namespaces/{ns}/configmaps",
                                     headers={"Authorization": f"Bearer {faulty.token}"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, context=context, timeout=10)
    assert caught.value.code == 429 and caught.value.headers["Retry-After"] == "3"
    assert json.loads(caught.value.read())["reason"] == "TooManyRequests"
    # The official client (urllib3) honours Retry-After by itself and gets through.
    faulty.faults.add_errors(rf"/namespaces/{ns}/configmaps", code=429, count=2,
                             retry_after_s=0)
    before = faulty.faults.injected
    assert client.CoreV1Api(api_client).list_namespaced_config_map(ns).items == []
    assert faulty.faults.injected == before + 2


def test_server_errors_and_delays(faulty: Lab, api_client: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api_client)
    faulty.faults.add_errors(rf"/namespaces/{ns}/secrets", code=503, method="POST")
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_secret(ns, {"metadata": {"name": "s"}})
    assert caught.value.status == 503
    faulty.faults.add_delay(rf"/namespaces/{ns}/secrets/s$", 0.3)
    core.create_namespaced_secret(ns, {"metadata": {"name": "s"}})
    started = time.monotonic()
    core.read_namespaced_secret("s", ns)
    assert time.monotonic() - started >= 0.3


def test_watch_streams_are_cut(faulty: Lab, api_client: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api_client)
    for name in ("a", "b", "c"):
        core.create_namespaced_config_map(ns, {"metadata": {"name": name}})
    faulty.faults.drop_watches(rf"/namespaces/{ns}/configmaps", after_events=2)
    started = time.monotonic()
    events = list(watch.Watch().stream(core.list_namespaced_config_map, ns,
                                       timeout_seconds=20))
    assert [e["object"].metadata.name for e in events] == ["a", "b"]
    assert time.monotonic() - started < 10  # cut, not ended by its timeout


API_PROFILE = """
drivers:
  - name: quiet
    provisioner: quiet.csi.lab.io
    volumeBindingMode: Immediate
    modes: {Filesystem: [ReadWriteOnce]}
    expansion: none
    snapshots: false
    clone: copy
    encryption: none
    faults: []
cluster:
  api: {throttle429: 0.3, errors5xx: 0.2, watchCutAfterS: 1, latencyMs: 20}
"""


def _raw(lab: Lab, path: str) -> tuple[int, dict[str, str], bytes, float]:
    context = ssl.create_default_context(cafile=str(lab.server.tls.ca_cert))
    request = urllib.request.Request(f"{lab.server_url}{path}",
                                     headers={"Authorization": f"Bearer {lab.token}"})
    start = time.monotonic()
    try:
        with urllib.request.urlopen(request, context=context, timeout=20) as reply:
            return reply.status, dict(reply.headers), reply.read(), time.monotonic() - start
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read(), time.monotonic() - start


@pytest.mark.slow
def test_the_driver_files_api_faults_refuse_delay_and_cut(
        lab_factory: Callable[[str], Lab]) -> None:
    lab = lab_factory(API_PROFILE)
    codes: dict[int, int] = {}
    for _ in range(120):
        status, headers, body, seconds = _raw(lab, "/api/v1/namespaces/default/configmaps")
        codes[status] = codes.get(status, 0) + 1
        assert seconds >= 0.02  # latencyMs is added to every request, refused or not
        if status == 429:
            assert headers["Retry-After"] == "1"
            assert json.loads(body)["reason"] == "TooManyRequests"
        elif status != 200:
            assert status in (500, 503) and json.loads(body)["kind"] == "Status"
    # About 30% 429 and 20% 5xx of 120 requests: far from 0 and from all.
    assert 15 <= codes.get(429, 0) <= 60, codes
    assert 8 <= codes.get(500, 0) + codes.get(503, 0) <= 45, codes
    assert codes.get(200, 0) >= 30, codes
    # The lab's own paths are never refused.
    assert all(_raw(lab, "/lab/errors")[0] == 200 for _ in range(20))
    faults = json.loads(_raw(lab, "/lab/faults")[2])
    assert faults["byCode"]["429"] == codes[429]
    # A watch with a long timeout is cut after watchCutAfterS.
    for _ in range(20):
        status, _, _, seconds = _raw(lab, "/api/v1/namespaces/default/configmaps?watch=true"
                                          "&timeoutSeconds=30")
        if status == 200:
            break
    assert status == 200 and 0.9 <= seconds < 5, seconds
