"""The lab's Kubernetes API server (HTTPS, bearer token, discovery, REST, watch)."""

from .server import ApiServer

__all__ = ["ApiServer"]
