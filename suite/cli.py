"""``kvstorage``: the suite as a command, for an installed package as well as a checkout.

``kvstorage run [pytest args...]`` runs the plugin's conformance tests (the ``suite``
package, found by import, so no checkout is needed) with the given arguments, exactly
as ``pytest suite ...`` does from a checkout. ``kvstorage sweep`` does what ``--sweep``
does; ``kvstorage compare`` judges two runs for regressions, or puts several side by
side with ``--out``; ``kvstorage history`` lists the stored runs. Each verb is one entry in
``VERBS`` naming its ``main(args) -> exit status`` as ``"module:function"``, imported only
when that verb runs; another verb (``history``) plugs in as one more line there.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from suite.config.errors import ConfigError
from suite.config.options import add_options


@dataclass(frozen=True)
class Verb:
    """One ``kvstorage`` verb: a one-line help and where its ``main(args) -> int`` is."""

    help: str
    target: str  # "module:function"

    def main(self, args: list[str]) -> int:
        module, _, function = self.target.partition(":")
        return int(getattr(importlib.import_module(module), function)(args))


def run_main(args: list[str]) -> int:
    """The conformance run: pytest on the installed ``suite`` package, the user's args after."""
    return int(pytest.main(["--pyargs", "suite", *args]))


SWEEP_OPTIONS = {"--kubeconfig", "--context", "--run-id"}


def sweep_main(args: list[str]) -> int:
    """``--sweep`` without pytest: delete what earlier runs left, by their label."""
    from suite.cluster.sweep import run_sweep
    from suite.config.run import build_sweep_config

    parser = argparse.ArgumentParser(
        prog="kvstorage sweep",
        description="Delete everything labelled by earlier runs (only --run-id's when given).")

    def addoption(*names: str, **kwargs: Any) -> None:
        # The run's option set, declared once in suite.config.options; sweep takes three.
        if SWEEP_OPTIONS.intersection(names):
            parser.add_argument(*names, **kwargs)
        else:
            parser.set_defaults(**{kwargs["dest"]: kwargs.get("default")})

    add_options(addoption)
    option = parser.parse_args(args)
    try:
        return run_sweep(build_sweep_config(option))
    except ConfigError as exc:
        print(f"kvstorage sweep: {exc}", file=sys.stderr)
        return 2


VERBS: dict[str, Verb] = {
    "run": Verb("run the conformance suite; the arguments go to pytest", "suite.cli:run_main"),
    "sweep": Verb("delete what earlier runs left behind, by their label", "suite.cli:sweep_main"),
    "compare": Verb("A B: regressions between two runs; RUN... --out DIR: side by side report",
                    "suite.cli:compare_main"),
    "history": Verb("the stored runs, their figures and change points",
                    "suite.history.cli:history_command"),
}


def compare_main(args: list[str]) -> int:
    """One verb, two questions: with ``--out DIR`` several runs side by side (a buyer's
    report); otherwise two runs, baseline first, judged for regressions (nightly CI)."""
    from suite.report.sidebyside import sidebyside_command

    if args in (["-h"], ["--help"]):
        print("kvstorage compare A B [options]        regressions of B against baseline A")
        print("kvstorage compare RUN_DIR... --out DIR several runs side by side\n")
        for command in (_compare_two, sidebyside_command):
            try:
                command(args)
            except SystemExit:
                print()
        return 0
    if any(a == "--out" or a.startswith("--out=") for a in args):

        return int(sidebyside_command(args))
    return _compare_two(args)


def _compare_two(args: list[str]) -> int:
    from suite.history.cli import compare_command

    return int(compare_command(args))


def _usage() -> str:
    width = max(map(len, VERBS))
    lines = [f"  {name:<{width}}  {verb.help}" for name, verb in VERBS.items()]
    return "usage: kvstorage VERB [ARGS...]\n\nverbs:\n" + "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to a verb; its own ``--help`` (pytest's for ``run``) says the rest."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return 0 if args else 2
    verb = VERBS.get(args[0])
    if verb is None:
        print(f"kvstorage: unknown verb {args[0]!r}\n{_usage()}", file=sys.stderr)
        return 2
    return verb.main(args[1:])


if __name__ == "__main__":
    sys.exit(main())
