"""Websocket URL, credentials and TLS for KubeVirt subresources, from the kubernetes client.

The console must authenticate exactly like every other call the suite makes, so all of
it (server, bearer token or client certificate, CA, verification) is read from the
official client's Configuration instead of being parsed from the kubeconfig again.
"""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import quote

SUBRESOURCE_BASE = "/apis/subresources.kubevirt.io/v1"


def console_url(api_client: Any, namespace: str, vmi: str) -> str:
    host = api_client.configuration.host.rstrip("/")
    if host.startswith("https://"):
        host = "wss://" + host[len("https://") :]
    elif host.startswith("http://"):
        host = "ws://" + host[len("http://") :]
    return (
        f"{host}{SUBRESOURCE_BASE}/namespaces/{quote(namespace)}"
        f"/virtualmachineinstances/{quote(vmi)}/console"
    )


def bearer_header(configuration: Any) -> list[str]:
    hook = getattr(configuration, "refresh_api_key_hook", None)
    if hook is not None:
        hook(configuration)  # exec/OIDC credentials may need a fresh token first
    token = configuration.get_api_key_with_prefix("authorization")
    if not token:
        return []
    if " " not in token:
        token = f"Bearer {token}"
    return [f"Authorization: {token}"]


def ssl_options(configuration: Any) -> dict[str, Any]:
    if not configuration.verify_ssl:
        return {"cert_reqs": ssl.CERT_NONE, "check_hostname": False}
    options: dict[str, Any] = {"cert_reqs": ssl.CERT_REQUIRED}
    if configuration.ssl_ca_cert:
        options["ca_certs"] = configuration.ssl_ca_cert
    if configuration.cert_file:
        options["certfile"] = configuration.cert_file
    if configuration.key_file:
        options["keyfile"] = configuration.key_file
    if getattr(configuration, "assert_hostname", None) is False:
        options["check_hostname"] = False
    server_name = getattr(configuration, "tls_server_name", None)
    if server_name:
        options["server_hostname"] = server_name
    return options


def websocket_options(api_client: Any) -> dict[str, Any]:
    """Keyword arguments for websocket.create_connection (besides url and subprotocols)."""
    configuration = api_client.configuration
    return {
        "header": bearer_header(configuration),
        "sslopt": ssl_options(configuration),
        "timeout": 30,
    }
