"""Keyset pages over (created_at, id), newest first: the same cost on page 1 and page 10,000."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from bpmlink.kit.web import InvalidInput

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class _Row(Protocol):
    id: uuid.UUID
    created_at: datetime


R = TypeVar("R", bound=_Row)


def encode_cursor(row: _Row) -> str:
    raw = f"{row.created_at.isoformat()}|{row.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, _, ident = raw.partition("|")
        return datetime.fromisoformat(created), uuid.UUID(ident)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("invalid cursor", details=[{"field": "cursor", "message": "not a cursor"}]) from exc


def newest_first(
    query: Select[Any],
    created_at: InstrumentedAttribute[datetime],
    id_: InstrumentedAttribute[uuid.UUID],
    cursor: str | None,
    limit: int,
) -> Select[Any]:
    """Order newest first and start after the cursor; fetch one extra row to know if more exist."""
    if cursor:
        at, ident = decode_cursor(cursor)
        # `created_at <= at` alone is what an index on (…, created_at DESC, id DESC) can start its walk
        # at; the OR then drops the ties already shown. Without it the walk starts at the newest row.
        query = query.where(created_at <= at, or_(created_at < at, and_(created_at == at, id_ < ident)))
    return query.order_by(created_at.desc(), id_.desc()).limit(limit + 1)


def page(rows: Sequence[R], limit: int) -> tuple[list[R], str | None]:
    items = list(rows[:limit])
    return items, (encode_cursor(items[-1]) if len(rows) > limit and items else None)
