"""The committed schema data matches the catalogue (re-run scripts/extract_schemas.py
when a kind is added) and the validator's pure rules."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from suite.lab.api.schemas import REF, SchemaBook
from suite.lab.errors import ApiError
from suite.lab.resources import DEFAULT_RESOURCES, ResourceRegistry

BOOK = SchemaBook.load()


def test_every_catalogue_kind_has_a_schema_and_refs_resolve() -> None:
    missing = [r.kind for r in DEFAULT_RESOURCES if BOOK.schema_for(r) is None]
    assert missing == []
    text = json.dumps([BOOK.kinds, BOOK.definitions])
    dangling = {m for m in re.findall(r'"\$ref": "([^"]+)"', text)
                if m.removeprefix(REF) not in BOOK.definitions}
    assert dangling == set()


def test_preserve_unknown_and_int_or_string() -> None:
    vm = ResourceRegistry().resolve("virtualmachines.kubevirt.io")
    obj = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
           "metadata": {"name": "v", "annotations": {"a": "b"}},
           "spec": {"runStrategy": "Halted", "template": {
               "metadata": {"anything": {"goes": 1}},
               "spec": {"domain": {"devices": {}, "resources": {
                   "requests": {"memory": "1Gi", "cpu": 1}}}}}}}
    assert BOOK.validate(vm, obj, "Strict") == []


def test_warn_prunes_and_reports_paths_with_indexes() -> None:
    pod = ResourceRegistry().resolve("pods")
    obj: dict[str, Any] = {"metadata": {"name": "p"}, "spec": {"containers": [
        {"name": "c", "image": "i", "imagePullPolicyy": "x"}]}}
    warnings = BOOK.validate(pod, obj, "Warn")
    assert warnings == ['unknown field "spec.containers[0].imagePullPolicyy"']
    assert obj["spec"]["containers"][0] == {"name": "c", "image": "i"}
    with pytest.raises(ApiError) as caught:
        BOOK.validate(pod, {"metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "c", "ports": [{"containerPort": "80"}]}]}}, "Strict")
    assert caught.value.details["causes"][0]["field"] == "spec.containers[0].ports[0].containerPort"
