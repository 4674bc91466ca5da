"""`bpmonline` as a source: new (`CreatedOn`) or changed (`ModifiedOn`) records of an entity.

    GET …/Contact?$filter=CreatedOn ge <cursor>&$orderby=CreatedOn,Id&$top=<limit>&$skip=<seen>

Timestamps are not unique, so the cursor is the last timestamp *and* how many records with
exactly that timestamp were already taken (`skip`); `ge` plus `$skip` pages through a burst of
records sharing one timestamp without losing or repeating any. The filter is built with `F`
(values are data, invariant 4); requests go through `BpmClient`, so every one is a redacted step.
A changed record is keyed `Id@ModifiedOn`: each change is a new event, the same change once.
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


def _ts(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


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
                entity, filter=filter_, orderby=[field, "Id"], top=limit, skip=skip or None, recorder=recorder
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
        for row in rows:
            stamp = row.get(field)
            if row.get("Id") is None or stamp is None:
                continue
            key = item_key(row["Id"]) if field == "CreatedOn" else item_key(row["Id"], stamp)
            items.append((key, row))
            if value is not None and _ts(stamp) == _ts(value):
                skip += 1
            else:
                value, skip = stamp, 1
        next_cursor: Cursor | None = {"value": value, "skip": skip} if value is not None else cursor
        return Page(items=items, next_cursor=next_cursor, more=len(rows) >= limit)
