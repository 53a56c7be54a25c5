"""Pure patch logic: RFC 6902, RFC 7386, and strategic merge keyed by the real schema."""

from __future__ import annotations

import pytest

from suite.lab.api import patch
from suite.lab.api.schemas import SchemaBook
from suite.lab.errors import ApiError
from suite.lab.resources import ResourceRegistry

BOOK = SchemaBook.load()
POD = ResourceRegistry().resolve("pods")


def _smp(current: dict, change: dict) -> dict:
    return patch.apply(current, change, patch.STRATEGIC, builtin=True,
                       strategy=BOOK.strategy_for(POD))


def test_merge_patch_rfc7386() -> None:
    current = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    assert patch.merge_patch(current, {"a": {"b": None, "c": [3]}, "e": {"f": 1}}) == {
        "a": {"c": [3]}, "d": 1, "e": {"f": 1}}


def test_json_patch_rfc6902() -> None:
    doc = {"a": [1, 2], "b": {"c": "x"}}
    ops = [{"op": "add", "path": "/a/-", "value": 3}, {"op": "remove", "path": "/a/0"},
           {"op": "replace", "path": "/b/c", "value": "y"},
           {"op": "copy", "from": "/b", "path": "/d"},
           {"op": "move", "from": "/d/c", "path": "/e~1f"},
           {"op": "test", "path": "/e~1f", "value": "y"}]
    assert patch.json_patch(doc, ops) == {"a": [2, 3], "b": {"c": "y"}, "d": {}, "e/f": "y"}
    with pytest.raises(ApiError) as caught:
        patch.json_patch(doc, [{"op": "test", "path": "/a/0", "value": 9}])
    assert caught.value.code == 422


def test_strategic_merge_keys_containers_env_and_volumes() -> None:
    pod = {"spec": {"containers": [
        {"name": "app", "image": "a:1", "env": [{"name": "X", "value": "1"}]},
        {"name": "side", "image": "s:1"}],
        "volumes": [{"name": "data", "emptyDir": {}}]}}
    change = {"spec": {"containers": [
        {"name": "app", "env": [{"name": "Y", "value": "2"}]},
        {"name": "side", "$patch": "delete"}],
        "volumes": [{"name": "extra", "emptyDir": {}}]}}
    merged = _smp(pod, change)
    assert merged["spec"]["containers"] == [
        {"name": "app", "image": "a:1",
         "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]}]
    assert [v["name"] for v in merged["spec"]["volumes"]] == ["data", "extra"]


def test_strategic_merge_finalizers_are_a_set_and_other_lists_replace() -> None:
    pod = {"metadata": {"finalizers": ["a"]}, "spec": {"tolerations": [{"key": "k"}]}}
    merged = _smp(pod, {"metadata": {"finalizers": ["b", "a"]},
                        "spec": {"tolerations": [{"key": "z"}]}})
    assert merged["metadata"]["finalizers"] == ["a", "b"]
    assert merged["spec"]["tolerations"] == [{"key": "z"}]


def test_strategic_merge_directives() -> None:
    pod = {"spec": {"nodeSelector": {"a": "1"}, "volumes": [
        {"name": "v", "emptyDir": {}}, {"name": "w", "emptyDir": {}}]}}
    merged = _smp(pod, {"spec": {"nodeSelector": {"$patch": "delete"},
                                 "$setElementOrder/volumes": [{"name": "w"}],
                                 "volumes": [{"name": "v", "$patch": "delete"}]}})
    assert merged == {"spec": {"volumes": [{"name": "w", "emptyDir": {}}]}}
    replaced = _smp(pod, {"spec": {"volumes": [{"name": "x"}, {"$patch": "replace"}]}})
    assert replaced["spec"]["volumes"] == [{"name": "x"}]


def test_strategic_merge_is_refused_for_custom_resources() -> None:
    with pytest.raises(ApiError) as caught:
        patch.apply({}, {}, patch.STRATEGIC, builtin=False, strategy=lambda p: (None, None))
    assert caught.value.code == 415
