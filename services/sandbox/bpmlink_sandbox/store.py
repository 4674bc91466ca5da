"""Records in PostgreSQL (one JSONB row per record), served from an in-memory copy.

The sandbox is one process, so memory is the read path and PostgreSQL the durable
write-through copy: every write is applied in memory first (so concurrent requests see
duplicate ids at once), then persisted; a failed persist undoes the memory change.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from .records import inflate, sparse
from .schema import Schema
from .writer import SINGLE, BatchWriter

Row = dict[str, Any]
WRITERS = 2

DDL = """
CREATE TABLE IF NOT EXISTS sb_record (
    seq bigserial,
    entity text NOT NULL,
    id uuid NOT NULL,
    data jsonb NOT NULL,
    PRIMARY KEY (entity, id)
);
CREATE INDEX IF NOT EXISTS sb_record_seq ON sb_record (entity, seq);
CREATE TABLE IF NOT EXISTS sb_schema_ext (seq bigserial PRIMARY KEY, ext jsonb NOT NULL);
"""


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _indexed(prop: str, row: Row) -> Any:
    """The value an index on `prop` keeps for `row` (see Store.lookup)."""
    fold, _, name = prop.rpartition(":")
    value = row.get(name)
    if fold and isinstance(value, str):
        return value.lower() if fold == "tolower" else value.upper()
    return value


class DuplicateKey(Exception):
    pass


class Tx:
    """A PostgreSQL transaction plus the memory undo log of what it changed."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.undo: list[Callable[[], None]] = []


class Store:
    def __init__(self, url: str, pool_size: int = 8) -> None:
        self.url = url
        self.pool_size = pool_size
        self.pool: asyncpg.Pool | None = None
        self.writers: list[BatchWriter] = []
        self.schema = Schema()
        self.rows: dict[str, dict[str, Row]] = {}
        # entity -> property -> value -> ids; built lazily for equality filters
        self.indexes: dict[str, dict[str, dict[Any, set[str]]]] = {}
        self.seq: dict[str, int] = {}  # id -> insertion number, to order index hits like a scan
        self._next_seq = 0
        self.json: dict[str, tuple[Row, str]] = {}  # id -> (row, its JSON) for rows written since start
        self.dirty: set[tuple[str, str]] = set()  # rows written since the last reset
        self.schema_dirty = False
        self._seeded_with: Any = None  # the seed the database currently equals (plus `dirty`)

    # --- lifecycle -------------------------------------------------------
    async def open(self) -> None:
        # The stand-in trades durability of the last few ms for speed: commits do not wait for fsync.
        self.pool = await asyncpg.create_pool(
            self.url, min_size=WRITERS + 1, max_size=max(self.pool_size, WRITERS + 2),
            server_settings={"synchronous_commit": "off"},
        )
        async with self.pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock(77001)")
            try:
                await conn.execute(DDL)
            finally:
                await conn.execute("SELECT pg_advisory_unlock(77001)")
        # Two writer connections let PostgreSQL work on two batches at once; a row always goes
        # through the same one (by id), so writes of one row keep their order.
        self.writers = [BatchWriter(self.pool) for _ in range(WRITERS)]
        for writer in self.writers:
            writer.start()

    async def close(self) -> None:
        for writer in self.writers:
            await writer.stop()
        self.writers = []
        if self.pool is not None:
            await self.pool.close()
            self.pool = None

    @property
    def _pool(self) -> asyncpg.Pool:
        assert self.pool is not None, "store not open"
        return self.pool

    async def ping(self) -> bool:
        try:
            return await self._pool.fetchval("SELECT 1", timeout=2) == 1
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, AssertionError, TimeoutError):
            return False

    async def load(self, base_extensions: list[dict[str, Any]]) -> bool:
        """Load schema extensions and rows; False when the database holds no records yet."""
        async with self._pool.acquire() as conn:
            exts = [json.loads(r["ext"]) for r in await conn.fetch("SELECT ext::text FROM sb_schema_ext ORDER BY seq")]
            records = await conn.fetch("SELECT entity, id::text, data::text FROM sb_record ORDER BY seq")
        self.schema = Schema(base_extensions + exts)
        self.rows = {name: {} for name in self.schema.entities}
        self.indexes = {}
        self.seq = {}
        for rec in records:
            table = self.rows.setdefault(rec["entity"], {})
            ent = self.schema.entities.get(rec["entity"])
            data = json.loads(rec["data"])
            table[rec["id"]] = inflate(ent, data) if ent is not None else data
            self._number(rec["id"])
        return bool(records)

    async def reset(self, schema: Schema, seed: dict[str, list[Row]]) -> None:
        """Replace everything with the seed.

        Tests reset before each case, so after one full reset only the rows touched since
        (tracked in `dirty`) are deleted and re-inserted; a read-only test costs nothing.
        """
        seed_index = {(ent, row["Id"]): (n, row) for n, (ent, row) in
                      enumerate(((e, r) for e, rows in seed.items() for r in rows), start=1)}
        async with self._pool.acquire() as conn, conn.transaction():
            if self._seeded_with is not seed:
                await conn.execute("DELETE FROM sb_record; DELETE FROM sb_schema_ext")
                await conn.copy_records_to_table(
                    "sb_record", columns=["seq", "entity", "id", "data"],
                    records=[(n, ent, key, self._stored(ent, row, schema))
                             for (ent, key), (n, row) in seed_index.items()])
                await conn.execute("SELECT setval(pg_get_serial_sequence('sb_record', 'seq'), $1)",
                                   len(seed_index) + 1)
            else:
                by_entity: dict[str, list[str]] = {}
                for ent, key in self.dirty:
                    by_entity.setdefault(ent, []).append(key)
                for ent, keys in by_entity.items():
                    await conn.execute("DELETE FROM sb_record WHERE entity = $1 AND id = ANY($2::text[]::uuid[])",
                                       ent, keys)
                back = [(seed_index[k][0], k[0], k[1], self._stored(k[0], seed_index[k][1], schema))
                        for k in self.dirty if k in seed_index]
                if back:
                    await conn.copy_records_to_table("sb_record", columns=["seq", "entity", "id", "data"],
                                                      records=back)
                if self.schema_dirty:
                    await conn.execute("DELETE FROM sb_schema_ext")
        self._seeded_with = seed
        self.json = {}
        self.dirty = set()
        self.schema_dirty = False
        self.schema = schema
        self.rows = {name: {} for name in schema.entities}
        self.seq = {}
        for ent, rows in seed.items():
            table = self.rows[ent]
            for row in rows:
                table[row["Id"]] = dict(row)
                self._number(row["Id"])
        self.indexes = {}

    async def save_extension(self, ext: dict[str, Any]) -> None:
        await self._pool.execute("INSERT INTO sb_schema_ext (ext) VALUES ($1::text::jsonb)", _dumps(ext))
        self.schema_dirty = True
        for name in self.schema.entities:
            self.rows.setdefault(name, {})

    def _remember_json(self, key: str, row: Row) -> str:
        """Written rows are stored as full JSON; the same text serves later keyed GETs (see row_json)."""
        text = _dumps(row)
        self.json[key] = (row, text)
        return text

    def row_json(self, row: Row) -> str | None:
        """The JSON text of exactly this row version, if it was written through this store."""
        hit = self.json.get(row["Id"])
        return hit[1] if hit is not None and hit[0] is row else None

    def _stored(self, entity: str, row: Row, schema: Schema | None = None) -> str:
        ent = (schema or self.schema).entities.get(entity)
        return _dumps(sparse(ent, row) if ent is not None else row)

    def _number(self, key: str) -> None:
        self._next_seq += 1
        self.seq[key] = self._next_seq

    # --- reads -------------------------------------------------------------
    def table(self, entity: str) -> dict[str, Row]:
        return self.rows.setdefault(entity, {})

    def get(self, entity: str, key: str) -> Row | None:
        return self.rows.get(entity, {}).get(key)

    def scan(self, entity: str) -> Iterable[Row]:
        return self.rows.get(entity, {}).values()

    def lookup(self, entity: str, prop: str, value: Any) -> set[str]:
        """Ids of rows whose `prop` equals `value` (hash index, built on first use).

        `prop` may be `tolower:Name` or `toupper:Name`: an index on the folded text.
        """
        by_prop = self.indexes.setdefault(entity, {})
        index = by_prop.get(prop)
        if index is None:
            index = {}
            for key, row in self.table(entity).items():
                index.setdefault(_indexed(prop, row), set()).add(key)
            by_prop[prop] = index
        return index.get(value, set())

    def _index_add(self, entity: str, row: Row) -> None:
        for prop, index in self.indexes.get(entity, {}).items():
            index.setdefault(_indexed(prop, row), set()).add(row["Id"])

    def _index_remove(self, entity: str, row: Row) -> None:
        for prop, index in self.indexes.get(entity, {}).items():
            ids = index.get(_indexed(prop, row))
            if ids is not None:
                ids.discard(row["Id"])

    # --- writes ------------------------------------------------------------
    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """All-or-nothing group of writes (a $batch atomicity group)."""
        async with self._pool.acquire() as conn:
            tr = conn.transaction()
            await tr.start()
            tx = Tx(conn)
            try:
                yield tx
            except BaseException:
                await tr.rollback()
                for undo in reversed(tx.undo):
                    undo()
                raise
            else:
                await tr.commit()

    async def _exec(self, tx: Tx | None, kind: str, *args: Any) -> None:
        if tx is not None:
            await tx.conn.execute(SINGLE[kind], *args)
        else:
            assert self.writers, "store not open"
            await self.writers[hash(args[1]) % len(self.writers)].submit(kind, *args)

    async def insert(self, entity: str, row: Row, tx: Tx | None = None) -> None:
        table = self.table(entity)
        key = row["Id"]
        if key in table:
            raise DuplicateKey(key)
        self.dirty.add((entity, key))
        table[key] = row
        self._number(key)
        self._index_add(entity, row)

        def undo() -> None:
            if table.get(key) is row:
                del table[key]
                self._index_remove(entity, row)

        try:
            await self._exec(tx, "insert", entity, key, self._remember_json(key, row))
        except asyncpg.UniqueViolationError:
            undo()
            raise DuplicateKey(key) from None
        except BaseException:
            undo()
            raise
        if tx is not None:
            tx.undo.append(undo)

    async def replace(self, entity: str, row: Row, tx: Tx | None = None) -> None:
        """Store a new version of an existing row."""
        table = self.table(entity)
        key = row["Id"]
        old = table.get(key)
        if old is None:
            raise KeyError(key)
        self.dirty.add((entity, key))
        self._index_remove(entity, old)
        table[key] = row
        self._index_add(entity, row)

        def undo() -> None:
            self._index_remove(entity, row)
            table[key] = old
            self._index_add(entity, old)

        try:
            await self._exec(tx, "update", entity, key, self._remember_json(key, row))
        except BaseException:
            undo()
            raise
        if tx is not None:
            tx.undo.append(undo)

    async def delete(self, entity: str, key: str, tx: Tx | None = None) -> None:
        table = self.table(entity)
        old = table.pop(key, None)
        if old is None:
            raise KeyError(key)
        self.dirty.add((entity, key))
        self._index_remove(entity, old)
        # Deleting re-appends on undo; order of a restored row is not significant.

        def undo() -> None:
            table[key] = old
            self._index_add(entity, old)

        try:
            await self._exec(tx, "delete", entity, key)
        except BaseException:
            undo()
            raise
        if tx is not None:
            tx.undo.append(undo)
