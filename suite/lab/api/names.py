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
