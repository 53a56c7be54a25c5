"""Placeholder: the lab's data plane (see docs/internals.md)."""
