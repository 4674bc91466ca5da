"""Create/update/delete with Creatio's rules, shared by OData 4 and OData 3."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime
from typing import Any

from .communications import delete_twins, is_twin_of, on_write, sync_twins
from .records import apply_rules, new_row
from .schema import Entity
from .store import DuplicateKey, Store, Tx
from .values import GUID_RE, BadValue, coerce, fmt_dt, fmt_dt7

SYSTEM_PROPS = {"CreatedOn", "CreatedById", "ModifiedOn", "ModifiedById", "ProcessListeners"}


class WriteError(Exception):
    """status 400 (bad body), 404 (missing key) or 500 (database error, text in `inner`)."""

    def __init__(self, status: int, message: str, inner_type: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.inner_type = inner_type


PG_EXC = "Npgsql.PostgresException"


def unknown_property(ent: Entity, name: str, version: int) -> WriteError:
    if version == 3:
        return WriteError(400, f"The property '{name}' does not exist on type 'Terrasoft.Configuration.{ent.name}'.")
    return WriteError(400, f"The property '{name}' does not exist on type '{ent.qualified}'. Make sure to only use "
                           "property names that are defined by the type or mark the type as open type.")


def read_values(ent: Entity, body: Any, version: int) -> dict[str, Any]:
    """Body → coerced values of writable columns; unknown names are refused (the type is not open)."""
    if not isinstance(body, dict):
        raise WriteError(400, "The request body must be a JSON object.")
    if version == 3 and isinstance(body.get("d"), dict):
        body = body["d"]
    values: dict[str, Any] = {}
    for key, value in body.items():
        if "@" in key or key == "__metadata":
            continue  # annotations / verbose-JSON metadata
        col = ent.columns.get(key)
        if col is None:
            if key in ent.navs:
                continue  # writing the navigation name is not a write: the lookup stays empty (CLIO)
            raise unknown_property(ent, key, version)
        if col.kind == "stream" or key in SYSTEM_PROPS:
            continue
        try:
            values[key] = coerce(col, value)
        except BadValue as exc:
            raise WriteError(400, str(exc)) from None
    return values


def check_references(ent: Entity, values: dict[str, Any], store: Store, verb: str) -> None:
    for prop, value in values.items():
        col = ent.columns[prop]
        if col.kind == "lookup" and value != "00000000-0000-0000-0000-000000000000":
            if store.get(col.target or "", value) is None:
                raise WriteError(500, f'23503: {verb} on table "{ent.name}" violates foreign key constraint '
                                      f'"FK{ent.name}{col.name}"', PG_EXC)


def _now() -> datetime:
    return datetime.now(UTC)


async def create(store: Store, ent: Entity, body: Any, caller: str, version: int,
                 tx: Tx | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Insert; returns (stored row, POST echo with 7-digit timestamps)."""
    values = read_values(ent, body, version)
    key = values.get("Id")
    if key is None or key == "00000000-0000-0000-0000-000000000000":
        values["Id"] = key = str(uuid.uuid4())
    if store.get(ent.name, key) is not None:
        raise _duplicate(ent)
    check_references(ent, values, store, "insert or update")
    now = _now()
    row = new_row(ent, values, stamp=fmt_dt(now), caller=caller, today=now)
    on_write(ent, row)
    try:
        await store.insert(ent.name, row, tx)
    except DuplicateKey:
        raise _duplicate(ent) from None
    await sync_twins(store, ent, row, set(values), row["ModifiedOn"], tx)
    echo = dict(row)
    echo["CreatedOn"] = echo["ModifiedOn"] = fmt_dt7(now, random.randint(0, 9))
    return row, echo


def touch_later(store: Store, ent: Entity, row: dict[str, Any], delay_ms: int) -> None:
    """§8.5: background processes touch a fresh record, so a GET soon after POST shows a later ModifiedOn."""

    async def touch() -> None:
        await asyncio.sleep(delay_ms / 1000)
        if store.get(ent.name, row["Id"]) is row:  # untouched by the client meanwhile
            newer = dict(row)
            newer["ModifiedOn"] = fmt_dt(_now())
            try:
                await store.replace(ent.name, newer)
            except Exception:  # noqa: S110 - a lost background touch changes nothing a client relies on
                pass

    task = asyncio.get_running_loop().create_task(touch())
    _background.add(task)
    task.add_done_callback(_background.discard)


_background: set[asyncio.Task[None]] = set()


def _duplicate(ent: Entity) -> WriteError:
    return WriteError(500, f'23505: duplicate key value violates unique constraint "PK{ent.name}"', PG_EXC)


async def update(store: Store, ent: Entity, key: str, body: Any, caller: str, version: int,
                 tx: Tx | None = None, replace_all: bool = False) -> bool:
    """PATCH/MERGE (or PUT with replace_all); False when the key does not exist."""
    old = store.get(ent.name, key)
    values = read_values(ent, body, version)
    values.pop("Id", None)
    if old is None:
        return False
    check_references(ent, values, store, "insert or update")
    now = _now()
    if replace_all:  # PUT: every column not sent returns to its empty value
        row = {p: (old[p] if p == "Id" or p in SYSTEM_PROPS else c.empty())
               for p, c in ent.columns.items() if c.kind != "stream"}
    else:
        row = dict(old)
    row.update(values)
    row["ModifiedOn"] = fmt_dt(now)
    row["ModifiedById"] = caller
    apply_rules(ent, row, set(values), now)
    on_write(ent, row)
    await store.replace(ent.name, row, tx)
    await sync_twins(store, ent, row, set(values), row["ModifiedOn"], tx)
    return True


async def delete(store: Store, ent: Entity, key: str, tx: Tx | None = None) -> bool:
    if store.get(ent.name, key) is None:
        return False
    for other, col in store.schema.referencing(ent.name):
        if is_twin_of(other, ent):
            continue  # deleted with it (a detail that cascades)
        refs = store.lookup(other.name, col.prop, key)
        if refs and not (other.name == ent.name and refs == {key}):
            raise WriteError(500, f'23503: update or delete on table "{ent.name}" violates foreign key constraint '
                                  f'"FK{other.name}{col.name}" on table "{other.name}"', PG_EXC)
    await delete_twins(store, ent, key, tx)
    await store.delete(ent.name, key, tx)
    return True


def parse_key(text: str) -> str | None:
    """Bare GUID or `Id=<guid>` (OData 4 key syntax)."""
    if text.startswith("Id="):
        text = text[3:]
    return text.lower() if GUID_RE.match(text) else None
