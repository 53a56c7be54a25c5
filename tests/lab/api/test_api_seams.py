"""The HTTP seam components use: extra subresources and discovery groups, and how an
unexpected exception surfaces (500 Status + /lab/errors)."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from typing import Any

import pytest
from aiohttp import web

from suite.lab.lab import Lab

GROUP, VERSION = "subresources.kubevirt.io", "v1"


def _call(lab: Lab, path: str, token: str | None = None) -> tuple[int, Any]:
    context = ssl.create_default_context(cafile=str(lab.server.tls.ca_cert))
    headers = {"Authorization": f"Bearer {token or lab.token}"}
    request = urllib.request.Request(lab.server_url + path, headers=headers)
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def seam_lab(lab: Lab) -> Lab:
    async def hello(request: web.Request, namespace: str | None, name: str) -> web.Response:
        return web.json_response({"namespace": namespace, "name": name})

    async def broken(request: web.Request, namespace: str | None, name: str) -> web.Response:
        raise RuntimeError("lab test: deliberate bug")

    http = lab.ctx.http
    http.add_subresource(GROUP, VERSION, "virtualmachineinstances", "labtest-hello", hello)
    http.add_subresource(GROUP, VERSION, "virtualmachineinstances", "labtest-broken", broken)
    http.add_discovery_group("labtest.kubevirt.io", "v1", [
        {"name": "things/poke", "singularName": "", "namespaced": True, "kind": "Thing",
         "verbs": ["update"]}])
    return lab


def test_component_subresource_is_routed(seam_lab: Lab) -> None:
    code, body = _call(seam_lab, f"/apis/{GROUP}/{VERSION}/namespaces/ns1/"
                                 "virtualmachineinstances/vmi1/labtest-hello")
    assert code == 200 and body == {"namespace": "ns1", "name": "vmi1"}
    code, body = _call(seam_lab, f"/apis/{GROUP}/{VERSION}/namespaces/ns1/"
                                 "virtualmachineinstances/vmi1/labtest-hello", token="bad")
    assert code == 401 and body["reason"] == "Unauthorized"


def test_extra_discovery_group_is_advertised(seam_lab: Lab) -> None:
    _, groups = _call(seam_lab, "/apis")
    assert "labtest.kubevirt.io" in [g["name"] for g in groups["groups"]]
    code, listing = _call(seam_lab, "/apis/labtest.kubevirt.io/v1")
    assert code == 200 and listing["resources"][0]["name"] == "things/poke"


def test_a_handler_bug_is_a_500_and_is_recorded(seam_lab: Lab) -> None:
    errors = seam_lab.ctx.errors
    seen = len(errors)
    code, body = _call(seam_lab, f"/apis/{GROUP}/{VERSION}/namespaces/ns1/"
                                 "virtualmachineinstances/vmi1/labtest-broken")
    assert code == 500 and body["kind"] == "Status" and body["reason"] == "InternalError"
    assert "deliberate bug" in body["message"]
    _, recorded = _call(seam_lab, "/lab/errors")
    assert any("deliberate bug" in entry for entry in recorded[seen:])
    del errors[seen:]  # expected here; the autouse guard must not see it


def test_unknown_paths_and_methods(seam_lab: Lab) -> None:
    code, body = _call(seam_lab, "/apis/kubevirt.io/v1/namespaces/x/virtualmachines/y/nope")
    assert code == 404 and body["reason"] == "NotFound"
    code, body = _call(seam_lab, "/apis/nothing.example.com/v1")
    assert code == 404
    code, body = _call(seam_lab, "/api/v1/pods/x")  # a namespaced item needs a namespace
    assert code == 404


BAD_REQUESTS = [
    ("POST", "/api/v1/namespaces/default/configmaps", b'{"metadata": "x"}', 400),
    ("POST", "/api/v1/namespaces/default/configmaps", b"[1, 2]", 400),
    ("POST", "/api/v1/namespaces/default/configmaps", b"{not json", 400),
    ("POST", "/api/v1/namespaces/default/configmaps",
     b'{"metadata": {"name": "a", "labels": "x"}}', 422),
    ("POST", "/apis/kubevirt.io/v1/namespaces/default/virtualmachines",
     b'{"metadata": {"name": "v"}, "spec": "x"}', 422),
    ("GET", "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=abc", None, 400),
    ("GET", "/api/v1/namespaces/default/configmaps?limit=abc", None, 400),
    ("GET", "/api/v1/namespaces/default/configmaps?continue=zzz", None, 400),
    ("GET", "/api/v1/namespaces/default/configmaps?labelSelector=a+in+(b", None, 400),
    ("DELETE", "/api/v1/namespaces/default/configmaps/x",
     b'{"propagationPolicy": "Sideways"}', 400),
]


@pytest.mark.parametrize(("method", "path", "body", "code"), BAD_REQUESTS)
def test_malformed_requests_are_client_errors(lab: Lab, method: str, path: str,
                                              body: bytes | None, code: int) -> None:
    context = ssl.create_default_context(cafile=str(lab.server.tls.ca_cert))
    request = urllib.request.Request(lab.server_url + path, data=body, method=method, headers={
        "Authorization": f"Bearer {lab.token}", "Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, context=context, timeout=10)
    assert caught.value.code == code
    assert json.loads(caught.value.read())["kind"] == "Status"
