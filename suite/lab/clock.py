"""Timestamps in the API server's RFC 3339 forms."""

from __future__ import annotations

from datetime import UTC, datetime


def now_rfc3339() -> str:
    """Seconds precision, as metadata.creationTimestamp and most status times."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_rfc3339_micro() -> str:
    """Microsecond precision, as Events' eventTime and KubeVirt's migration timestamps."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
