"""The run's namespace: created by the suite, requested as an OpenShift project, or an
existing one the user named (`--namespace`). Only what the run made is deleted.

The preflight chose the mode (see preflight.py). A created namespace carries the run
label and is deleted, and waited for, at the end. A project is requested with a
ProjectRequest (its requester becomes its admin) and deleted through the project API,
since a project admin may not delete Namespace objects; its labels cannot be set by a
project admin either, so the run label lives only on the objects inside it. An existing
namespace is left as it was: the per-class cleanups delete what the run created in it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from suite.cluster.errors import Conflict, Forbidden, KubeError, NotFound
from suite.cluster.kube import RUN_LABEL, Kube
from suite.cluster.preflight import (
    CREATE,
    EXISTING,
    PROJECT,
    check_namespace_rows,
    existing_namespace_problem,
)
from suite.cluster.waits import poll_until, run_wait
from suite.config.errors import ConfigError

PROJECTS = "/apis/project.openshift.io/v1/projects"
PROJECT_REQUESTS = "/apis/project.openshift.io/v1/projectrequests"
PROJECT_POLL_S = 1.0  # the project API, while the project is being deleted


class RunNamespace:
    """Makes the run's namespace ready and knows how to undo exactly that."""

    def __init__(self, kube: Kube, name: str, mode: str, labels: dict[str, str],
                 families: list[str], delete_timeout_s: float) -> None:
        self.kube = kube
        self.name = name
        self.mode = mode
        self.labels = labels
        self.families = families
        self.delete_timeout_s = delete_timeout_s

    def prepare(self) -> Callable[[], None] | None:
        """Create (or check) the namespace; returns its cleanup, None when nothing was
        made. Raises ConfigError with one line for anything the user must fix."""
        if self.mode == EXISTING:
            problem = existing_namespace_problem(self.kube.transport, self.name)
            if problem:
                raise ConfigError(problem)
            return None
        if self.mode == PROJECT:
            return self._request_project()
        return self._create()

    def _create(self) -> Callable[[], None]:
        labels = {**self.labels, RUN_LABEL: self.kube.run_id}
        body = {"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": self.name, "labels": labels}}
        try:
            self.kube.transport.request("POST", "/api/v1/namespaces", body=body)
        except Conflict:
            raise ConfigError(
                f"namespace {self.name} already exists and is not this run's (an earlier "
                "run with this --run-id?); choose another --run-id, remove it with --sweep, "
                "or run inside it with --namespace") from None
        except Forbidden as exc:
            raise ConfigError(f"cannot create namespace {self.name}: {exc.message}") from None
        return self._delete_namespace

    def _request_project(self) -> Callable[[], None]:
        body = {"apiVersion": "project.openshift.io/v1", "kind": "ProjectRequest",
                "metadata": {"name": self.name},
                "displayName": f"kubevirt-storage-suite run {self.kube.run_id}"}
        try:
            self.kube.transport.request("POST", PROJECT_REQUESTS, body=body)
        except Conflict:
            raise ConfigError(f"project {self.name} already exists and is not this run's; "
                              "choose another --run-id or run inside it with --namespace"
                              ) from None
        except KubeError as exc:
            raise ConfigError(f"cannot request project {self.name}: {exc.message}") from None
        required, _ = check_namespace_rows(self.kube.transport, self.families, self.name)
        if required:
            self._delete_project()
            lines = "\n".join(d.line() for d in required)
            raise ConfigError(f"project {self.name} was granted without permissions the "
                              f"run needs (it has been deleted again):\n{lines}")
        return self._delete_project

    # ---------------------------------------------------------------- undo
    def _delete_namespace(self) -> None:
        plain = self.kube.scoped(cancel=threading.Event())  # cleanup must not be cancelled
        plain.delete("v1", "Namespace", self.name, wait=False)
        run_wait(plain.transport, plain.resource("v1", "Namespace"), self.name, None,
                 None, self.delete_timeout_s, f"namespace {self.name} to go")

    def _delete_project(self) -> None:
        try:
            self.kube.transport.request("DELETE", f"{PROJECTS}/{self.name}", body={
                "kind": "DeleteOptions", "apiVersion": "v1"})
        except NotFound:
            return
        # Polled: a project admin may not watch Namespaces; once the project is gone
        # the requester's binding is gone too, so 403 also means gone. Not cancellable:
        # this is cleanup, which must run to its end after Ctrl-C too.
        def gone() -> bool:
            try:
                self.kube.transport.request("GET", f"{PROJECTS}/{self.name}")
            except (NotFound, Forbidden):
                return True
            return False

        if not poll_until(gone, bool, timeout_s=self.delete_timeout_s,
                          interval_s=PROJECT_POLL_S, what=f"project {self.name} to go",
                          cancel=None, last_on_timeout=True):
            raise TimeoutError(f"project {self.name} still exists after "
                               f"{self.delete_timeout_s:g}s")


def describe(mode: str, name: str) -> str:
    """How the terminal names the namespace's fate at the end."""
    return {CREATE: f"namespace {name}", PROJECT: f"project {name}",
            EXISTING: f"the run's objects in namespace {name}"}.get(mode, name)
