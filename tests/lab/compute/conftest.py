"""Fixtures of the compute tests: a namespace per module and the typed API clients."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import kubernetes
import pytest
from kvhelpers import custom


@pytest.fixture(scope="module")
def ns(api_client: kubernetes.client.ApiClient) -> Iterator[str]:
    name = f"compute-{uuid.uuid4().hex[:6]}"
    core = kubernetes.client.CoreV1Api(api_client)
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


@pytest.fixture(scope="module")
def kv(api_client: kubernetes.client.ApiClient) -> Any:
    return custom(api_client)


@pytest.fixture(scope="module")
def core(api_client: kubernetes.client.ApiClient) -> kubernetes.client.CoreV1Api:
    return kubernetes.client.CoreV1Api(api_client)
