"""Fixtures of the storage tests: an API handle on the session lab and a namespace."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes.client import ApiClient
from storagehelpers import Api, namespace


@pytest.fixture(scope="session")
def api(api_client: ApiClient) -> Api:
    return Api(api_client)


@pytest.fixture(scope="module")
def ns(api: Api, request: pytest.FixtureRequest) -> Iterator[str]:
    with namespace(api, request.module.__name__.rsplit(".", 1)[-1].replace("_", "-")) as name:
        yield name
