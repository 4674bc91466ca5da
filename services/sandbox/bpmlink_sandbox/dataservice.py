"""DataService schema requests: entity and column captions in the user's culture.

Creatio's own UI reads schemas through `DataService/json/SyncReply/…` (docs/creatio-captions.md):
`EntitySchemaManagerRequest` lists the entity schemas (`collection[]` with `name` and a plain
`caption`), `RuntimeEntitySchemaRequest {"Name": "Contact"}` answers one schema, every caption an
object keyed by culture (`{"ru-RU": "Контакт"}`), columns under `columns.Items` by column uId.
The culture is the user's (the `culture` switch here). Captions come from `captions.json`; a column
without one reads as its name in words, as a column added without a caption in another culture.
"""

from __future__ import annotations

import json
import re
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

from .auth import Principal
from .http import Request, Response, json_response
from .schema import Column, Entity
from .state import State

PATHS = ("/0/DataService/json/SyncReply/", "/DataService/json/SyncReply/")
# Creatio's DataValueType numbers (Terrasoft.Nui.ServiceModel.DataContract.DataValueType).
DATA_VALUE_TYPES = {
    "guid": 0,
    "text": 1,
    "int": 4,
    "decimal": 5,
    "datetime": 7,
    "date": 8,
    "lookup": 10,
    "bool": 12,
    "stream": 13,
}
_NS = uuid.UUID("5b0c3a52-5ad1-4d7e-9c43-2f1a55f0c0de")


@lru_cache(maxsize=1)
def _captions() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((Path(__file__).parent / "captions.json").read_text(encoding="utf-8"))
    return data


def _words(name: str) -> str:
    """`UsrLoyaltyLevel` → "Loyalty level"."""
    base = name[3:] if name.startswith("Usr") and len(name) > 3 else name
    parts = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", base) or [base]
    text = " ".join(parts)
    return text[:1].upper() + text[1:].lower() if len(parts) > 1 else text


def _pick(captions: dict[str, str] | None, culture: str, name: str) -> str:
    if captions:
        return captions.get(culture) or captions.get("") or next(iter(captions.values()))
    return _words(name)


def _entity_caption(state: State, ent: Entity, culture: str) -> str:
    given = state.store.schema.captions.get((ent.name, "")) or _captions()["entities"].get(ent.name)
    return _pick(given, culture, ent.name)


def _column_caption(state: State, ent: Entity, col: Column, culture: str) -> str:
    columns = _captions()["columns"]
    given = (
        state.store.schema.captions.get((ent.name, col.name))
        or columns.get(ent.name, {}).get(col.name)
        or columns["*"].get(col.name)
    )
    return _pick(given, culture, col.name)


def _fault(status: int, code: str, message: str) -> Response:
    # DataService reports a failure in `responseStatus` [L for the exact bytes].
    return json_response(
        {"responseStatus": {"ErrorCode": code, "Message": message, "Errors": []}, "success": False}, status
    )


async def handle(state: State, who: Principal, req: Request, operation: str) -> Response:
    faults = state.faults
    if req.headers.get("authorization", "")[:7].lower() == "bearer " and faults.dataservice_bearer == "403":
        return Response(403, b"", None)
    if req.method != "POST":
        return Response(405, b"", None)
    if faults.captions_failure == "500":
        return _fault(500, "Exception", "An error has occurred.")
    culture = faults.culture
    schema = state.store.schema
    if operation == "EntitySchemaManagerRequest":
        items = [
            {
                "uId": str(uuid.uuid5(_NS, e.name)),
                "name": e.name,
                "caption": _entity_caption(state, e, culture),
                "extendParent": False,
            }
            for e in schema.entities.values()
        ]
        return json_response({"collection": items, "success": True})
    if operation == "RuntimeEntitySchemaRequest":
        try:
            body = req.json() if req.body.strip() else {}
        except ValueError:
            return _fault(400, "SerializationException", "The request body is not JSON.")
        name = body.get("Name") or body.get("name") if isinstance(body, dict) else None
        ent = schema.get(name) if isinstance(name, str) else None
        if ent is None:
            return _fault(500, "ItemNotFoundException", f'Item entity schema "{name}" not found')
        columns = {}
        for col in ent.columns.values():
            uid = str(uuid.uuid5(_NS, f"{ent.name}.{col.name}"))
            item: dict[str, Any] = {
                "uId": uid,
                "name": col.name,
                "caption": {culture: _column_caption(state, ent, col, culture)},
                "dataValueType": DATA_VALUE_TYPES[col.kind],
                "isInherited": col.system,
            }
            if col.target:
                item["referenceSchemaName"] = col.target
            columns[uid] = item
        return json_response(
            {
                "schema": {
                    "uId": str(uuid.uuid5(_NS, ent.name)),
                    "name": ent.name,
                    "caption": {culture: _entity_caption(state, ent, culture)},
                    "primaryColumnName": "Id",
                    "primaryDisplayColumnName": "Name" if "Name" in ent.columns else None,
                    "columns": {"Items": columns},
                },
                "success": True,
            }
        )
    return Response(404, b"", None)
