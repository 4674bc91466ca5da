"""`/_sandbox/*`: the control surface for tests and demos (not part of the emulated API)."""

from __future__ import annotations

import secrets
import time
from typing import Any

from . import files
from .auth import Client, User
from .http import Request, Response, json_response
from .records import SUPERVISOR_CONTACT
from .schema import SchemaError
from .state import State
from .values import GUID_RE


def _err(status: int, message: str) -> Response:
    return json_response({"error": message}, status)


async def handle(state: State, req: Request) -> Response:
    token = state.settings.admin_token
    if token and not secrets.compare_digest(req.headers.get("x-sandbox-admin-token", "").encode(), token.encode()):
        return _err(401, "admin token required")
    route = req.path[len("/_sandbox"):].rstrip("/") or "/"
    method = req.method
    try:
        body: Any = req.json() if req.body.strip() else {}
    except ValueError:
        return _err(400, "body must be JSON")
    if not isinstance(body, dict):
        return _err(400, "body must be a JSON object")

    if route == "/reset" and method == "POST":
        # Data, custom schema, knobs, sessions and counters back to a fresh start.
        async with state.reset_lock:
            if body.get("data", True):
                await state.reset_data()
            if body.get("runtime", True):
                state.reset_runtime()
        return json_response({"ok": True})
    if route == "/faults":
        if method in ("PUT", "PATCH", "POST"):
            try:
                state.faults.update(body)
            except (ValueError, TypeError) as exc:
                return _err(400, str(exc))
            state.apply_schema_switches()
            return json_response(state.faults.as_dict())
        if method == "DELETE":
            state.faults = type(state.faults).from_settings(state.settings)
            state.apply_schema_switches()
            return json_response(state.faults.as_dict())
        if method == "GET":
            return json_response(state.faults.as_dict())
    if route == "/sessions/expire" and method == "POST":
        state.auth.expire_all()
        return json_response({"ok": True})
    if route == "/sessions" and method == "GET":
        return json_response({"sessions": len(state.auth.sessions), "tokens": len(state.auth.tokens)})
    if route == "/counts":
        if method == "GET":
            snap = state.counts.snapshot()
            writers = state.store.writers  # group-commit efficiency, for benchmarks
            snap["writer"] = {"flushes": sum(w.flushes for w in writers), "rows": sum(w.rows for w in writers)}
            return json_response(snap)
        if method in ("DELETE", "POST"):
            state.counts.reset()
            return json_response(state.counts.snapshot())
    if route == "/schema":
        if method == "GET":
            return json_response({"extensions": state.store.schema.extensions,
                                  "entities": {n: {c.prop: c.kind + (f":{c.target}" if c.target else "")
                                                   for c in e.columns.values()}
                                               for n, e in state.store.schema.entities.items()}})
        if method == "POST":
            before = set(state.store.schema.entities)
            try:
                state.store.schema.extend(body)
            except (SchemaError, ValueError, TypeError, AttributeError) as exc:
                return _err(400, str(exc))
            await state.store.save_extension(body)
            ready = time.monotonic() + state.faults.odata_rebuild_seconds
            for entity_name in set(state.store.schema.entities) - before:
                state.available_at[entity_name] = ready
            return json_response({"ok": True, "entities": sorted(state.store.schema.entities)})
    if route == "/process-runs":
        if method == "GET":
            return json_response(state.process_runs)
        if method == "DELETE":
            state.process_runs.clear()
            return json_response([])
    if route == "/files" and method == "GET":
        return json_response(files.listing(state, dict(req.query).get("entity")))
    if route == "/users" and method == "POST":
        name, password = body.get("name"), body.get("password")
        contact = str(body.get("contact_id") or SUPERVISOR_CONTACT).lower()
        if not isinstance(name, str) or not isinstance(password, str) or not GUID_RE.match(contact):
            return _err(400, "name and password (strings) required; contact_id must be a GUID")
        state.auth.users[name.lower()] = User(name, password, contact)
        state.auth.failures.pop(name.lower(), None)
        return json_response({"ok": True})
    if route == "/oauth-clients" and method == "POST":
        cid, secret = body.get("client_id"), body.get("client_secret")
        contact = str(body.get("contact_id") or SUPERVISOR_CONTACT).lower()
        if not isinstance(cid, str) or not isinstance(secret, str) or not GUID_RE.match(contact):
            return _err(400, "client_id and client_secret (strings) required")
        state.auth.clients[cid] = Client(cid, secret, contact, secrets.token_hex(16))
        return json_response({"ok": True})
    return _err(404, f"no admin route {method} {route}")
