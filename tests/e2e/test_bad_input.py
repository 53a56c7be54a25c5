"""User mistakes end with one ``ERROR:`` line and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from suite.lab import kubeconfig, tls
from suite.lab.lab import Lab
from tests.e2e.conftest import PROFILE, REPO, labelled_leftovers, run_suite


def assert_one_line_error(result: object, *fragments: str) -> None:
    stderr = result.stderr  # type: ignore[attr-defined]
    assert result.returncode == 4, stderr[-2000:]  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, stderr
    for fragment in fragments:
        assert fragment in errors[0]


def write_kubeconfig(path: Path, server: str) -> Path:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}))
    return path


@pytest.mark.slow
def test_unknown_storage_class_names_the_existing_ones(kubeconfig_path: Path,
                                                       tmp_path: Path) -> None:
    result = run_suite(kubeconfig_path, tmp_path, "--storage-class", "gold", timeout_s=120)
    assert_one_line_error(result, "StorageClass 'gold' not found; the cluster has:",
                          "lab-ceph-rbd")


@pytest.mark.slow
def test_invalid_profile_names_the_field(tmp_path: Path) -> None:
    profile = tmp_path / "typo.yaml"
    profile.write_text("name: typo\ntimeouts:\n  boot: 30\n")
    command = [sys.executable, "-m", "pytest", "suite", "-p", "no:cacheprovider",
               "--kubeconfig", str(tmp_path / "unused"), "--profile", str(profile)]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert_one_line_error(result, "timeouts.boot: unknown field", str(profile))


@pytest.mark.parametrize(("content", "fragment"), [
    (None, "not found"),
    ("clusters: [unclosed\n", "is not usable"),
    ("server", "unreachable"),
])
@pytest.mark.slow
def test_bad_kubeconfig(tmp_path: Path, content: str | None, fragment: str) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    if content == "server":
        write_kubeconfig(kubeconfig, "https://127.0.0.1:9")  # nothing listens on port 9
    elif content is not None:
        kubeconfig.write_text(content)
    result = run_suite(kubeconfig, tmp_path / "r", timeout_s=120)
    assert_one_line_error(result, fragment)


class _NoCdi(BaseHTTPRequestHandler):
    """A server with Kubernetes and KubeVirt but no CDI."""

    def do_GET(self) -> None:
        replies = {"/version": (200, {"gitVersion": "v1.31.0"}),
                   "/apis/kubevirt.io/v1": (200, {"kind": "APIResourceList", "resources": []})}
        code, body = replies.get(self.path.split("?")[0], (404, {
            "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
            "message": "the server could not find the requested resource", "code": 404}))
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def no_cdi_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NoCdi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.slow
def test_cluster_without_cdi_names_the_missing_api(tmp_path: Path, no_cdi_server: str) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", no_cdi_server)
    result = run_suite(kubeconfig, tmp_path / "r", timeout_s=120)
    assert_one_line_error(result, "no CDI", "cdi.kubevirt.io/v1beta1")


@pytest.mark.slow
def test_plugin_is_inert_outside_the_suite(tmp_path: Path) -> None:
    test_file = tmp_path / "test_plain.py"
    test_file.write_text("def test_plain():\n    assert 1 + 1 == 2\n")
    command = [sys.executable, "-m", "pytest", str(test_file), "-p", "no:cacheprovider",
               "--storage-class", "gold", "--kubeconfig", str(tmp_path / "missing")]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert "capability matrix" not in result.stdout


# ---- issue 10: credentials, TLS, contexts, RBAC, namespaces, the report folder ----------

def _lab_kubeconfig(lab: Lab, path: Path, token: str | None = None,
                    ca_pem: bytes | None = None) -> Path:
    return kubeconfig.write(path, lab.server_url, ca_pem or lab.server.tls.ca_pem(),
                            token if token is not None else lab.token)


def _kvs_namespaces(lab: Lab) -> list[str]:
    names = lab.call(lambda: [n["metadata"]["name"] for n in lab.ctx.store.list("namespaces")[0]])
    return [n for n in names if n.startswith("kvs-")]


@pytest.mark.parametrize("case", ["wrong", "expired"])
@pytest.mark.slow
def test_a_wrong_or_expired_token_is_refused(lab: Lab, tmp_path: Path, case: str) -> None:
    if case == "expired":
        lab.call(lambda: lab.ctx.store.create("serviceaccounts", {
            "metadata": {"name": "expired-user", "namespace": "default"}})
            if lab.ctx.store.try_get("serviceaccounts", "default", "expired-user") is None
            else None)
        token = lab.token_for("default", "expired-user", -60)
    else:
        token = "not-a-token"
    config = _lab_kubeconfig(lab, tmp_path / "kubeconfig", token=token)
    result = run_suite(config, tmp_path / "r", timeout_s=120)
    assert_one_line_error(result, "refused the credentials", "wrong or expired token")
    assert token not in result.stdout + result.stderr


@pytest.mark.slow
def test_a_wrong_ca_fails_tls_verification(lab: Lab, tmp_path: Path) -> None:
    other = tls.generate(tmp_path / "other-ca")
    config = _lab_kubeconfig(lab, tmp_path / "kubeconfig", ca_pem=other.ca_pem())
    result = run_suite(config, tmp_path / "r", timeout_s=120)
    assert_one_line_error(result, "failed TLS verification", "wrong CA?")


@pytest.mark.slow
def test_an_unknown_context_names_the_known_ones(kubeconfig_path: Path,
                                                 tmp_path: Path) -> None:
    result = run_suite(kubeconfig_path, tmp_path / "r", "--context", "prod", timeout_s=120)
    assert_one_line_error(result, "context 'prod' not found in kubeconfig", "(it has: lab)")


@pytest.mark.slow
def test_rbac_denials_are_listed_before_anything_is_created(lab: Lab, tmp_path: Path) -> None:
    lab.call(lambda: lab.ctx.store.try_get("serviceaccounts", "default", "nobody")
             or lab.ctx.store.create("serviceaccounts", {
                 "metadata": {"name": "nobody", "namespace": "default"}}))
    config = _lab_kubeconfig(lab, tmp_path / "kubeconfig",
                             token=lab.token_for("default", "nobody"))
    before = _kvs_namespaces(lab)
    result = run_suite(config, tmp_path / "r", timeout_s=120)
    assert result.returncode == 4 and "Traceback" not in result.stderr
    assert "ERROR: missing permissions:" in result.stderr
    assert ("- list storageclasses (API group storage.k8s.io) at cluster scope; "
            "needed by: run") in result.stderr
    assert "- create namespaces" in result.stderr
    assert _kvs_namespaces(lab) == before


@pytest.mark.slow
def test_a_namespace_that_is_not_the_suites(lab: Lab, kubeconfig_path: Path,
                                            tmp_path: Path) -> None:
    lab.call(lambda: lab.ctx.store.try_get("namespaces", None, "team-db")
             or lab.ctx.store.create("namespaces", {"metadata": {"name": "team-db"}}))
    result = run_suite(kubeconfig_path, tmp_path / "r", "--run-id", "team-db",
                       timeout_s=300)
    assert_one_line_error(result, "namespace team-db already exists and is not this run's")
    result = run_suite(kubeconfig_path, tmp_path / "r", "--namespace", "no-such-ns",
                       timeout_s=300)
    assert_one_line_error(result, "namespace no-such-ns (--namespace) does not exist")


@pytest.mark.slow
def test_a_report_directory_that_cannot_be_written(kubeconfig_path: Path,
                                                   tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run_suite(kubeconfig_path, blocker / "reports", timeout_s=120)
    assert_one_line_error(result, f"--report-dir {blocker / 'reports'} cannot be written")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("keep", [[], pytest.param(["--keep"], marks=pytest.mark.extended)],
                         ids=["default", "keep"])
@pytest.mark.slow
def test_a_guest_image_that_cannot_be_pulled(lab: Lab, kubeconfig_path: Path,
                                             tmp_path: Path, keep: list[str]) -> None:
    """The lab's cluster.images lists only its Fedora images: any other cannot be pulled.
    The image probe VM stops the run before any class boots a VM; nothing is kept, even
    with --keep (there is nothing worth keeping)."""
    image = "registry.example.com/mirror/fedora:99"
    assert lab.ctx.cluster.image(image) is None  # really not pullable in the lab
    profile = yaml.safe_load(PROFILE.read_text())
    profile["guest"]["image"] = image
    profile_file = tmp_path / "unpullable.yaml"
    profile_file.write_text(yaml.safe_dump(profile))
    before = _kvs_namespaces(lab)
    started = time.monotonic()
    result = run_suite(kubeconfig_path, tmp_path / "r", "--profile", str(profile_file),
                       *keep, timeout_s=300)
    seconds = time.monotonic() - started
    assert_one_line_error(result, f"guest image {image} cannot be pulled",
                          "ImagePullBackOff", "manifest unknown",
                          f"set guest.image in profile 'e2e' ({profile_file})", "air-gapped")
    assert seconds < 90, f"took {seconds:.0f}s"
    assert "test_capability" not in result.stdout  # no cell ran
    assert labelled_leftovers(kubeconfig_path) == []
    assert _kvs_namespaces(lab) == before
