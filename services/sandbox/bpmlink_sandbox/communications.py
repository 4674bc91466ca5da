"""Communication records as Creatio keeps them (docs/creatio-phone-search.md).

A contact's (account's) phone and e-mail columns have a twin in `ContactCommunication`
(`AccountCommunication`): one row per communication type, kept in step when the column is
written. A communication row's `SearchNumber` is its `Number`'s digits reversed, maintained on
every write; Creatio's telephony finds a caller by the start of it (the number's last digits),
whatever the format the number was typed in.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from .schema import Column, Entity, Schema
from .store import Store, Tx

SEARCH_COLUMN = "SearchNumber"
# Creatio's CommunicationType records, by the ids its configuration refers to them with [M].
MOBILE_PHONE = "d4a2dc80-30ca-df11-9b2a-001d60e938c6"
WORK_PHONE = "3dddb3cc-53ee-49c4-a71f-e9e257f59e49"
HOME_PHONE = "0da6a26b-d7bc-df11-b00f-001d60e938c6"
EMAIL = "ee1c85c3-cfcb-df11-9b2a-001d60e938c6"
TYPES = {MOBILE_PHONE: "Mobile phone", WORK_PHONE: "Business phone", HOME_PHONE: "Home phone", EMAIL: "Email"}
# Which column of the owner has a twin, of which type.
TWINS: dict[str, dict[str, str]] = {
    "Contact": {"MobilePhone": MOBILE_PHONE, "Phone": WORK_PHONE, "HomePhone": HOME_PHONE, "Email": EMAIL},
    "Account": {"Phone": WORK_PHONE},
}
_NON_DIGITS = re.compile(r"\D+")


def search_number(number: Any) -> str:
    return _NON_DIGITS.sub("", str(number or ""))[::-1]


def set_search_column(schema: Schema, present: bool) -> None:
    """Give the communication entities their SearchNumber column, or take it away (an instance
    without it: the `search_number` switch), bumping the schema so $metadata follows."""
    changed = False
    for owner in TWINS:
        ent = schema.get(f"{owner}Communication")
        if ent is None or (SEARCH_COLUMN in ent.columns) == present:
            continue
        if present:
            ent.add(Column(SEARCH_COLUMN, "text"))
        else:
            ent.columns.pop(SEARCH_COLUMN)
        ent.cache.clear()
        changed = True
    if changed:
        schema.version += 1


def on_write(ent: Entity, row: dict[str, Any]) -> None:
    """A communication row's SearchNumber follows its Number (Creatio's entity event)."""
    if ent.name.removesuffix("Communication") in TWINS and ent.name.endswith("Communication"):
        row[SEARCH_COLUMN] = search_number(row.get("Number"))


async def sync_twins(
    store: Store, ent: Entity, row: dict[str, Any], changed: set[str], stamp: str, tx: Tx | None
) -> None:
    """After a contact (account) write: its communication rows match its phone/e-mail columns."""
    twins = TWINS.get(ent.name)
    comm = store.schema.get(f"{ent.name}Communication")
    if not twins or comm is None:
        return
    owner_prop = f"{ent.name}Id"
    mine = {
        r["CommunicationTypeId"]: r
        for key in store.lookup(comm.name, owner_prop, row["Id"])
        if (r := store.get(comm.name, key)) is not None
    }
    for column, type_id in twins.items():
        if column not in changed:
            continue
        number = str(row.get(column) or "")
        existing = mine.get(type_id)
        if existing is None and not number:
            continue
        if existing is not None and not number:
            await store.delete(comm.name, existing["Id"], tx)
            continue
        twin = dict(existing) if existing is not None else _new_twin(comm, owner_prop, row["Id"], type_id, stamp)
        twin["Number"], twin["ModifiedOn"] = number, stamp
        on_write(comm, twin)
        await (store.replace if existing is not None else store.insert)(comm.name, twin, tx)


def _new_twin(comm: Entity, owner_prop: str, owner_id: str, type_id: str, stamp: str) -> dict[str, Any]:
    row = {p: c.empty() for p, c in comm.columns.items() if c.kind != "stream"}
    row.update(
        {
            "Id": str(uuid.uuid4()),
            owner_prop: owner_id,
            "CommunicationTypeId": type_id,
            "CreatedOn": stamp,
            "ModifiedOn": stamp,
            "Primary": True,
        }
    )
    return row


def is_twin_of(other: Entity, owner: Entity) -> bool:
    return owner.name in TWINS and other.name == f"{owner.name}Communication"


async def delete_twins(store: Store, ent: Entity, key: str, tx: Tx | None) -> None:
    """A contact's (account's) communication rows go with it, as Creatio's cascade does."""
    comm = store.schema.get(f"{ent.name}Communication")
    if ent.name not in TWINS or comm is None:
        return
    for twin in list(store.lookup(comm.name, f"{ent.name}Id", key)):
        await store.delete(comm.name, twin, tx)
