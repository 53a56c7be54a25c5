"""The repository documents itself: no file points outside it, and the docs list what the
code accepts (a capability id, verdict, driver key or fault missing from the docs fails)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from suite.capabilities import CAPABILITIES, VERDICTS
from suite.lab import clusterprofile, drivers
from suite.report.schema import MATRIX_SCHEMA

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
# Folders that are not the project's text: VCS data, caches, build output, run reports.
SKIP_DIRS = {".git", "__pycache__", ".ruff_cache", ".pytest_cache", ".mypy_cache", "build",
             "dist", "reports", "node_modules"}
# Paths of the machine the project was built on and its design notes beside the repository
# (spelt in pieces so that this file does not match itself).
OUTSIDE = re.compile("|".join(["/" + "work/", r"\.\./" + "shared\\b", r"\bDESIGN" + r"\.md\b",
                               r"/home/[a-z]", "/root/" + r"\.pyenv"]))


def _text_files() -> list[Path]:
    found = []
    for path in REPO.rglob("*"):
        parts = set(path.relative_to(REPO).parts)
        if (not path.is_file() or parts & SKIP_DIRS
                or any(p.endswith(".egg-info") for p in parts)):
            continue
        try:
            path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary (the OpenAPI schemas, images)
        found.append(path)
    return found


def test_no_file_names_a_path_outside_the_repository() -> None:
    files = _text_files()
    assert len(files) > 100, "the walk found too little to mean anything"
    offenders = [f"{path.relative_to(REPO)}:{n}: {line.strip()}"
                 for path in files
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if OUTSIDE.search(line)]
    assert not offenders, "\n".join(offenders)


def test_published_matrix_schema_is_the_one_the_suite_validates_with() -> None:
    published = json.loads((DOCS / "matrix.schema.json").read_text())
    assert published == json.loads(json.dumps(MATRIX_SCHEMA)), (
        "docs/matrix.schema.json is stale; regenerate it as docs/contracts.md says")


def test_contracts_list_every_capability_and_verdict() -> None:
    text = (DOCS / "contracts.md").read_text()
    missing = [c for c in (*CAPABILITIES, *VERDICTS) if f"`{c}`" not in text]
    assert not missing, f"docs/contracts.md does not mention {missing}"


@pytest.mark.parametrize("names", [
    drivers._KEYS, drivers.VOLUME_MODES, drivers.ACCESS_MODES, drivers.BINDING_MODES,
    drivers.EXPANSIONS, drivers.CLONES, drivers.ENCRYPTIONS, drivers.LIMIT_KEYS,
    drivers.FAULTS, drivers.NOISES, drivers.TYPES, drivers.TOP_LEVEL_KEYS,
    clusterprofile._TOP_KEYS, clusterprofile._API_KEYS, clusterprofile.GUEST_PACKAGES,
], ids=["keys", "volume-modes", "access-modes", "binding", "expansion", "clone",
        "encryption", "limits", "faults", "noise", "types", "top-level", "cluster",
        "cluster-api", "guest-packages"])
def test_driver_doc_lists_every_accepted_value(names: tuple[str, ...]) -> None:
    documented = (DOCS / "lab-drivers.md").read_text()
    before_planned = documented.split("## How the lab does it")[0]
    missing = [name for name in names if f"`{name}`" not in before_planned
               and f"{name}:" not in before_planned]
    assert not missing, f"docs/lab-drivers.md does not document {missing}"


def test_docs_link_only_to_files_that_exist() -> None:
    for doc in [REPO / "README.md", *DOCS.glob("*.md")]:
        for target in re.findall(r"\]\(([^)#:]+)\)", doc.read_text()):
            assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"


def test_contracts_list_every_probe_verb() -> None:
    script = (REPO / "suite" / "guest" / "probe.sh").read_text()
    verbs = re.findall(r"^\s*([a-z-]+)\) cmd_", script, re.MULTILINE)
    assert len(verbs) >= 10
    text = (DOCS / "contracts.md").read_text()
    missing = [verb for verb in verbs if f"`{verb} " not in text and f"`{verb}`" not in text]
    assert not missing, f"docs/contracts.md does not describe probe verbs {missing}"
