"""Object name rules the API server enforces on create (422 Invalid, metadata.name).

A suite that names objects in a way a real cluster refuses must fail in the lab too.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import invalid
from ..resources import ResourceType

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
_SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
    r"regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]"
    r"([-a-z0-9]*[a-z0-9])?)*')")


def check_name(resource: ResourceType, meta: dict[str, Any]) -> None:
    """Raise 422 for a name (or generateName prefix) the real server would refuse."""
    name = meta.get("name") or ""
    field = "metadata.name"
    if not name and meta.get("generateName"):
        name, field = str(meta["generateName"]) + "x", "metadata.generateName"
    if not name or not isinstance(name, str):
        return  # the store reports a missing name
    if resource.group == "rbac.authorization.k8s.io":
        _check_path_segment(resource, name, field)
        return
    is_label = resource.key == ("", "namespaces")
    pattern, limit = (_LABEL, 63) if is_label else (_SUBDOMAIN, 253)
    if len(name) > limit:
        message = f"must be no more than {limit} characters"
    elif not pattern.match(name):
        message = _LABEL_MESSAGE if is_label else _SUBDOMAIN_MESSAGE
    else:
        return
    shown = name[:-1] if field.endswith("generateName") else name
    raise invalid(resource.kind, shown, [{"reason": "FieldValueInvalid", "field": field,
                                          "message": f'Invalid value: "{shown}": {message}'}],
                  resource.group)


def _check_path_segment(resource: ResourceType, name: str, field: str) -> None:
    """RBAC objects only need a valid path segment (apimachinery's
    ValidatePathSegmentName), so `kubevirt.io:admin` is a valid ClusterRole name."""
    if name in (".", ".."):
        message = f"may not be '{name}'"
    elif "/" in name or "%" in name:
        message = f"may not contain '{'/' if '/' in name else '%'}'"
    else:
        return
    raise invalid(resource.kind, name, [{"reason": "FieldValueInvalid", "field": field,
                                         "message": f'Invalid value: "{name}": {message}'}],
                  resource.group)


_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_NAME_PART = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_VALUE_MESSAGE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
_NAME_PART_MESSAGE = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")


def _key_problem(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _SUBDOMAIN.match(prefix)):
        return "prefix part " + _SUBDOMAIN_MESSAGE
    if len(name) > 63:
        return "name part must be no more than 63 characters"
    return None if _NAME_PART.match(name) else _NAME_PART_MESSAGE


def _value_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return None  # a type error: schema validation reports it
    if len(value) > 63:
        return "must be no more than 63 characters"
    return None if _LABEL_VALUE.match(value) else _VALUE_MESSAGE


def check_labels(resource: ResourceType, meta: dict[str, Any]) -> None:
    """Raise 422 for label keys or values a real server refuses (create and update)."""
    labels = meta.get("labels")
    if not isinstance(labels, dict):
        return
    causes = []
    for key, value in labels.items():
        for shown, problem in ((key, _key_problem(str(key))), (value, _value_problem(value))):
            if problem:
                causes.append({"reason": "FieldValueInvalid", "field": "metadata.labels",
                               "message": f'Invalid value: "{shown}": {problem}'})
    if causes:
        raise invalid(resource.kind, str(meta.get("name") or ""), causes, resource.group)
