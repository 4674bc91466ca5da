"""Connections: CRUD with write-only secrets, the connection test, entity discovery."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from bpmlink.audit import changed_fields
from bpmlink.bpmonline import captions
from bpmlink.bpmonline.client import BpmClient
from bpmlink.bpmonline.errors import BpmError
from bpmlink.bpmonline.metadata import Metadata
from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.catalog import App, get_app
from bpmlink.connections import bpm_connection
from bpmlink.db.models import Connection
from bpmlink.kit.messages import flat, message
from bpmlink.kit.web import Conflict, InvalidInput, NotFound
from bpmlink.retry_schedule import RETRY_CONNECTION
from bpmlink.sources.app_http import call
from bpmlink.sources.base import FetchEnv, SourceConnection, SourceError
from bpmlink.sources.http_polling import make_client
from bpmlink.sources.probe import probe
from bpmlink.targets import REQUIRED_FIELDS, SYSTEM_COLUMNS
from bpmlink_api.audit.service import record_audit
from bpmlink_api.deps import RequestContext
from bpmlink_api.errors import UpstreamError

from . import repository, validation
from .schemas import (
    ConnectionIn,
    ConnectionOut,
    ConnectionPatch,
    EntityOut,
    EntitySummary,
    FieldOut,
    TestResult,
)


def to_out(row: Connection) -> ConnectionOut:
    return ConnectionOut(
        id=row.id,
        app=row.app,
        name=row.name,
        params=row.params,
        secrets_set=sorted(row.secret_names),
        last_test=row.last_test,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _app(key: str) -> App:
    app = get_app(key)
    if app is None or not app.needs_connection:
        raise InvalidInput(
            message("unknown_app", "unknown app"),
            details=[{"field": "app", "message": f"no app {key!r} takes a connection"}],
        )
    return app


async def _get(ctx: RequestContext, connection_id: uuid.UUID) -> Connection:
    row = await repository.get(ctx.session, ctx.workspace_id, connection_id)
    if row is None:
        raise NotFound(message("connection_not_found", "connection not found"))
    return row


async def create(ctx: RequestContext, body: ConnectionIn) -> ConnectionOut:
    session, actor = ctx.session, ctx.actor
    app = _app(body.app)
    secrets: dict[str, str | None] = dict(body.secrets)
    params = validation.normalise(app, body.params, secrets)
    kept = {k: v for k, v in secrets.items() if v}
    validation.check_complete(app, params, kept)
    row = Connection(
        workspace_id=actor.workspace_id,
        app=app.key,
        name=body.name.strip(),
        params=params,
        secrets_encrypted=ctx.box.encrypt(kept) if kept else None,
        secret_names=sorted(kept),
    )
    session.add(row)
    await session.flush()
    await record_audit(session, actor, "created", "connection", row.id, row.name, {"app": row.app})
    await session.refresh(row)
    return to_out(row)


async def list_connections(
    ctx: RequestContext, cursor: str | None, limit: int
) -> tuple[list[ConnectionOut], str | None]:
    rows, next_cursor = await repository.list_page(ctx.session, ctx.workspace_id, cursor, limit)
    return [to_out(r) for r in rows], next_cursor


async def get(ctx: RequestContext, connection_id: uuid.UUID) -> ConnectionOut:
    return to_out(await _get(ctx, connection_id))


async def update(ctx: RequestContext, connection_id: uuid.UUID, body: ConnectionPatch) -> ConnectionOut:
    session, actor, box = ctx.session, ctx.actor, ctx.box
    row = await _get(ctx, connection_id)
    app = _app(row.app)
    secrets = box.decrypt(row.secrets_encrypted)
    secrets_before = dict(secrets)
    changes = body.secrets or {}
    params = validation.normalise(app, body.params if body.params is not None else dict(row.params), changes)
    for name, value in changes.items():
        if value:
            secrets[name] = value
        else:
            secrets.pop(name, None)
    validation.check_complete(app, params, secrets)
    name = body.name.strip() if body.name is not None else row.name
    # Names only: secrets never leave, and a param may carry a credential too (a token in a polled URL).
    changed = (
        changed_fields({"name": row.name}, {"name": name})
        + changed_fields(row.params, params, "params.")
        + changed_fields(secrets_before, secrets, "secrets.")
    )
    details: dict[str, Any] = {"changed": changed}
    if name != row.name:
        details["previous_name"] = row.name
    row.name = name
    row.params = params
    row.secrets_encrypted = box.encrypt(secrets) if secrets else None
    row.secret_names = sorted(secrets)
    if any(c != "name" for c in changed):
        row.last_test = None  # the last test was of other settings
    await session.flush()
    if changed:
        await record_audit(session, actor, "updated", "connection", row.id, row.name, details)
    await session.refresh(row)
    return to_out(row)


async def delete(ctx: RequestContext, connection_id: uuid.UUID) -> None:
    row = await _get(ctx, connection_id)
    used = await repository.bundle_using(ctx.session, ctx.workspace_id, row.id)
    if used:
        raise Conflict(
            message(
                "connection_in_use", f"the bundle {used!r} uses this connection; change or delete it first", bundle=used
            )
        )
    await record_audit(ctx.session, ctx.actor, "deleted", "connection", row.id, row.name, {"app": row.app})
    await ctx.session.delete(row)
    await ctx.session.flush()


def _client(ctx: RequestContext, row: Connection) -> BpmClient:
    if row.app != "bpmonline":
        raise InvalidInput(
            message("no_entities_for_app", f"{row.app} connections have no entities to discover", app=row.app)
        )
    return BpmClient(bpm_connection(row, ctx.box), settings=ctx.settings, redis=ctx.redis)


def _source_connection(ctx: RequestContext, row: Connection) -> SourceConnection:
    return SourceConnection(
        id=str(row.id), app=row.app, params=dict(row.params), secrets=ctx.box.decrypt(row.secrets_encrypted)
    )


async def _test_source(ctx: RequestContext, app: App, row: Connection, path: str) -> TestResult:
    """One cheap call of a source app's API through the connection (its HttpAccess `test_path`)."""
    conn = _source_connection(ctx, row)
    async with make_client(ctx.settings) as http:
        try:
            await call(app, conn, "GET", path, http, StepRecorder(system=app.key))
        except SourceError as exc:
            words = message("source_test_failed", exc.message, error=exc.message)
            return TestResult(ok=False, stage="source", code=exc.code, **flat(words, ctx.language))
    words = message("source_answered", f"{app.label.en} answered", app=app.label.en)
    return TestResult(ok=True, stage="done", code="source_answered", **flat(words, ctx.language))


async def test(ctx: RequestContext, connection_id: uuid.UUID) -> TestResult:
    """Test the connection for real, and keep the result and its time on it (the list shows them)."""
    row = await _get(ctx, connection_id)
    result = await _run_test(ctx, row)
    row.last_test = {**result.model_dump(mode="json"), "at": datetime.now(UTC).isoformat()}
    await ctx.session.flush()
    return result


async def _run_test(ctx: RequestContext, row: Connection) -> TestResult:
    app = get_app(row.app)
    if app is not None and app.http is not None and app.http.test_path:
        return await _test_source(ctx, app, row, app.http.test_path)
    if row.app != "bpmonline":
        found = await probe(_source_connection(ctx, row), FetchEnv(ctx.settings))
        stage = "unchecked" if found.ok is None else ("done" if found.ok else "source")
        words = message(found.code, found.message, **found.params)
        return TestResult(ok=bool(found.ok), stage=stage, code=found.code, **flat(words, ctx.language))
    async with _client(ctx, row) as client:
        result = await client.test()
    if result.ok:  # operations parked while the connection was down need not wait for the worker's probe
        ctx.jobs.enqueue(RETRY_CONNECTION, str(row.id), job_id=f"{RETRY_CONNECTION}:{row.id}:{time.time_ns()}")
    return TestResult(**result.to_dict(ctx.language))


async def _metadata(client: BpmClient, refresh: bool) -> Metadata:
    try:
        return await client.metadata(refresh=refresh)
    except BpmError as exc:
        raise UpstreamError(message("bpmonline_answered", f"bpm'online answered: {exc}", remote=str(exc))) from exc


async def entities(
    ctx: RequestContext, connection_id: uuid.UUID, language: str, refresh: bool = False
) -> list[EntitySummary]:
    """The entities with captions in `language` (bpmlink.bpmonline.captions: the instance's, else the
    built-in dictionary, else the code); the captions service failing never fails this read."""
    row = await _get(ctx, connection_id)
    async with _client(ctx, row) as client:
        metadata = await _metadata(client, refresh)
        names = await captions.instance_entities(client, refresh=refresh)
    return [
        EntitySummary(name=n, caption=captions.entity_caption(n, language, names)) for n in sorted(metadata.entities)
    ]


async def entity(ctx: RequestContext, connection_id: uuid.UUID, name: str, language: str) -> EntityOut:
    row = await _get(ctx, connection_id)
    async with _client(ctx, row) as client:
        info = (await _metadata(client, False)).entities.get(name)
        if info is None:
            raise NotFound(message("entity_unknown", f"bpm'online has no entity {name!r}", entity=name))
        names = await captions.instance_entities(client)
        columns = await captions.instance_columns(client, name)
    required = REQUIRED_FIELDS.get(name, frozenset())
    fields = []
    for f in info.fields.values():
        if f.is_stream:
            continue
        target = captions.entity_caption(f.lookup_entity, language, names) if f.lookup_entity else None
        fields.append(
            FieldOut(
                name=f.name,
                caption=captions.column_caption(name, captions.schema_column(f), language, columns),
                type=f.type,
                type_caption=captions.type_caption(f, language, target),
                required=f.name in required,
                max_length=f.max_length,
                lookup_entity=f.lookup_entity,
                lookup_caption=target,
                read_only=f.name in SYSTEM_COLUMNS,
            )
        )
    fields.sort(key=lambda f: (not f.required, f.read_only, f.name))
    # The schema's own caption (under "") is the entity's; the list's stands in when it has none.
    own = {name: columns[""]} if columns.get("") else names
    return EntityOut(name=name, caption=captions.entity_caption(name, language, own), fields=fields)


async def connection_client(ctx: RequestContext, connection_id: uuid.UUID) -> BpmClient:
    """A client of this workspace's bpm'online connection (use `async with`)."""
    return _client(ctx, await _get(ctx, connection_id))
