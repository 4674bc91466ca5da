"""The records of a lookup table in bpm'online (activity types, statuses, priorities…), for the
wizard's pickers: they come from the instance, already in its language."""

from __future__ import annotations

import uuid

from pydantic import BaseModel

from bpmlink.bpmonline.errors import BpmError
from bpmlink.bpmonline.filters import F
from bpmlink.kit.messages import message
from bpmlink.kit.web import NotFound
from bpmlink_api.deps import RequestContext
from bpmlink_api.errors import UpstreamError

from .service import connection_client

MAX_VALUES = 200


class LookupValue(BaseModel):
    id: str
    name: str


class LookupValues(BaseModel):
    items: list[LookupValue]
    more: bool  # more records match than were returned: narrow with `q`


async def lookup_values(
    ctx: RequestContext, connection_id: uuid.UUID, entity: str, q: str | None, limit: int
) -> LookupValues:
    """Id and Name of `entity`'s records, by name, those containing `q` (case-insensitive) when given."""
    async with await connection_client(ctx, connection_id) as client:
        try:
            metadata = await client.metadata()
            info = metadata.entities.get(entity)
            if info is None or "Name" not in info.fields:
                raise NotFound(
                    message("lookup_table_unknown", f"bpm'online has no lookup table {entity!r}", entity=entity)
                )
            rows = await client.query(
                entity,
                filter=F.contains_ignore_case("Name", q) if q else None,
                select=["Id", "Name"],
                orderby="Name",
                top=limit + 1,
            )
        except BpmError as exc:
            raise UpstreamError(message("bpmonline_answered", f"bpm'online answered: {exc}", remote=str(exc))) from exc
    items = [LookupValue(id=str(r.get("Id")), name=str(r.get("Name") or "")) for r in rows[:limit]]
    return LookupValues(items=items, more=len(rows) > limit)
