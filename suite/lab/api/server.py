"""The lab's HTTPS API server: authentication, routing, errors, and start/stop.

Everything reaches the store through `ObjectHandlers`; this module only decides who may
call (the bearer token), what a path addresses, and how any failure becomes a
`kind: Status` reply. An unexpected exception is a lab bug: it becomes a 500 and is kept
in `ctx.errors`, which tests assert stays empty.
"""

from __future__ import annotations

import logging
import socket
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..context import LabContext
from ..errors import ApiError
from ..resources import ResourceType
from ..tls import LabTls
from . import discovery, openapi, patch, paths, tables
from .faults import FaultPlan
from .objects import BUILTIN_GROUPS, ObjectHandlers
from .responses import internal_error, method_not_allowed, not_found_path, reply, status_reply
from .schemas import SchemaBook
from .watch import WatchStreams

log = logging.getLogger("suite.lab.api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Where the guard leaves the authenticated user for the handlers (typed key on aiohttp
# versions that have one).
USER: Any = web.RequestKey("user", object) if hasattr(web, "RequestKey") else "user"


class ApiServer:
    """One lab's API endpoint on 127.0.0.1."""

    def __init__(self, ctx: LabContext, tls: LabTls, token: str, port: int = 0) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.tls = tls
        self.token = token
        self.requested_port = port
        self.port = 0
        self.faults = FaultPlan()
        from ..auth import Auth  # the auth package uses this package's modules

        self.auth = Auth(ctx.store, token)
        ctx.http.add_subresource("", "v1", "serviceaccounts", "token",
                                 self.auth.endpoints.token_request)
        self.schemas = SchemaBook.load()
        self.openapi = openapi.OpenApiDocs(self.schemas, ctx.store.registry)
        self.watches = WatchStreams(self.store)
        self.watches.should_drop = self.faults.should_drop
        if ctx.cluster.api.any:
            self.faults.apply_profile(ctx.cluster.api)
            self.watches.cut_after_s = self.faults.watch_cut_after_s
        self.watches.transform = tables.watch_transform
        self.objects = ObjectHandlers(self.store, self.watches, self.schemas.validate,
                                      self._patch, tables.render)
        self.watches.cache = self.objects.cache
        self._runner: web.AppRunner | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    # ---------------------------------------------------------- lifecycle
    def bind(self) -> int:
        """Claim the port now (a port in use fails before anything else starts);
        requests are only served after `start()`."""
        if self._socket is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", self.requested_port))
            except OSError:
                sock.close()
                raise
            sock.listen(128)
            self._socket = sock
            self.port = sock.getsockname()[1]
        return self.port

    async def start(self) -> str:
        self.bind()
        app = web.Application(middlewares=[self._guard],
                              client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        assert self._socket is not None
        await web.SockSite(self._runner, self._socket,
                           ssl_context=self.tls.server_context()).start()
        return self.url

    async def stop(self) -> None:
        self.watches.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    # --------------------------------------------------------- middleware
    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Errors -> Status, then authentication and RBAC, then injected faults (one
        layer: it runs for every request, websockets and watches included)."""
        try:
            request[USER] = self.auth.check(request)
            if self.faults.active and not request.path.startswith("/lab/"):
                injected = await self._inject(request)
                if injected is not None:
                    return injected
            return await handler(request)
        except ApiError as error:
            return status_reply(error)
        except web.HTTPException:
            raise
        except Exception as exc:  # a lab bug: answer like a server, and make it visible
            text = "".join(traceback.format_exception(exc))
            log.error("%s %s failed:\n%s", request.method, request.path_qs, text)
            self.ctx.errors.append(f"{request.method} {request.path_qs}: {text}")
            return status_reply(internal_error(exc))

    async def _inject(self, request: web.Request) -> web.Response | None:
        injected = await self.faults.before(request)
        if injected is None:
            return None
        error, retry_after = injected
        response = status_reply(error)
        if error.code == 429:
            response.headers["Retry-After"] = str(retry_after)
        return response

    # ------------------------------------------------------------ routing
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        fixed = self._fixed(request)
        if fixed is not None:
            return fixed
        target = paths.parse(request.path)
        if target is None:
            raise not_found_path()
        if target.is_group_version:
            return self._group_version(request, target)
        if target.group == "project.openshift.io":
            return await self.auth.projects.handle(request, request[USER], target.plural,
                                                   target.name)
        handler = self._component_handler(target)
        if handler is not None:
            return await handler(request, target.namespace, target.name or "")
        resource = self._resource(target)
        if resource.plural == "selfsubjectaccessreviews":
            return await self.auth.endpoints.access_review(request, request[USER])
        if resource.plural == "selfsubjectrulesreviews":
            return await self.auth.endpoints.rules_review(request, request[USER])
        if target.name is None:
            return await self.objects.collection(request, target, resource)
        return await self.objects.item(request, target, resource)

    def _fixed(self, request: web.Request) -> web.StreamResponse | None:
        path = request.path.rstrip("/") or "/"
        if request.method != "GET":
            return None
        if path in ("/healthz", "/livez", "/readyz"):
            return web.Response(text="ok")
        simple: dict[str, Callable[[], Any]] = {
            "/version": discovery.version,
            "/api": lambda: discovery.core_versions(f"127.0.0.1:{self.port}"),
            "/apis": lambda: discovery.group_list(self.store.registry, self.ctx.http),
            "/lab/errors": lambda: list(self.ctx.errors),
            "/lab/audit": self.auth.audit_report,
            "/lab/faults": lambda: {"injected": self.faults.injected,
                                    "byCode": {str(k): v for k, v in
                                               sorted(self.faults.counts.items())}},
        }
        if path in simple:
            return reply(simple[path]())
        if path.startswith("/openapi/"):
            return openapi.serve(request, path, self.openapi)
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "apis":
            body = discovery.group(self.store.registry, self.ctx.http, parts[1])
            if body is None:
                raise not_found_path()
            return reply(body)
        return None

    def _group_version(self, request: web.Request, target: paths.Target) -> web.Response:
        if request.method != "GET":
            raise method_not_allowed()
        body = discovery.resource_list(self.store.registry, self.ctx.http, target.group,
                                       target.version)
        if body is None:
            raise not_found_path()
        return reply(body)

    def _component_handler(self, target: paths.Target) -> Any:
        if not target.subresource or target.subresource == "status" or not target.name:
            return None
        return self.ctx.http.find(target.group, target.version, target.plural,
                                  target.subresource)

    def _resource(self, target: paths.Target) -> ResourceType:
        resource = self.store.registry.get(target.group, target.plural)
        if resource is None or resource.version != target.version:
            raise not_found_path()
        if target.namespace and not resource.namespaced:
            raise not_found_path()
        if target.name and resource.namespaced and not target.namespace:
            raise not_found_path()
        if target.subresource and target.subresource not in resource.subresources:
            raise not_found_path()
        if target.subresource and target.subresource != "status":
            raise not_found_path()
        return resource

    def _patch(self, resource: ResourceType, current: dict[str, Any], body: Any,
               content_type: str) -> dict[str, Any]:
        return patch.apply(current, body, content_type,
                           builtin=resource.group in BUILTIN_GROUPS,
                           strategy=self.schemas.strategy_for(resource))
