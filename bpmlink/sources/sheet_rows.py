"""The rows a `sheet_url` bundle has seen (table `sheet_rows`): the only place its queries are written.

Rows are scoped by their bundle (whose workspace the poll already read); the worker's raw asyncpg pool
runs them, autocommitted, as the polls' own statements are (`bpmlink_worker.polling.statements`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg

_FORGET = "DELETE FROM sheet_rows WHERE bundle_id = $1"
_SEEN = "SELECT key_hash, row_hash FROM sheet_rows WHERE bundle_id = $1"
# A key seen again with other values keeps the newest: "changed rows" compares with the last stored.
_REMEMBER = """
    INSERT INTO sheet_rows (bundle_id, key_hash, row_hash)
    SELECT $1, k, r FROM unnest($2::bytea[], $3::bytea[]) AS t(k, r)
    ON CONFLICT (bundle_id, key_hash) DO UPDATE SET row_hash = excluded.row_hash
    WHERE sheet_rows.row_hash <> excluded.row_hash
"""


async def seen(db: asyncpg.Pool, bundle_id: uuid.UUID) -> dict[bytes, bytes]:
    """key hash → row hash of every row the bundle has seen."""
    return {bytes(r[0]): bytes(r[1]) for r in await db.fetch(_SEEN, bundle_id)}


async def remember(db: asyncpg.Pool, bundle_id: uuid.UUID, rows: Sequence[tuple[bytes, bytes]]) -> None:
    """Mark rows seen (key hash, row hash); a key given twice keeps its last row hash."""
    if not rows:
        return
    last = dict(rows)  # one row per key: an INSERT … ON CONFLICT cannot touch a row twice
    await db.execute(_REMEMBER, bundle_id, list(last), list(last.values()))


async def forget(db: asyncpg.Pool, bundle_id: uuid.UUID) -> None:
    """Start over: no row of the bundle is seen."""
    await db.execute(_FORGET, bundle_id)
