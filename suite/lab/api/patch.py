"""The three patch formats the API server accepts, applied to a stored object.

- JSON patch (RFC 6902) and JSON merge patch (RFC 7386), for every resource;
- strategic merge patch, for built-in types only (custom resources get 415, as on a real
  server), merging lists by the key the OpenAPI schema names
  (x-kubernetes-patch-merge-key / x-kubernetes-patch-strategy).

Server-side apply (application/apply-patch+yaml) is refused with 415, like a server that
predates it; kubectl only sends it with --server-side.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from ..errors import ApiError, bad_request

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"

# For a path of field names (list items add nothing), the list's strategy and merge key.
Strategy = Callable[[tuple[str, ...]], tuple[str | None, str | None]]


def unsupported(builtin: bool) -> ApiError:
    types = [JSON_PATCH, MERGE_PATCH] + ([STRATEGIC] if builtin else [])
    return ApiError(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types "
                    f"include: {', '.join(types)}")


def apply(current: dict[str, Any], patch: Any, content_type: str, *, builtin: bool,
          strategy: Strategy) -> dict[str, Any]:
    """The patched copy of `current`."""
    if content_type == JSON_PATCH:
        return json_patch(current, patch)
    if content_type == MERGE_PATCH:
        return _as_object(merge_patch(current, _as_object(patch)))
    if content_type == STRATEGIC and builtin:
        return strategic_merge(current, _as_object(patch), strategy, ())
    raise unsupported(builtin)


def _as_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request("the patch must be a JSON object")
    return value


# --------------------------------------------------------------- merge patch
def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# ---------------------------------------------------------------- JSON patch
def _invalid(message: str) -> ApiError:
    return ApiError(422, "Invalid", message)


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _index(container: list[Any], token: str, *, adding: bool) -> int:
    if adding and token == "-":
        return len(container)
    if not token.isdigit():
        raise _invalid(f"invalid array index {token!r}")
    index = int(token)
    if index > len(container) or (not adding and index == len(container)):
        raise _invalid(f"array index {index} out of bounds")
    return index


def _parent(doc: Any, tokens: list[str]) -> Any:
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, adding=False)]
        else:
            raise _invalid(f"doc is missing path: /{'/'.join(tokens)}")
    return node


def _get(doc: Any, path: str) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return doc
    parent, last = _parent(doc, tokens), tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, adding=False)]
    raise _invalid(f"doc is missing path: {path}")


def _add(doc: Any, path: str, value: Any) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return value
    parent, last = _parent(doc, tokens), tokens[-1]
    if isinstance(parent, list):
        parent.insert(_index(parent, last, adding=True), value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise _invalid(f"doc is missing path: {path}")
    return doc


def _remove(doc: Any, path: str) -> Any:
    tokens = _pointer(path)
    parent, last = _parent(doc, tokens), tokens[-1] if tokens else ""
    if isinstance(parent, list):
        parent.pop(_index(parent, last, adding=False))
    elif isinstance(parent, dict) and last in parent:
        del parent[last]
    else:
        raise _invalid(f"unable to remove nonexistent key: {last}: missing value")
    return doc


def _operation(doc: Any, op: dict[str, Any]) -> Any:
    kind, path = op.get("op"), op.get("path", "")
    if kind == "add":
        return _add(doc, path, copy.deepcopy(op.get("value")))
    if kind == "remove":
        return _remove(doc, path)
    if kind == "replace":
        _get(doc, path)
        return _add(_remove(doc, path), path, copy.deepcopy(op.get("value")))
    if kind in ("move", "copy"):
        value = copy.deepcopy(_get(doc, op.get("from", "")))
        if kind == "move":
            doc = _remove(doc, op.get("from", ""))
        return _add(doc, path, value)
    if kind == "test":
        if _get(doc, path) != op.get("value"):
            raise _invalid(f"testing value {path} failed: test failed")
        return doc
    raise bad_request(f"Unexpected kind: {kind}")


def json_patch(current: dict[str, Any], patch: Any) -> dict[str, Any]:
    if not isinstance(patch, list) or not all(isinstance(op, dict) for op in patch):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc: Any = copy.deepcopy(current)
    for op in patch:
        doc = _operation(doc, op)
    return _as_object(doc)


# ------------------------------------------------------ strategic merge patch
def strategic_merge(current: dict[str, Any], patch: dict[str, Any], strategy: Strategy,
                    path: tuple[str, ...]) -> dict[str, Any]:
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    result = copy.deepcopy(current)
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [v for v in result.get(field) or [] if v not in value]
        elif key.startswith("$") or value is None:
            if value is None:
                result.pop(key, None)
        elif isinstance(value, dict) and value.get("$patch") == "delete":
            result.pop(key, None)
        else:
            result[key] = _merge_value(result.get(key), value, strategy, (*path, key))
    if "$retainKeys" in patch:
        keep = set(patch["$retainKeys"])
        result = {k: v for k, v in result.items() if k in keep}
    return result


def _merge_value(old: Any, new: Any, strategy: Strategy, path: tuple[str, ...]) -> Any:
    if isinstance(new, dict) and isinstance(old, dict):
        return strategic_merge(old, new, strategy, path)
    if isinstance(new, dict):
        return strategic_merge({}, new, strategy, path)
    if isinstance(new, list) and isinstance(old, list):
        return _merge_list(old, new, strategy, path)
    if isinstance(new, list):
        return [item for item in new if not (isinstance(item, dict) and "$patch" in item)]
    return copy.deepcopy(new)


def _merge_list(old: list[Any], new: list[Any], strategy: Strategy,
                path: tuple[str, ...]) -> list[Any]:
    how, key = strategy(path)
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in new):
        return [i for i in new if not (isinstance(i, dict) and "$patch" in i)]
    if "merge" not in (how or "").split(","):
        return copy.deepcopy(new)
    if not key:  # a set of primitives: union, keeping the existing order first
        return copy.deepcopy(old) + [v for v in new if v not in old]
    merged = copy.deepcopy(old)
    for item in new:
        _merge_keyed_item(merged, item, key, strategy, path)
    return merged


def _merge_keyed_item(merged: list[Any], item: Any, key: str, strategy: Strategy,
                      path: tuple[str, ...]) -> None:
    if not isinstance(item, dict) or key not in item:
        raise bad_request(f"map: {item} does not contain declared merge key: {key}")
    at = next((i for i, old in enumerate(merged)
               if isinstance(old, dict) and old.get(key) == item[key]), None)
    if item.get("$patch") == "delete":
        if at is not None:
            merged.pop(at)
        return
    if at is None:
        merged.append(strategic_merge({}, item, strategy, path))
    else:
        merged[at] = strategic_merge(merged[at], item, strategy, path)
