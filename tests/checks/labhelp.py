"""Helpers for driving the checks against a lab: a Kube in a fresh namespace, and a
ClassContext with short timeouts so a hang or refusal shows within seconds."""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path

from suite.checks.base import ClassContext
from suite.cluster.connect import connect
from suite.cluster.discovery import discover_classes, virtualization_facts
from suite.cluster.kube import Kube
from suite.config.profile import NodeChecks, RunProfile, Timeouts
from suite.fio.jobs import parse_fio_section

FAST = replace(Timeouts(), bind_s=6, boot_s=30, login_s=30, command_s=60, expand_s=15,
               snapshot_s=30, restore_s=30, clone_s=30, migration_s=60, fio_s=120)
ONE_JOB = {"jobs": [{"name": "lat-randread", "rw": "randread", "bs": "4k", "iodepth": 1,
                     "runtime_s": 1}], "sizeMiB": 32}


def kube_in_new_namespace(kubeconfig: Path) -> Kube:
    run_id = f"t{secrets.token_hex(3)}"
    kube = Kube(connect(str(kubeconfig)), run_id)
    namespace = f"kvs-test-{run_id}"
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    return kube.scoped(namespace)


def fast_profile(**changes: object) -> RunProfile:
    profile = RunProfile(name="test", timeouts=FAST, node_checks=NodeChecks(privileged_pods=True),
                      fio=parse_fio_section(ONE_JOB, "test"))
    return replace(profile, **changes)


def class_context(kube: Kube, storage_class: str, profile: RunProfile | None = None
                  ) -> ClassContext:
    facts = discover_classes(kube, virtualization_facts(kube))[storage_class]
    return ClassContext(kube=kube, namespace=kube.namespace or "", storage_class=storage_class,
                        facts=facts, profile=profile or fast_profile(), run_id=kube.run_id)
