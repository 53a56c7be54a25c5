"""The one exception the data plane raises, so callers can turn it into a clean event.

Controllers above report these messages verbatim (a ProvisioningFailed event, a
DataVolume condition), so each message is one line that names the volume and says
what went wrong.
"""

from __future__ import annotations


class DataPlaneError(Exception):
    """A data plane operation failed; the message is one line, fit for an event."""


class QmpError(DataPlaneError):
    """The daemon answered a QMP command with an error."""

    def __init__(self, command: str, error_class: str, desc: str) -> None:
        super().__init__(f"QMP {command} failed: {error_class}: {desc}")
        self.command = command
        self.error_class = error_class
        self.desc = desc
