"""The ``kvstorage`` command and the ``[lab]`` extra, without building a package.

(tests/test_wheel.py installs the built wheel and runs the same paths for real.)
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

import pytest

from suite import cli
from suite.config.errors import ConfigError
from suite.config.options import add_options
from suite.config.run import build_run_config
from suite.lab import extras

REPO = Path(__file__).resolve().parents[2]
UNREACHABLE = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
"""


def test_lab_extras_are_the_pyproject_extra() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = {req.split(">")[0].split("=")[0].strip()
                for req in project["optional-dependencies"]["lab"]}
    assert declared == set(extras.LAB_EXTRAS)
    assert not declared & {req.split(">")[0].strip() for req in project["dependencies"]}
    assert project["scripts"]["kvstorage"] == "suite.cli:main"


def test_lab_without_its_extra_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(extras.LAB_EXTRAS, "kvs-not-installed", "kvs_not_installed_module")
    parser = argparse.ArgumentParser()
    add_options(parser.add_argument)
    with pytest.raises(ConfigError) as caught:
        build_run_config(parser.parse_args(["--lab"]))
    message = str(caught.value)
    assert "missing: kvs-not-installed" in message
    assert "pip install 'kubevirt-storage-suite[lab]'" in message
    assert "\n" not in message


def test_every_verb_names_a_function_that_exists() -> None:
    import importlib

    for name, verb in cli.VERBS.items():
        module, _, function = verb.target.partition(":")
        assert callable(getattr(importlib.import_module(module), function)), name


def test_usage_and_unknown_verbs(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert "run " in capsys.readouterr().out
    assert cli.main(["--help"]) == 0
    assert cli.main(["histroy"]) == 2
    err = capsys.readouterr().err
    assert "unknown verb 'histroy'" in err and "sweep" in err


def test_sweep_against_an_unreachable_cluster_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(UNREACHABLE)
    assert cli.main(["sweep", "--kubeconfig", str(kubeconfig)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("kvstorage sweep: cluster https://127.0.0.1:1 is unreachable")
    assert "Traceback" not in "\n".join(err)


def test_sweep_refuses_the_run_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["sweep", "--profile", "quick"])
    assert "unrecognized arguments: --profile" in capsys.readouterr().err


def test_sweep_settings_are_validated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from suite.config.run import build_sweep_config

    parser = argparse.ArgumentParser()
    add_options(parser.add_argument)
    monkeypatch.setenv("KUBECONFIG", "/nonexistent/kc")
    config = build_sweep_config(parser.parse_args(["--sweep", "--run-id", "kvs-1"]))
    assert (config.kubeconfig, config.context, config.run_id) == ("/nonexistent/kc", None,
                                                                  "kvs-1")
    with pytest.raises(ConfigError, match="not --lab"):
        build_sweep_config(parser.parse_args(["--sweep", "--lab"]))
