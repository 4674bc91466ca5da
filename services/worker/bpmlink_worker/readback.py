"""Before mapping: the items of a trigger with `readback` completed from their source
(`bpmlink.pipeline.readback`), each call a step of its operation's history, recorded before
bpm'online's steps."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING

from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.catalog import get_app
from bpmlink.connections import get_connection
from bpmlink.pipeline.readback import read_back
from bpmlink.sources.base import PermanentSourceError, SourceConnection, SourceError

if TYPE_CHECKING:
    from .claims import Claimed
    from .context import WorkerContext

log = logging.getLogger("bpmlink.worker.readback")

AT_ONCE = 4  # read-backs at once per bundle run: Bitrix24 allows about 2 requests a second per portal


async def _source_connection(context: WorkerContext, claimed: Claimed) -> SourceConnection:
    source = claimed.config.source
    row = None
    if source.connection_id is not None:
        async with context.transaction() as tx:
            row = await get_connection(tx.session, claimed.workspace_id, source.connection_id)
    if row is None or row.app != source.app:
        raise PermanentSourceError("the bundle's source connection was deleted", code="no_connection")
    try:
        secrets = context.secret_box.decrypt(row.secrets_encrypted)
    except ValueError as exc:
        raise PermanentSourceError(str(exc), code="secrets") from exc
    return SourceConnection(id=str(row.id), app=row.app, params=dict(row.params), secrets=secrets)


async def complete_items(context: WorkerContext, runs: list[Claimed]) -> dict[uuid.UUID, SourceError]:
    """Read back the items of these runs (one bundle version) in place; the failures by event id."""
    source = runs[0].config.source
    app = get_app(source.app)
    trigger = app.trigger(source.trigger) if app is not None else None
    if app is None or trigger is None or trigger.readback is None:
        return {}
    readback = trigger.readback
    try:
        conn = await _source_connection(context, runs[0])
    except SourceError as exc:
        return {claimed.event_id: exc for claimed in runs}
    errors: dict[uuid.UUID, SourceError] = {}
    limit = asyncio.Semaphore(AT_ONCE)

    async def one(claimed: Claimed) -> None:
        recorder = StepRecorder(system=app.key)
        try:
            async with limit:
                claimed.item = await read_back(app, readback, claimed.item, conn, context.source_http, recorder)
        except SourceError as exc:
            errors[claimed.event_id] = exc
        except Exception as exc:  # a defect met on this item: its operation's failure, not the batch's
            log.exception("reading back event %s failed", claimed.event_id)
            errors[claimed.event_id] = PermanentSourceError(f"the read-back failed ({type(exc).__name__})")
        finally:
            claimed.recorder.steps.extend(recorder.steps)

    await asyncio.gather(*(one(claimed) for claimed in runs))
    return errors
