"""Turning a kubeconfig (and context) into a working connection, or one clear error.

Everything a user can get wrong here (missing file, broken YAML, unknown context,
unreachable server, refused token) becomes a ``ConfigError`` with a one-line message.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from suite.cluster.errors import KubeError, Unauthorized, Unreachable
from suite.cluster.retry import RetryPolicy
from suite.cluster.transport import Transport
from suite.config.errors import ConfigError

POOL_SIZE = 64  # one watch per class thread plus calls; urllib3 warns when exceeded


def connect(kubeconfig: str, context: str | None = None,
            retry: RetryPolicy | None = None) -> Transport:
    """A transport for the kubeconfig's (or the given) context; checks the server answers."""
    if not any(Path(part).is_file() for part in kubeconfig.split(os.pathsep) if part):
        raise ConfigError(f"kubeconfig {kubeconfig} not found (give --kubeconfig or set "
                          "KUBECONFIG, or use --lab)")
    configuration = client.Configuration()
    try:
        config.load_kube_config(config_file=kubeconfig, context=context,
                                client_configuration=configuration, persist_config=False)
    except (ConfigException, yaml.YAMLError, ValueError, TypeError, KeyError, OSError) as exc:
        raise ConfigError(f"kubeconfig {kubeconfig} is not usable: {_one_line(exc)}") from None
    configuration.connection_pool_maxsize = POOL_SIZE
    configuration.retries = False  # our tenacity policy retries; urllib3 must not also
    transport = Transport(client.ApiClient(configuration),
                          retry or RetryPolicy(attempts=3, max_backoff_s=2.0))
    server_version(transport, kubeconfig)
    transport.retry = retry or RetryPolicy()
    return transport


def server_version(transport: Transport, kubeconfig: str = "") -> dict[str, Any]:
    """``/version`` of the server; a refused or unreachable server is a ConfigError."""
    where = transport.api_client.configuration.host
    try:
        return transport.request("GET", "/version") or {}
    except Unauthorized:
        raise ConfigError(f"cluster {where} refused the credentials in {kubeconfig}") from None
    except Unreachable as exc:
        raise ConfigError(f"cluster {where} is unreachable: {_one_line(exc)}") from None
    except KubeError as exc:
        raise ConfigError(f"cluster {where} answered /version with {exc}") from None


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text[:300] or type(error).__name__
