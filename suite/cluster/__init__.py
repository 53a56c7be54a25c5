"""Kubernetes access for the suite: connection, retries, waits, cleanup, discovery."""
