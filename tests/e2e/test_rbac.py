"""The suite as a least-privileged tenant of the lab, which enforces RBAC like a cluster.

- A ServiceAccount bound only to deploy/rbac.yaml runs the e2e profile through a
  kubeconfig carrying its token; the matrix equals the driver truth, nothing labelled
  is left, and the calls the run made (the lab's audit) are exactly the table's.
- The same with one permission removed stops before creating anything and names it.
- A user allowed only cluster reads and ProjectRequest gets a run in a project.
- The families the e2e profile leaves out, as the same ServiceAccount, use exactly their
  rows of the table.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from suite.cluster.permissions import CLUSTER, PERMISSIONS, render_rbac_yaml
from tests.e2e.conftest import PROFILE, LabProcess, SuiteRun, labelled_leftovers, run_suite
from tests.e2e.test_truth import VARIETY, mismatches
from tests.e2e.test_truth_vm_features import MIXED
from tests.e2e.truth import vm_feature_cells

SA, HOME = "kvstorage-suite", "kvstorage-suite"
USER = f"system:serviceaccount:{HOME}:{SA}"


def kubectl(lab: LabProcess, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(["kubectl", "--kubeconfig", str(lab.kubeconfig), *args],
                          input=stdin, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def token_kubeconfig(lab: LabProcess, folder: Path) -> Path:
    """A kubeconfig for the lab carrying the ServiceAccount's token."""
    token = kubectl(lab, "create", "token", SA, "-n", HOME).strip()
    (folder / "token").write_text(token)
    config = yaml.safe_load(lab.kubeconfig.read_text())
    config["users"] = [{"name": SA, "user": {"token": token}}]
    config["contexts"][0]["context"]["user"] = SA
    path = folder / "sa-kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


# Every authenticated user may review its own access (system:basic-user).
EVERYONES = {"selfsubjectaccessreviews", "selfsubjectrulesreviews"}


def audit(lab: LabProcess) -> list[dict[str, Any]]:
    """The ServiceAccount's resource requests, as the lab recorded them."""
    rows = json.loads(kubectl(lab, "get", "--raw", "/lab/audit"))
    return [r for r in rows if r["user"] == USER and r["resourceRequest"]
            and r["resource"] not in EVERYONES]


PASSWORD = yaml.safe_load(PROFILE.read_text())["guest"]["password"]


def assert_no_secrets(result: SuiteRun, paths: list[Path], secrets: list[str]) -> None:
    """No secret in the run's output or in any file it wrote (reports, JUnit XML)."""
    files = [p for path in paths for p in ([path] if path.is_file() else path.rglob("*"))
             if p.is_file()]
    assert files, "the run wrote nothing to scan"
    texts = {"stdout": result.stdout, "stderr": result.stderr}
    texts.update({str(f): f.read_bytes().decode("utf-8", "replace") for f in files})
    for secret in secrets:
        assert len(secret) >= 8
        leaks = [where for where, text in texts.items() if secret in text]
        assert not leaks, f"a secret appears in: {leaks}"


def _grants() -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for row in PERMISSIONS:
        out.setdefault((row.group, row.resource), set()).update(row.verbs)
    return out


@pytest.mark.slow
def test_a_service_account_bound_to_deploy_rbac_runs_the_profile(
        lab_process: Any, tmp_path: Path) -> None:
    drivers = VARIETY[:2]
    lab = lab_process(drivers)
    kubectl(lab, "apply", "-f", "-", stdin=render_rbac_yaml())
    config = token_kubeconfig(lab, tmp_path)
    result = run_suite(config, tmp_path / "reports", "--junitxml", str(tmp_path / "junit.xml"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert not mismatches(result.verdicts(), drivers)
    assert labelled_leftovers(lab.kubeconfig) == []
    assert_no_secrets(result, [tmp_path / "reports", tmp_path / "junit.xml"],
                      [(tmp_path / "token").read_text(), PASSWORD])
    used = audit(lab)
    grants = _grants()
    beyond = [r for r in used if r["verb"] not in grants.get((r["group"], r["resource"]), ())]
    assert not beyond, beyond  # the run would have failed; kept as a clear message
    exercised = {(r["group"], r["resource"]) for r in used}
    families = yaml.safe_load(PROFILE.read_text())["families"]
    unused = [(p.group, p.resource) for p in PERMISSIONS if p.wanted_by(families)
              and (p.group, p.resource) not in exercised]
    assert not unused, f"deploy/rbac.yaml grants what no run uses: {unused}"


VM_FEATURE_FAMILIES = ["bootstorm", "hotplug", "export", "state", "storage_migration"]


@pytest.mark.slow
@pytest.mark.extended
def test_the_vm_feature_families_use_exactly_the_table(lab_process: Any,
                                                        tmp_path: Path) -> None:
    """The families the e2e profile leaves out (boot storm, hotplug, export, VM state,
    storage migration) as the same ServiceAccount: no call beyond deploy/rbac.yaml, no
    row of theirs unused, their cells decided (exit 0)."""
    # One class: RWX Block (state), and the default virt class storage migration moves
    # from (a WaitForFirstConsumer Filesystem target is left out: docs/vm-features.md).
    drivers = MIXED[:1]
    lab = lab_process(drivers)
    kubectl(lab, "apply", "-f", "-", stdin=render_rbac_yaml())
    profile = yaml.safe_load(PROFILE.read_text())
    profile["families"] = VM_FEATURE_FAMILIES
    profile_file = tmp_path / "vm-features.yaml"
    profile_file.write_text(yaml.safe_dump(profile))
    result = run_suite(token_kubeconfig(lab, tmp_path), tmp_path / "reports",
                       "--profile", str(profile_file))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    got = result.verdicts()
    for entry in drivers:
        wanted = {**vm_feature_cells(entry), "scale.bootstorm": "supported"}
        assert {c: got[entry["name"]][c] for c in wanted} == wanted, entry["name"]
    assert labelled_leftovers(lab.kubeconfig) == []
    used = audit(lab)
    grants = _grants()
    assert not [r for r in used
                if r["verb"] not in grants.get((r["group"], r["resource"]), ())]
    exercised = {(r["group"], r["resource"]) for r in used}
    unused = [(p.group, p.resource) for p in PERMISSIONS if p.wanted_by(VM_FEATURE_FAMILIES)
              and (p.group, p.resource) not in exercised]
    assert not unused, f"deploy/rbac.yaml grants what these families never use: {unused}"


@pytest.mark.slow
def test_one_permission_less_stops_before_creating_anything(
        lab_process: Any, tmp_path: Path) -> None:
    lab = lab_process(VARIETY[1:2])
    docs = list(yaml.safe_load_all(render_rbac_yaml()))
    role = next(d for d in docs if d["metadata"]["name"] == f"{SA}:namespace"
                and d["kind"] == "ClusterRole")
    claims = next(r for r in role["rules"] if r["resources"] == ["persistentvolumeclaims"])
    claims["verbs"].remove("patch")
    kubectl(lab, "apply", "-f", "-", stdin=yaml.safe_dump_all(docs))
    result = run_suite(token_kubeconfig(lab, tmp_path), tmp_path / "reports")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "missing permissions: 1 required" in output
    assert ('- patch persistentvolumeclaims (API group "" (core)) in namespace "kvs-'
            in output)
    assert "needed by: every family" in output
    assert "Traceback" not in output
    assert not [r for r in audit(lab) if r["verb"] in ("create", "update", "patch",
                                                       "delete")]
    assert labelled_leftovers(lab.kubeconfig) == []


@pytest.mark.slow
@pytest.mark.extended
def test_a_user_allowed_only_project_requests_runs_in_a_project(
        lab_process: Any, tmp_path: Path) -> None:
    drivers = VARIETY[1:2]
    lab = lab_process(drivers)
    reads = [{"apiGroups": [p.group], "resources": [p.resource], "verbs": list(p.verbs)}
             for p in PERMISSIONS if p.scope == CLUSTER and not p.optional]
    docs = [d for d in yaml.safe_load_all(render_rbac_yaml())
            if d["kind"] in ("Namespace", "ServiceAccount")]
    docs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                 "metadata": {"name": "reads-only"}, "rules": reads})
    kubectl(lab, "apply", "-f", "-", stdin=yaml.safe_dump_all(docs))
    for role in ("reads-only", "self-provisioner"):
        kubectl(lab, "create", "clusterrolebinding", f"{SA}-{role}", f"--clusterrole={role}",
                f"--serviceaccount={HOME}:{SA}")
    result = run_suite(token_kubeconfig(lab, tmp_path), tmp_path / "reports")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert not mismatches(result.verdicts(), drivers)
    assert "cleanup: project kvs-" in result.stdout
    used = audit(lab)
    assert any(r["resource"] == "projectrequests" and r["verb"] == "create" for r in used)
    assert not any(r["resource"] == "namespaces" and r["verb"] == "create" for r in used)
    namespaces = json.loads(kubectl(lab, "get", "namespaces", "-o", "json"))["items"]
    assert not [n for n in namespaces if n["metadata"]["name"].startswith("kvs-")]


@pytest.mark.slow
@pytest.mark.extended
def test_without_the_node_checks_permissions_encryption_is_inconclusive(
        lab_process: Any, tmp_path: Path) -> None:
    drivers = VARIETY[:1]  # declares LUKS encryption: its cell needs the node check
    lab = lab_process(drivers)
    docs = list(yaml.safe_load_all(render_rbac_yaml()))
    for doc in docs:
        if doc["kind"] == "ClusterRole":
            doc["rules"] = [r for r in doc["rules"] if r["resources"][0] not in
                            {p.resource for p in PERMISSIONS if p.optional}]
    kubectl(lab, "apply", "-f", "-", stdin=yaml.safe_dump_all(docs))
    result = run_suite(token_kubeconfig(lab, tmp_path), tmp_path / "reports")
    # An inconclusive cell is a pytest error (exit 1); the run itself went through.
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 inconclusive" in result.stdout and "missing permissions" not in result.stdout
    cell = result.matrix()["storageClasses"][0]["capabilities"]["encryption.at-rest"]
    assert cell["verdict"] == "inconclusive"
    assert "the node check needs permissions this user lacks" in cell["reason"]
    assert "create pods" in cell["reason"]
    problems = mismatches(result.verdicts(), drivers)
    assert [p for p in problems if "encryption.at-rest" not in p] == []
    assert not [r for r in audit(lab) if r["resource"] in ("pods", "pods/log")]


@pytest.mark.slow
@pytest.mark.extended
def test_a_tenant_runs_inside_the_namespace_it_was_given(lab_process: Any,
                                                         tmp_path: Path) -> None:
    drivers = VARIETY[1:2]
    lab = lab_process(drivers)
    docs = list(yaml.safe_load_all(render_rbac_yaml()))
    cluster_role = next(d for d in docs if d["kind"] == "ClusterRole"
                        and d["metadata"]["name"] == f"{SA}:cluster")
    cluster_role["rules"] = [r for r in cluster_role["rules"] if r["resources"] != ["namespaces"]]
    # The namespaced role is granted in team-a only, with a RoleBinding.
    docs = [d for d in docs if not (d["kind"] == "ClusterRoleBinding"
                                    and d["metadata"]["name"] == f"{SA}:namespace")]
    docs += [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}},
             {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "theirs", "namespace": "team-a"}},
             {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
              "metadata": {"name": "suite", "namespace": "team-a"},
              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                          "name": f"{SA}:namespace"},
              "subjects": [{"kind": "ServiceAccount", "name": SA, "namespace": HOME}]}]
    kubectl(lab, "apply", "-f", "-", stdin=yaml.safe_dump_all(docs))
    result = run_suite(token_kubeconfig(lab, tmp_path), tmp_path / "reports",
                       "--namespace", "team-a")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert not mismatches(result.verdicts(), drivers)
    assert "concurrently in namespace team-a" in result.stdout
    assert labelled_leftovers(lab.kubeconfig) == []
    # The namespace and what was there before the run are untouched.
    assert kubectl(lab, "get", "configmap", "theirs", "-n", "team-a", "-o", "name").strip() \
        == "configmap/theirs"
    assert not [r for r in audit(lab) if r["resource"] == "namespaces"
                and r["verb"] in ("create", "delete")]
