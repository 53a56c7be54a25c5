"""Errors of the fio package, each one line a person can act on.

Kept apart so the check, the config loader and the report can catch exactly the
failure they care about without importing the parser or the runner.
"""

from __future__ import annotations


class FioError(Exception):
    """Base class: anything that went wrong preparing, running or reading fio."""


class JobSetError(FioError):
    """A job set in a profile is malformed; the message names file and field path."""


class FioOutputError(FioError):
    """fio's output could not be read as fio JSON (truncated, empty, wrong format)."""


class FioUnavailable(FioError):
    """The guest has no usable fio; the message says how to fix the image.

    Callers treat every subclass alike: the perf cell is `inconclusive` with this
    message, decided before any further VM is booted for it.
    """

    FIX = "install fio in the guest image (e.g. 'dnf install fio' or 'apt-get install fio')"

    def __init__(self, detail: str = "fio: not found") -> None:
        super().__init__(f"fio is not available in the guest ({detail}); {self.FIX}")
        self.detail = detail


class FioUnsupportedVersion(FioUnavailable):
    """The guest's fio is too old (2.x) or prints a version that cannot be read."""

    def __init__(self, version: str, why: str) -> None:
        FioError.__init__(self, f"the guest's fio ({version or 'no version'}) cannot be used: "
                                f"{why}; use a guest image whose fio is 3.1 or newer "
                                "(Ubuntu 18.04+, CentOS 7+, Fedora)")
        self.detail = f"fio version {version!r}"
        self.version = version
