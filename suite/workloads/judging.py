"""Judging one class for one workload from what the run measured, with the evidence.

The class is ``unfit`` when a needed capability is ``unsupported`` or ``broken``, or a
figure is past its fail threshold; ``not-assessed`` when a needed capability or figure
was not decided or not measured (never ``fit`` by default); ``marginal`` when a figure
lies between warn and fail; else ``fit``. The verdict names what decided it: the
capability with its verdict, or the figure with the measured value and the threshold.
How sure: the number of repeats (or VMs), the spread between them, and how far the
value is from the threshold relative to that spread.
"""

from __future__ import annotations

import statistics
from typing import Any

from suite.workloads.model import FIO_SUMS, Figure, Workload

ORDER = {"unfit": 0, "not-assessed": 1, "marginal": 2, "fit": 3}
NOT_SUPPORTED = ("unsupported", "broken")


def judge(workload: Workload, sc: dict[str, Any]) -> dict[str, Any]:
    """The scorecard entry of one class (a matrix.json storageClasses item)."""
    cells = sc.get("capabilities") or {}
    needs = [_need(cap, cells.get(cap)) for cap in workload.needs]
    figures = [_figure(fig, sc) for fig in workload.figures]
    fitness, decided = _overall(needs, figures)
    return {"workload": workload.name, "fitness": fitness, "reason": _reason(fitness, decided),
            "decidedBy": decided, "needs": needs, "figures": figures}


def _need(capability: str, cell: dict[str, Any] | None) -> dict[str, Any]:
    verdict = (cell or {}).get("verdict", "not assessed")
    fitness = ("fit" if verdict == "supported" else "unfit" if verdict in NOT_SUPPORTED
               else "not-assessed")
    return {"kind": "capability", "capability": capability, "verdict": verdict,
            "fitness": fitness, "cellReason": (cell or {}).get("reason", "")}


def _overall(needs: list[dict[str, Any]], figures: list[dict[str, Any]]
             ) -> tuple[str, dict[str, Any] | None]:
    items = needs + figures
    if not items:
        return "not-assessed", None
    worst = min(items, key=lambda i: ORDER[i["fitness"]])
    if worst["fitness"] != "fit":
        return worst["fitness"], worst
    measured = [f for f in figures if f.get("headroom") is not None]
    tightest = min(measured, key=lambda f: f["headroom"]) if measured else worst
    return "fit", tightest


def _reason(fitness: str, decided: dict[str, Any] | None) -> str:
    if decided is None:
        return "the workload names nothing to judge"
    if decided["kind"] == "capability":
        cap, verdict = decided["capability"], decided["verdict"]
        if fitness == "fit":
            return f"needs {cap}: supported"
        return f"needs {cap}, which is {verdict}"
    if decided.get("value") is None:
        return f"{decided['label']}: {decided['missing']}"
    value = f"{_num(decided['value'])} {decided['unit']}".strip()
    sign = {"higher": (">=", "<"), "lower": ("<=", ">")}[decided["direction"]]
    if fitness == "fit":
        return f"{decided['label']} {value} {sign[0]} warn {_num(decided['warn'])}"
    if fitness == "marginal":
        return (f"{decided['label']} {value} is past warn {_num(decided['warn'])}, within fail "
                f"{_num(decided['fail'])}")
    return f"{decided['label']} {value} {sign[1]} fail {_num(decided['fail'])}"


def _num(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


# -- figures --------------------------------------------------------------------------

def _figure(fig: Figure, sc: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {"kind": "figure", "label": fig.label, "source": fig.source,
                            "metric": fig.metric, "direction": fig.direction,
                            "warn": fig.warn, "fail": fig.fail, "unit": fig.unit,
                            "value": None, "fitness": "not-assessed", "headroom": None}
    found = _bootstorm(fig, sc) if fig.source == "bootstorm" else _fio(fig, sc)
    if isinstance(found, str):
        item["missing"] = found
        return item
    value, where, samples = found
    fitness = fig.grade(value)
    item.update(where, value=round(value, 3), fitness=fitness,
                headroom=_headroom(fig, value),
                certainty=certainty(fig, value, samples, fitness))
    return item


def _headroom(fig: Figure, value: float) -> float:
    """How far past (negative) or inside (positive) the warn threshold, relatively."""
    scale = fig.warn or 1.0
    gap = value - fig.warn if fig.direction == "higher" else fig.warn - value
    return round(gap / scale, 4)


def certainty(fig: Figure, value: float, samples: list[float], fitness: str) -> dict[str, Any]:
    """Repeats, their spread, and whether the deciding threshold lies outside that spread."""
    threshold = fig.threshold_for(fitness)
    out: dict[str, Any] = {"samples": len(samples), "threshold": threshold}
    if len(samples) < 2:
        out.update(spread=None, confidence="single run")
        return out
    mean = statistics.fmean(samples)
    cov = statistics.stdev(samples) / mean if mean else 0.0
    margin = abs(value - threshold) / threshold if threshold else float("inf")
    out.update(spread=round(cov, 4), min=min(samples), max=max(samples),
               margin=round(margin, 4) if margin != float("inf") else None,
               confidence="firm" if margin > 2 * cov else "near the threshold")
    return out


def _bootstorm(fig: Figure, sc: dict[str, Any]) -> tuple[float, dict[str, Any], list[float]] | str:
    cell = (sc.get("capabilities") or {}).get("scale.bootstorm")
    if not cell:
        return "no boot storm in this run"
    if cell.get("verdict") != "supported":
        return f"scale.bootstorm is {cell.get('verdict')}: {cell.get('reason', '')}"
    name, _, stat = fig.metric.partition(".")
    evidence = cell.get("evidence") or {}
    stats = evidence.get(name) or {}
    if stats.get(stat) is None:
        return f"the boot storm did not measure {fig.metric}"
    samples = [float(v[name]) for v in evidence.get("perVm") or [] if v.get(name) is not None]
    return float(stats[stat]), {"vms": evidence.get("vms")}, samples


def matches(job: dict[str, object], options: dict[str, Any]) -> bool:
    return all(options.get(key) == want for key, want in job.items())


def _fio(fig: Figure, sc: dict[str, Any]) -> tuple[float, dict[str, Any], list[float]] | str:
    entries = [e for e in ((sc.get("performance") or {}).get("fio") or [])
               if matches(fig.job, e.get("options") or {})]
    if not entries:
        return f"no fio job with {fig.describe_job()} ran"
    single = [e for e in entries if int(e.get("vms") or 1) == 1] or entries
    scored = [(v, e) for e in single if (v := fio_value(fig.metric, e)) is not None]
    if not scored:
        return f"the matching fio job reported no {fig.metric}"
    pick = max if fig.direction == "higher" else min
    value, entry = pick(scored, key=lambda pair: pair[0])
    samples = [v for r in entry.get("perRepeat") or [] if (v := fio_value(fig.metric, r))
               is not None]
    where = {"job": entry.get("job"), "volumeMode": entry.get("volumeMode"),
             "repeats": entry.get("repeats", 1)}
    vms = int(entry.get("vms") or 1)
    if vms > 1 and _is_rate(fig.metric):  # a single-VM workload: the per-VM share
        value, samples = value / vms, [s / vms for s in samples]
        where["perVmOf"] = vms
    return value, where, samples


def _is_rate(metric: str) -> bool:
    return "." not in metric


def fio_value(metric: str, entry: dict[str, Any]) -> float | None:
    """A figure's number from a performance.fio item (or one of its perRepeat items)."""
    if metric in FIO_SUMS:
        parts = [entry.get(k) for k in FIO_SUMS[metric]]
        return float(sum(p for p in parts if isinstance(p, int | float))) if any(
            isinstance(p, int | float) for p in parts) else None
    if "." not in metric:
        value = entry.get(metric)
        return float(value) if isinstance(value, int | float) else None
    name, _, stat = metric.partition(".")
    value = (entry.get(name) or {}).get(stat)
    return float(value) if isinstance(value, int | float) else None
