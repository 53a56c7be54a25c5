"""The run-wide session: owns the cluster connection, the assessments, results and reports.

Created in ``pytest_configure`` and registered as a plugin, it connects (or starts the
lab), discovers, parametrises one test per (StorageClass, capability), runs one thread
per class, hands each test its cell, writes the reports once and cleans up on every
exit path. ``plugin.py`` only declares options and forwards to it.
"""

from __future__ import annotations

import contextlib
import functools
import queue
import shutil
import signal
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import suite
from suite.assessment import NOT_IN_PROFILE, ClassAssessment
from suite.capabilities import CAPABILITIES, FAMILY_CAPABILITIES, Outcome
from suite.checks.base import ClassContext
from suite.checks.selection import skip_reason, skipping_families
from suite.cluster.cleanup import CleanupError, CleanupStack
from suite.cluster.connect import connect, server_version
from suite.cluster.discovery import (
    cluster_facts,
    discover_classes,
    require_virtualization,
    virtualization_facts,
)
from suite.cluster.errors import KubeError
from suite.cluster.kube import RUN_LABEL, Kube
from suite.cluster.preflight import CREATE, run_preflight
from suite.cluster.runspace import RunNamespace, describe
from suite.config.errors import ConfigError
from suite.config.run import RunConfig, select_classes
from suite.report.matrix import ClassResult, RunInfo, build_matrix
from suite.report.progress import Progress, statuses
from suite.report.scorecard import add_scorecard
from suite.report.scorecard import terminal_lines as scorecard_lines
from suite.report.terminal import (
    counts_line,
    disagreement_lines,
    not_tested_lines,
    summary_lines,
)
from suite.report.writer import write_json, write_reports
from suite.workloads.loading import load_workloads

HEARTBEAT_S = 30.0
CELL_PARAM = "kvs_cell_id"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Session:
    """State and hooks of one conformance run."""

    def __init__(self, run: RunConfig, config: pytest.Config):
        self.run = run
        self.config = config
        self.cancel = threading.Event()
        self.cleanup = CleanupStack()  # run-level: the namespace
        self.cleanup_errors: list[CleanupError] = []
        self.progress: queue.Queue[tuple[str, str]] = queue.Queue()
        self.assessments: dict[str, ClassAssessment] = {}
        self.wanted: dict[str, set[str]] = {}
        self.classes: list[str] = []
        self.facts: dict[str, dict[str, Any]] = {}
        self.cluster: dict[str, str] = {}
        self.kube: Kube | None = None
        self.lab: Any = None
        self.lab_dir: str | None = None
        self.started = _now()
        self.wall_start = time.monotonic()
        self.cpu_start = time.process_time()
        self.matrix: dict[str, Any] | None = None
        self.run_dir: Path | None = None
        self.report_problems: list[str] = []
        self.last_line = time.monotonic()
        self.closed = False
        self.kept: list[str] = []
        self.virt: dict[str, Any] = {}
        self._old_sigterm: Any = None
        self.namespace = run.namespace or run.run_id  # --namespace, else one per run
        self.namespace_mode = CREATE
        self.node_checks_denied: str | None = None
        self.display: Progress | None = None  # live status lines, or timestamped lines
        self.workloads: list[Any] | None = None  # what the scorecard judges (validated early)

    # -- output -----------------------------------------------------------------------
    def say(self, line: str) -> None:
        """A progress line on the terminal, also while a test's output is being captured."""
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if reporter is not None and self.config.option.verbose >= 0:
            suspended = capture.global_and_fixture_disabled() if capture else None
            with suspended or contextlib.nullcontext():
                reporter.write_line(line)
        self.last_line = time.monotonic()

    def drain_progress(self) -> None:
        while True:
            try:
                name, message = self.progress.get_nowait()
            except queue.Empty:
                return
            if self.display is not None:
                self.display.message(name, message)
            else:
                self.say(f"[{name}] {message}")

    def _terminal_write(self, text: str) -> None:
        """Raw text past pytest's line tracking (the live block must not shift its
        column bookkeeping), while capture is suspended."""
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if reporter is None or self.config.option.verbose < 0:
            return
        stream = getattr(reporter._tw, "_file", None)
        with (capture.global_and_fixture_disabled() if capture else contextlib.nullcontext()):
            if stream is None:
                reporter.write(text, flush=True)
            else:
                stream.write(text)
                stream.flush()

    def _make_display(self) -> Progress:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        live = bool(reporter is not None and getattr(reporter, "isatty", False)
                    and reporter._tw.hasmarkup and self.config.option.verbose >= 0)
        if not live or reporter is None:
            return Progress(lambda text: self.say(text.rstrip("\n")), live=False)
        return Progress(self._terminal_write, live=True, width=reporter._tw.fullwidth,
                        column=lambda: reporter._tw.width_of_current_line)

    def heartbeat(self) -> None:
        if self.display is not None and self.display.live:
            self.display.draw(statuses(self.assessments, self.wanted, self.display.steps))
            return
        if time.monotonic() - self.last_line < HEARTBEAT_S:
            return
        for name, assessment in self.assessments.items():
            if assessment.current:
                self.say(f"[{name}] still running {assessment.current} "
                         f"({_duration(assessment.seconds)} so far)")
        self.last_line = time.monotonic()

    # -- start: lab, connection, discovery ---------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self._install_sigterm()
        try:
            self._connect()
            self._preflight()
            self._discover()
            self.workloads = load_workloads(list(self.run.profile.workloads))
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from None
        except KubeError as exc:  # e.g. RBAC refusing a list: one line, not a traceback
            raise pytest.UsageError(f"cluster discovery failed: {exc}") from None

    def _install_sigterm(self) -> None:
        # SIGTERM (CI cancelling a job) takes the Ctrl-C path so cleanup still runs.
        if threading.current_thread() is threading.main_thread():
            self._old_sigterm = signal.signal(signal.SIGTERM, signal.default_int_handler)

    def _connect(self) -> None:
        kubeconfig = self.run.kubeconfig
        if self.run.lab:
            kubeconfig = self._start_lab()
        assert kubeconfig is not None
        transport = connect(kubeconfig, self.run.context)
        self.kube = Kube(transport, self.run.run_id, self.namespace,
                         delete_timeout_s=self.run.profile.timeouts.delete_s)
        require_virtualization(self.kube)
        virt = virtualization_facts(self.kube)
        self.cluster = cluster_facts(self.kube, server_version(transport), virt)
        self.virt = virt

    def _start_lab(self) -> str:
        from suite.lab.drivers import DriverProfileError
        from suite.lab.lab import Lab

        self.say("starting the embedded lab cluster ...")
        self.lab_dir = tempfile.mkdtemp(prefix="kvs-suite-lab-")
        try:
            self.lab = Lab(self.run.lab_drivers, Path(self.lab_dir),
                           guests=self.run.lab_guests).start()
        except DriverProfileError as exc:
            where = (f"invalid lab driver file {self.run.lab_drivers}"
                     if self.run.lab_drivers else "cannot start the lab")
            raise ConfigError(f"{where}: {exc}") from None
        self.say(f"lab serving at {self.lab.server_url}")
        return str(self.lab.kubeconfig_path)

    def _preflight(self) -> None:
        """Every permission the families need, asked before anything is created."""
        assert self.kube is not None
        found = run_preflight(self.kube.transport, list(self.run.profile.families),
                              self.namespace, self.run.namespace,
                              self.run.profile.node_checks.privileged_pods)
        if not found.ok:
            raise ConfigError(found.message())
        self.namespace_mode = found.namespace_mode
        self.node_checks_denied = found.optional_reason()

    def _discover(self) -> None:
        assert self.kube is not None
        facts = discover_classes(self.kube, self.virt)
        self.classes = select_classes(list(facts), self.run.storage_classes)
        if not self.classes:
            raise ConfigError("the cluster has no StorageClass to test")
        self.facts = {name: facts[name] for name in self.classes}
        if self.node_checks_denied:
            for facts_of_class in self.facts.values():
                facts_of_class["nodeChecksDenied"] = self.node_checks_denied

    # -- collection --------------------------------------------------------------------
    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if CELL_PARAM not in metafunc.fixturenames:
            return
        cells = [(sc, cap) for sc in self.classes for cap in CAPABILITIES]
        metafunc.parametrize(CELL_PARAM, cells, ids=[f"{sc}-{cap}" for sc, cap in cells])

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.wanted = {sc: set() for sc in self.classes}
        for item in session.items:
            callspec = getattr(item, "callspec", None)
            if callspec is not None and CELL_PARAM in callspec.params:
                sc, cap = callspec.params[CELL_PARAM]
                if _in_profile(self.run, cap):
                    self.wanted[sc].add(cap)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Any:
        if not session.config.option.collectonly and any(self.wanted.values()):
            self._begin()
        return (yield)

    # -- the run -----------------------------------------------------------------------
    def _begin(self) -> None:
        assert self.kube is not None
        self._create_namespace()
        self._probe_image()
        self.say(f"run {self.run.run_id}: assessing {len(self.classes)} StorageClass(es) "
                 f"concurrently in namespace {self.namespace}")
        self.display = self._make_display()
        for name in self.classes:
            assessment = self._assessment(name)
            self.assessments[name] = assessment
            assessment.start()

    def _create_namespace(self) -> None:
        """Create, request (ProjectRequest) or adopt the run's namespace, per the
        preflight's mode; its cleanup removes only what was made."""
        assert self.kube is not None
        space = RunNamespace(self.kube, self.namespace, self.namespace_mode,
                             namespace_labels(self.run), list(self.run.profile.families),
                             self.run.profile.timeouts.delete_s)
        try:
            undo = space.prepare()
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from None
        if undo is not None:
            self.cleanup.push(f"delete {describe(self.namespace_mode, self.namespace)} and "
                              "wait until it is gone", undo)

    def _probe_image(self) -> None:
        """One VM proves the guest image pulls before any class boots one (see
        suite.vm.imageprobe); an image that cannot be pulled stops the run in one line."""
        from suite.vm.imageprobe import ImageProbe

        assert self.kube is not None
        if all(skip_reason(self.facts[name]) for name in self.classes):
            return  # no class will boot a VM
        guest, timeouts = self.run.profile.guest, self.run.profile.timeouts
        self.say(f"checking that guest image {guest.image} can be pulled ...")
        profile = f"{self.run.profile.name!r}" + (
            f" ({self.run.profile.source})" if self.run.profile.source else "")
        probe = ImageProbe(self.kube.scoped(self.namespace, self.cleanup, self.cancel),
                           self.namespace, guest.image, guest.memory, profile, timeouts.boot_s)
        try:
            found = probe.run()
        except ConfigError as exc:  # nothing worth keeping, even with --keep
            self.cleanup_errors += self.cleanup.run_all()
            raise pytest.UsageError(str(exc)) from None
        except KubeError as exc:  # undecided: the classes' own VMs will say what they see
            self.say(f"image probe undecided ({exc}); going on")
            return
        if found.pulled:
            self.say(f"guest image pulled (probe VM scheduled in {found.seconds:.1f}s)")
        else:
            self.say(f"image probe undecided after {found.seconds:.0f}s ({found.detail}); "
                     "going on")

    def _assessment(self, name: str) -> ClassAssessment:
        from suite.checks import FAMILIES

        assert self.kube is not None
        kube = self.kube.scoped(self.namespace, CleanupStack(), self.cancel)
        ctx = ClassContext(
            kube=kube, namespace=self.namespace, storage_class=name, facts=self.facts[name],
            profile=self.run.profile, run_id=self.run.run_id,
            progress=functools.partial(self._progress, name), cancelled=self.cancel)
        families = {f: FAMILIES[f] for f in FAMILY_CAPABILITIES if f in self.run.profile.families}
        unfit = skip_reason(self.facts[name])
        if unfit:  # cannot hold a VM disk: decided now, no VM, no bind timeout
            families = skipping_families(list(families), unfit)
        return ClassAssessment(ctx, families, self.wanted.get(name, set()),
                               on_finish=self._class_finished)

    def _progress(self, storage_class: str, message: str) -> None:
        self.progress.put((storage_class, message))  # printed by the main thread

    def _class_finished(self, assessment: ClassAssessment) -> None:
        name = assessment.ctx.storage_class
        self.progress.put((name, f"done in {_duration(assessment.seconds)}"))
        if not self.run.keep:  # free the class's volumes and VMs now, not at the end
            self.cleanup_errors += assessment.ctx.kube.cleanup.run_all()

    def outcome_for(self, storage_class: str, capability: str) -> Outcome:
        """Block (printing progress) until the cell is decided; called from the test."""
        if not _in_profile(self.run, capability):
            return Outcome(capability, "skipped", NOT_IN_PROFILE)
        assessment = self.assessments[storage_class]
        event = assessment.events[capability]
        while not event.wait(0.5):
            self.drain_progress()
            self.heartbeat()
        self.drain_progress()
        if self.display is not None:
            self.display.clear()  # pytest writes the result where it left off
        return assessment.outcomes[capability]

    # -- the end -----------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        interrupted = bool(session.shouldstop) or exitstatus == pytest.ExitCode.INTERRUPTED
        if self.display is not None:
            self.display.clear()
        self._stop_assessments(interrupted)
        self.drain_progress()
        try:
            if self.assessments:
                self._write_reports(interrupted)
        finally:  # a report bug must not leave the run's resources behind
            self._run_cleanup()
        broken_reports = [p for p in self.report_problems if p.startswith("matrix.json")]
        if (self.cleanup_errors or broken_reports) and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _stop_assessments(self, interrupted: bool) -> None:
        if not interrupted:  # every cell is decided; threads may still be cleaning up
            for assessment in self.assessments.values():
                assessment.thread.join(self.run.profile.timeouts.delete_s)
        unfinished = [a for a in self.assessments.values() if a.thread.is_alive()]
        if not unfinished:
            return
        self.cancel.set()
        self.say(f"interrupted: stopping {len(unfinished)} running assessment(s) ...")
        deadline = time.monotonic() + 30
        for assessment in unfinished:
            assessment.thread.join(max(0.0, deadline - time.monotonic()))

    def _write_reports(self, interrupted: bool) -> None:
        self.matrix = build_matrix(self._run_info(interrupted), self._results())
        scorecard_problems = []
        try:  # the workload scorecard: a judgement on the cells, never a lost report
            add_scorecard(self.matrix, self.workloads)
        except ConfigError as exc:
            scorecard_problems.append(f"workload scorecard: {exc}")
        fio_rows = [row for a in self.assessments.values() for row in a.ctx.fio_rows]
        self.run_dir, self.report_problems = write_reports(
            self.run.report_dir, self.matrix, fio_rows)
        self.report_problems += scorecard_problems
        write_json(self.run_dir / "timings.json", self._timings())

    def _run_info(self, interrupted: bool) -> RunInfo:
        return RunInfo(id=self.run.run_id, started=self.started, finished=_now(),
                       profile=self.run.profile.name, suite_version=suite.__version__,
                       cluster=self.cluster, interrupted=interrupted)

    def _results(self) -> list[ClassResult]:
        results = []
        for name in self.classes:
            assessment = self.assessments.get(name)
            outcomes = dict(assessment.outcomes) if assessment else {}
            for cap in CAPABILITIES:
                if not _in_profile(self.run, cap):
                    outcomes[cap] = Outcome(cap, "skipped", NOT_IN_PROFILE)
                elif cap not in outcomes:
                    outcomes[cap] = Outcome(cap, "inconclusive", "never assessed")
            perf = list(assessment.ctx.performance) if assessment else []
            results.append(ClassResult(name, self.facts[name], outcomes, perf))
        return results

    def _timings(self) -> dict[str, Any]:
        assert self.kube is not None
        return {"wallSeconds": round(time.monotonic() - self.wall_start, 3),
                # CPU of this process: the suite's own code (plus the lab when --lab).
                "processCpuSeconds": round(time.process_time() - self.cpu_start, 3),
                **self.kube.stats.as_dict(),
                "classSeconds": {n: round(a.seconds, 3) for n, a in self.assessments.items()}}

    def _run_cleanup(self) -> None:
        if self.run.keep:
            kept = [d for a in self.assessments.values() for d in a.ctx.kube.cleanup.discard()]
            self.kept += kept + self.cleanup.discard()
            return
        for assessment in reversed(list(self.assessments.values())):
            self.cleanup_errors += assessment.ctx.kube.cleanup.run_all()
        self.cleanup_errors += self.cleanup.run_all()

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        write = terminalreporter.write_line
        if self.matrix is None:
            return
        terminalreporter.section("KubeVirt storage capability matrix")
        for line in summary_lines(self.matrix):
            write(line)
        write("")
        for line in not_tested_lines(self.matrix):
            write(line)
        for line in disagreement_lines(self.matrix):
            write(line)
        for line in scorecard_lines(self.matrix):
            write(line)
        write(f"cells: {counts_line(self.matrix)}")
        write(f"reports: {self.run_dir}/ (matrix.json, matrix.csv, matrix.md, matrix.html, "
              "fio.csv)")
        for problem in self.report_problems:
            write(f"report problem: {problem}", yellow=True)
        self._cleanup_summary(write)

    def _cleanup_summary(self, write: Any) -> None:
        if self.run.keep:
            write(f"--keep: left {len(self.kept)} resource(s) in namespace {self.namespace}; "
                  f"delete them with: kubectl delete namespace -l {RUN_LABEL}={self.run.run_id}"
                  f"  (or: pytest suite --sweep)")
        elif not self.cleanup_errors:
            write(f"cleanup: {describe(self.namespace_mode, self.namespace)} and everything "
                  "labelled "
                  f"{RUN_LABEL}={self.run.run_id} deleted")
        if self.cleanup_errors:
            write(f"cleanup: {len(self.cleanup_errors)} problem(s):", red=True)
            for error in self.cleanup_errors:
                write(f"  {error}", red=True)

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.close()

    def close(self) -> None:
        """Last resort on every exit path (also after a crash or a usage error)."""
        if self.closed:
            return
        self.closed = True
        self.cancel.set()
        with contextlib.suppress(Exception):
            if not self.run.keep:
                self._run_cleanup()
        if self.lab is not None:
            with contextlib.suppress(Exception):
                self.lab.stop()
        if self.lab_dir:
            shutil.rmtree(self.lab_dir, ignore_errors=True)
        if self._old_sigterm is not None:
            signal.signal(signal.SIGTERM, self._old_sigterm)


PSA_LEVELS = ("enforce", "audit", "warn")


def namespace_labels(run: RunConfig) -> dict[str, str]:
    """PodSecurity `privileged` when node checks are allowed: the node pod is privileged
    and would be refused where the cluster's default level is `restricted`. OpenShift's
    label syncer is told to leave them alone."""
    if not run.profile.node_checks.privileged_pods:
        return {}
    labels = {f"pod-security.kubernetes.io/{level}": "privileged" for level in PSA_LEVELS}
    labels["security.openshift.io/scc.podSecurityLabelSync"] = "false"
    return labels


def _in_profile(run: RunConfig, capability: str) -> bool:
    return any(capability in FAMILY_CAPABILITIES[f] for f in run.profile.families)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
