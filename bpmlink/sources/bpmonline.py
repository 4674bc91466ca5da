"""`bpmonline` as a source: new (`CreatedOn`) or changed (`ModifiedOn`) records of an entity.

    GET …/Contact?$filter=CreatedOn ge <cursor>&$orderby=CreatedOn,Id&$top=<limit + seen>

Timestamps are not unique (a bulk import stamps hundreds of records alike), so the cursor is the
last timestamp *and* the ids already taken at exactly that timestamp: `ge` fetches them again
and they are dropped here, so a burst sharing one timestamp is neither lost nor repeated, and a
record that moves away from the cursor's timestamp (modified again) cannot shift a page. Past
`MAX_SEEN` ids at one timestamp the oldest are replaced by a `$skip` count. The filter is built
with `F` (values are data, invariant 4); requests go through `BpmClient`, so every one is a
redacted step. A changed record is keyed `Id@ModifiedOn`: each change is a new event, the same
change once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bpmlink.bpmonline.client import BpmClient
from bpmlink.bpmonline.connection import BpmConnection
from bpmlink.bpmonline.errors import BpmError
from bpmlink.bpmonline.filters import F
from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.sources.base import (
    Cursor,
    FetchEnv,
    Page,
    PermanentSourceError,
    SourceConnection,
    TransientSourceError,
    item_key,
)

FIELDS = {"new_record": "CreatedOn", "changed_record": "ModifiedOn"}
MAX_SEEN = 1000


def _ts(value: Any) -> datetime:
    """Creatio writes 7 fractional digits; Python keeps 6 (the `ge` filter then includes the cursor)."""
    text = str(value).replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits) :]}"
    return datetime.fromisoformat(text)


class BpmonlineSource:
    app = "bpmonline"

    async def fetch(
        self,
        conn: SourceConnection,
        config: Mapping[str, Any],
        cursor: Cursor | None,
        limit: int,
        recorder: StepRecorder,
        env: FetchEnv,
    ) -> Page:
        entity = str(config.get("entity") or "")
        field = FIELDS.get(str(config.get("trigger") or "new_record"), "CreatedOn")
        value = (cursor or {}).get("value")
        seen: list[str] = [str(i) for i in (cursor or {}).get("ids") or []]
        skip = int((cursor or {}).get("skip") or 0)
        try:
            connection = BpmConnection.from_params(conn.id, conn.params, conn.secrets)
            filter_ = F.ge(field, _ts(value)) if value is not None else F.ne(field, None)
        except ValueError as exc:
            raise PermanentSourceError(str(exc), code="bad_config") from exc
        own: BpmClient | None = None
        try:
            if env.bpm_clients is not None:
                client = await env.bpm_clients.get(connection)
            else:
                client = own = BpmClient(connection, settings=env.settings, redis=env.redis)
            rows = await client.query(
                entity,
                filter=filter_,
                orderby=[field, "Id"],
                top=limit + len(seen),
                skip=skip or None,
                recorder=recorder,
            )
        except BpmError as exc:
            kind = TransientSourceError if exc.transient else PermanentSourceError
            raise kind(exc.message, code=exc.code, steps=recorder.steps) from exc
        except ValueError as exc:  # an entity name that cannot be a URL segment
            raise PermanentSourceError(str(exc), code="bad_config", steps=recorder.steps) from exc
        finally:
            if own is not None:
                await own.aclose()
        items: list[tuple[str, dict[str, Any]]] = []
        taken = set(seen)
        for row in rows:
            stamp, record_id = row.get(field), row.get("Id")
            if record_id is None or stamp is None:
                continue
            if stamp == value and str(record_id) in taken:
                continue  # taken by an earlier page at the cursor's timestamp
            if len(items) >= limit:
                break
            key = item_key(record_id) if field == "CreatedOn" else item_key(record_id, stamp)
            items.append((key, row))
            if stamp == value:
                seen.append(str(record_id))
            else:
                value, seen, skip = stamp, [str(record_id)], 0
            taken.add(str(record_id))
        if len(seen) > MAX_SEEN:
            skip += len(seen) - MAX_SEEN  # the oldest ids at this timestamp come first in the order
            seen = seen[-MAX_SEEN:]
        next_cursor: Cursor | None = {"value": value, "ids": seen, "skip": skip} if value is not None else cursor
        return Page(
            items=items, next_cursor=next_cursor, more=len(rows) >= limit + len((cursor or {}).get("ids") or [])
        )
