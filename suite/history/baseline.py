"""Finding the baseline a run is compared with: ``latest``, a stored run id or a folder."""

from __future__ import annotations

from pathlib import Path

from suite.config.errors import ConfigError
from suite.history.record import RunRecord, from_report_dir
from suite.history.store import HistoryStore


def is_folder(spec: str) -> bool:
    return Path(spec).is_dir()


def check_spec(spec: str | None, history: Path | None) -> None:
    """Fail early, with one line, on a baseline that can never be found."""
    if spec is None or is_folder(spec):
        if spec is not None and not (Path(spec) / "matrix.json").is_file():
            raise ConfigError(f"--baseline {spec}: folder has no matrix.json")
        return
    if history is None:
        raise ConfigError(f"--baseline {spec} reads the history: drop --no-history, or give "
                          "a report folder")
    if spec == "latest":
        return
    if not history.is_file():
        raise ConfigError(f"--baseline {spec}: no history at {history} (and no such folder)")
    with HistoryStore(history) as store:
        store.load(spec)  # raises ConfigError naming the run


def resolve(spec: str, history: Path | None, current_id: str) -> tuple[RunRecord, str] | None:
    """The baseline record and how to name it; None when ``latest`` finds no run yet."""
    if is_folder(spec):
        return from_report_dir(Path(spec)), spec
    assert history is not None
    if not history.is_file():
        return None
    with HistoryStore(history) as store:
        run_id = store.latest_id(exclude=current_id) if spec == "latest" else spec
        if run_id is None:
            return None
        return store.load(run_id), run_id
