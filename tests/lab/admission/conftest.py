"""Fixtures of the admission tests: one namespace per module of the session lab."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import kubernetes
import pytest


@pytest.fixture(scope="module")
def ns(api_client: kubernetes.client.ApiClient) -> Iterator[str]:
    name = f"admission-{uuid.uuid4().hex[:6]}"
    core = kubernetes.client.CoreV1Api(api_client)
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)
