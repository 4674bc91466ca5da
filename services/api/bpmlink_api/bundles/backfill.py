"""Starting a backfill: page through a polling source from the beginning (or a date) once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from bpmlink.kit.messages import message
from bpmlink.kit.web import Conflict, InvalidInput
from bpmlink.sources import backfill_job_id, get_source
from bpmlink_api.deps import RequestContext

from . import repository
from .schemas import BackfillOut
from .service import get_bundle, polling_out

# A queued or running backfill that has not moved for this long is taken as dead (Redis lost the
# job, or its worker died without arq retrying it) and may be started again.
BACKFILL_STALE = timedelta(minutes=15)


async def start_backfill(ctx: RequestContext, bundle_id: uuid.UUID, since: datetime | None) -> BackfillOut:
    """Record a new backfill (queued); the endpoint enqueues its job after the commit."""
    bundle = await get_bundle(ctx, bundle_id)
    state = await repository.poll_state(ctx.session, bundle.id, for_update=True)
    if state is None or get_source(bundle.source_app) is None:
        raise InvalidInput(message("backfill_needs_polling", "a backfill reads a polling source; this bundle has none"))
    now = datetime.now(UTC)
    current = state.backfill or {}
    if current.get("status") in ("queued", "running"):
        touched = current.get("updated_at") or current.get("requested_at")
        if touched and now - datetime.fromisoformat(touched) < BACKFILL_STALE:
            raise Conflict(message("backfill_running", "a backfill of this bundle is already running"), details=current)
    backfill_id = uuid.uuid4().hex
    since_text = since.astimezone(UTC).isoformat().replace("+00:00", "Z") if since else None
    state.backfill = {
        "id": backfill_id,
        "status": "queued",
        "since": since_text,
        "cursor": {"value": since_text} if since_text else None,
        "pages": 0,
        "found": 0,
        "stored": 0,
        "error": None,
        "requested_at": now.isoformat(),
        "updated_at": now.isoformat(),
    }
    await ctx.session.flush()
    progress = polling_out(state).backfill
    assert progress is not None
    return BackfillOut(job_id=backfill_job_id(bundle.id, backfill_id), backfill=progress)
