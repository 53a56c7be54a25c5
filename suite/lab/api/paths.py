"""Turn a request path into what it addresses, the way the API server's router does.

Paths are parsed by hand rather than with one aiohttp route per resource: the set of
groups grows at run time (components add discovery groups and subresources), and one
parser keeps the namespaced / cluster-scoped / subresource rules in a single place.
"""

from __future__ import annotations

from dataclasses import dataclass

# Subresources of a Namespace object itself: /api/v1/namespaces/<name>/<sub>.
_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})


@dataclass(frozen=True)
class Target:
    """One addressed thing: a group/version listing, a collection, an object or a sub."""

    group: str
    version: str
    plural: str = ""
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def is_group_version(self) -> bool:
        return not self.plural


def _split_prefix(segments: list[str]) -> tuple[str, str, list[str]] | None:
    if segments[0] == "api" and len(segments) >= 2:
        return "", segments[1], segments[2:]
    if segments[0] == "apis" and len(segments) >= 3:
        return segments[1], segments[2], segments[3:]
    return None


def parse(path: str) -> Target | None:
    """The Target of an /api or /apis path, or None when the path is not one."""
    segments = [s for s in path.split("/") if s]
    if not segments:
        return None
    prefix = _split_prefix(segments)
    if prefix is None:
        return None
    group, version, rest = prefix
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] not in _NAMESPACE_SUBRESOURCES:
        namespace, rest = rest[1], rest[2:]
    if len(rest) > 3:
        return None
    padded = [*rest, None, None, None]
    return Target(group, version, padded[0] or "", namespace, padded[1], padded[2])
