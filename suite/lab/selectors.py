"""Label and field selectors, parsed once into predicates.

Syntax follows the API server: labels accept `=`, `==`, `!=`, `in (..)`, `notin (..)`,
`key` and `!key`; fields accept `=`, `==` and `!=` on dotted paths.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .errors import bad_request

Predicate = Callable[[dict[str, Any]], bool]

_SET_RE = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_KEY_RE = re.compile(r"^[A-Za-z0-9_./-]+$")


def split_terms(selector: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    terms: list[str] = []
    current: list[str] = []
    depth = 0
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append("".join(current))
            current = []
        else:
            current.append(char)
    terms.append("".join(current))
    return [t.strip() for t in terms if t.strip()]


def _label_term(term: str) -> Predicate:
    match = _SET_RE.match(term)
    if match:
        key, op, raw = match.groups()
        values = {v.strip() for v in raw.split(",") if v.strip()}
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    for op in ("!=", "==", "="):
        if op in term:
            key, value = (part.strip() for part in term.split(op, 1))
            if not _KEY_RE.match(key):
                break
            if op == "!=":
                return lambda labels: labels.get(key) != value
            return lambda labels: labels.get(key) == value
    else:
        if term.startswith("!") and _KEY_RE.match(term[1:]):
            return lambda labels: term[1:] not in labels
        if _KEY_RE.match(term):
            return lambda labels: term in labels
    raise bad_request(f"unable to parse requirement: invalid label selector term {term!r}")


def label_selector(selector: str | None) -> Predicate:
    """Predicate over a whole object, matching its metadata.labels."""
    if not selector:
        return lambda obj: True
    preds = [_label_term(t) for t in split_terms(selector)]

    def matches(obj: dict[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(p(labels) for p in preds)

    return matches


def field_value(obj: dict[str, Any], path: str) -> str:
    """The string form of a dotted field, '' when absent (as the API server compares)."""
    node: Any = obj
    for part in path.split("."):
        if not isinstance(node, dict):
            return ""
        node = node.get(part)
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


def field_selector(selector: str | None) -> Predicate:
    """Predicate over a whole object for selectors such as `metadata.name=x,spec.nodeName!=`."""
    if not selector:
        return lambda obj: True
    preds: list[Predicate] = []
    for term in split_terms(selector):
        for op in ("!=", "==", "="):
            if op in term:
                path, value = (part.strip() for part in term.split(op, 1))
                preds.append(_field_pred(path, op, value))
                break
        else:
            raise bad_request(f"invalid field selector: {term!r}")
    return lambda obj: all(p(obj) for p in preds)


def _field_pred(path: str, op: str, value: str) -> Predicate:
    if op == "!=":
        return lambda obj: field_value(obj, path) != value
    return lambda obj: field_value(obj, path) == value


def match_labels(selector: dict[str, Any] | None) -> Predicate:
    """Predicate for a structured LabelSelector (matchLabels + matchExpressions)."""
    selector = selector or {}
    terms = [f"{k}={v}" for k, v in (selector.get("matchLabels") or {}).items()]
    for expr in selector.get("matchExpressions") or []:
        op, key, values = expr["operator"], expr["key"], expr.get("values") or []
        if op in ("In", "NotIn"):
            terms.append(f"{key} {op.lower()} ({','.join(values)})")
        elif op == "Exists":
            terms.append(key)
        elif op == "DoesNotExist":
            terms.append(f"!{key}")
    return label_selector(",".join(terms))
