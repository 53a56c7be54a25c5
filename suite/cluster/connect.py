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
IN_CLUSTER = "<in-cluster>"  # stands for the pod's ServiceAccount instead of a kubeconfig
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def default_kubeconfig() -> str:
    """``$KUBECONFIG`` (several files joined by ':' are merged) or ``~/.kube/config``; in a
    pod with neither (``KUBERNETES_SERVICE_HOST`` set), the in-cluster configuration."""
    home = Path.home() / ".kube" / "config"
    if (not os.environ.get("KUBECONFIG") and not home.is_file()
            and os.environ.get("KUBERNETES_SERVICE_HOST")):
        return IN_CLUSTER
    return os.environ.get("KUBECONFIG", "") or str(home)


def _in_cluster(configuration: client.Configuration) -> None:
    """The pod's ServiceAccount token and CA (``KVS_SERVICEACCOUNT_DIR`` overrides where
    they are read from, for tests), the API server from ``KUBERNETES_SERVICE_HOST/PORT``."""
    from kubernetes.config.incluster_config import InClusterConfigLoader

    folder = Path(os.environ.get("KVS_SERVICEACCOUNT_DIR") or SERVICE_ACCOUNT_DIR)
    try:
        InClusterConfigLoader(token_filename=str(folder / "token"),
                              cert_filename=str(folder / "ca.crt")).load_and_set(configuration)
    except (ConfigException, OSError, ValueError) as exc:
        raise ConfigError(f"in-cluster configuration is not usable: {_one_line(exc)}") from None


def connect(kubeconfig: str, context: str | None = None,
            retry: RetryPolicy | None = None) -> Transport:
    """A transport for the kubeconfig's (or the given) context; checks the server answers."""
    configuration = client.Configuration()
    if kubeconfig == IN_CLUSTER:
        _in_cluster(configuration)
        return _transport(configuration, kubeconfig, retry)
    if not any(Path(part).is_file() for part in kubeconfig.split(os.pathsep) if part):
        raise ConfigError(f"kubeconfig {kubeconfig} not found (give --kubeconfig or set "
                          "KUBECONFIG, or use --lab)")
    _check_context(kubeconfig, context)
    try:
        config.load_kube_config(config_file=kubeconfig, context=context,
                                client_configuration=configuration, persist_config=False)
    except (ConfigException, yaml.YAMLError, ValueError, TypeError, KeyError, OSError) as exc:
        raise ConfigError(f"kubeconfig {kubeconfig} is not usable: {_one_line(exc)}") from None
    return _transport(configuration, kubeconfig, retry)


def _transport(configuration: client.Configuration, kubeconfig: str,
               retry: RetryPolicy | None) -> Transport:
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
        raise ConfigError(f"cluster {where} refused the credentials in {kubeconfig} "
                          "(401 Unauthorized: a wrong or expired token?)") from None
    except Unreachable as exc:
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            raise ConfigError(
                f"cluster {where} failed TLS verification: its certificate is not signed by "
                f"the certificate-authority in {kubeconfig} (wrong CA?)") from None
        raise ConfigError(f"cluster {where} is unreachable: {_one_line(exc)}") from None
    except KubeError as exc:
        raise ConfigError(f"cluster {where} answered /version with {exc}") from None


def _check_context(kubeconfig: str, context: str | None) -> None:
    """An unknown --context names the contexts the kubeconfig has."""
    if not context:
        return
    names: list[str] = []
    for part in kubeconfig.split(os.pathsep):
        try:
            data = yaml.safe_load(Path(part).read_text()) if part else None
        except (OSError, yaml.YAMLError):
            return  # load_kube_config reports unusable files itself
        if isinstance(data, dict):
            names += [str(c.get("name")) for c in data.get("contexts") or []
                      if isinstance(c, dict)]
    if context not in names:
        raise ConfigError(f"context {context!r} not found in kubeconfig {kubeconfig} "
                          f"(it has: {', '.join(names) or 'none'})")


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text[:300] or type(error).__name__
