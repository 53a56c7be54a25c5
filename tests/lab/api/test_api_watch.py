"""Watch through the official client: resume from a version, 410 after compaction,
bookmarks, and the stream's timeout."""

from __future__ import annotations

import json
import ssl
import time
import urllib.request
from collections.abc import Callable

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from suite.lab.lab import Lab


@pytest.fixture(scope="module")
def namespace(api_client: client.ApiClient, unique_name: Callable[[str], str]) -> str:
    name = unique_name("api-watch")
    client.CoreV1Api(api_client).create_namespace({"metadata": {"name": name}})
    return name


def test_watch_resumes_from_a_resource_version(api_client: client.ApiClient,
                                               namespace: str) -> None:
    core = client.CoreV1Api(api_client)
    start_rv = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "w1"}})
    core.patch_namespaced_config_map("w1", namespace, {"data": {"a": "b"}})
    core.delete_namespaced_config_map("w1", namespace)
    watcher, seen = watch.Watch(), []
    for ev in watcher.stream(core.list_namespaced_config_map, namespace,
                             resource_version=start_rv, timeout_seconds=5):
        seen.append((ev["type"], ev["object"].metadata.name, ev["object"].data))
        if len(seen) == 3:
            watcher.stop()
    assert seen == [("ADDED", "w1", None), ("MODIFIED", "w1", {"a": "b"}),
                    ("DELETED", "w1", {"a": "b"})]


def test_watch_from_a_compacted_version_is_410(lab: Lab, api_client: client.ApiClient,
                                               namespace: str) -> None:
    core = client.CoreV1Api(api_client)
    old_rv = core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "old"}}).metadata.resource_version
    newer = core.create_namespaced_config_map(namespace, {"metadata": {"name": "newer"}})
    lab.call(lab.ctx.store.compact, int(newer.metadata.resource_version))
    with pytest.raises(ApiException) as caught:
        for _ in watch.Watch().stream(core.list_namespaced_config_map, namespace,
                                      resource_version=old_rv, timeout_seconds=1):
            pass
    assert caught.value.status == 410


def _raw_watch(lab: Lab, path: str) -> list[dict]:
    context = ssl.create_default_context(cafile=str(lab.server.tls.ca_cert))
    request = urllib.request.Request(lab.server_url + path,
                                     headers={"Authorization": f"Bearer {lab.token}"})
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        return [json.loads(line) for line in response.read().splitlines()]


def test_expired_watch_is_an_error_event(lab: Lab, api_client: client.ApiClient,
                                         namespace: str) -> None:
    core = client.CoreV1Api(api_client)
    made = core.create_namespaced_config_map(namespace, {"metadata": {"name": "gone"}})
    core.delete_namespaced_config_map("gone", namespace)
    lab.call(lab.ctx.store.compact, int(made.metadata.resource_version) + 1)
    events = _raw_watch(lab, f"/api/v1/namespaces/{namespace}/configmaps?watch=1"
                             f"&resourceVersion={made.metadata.resource_version}")
    assert [e["type"] for e in events] == ["ERROR"]
    assert events[0]["object"]["code"] == 410
    assert events[0]["object"]["reason"] == "Expired"


def test_idle_watch_gets_bookmarks_and_ends_at_timeout(lab: Lab, namespace: str) -> None:
    interval = lab.server.watches.bookmark_interval_s
    lab.server.watches.bookmark_interval_s = 0.2
    try:
        events = _raw_watch(lab, f"/api/v1/namespaces/{namespace}/secrets?watch=true"
                                 "&allowWatchBookmarks=true&timeoutSeconds=1"
                                 "&resourceVersion=" + lab.call(lab.ctx.store.current_rv))
    finally:
        lab.server.watches.bookmark_interval_s = interval
    assert events and {e["type"] for e in events} == {"BOOKMARK"}
    assert events[0]["object"]["kind"] == "Secret"
    assert int(events[-1]["object"]["metadata"]["resourceVersion"]) > 0


def test_requests_without_the_token_get_401(lab: Lab) -> None:
    context = ssl.create_default_context(cafile=str(lab.server.tls.ca_cert))
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        request = urllib.request.Request(lab.server_url + "/api/v1/namespaces",
                                         headers=headers)
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, context=context, timeout=10)
        assert caught.value.code == 401
        body = json.loads(caught.value.read())
        assert body["kind"] == "Status" and body["reason"] == "Unauthorized"


def test_a_watcher_that_leaves_is_forgotten(lab: Lab, namespace: str) -> None:
    watches = lab.server.watches
    interval, watches.bookmark_interval_s = watches.bookmark_interval_s, 0.1
    before = len(watches.active)
    try:
        context = ssl.create_default_context(cafile=str(lab.server.tls.ca_cert))
        request = urllib.request.Request(
            f"{lab.server_url}/api/v1/namespaces/{namespace}/serviceaccounts?watch=1"
            f"&resourceVersion={lab.call(lab.ctx.store.current_rv)}",
            headers={"Authorization": f"Bearer {lab.token}"})
        with urllib.request.urlopen(request, context=context, timeout=10):
            assert _eventually(lambda: len(watches.active) == before + 1)
        assert _eventually(lambda: len(watches.active) == before)
    finally:
        watches.bookmark_interval_s = interval


def _eventually(check: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False
