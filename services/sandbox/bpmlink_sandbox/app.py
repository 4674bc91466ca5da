"""The ASGI application: routing, auth gate, fault injection, counting."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

from . import admin, dataservice, files, odata3, odata4, processes
from .auth import Principal
from .batch import handle_batch
from .http import JSON_UTF8, Request, Response, html_response, json_response, read_body, send_response
from .pages import LOGIN_PAGE, SERVER_ERROR_PAGE, UNAVAILABLE_PAGE, not_found_html, odata_error
from .settings import SandboxSettings
from .state import State

log = logging.getLogger("bpmlink_sandbox")

AUTH_SVC = ("/ServiceModel/AuthService.svc/", "/0/ServiceModel/AuthService.svc/")
TOKEN_PATHS = ("/connect/token", "/0/connect/token")
LOGIN_PAGES = ("/0/Login/NuiLogin.aspx", "/Login/NuiLogin.aspx", "/Login/Login.html")
DISCOVERY = ("/.well-known/openid-configuration", "/0/.well-known/openid-configuration")
PROCESS_SVC = ("/0/ServiceModel/ProcessEngineService.svc/", "/ServiceModel/ProcessEngineService.svc/")


class SandboxApp:
    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.state = State(settings)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            req = Request(scope, await read_body(receive))
            try:
                resp = await self.dispatch(req)
            except Exception:  # an unexpected bug must still look like Creatio's generic 500
                log.exception("sandbox error on %s %s", req.method, req.path)
                resp = odata_error(500, "An error has occurred.", "Internal sandbox error.", "System.Exception")
            await send_response(send, resp, head_only=req.method == "HEAD")
        elif scope["type"] == "lifespan":
            await self.lifespan(receive, send)

    async def lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.state.start()
                    # The seed and schema live for the whole process: keep the GC from rescanning them.
                    gc.collect()
                    gc.freeze()
                except Exception as exc:
                    log.exception("sandbox start failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.state.store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def classify(self, path: str) -> tuple[str, str, str]:
        """(kind, prefix, rest) for an emulated path; kind "" means unknown."""
        netcore = self.state.faults.host_flavour == "netcore"
        if path.startswith("/0/odata"):
            return "odata4", "/0/odata", path[8:]
        if path.startswith("/odata") and netcore:
            return "odata4", "/odata", path[6:]
        for prefix in ("/0/ServiceModel/EntityDataService.svc", "/ServiceModel/EntityDataService.svc"):
            if path.startswith(prefix) and (netcore or prefix.startswith("/0")):
                return "odata3", prefix, path[len(prefix):]
        for prefix in PROCESS_SVC:  # beside EntityDataService.svc: /0 only on .NET Framework
            if path.startswith(prefix) and (netcore or prefix.startswith("/0")):
                return "process", prefix, path[len(prefix):]
        for prefix in dataservice.PATHS:  # as ProcessEngineService: /0 only on .NET Framework
            if path.startswith(prefix) and (netcore or prefix.startswith("/0")):
                return "dataservice", prefix, path[len(prefix):]
        if path in ("/0" + files.UPLOAD_PATH, files.UPLOAD_PATH) and (netcore or path.startswith("/0")):
            return "files", "", ""
        for prefix in AUTH_SVC:
            if path.startswith(prefix):
                return "auth", prefix, path[len(prefix):]
        if path in TOKEN_PATHS:
            return "token", "", ""
        if path in LOGIN_PAGES:
            return "login_page", "", ""
        if path in DISCOVERY:
            return "discovery", path[: -len("/.well-known/openid-configuration")], ""
        if path in ("/0/ping", "/0/api/HealthCheck/Ping", "/api/HealthCheck/Ping"):
            return "ping", "", ""
        return "", "", ""

    async def dispatch(self, req: Request) -> Response:
        path = req.path
        state = self.state
        if path.startswith("/_sandbox/") or path == "/_sandbox":
            return await admin.handle(state, req)
        if path == "/healthz":
            return json_response({"status": "ok"})
        if path == "/readyz":
            ok = await state.store.ping()
            return json_response({"status": "ok" if ok else "unavailable"}, 200 if ok else 503)

        kind, prefix, rest = self.classify(path)
        is_data = kind in ("odata4", "odata3", "process")
        sub = _subkind(kind, rest)
        state.counts.add(req.method, sub)
        faults = state.faults
        if faults.in_outage():
            return html_response(UNAVAILABLE_PAGE, 503)
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        failure = faults.pick_failure(is_data) if kind else None
        if failure is not None:
            return injected(failure, faults)

        if kind == "odata4" or kind == "odata3":
            who = state.auth.authenticate(req, faults)
            if isinstance(who, Response):
                return who
            rel = rest[1:] if rest.startswith("/") else rest
            if kind == "odata3":
                return await odata3.handle(state, who, req, f"{req.base_url}{prefix}", rel)
            if rest and not rest.startswith("/"):
                return not_found_html(path)
            return await self.odata4(req, who, prefix, rel)
        if kind == "process":
            who = state.auth.authenticate(req, faults)
            if isinstance(who, Response):
                return who
            return await processes.handle(state, who, req, rest)
        if kind == "dataservice":
            who = state.auth.authenticate(req, faults)
            if isinstance(who, Response):
                return who
            return await dataservice.handle(state, who, req, rest)
        if kind == "files":
            who = state.auth.authenticate(req, faults)
            if isinstance(who, Response):
                return who
            return await files.upload(state, who, req)
        if kind == "auth":
            if rest == "Login" and req.method == "POST":
                return state.auth.login(req, faults)
            if rest == "Logout" and req.method == "POST":
                return state.auth.logout(req)
            return Response(403, b"", None)  # wrong method/path on AuthService is a 403 (§2.1)
        if kind == "token":
            if req.method != "POST":
                return json_response({"error": "invalid_request"}, 400)
            return state.auth.token(req, faults)
        if kind == "login_page":
            return html_response(LOGIN_PAGE.replace("{action}", "/ServiceModel/AuthService.svc/Login"))
        if kind == "discovery":
            base = req.base_url + prefix
            return json_response({
                "issuer": "creatio.com", "jwks_uri": f"{base}/.well-known/openid-configuration/jwks",
                "authorization_endpoint": f"{base}/connect/authorize", "token_endpoint": f"{base}/connect/token",
                "revocation_endpoint": f"{base}/connect/revocation", "grant_types_supported":
                ["client_credentials", "authorization_code", "refresh_token"]})
        if kind == "ping":
            if path == "/0/ping":
                who = state.auth.authenticate(req, faults)
                if isinstance(who, Response):
                    return who
            return Response(200, b"", None)
        return not_found_html(path)

    async def odata4(self, req: Request, who: Principal, prefix: str, rel: str) -> Response:
        root = f"{req.base_url}{prefix}"
        ctx = odata4.Ctx(self.state, who, root)
        if rel == "$batch":
            if req.method != "POST":
                return odata4.method_not_allowed(req.method)
            return await handle_batch(ctx, req)
        return await odata4.handle(ctx, req.method, rel, req.query, req.headers, req.body)


def _subkind(kind: str, rest: str) -> str:
    """Counter label: odata4.entity for keyed access, odata4.collection, odata4.batch, …"""
    if kind not in ("odata4", "odata3"):
        return kind or "other"
    rel = rest.strip("/")
    if not rel:
        return f"{kind}.service"
    if rel == "$metadata":
        return f"{kind}.metadata"
    if rel == "$batch":
        return f"{kind}.batch"
    if rel.endswith("/$count"):
        return f"{kind}.count"
    if "(" in rel or rel.count("/") >= 1:
        return f"{kind}.entity" if ")/" not in rel else f"{kind}.property"
    return f"{kind}.collection"


def injected(failure: str, faults: Any) -> Response:
    if failure == "500":
        return odata_error(500, "An error has occurred.", "An error has occurred.", "System.Exception")
    if failure == "html":
        return html_response(SERVER_ERROR_PAGE, 500)
    if failure == "503":
        headers = [("Retry-After", str(faults.unavailable_retry_after))] if faults.unavailable_retry_after else []
        return html_response(UNAVAILABLE_PAGE, 503, headers)
    return Response(429, b'{"Message":"Too many requests."}', JSON_UTF8,
                    [("Retry-After", str(faults.throttle_retry_after))])


def create_app(settings: SandboxSettings | None = None) -> SandboxApp:
    """The ASGI app; its lifespan opens the database, creates tables and seeds an empty one."""
    return SandboxApp(settings or SandboxSettings.from_env())
