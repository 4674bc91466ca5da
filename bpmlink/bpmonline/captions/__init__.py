"""Captions of entities and columns in the reader's language, and words for column types.

Best source first (docs/creatio-captions.md): the instance's own captions, read from its
DataService (`EntitySchemaManagerRequest` for the entity list, `RuntimeEntitySchemaRequest` per
entity) in its user's culture; the built-in dictionary of the standard entities and columns
(`<lang>.json` beside this file); the code name. OData `$metadata` carries no captions.

A caption of the instance in another language than the reader's loses to the dictionary, but
beats the code name (a custom `Usr*` column has no dictionary entry).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bpmlink.bpmonline.errors import BpmError
from bpmlink.bpmonline.metadata import FieldInfo, MetadataCache
from bpmlink.kit.messages import DEFAULT_LANGUAGE, LANGUAGES, render

if TYPE_CHECKING:
    from bpmlink.bpmonline.client import BpmClient

log = logging.getLogger(__name__)

SCHEMA_LIST_PATH = "DataService/json/SyncReply/EntitySchemaManagerRequest"
SCHEMA_PATH = "DataService/json/SyncReply/RuntimeEntitySchemaRequest"

# name → {language: caption}; the language is "" when the instance did not say which.
InstanceCaptions = dict[str, dict[str, str]]

# One read per connection (the instance answers in its user's culture, whoever reads): the entity
# list under (key, ""), an entity's columns under (key, entity). A failed read is kept as {} too,
# so a connection without access to the service is not asked again on every page.
captions_cache: MetadataCache[InstanceCaptions] = MetadataCache()

_CYRILLIC = re.compile("[\u0400-\u04ff]")


@lru_cache(maxsize=len(LANGUAGES))
def dictionary(language: str) -> dict[str, Any]:
    """The built-in captions: `{"entities": {name: caption}, "columns": {entity|"*": {column: caption}}}`."""
    lang = language if language in LANGUAGES else DEFAULT_LANGUAGE
    data: dict[str, Any] = json.loads((Path(__file__).parent / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def schema_column(field: FieldInfo) -> str:
    """The schema's column name of an OData property: lookup `AccountId` is column `Account`."""
    if field.lookup_entity and field.name.endswith("Id") and len(field.name) > 2:
        return field.name[:-2]
    return field.name


def entity_caption(name: str, language: str, instance: InstanceCaptions | None = None) -> str:
    return _pick((instance or {}).get(name), dictionary(language)["entities"].get(name), language, name)


def column_caption(entity: str, column: str, language: str, instance: InstanceCaptions | None = None) -> str:
    columns = dictionary(language)["columns"]
    known = columns.get(entity, {}).get(column) or columns["*"].get(column)
    return _pick((instance or {}).get(column), known, language, column)


def type_caption(field: FieldInfo, language: str, target_caption: str | None = None) -> str:
    """«Строка», «Дата и время», «Справочник: Контрагент» — words for a column's type."""
    if field.lookup_entity:
        return render("field_type_lookup", {"entity": target_caption or field.lookup_entity}, language)
    code = _TYPE_CODES.get(field.type.rsplit(".", 1)[-1])
    if code is None:
        return render("field_type_other", {"type": field.type}, language)
    return render(code, {}, language)


_TYPE_CODES = {
    "String": "field_type_string",
    "Int16": "field_type_int",
    "Int32": "field_type_int",
    "Int64": "field_type_int",
    "Byte": "field_type_int",
    "Decimal": "field_type_decimal",
    "Double": "field_type_decimal",
    "Single": "field_type_decimal",
    "Boolean": "field_type_bool",
    "DateTimeOffset": "field_type_datetime",
    "DateTime": "field_type_datetime",
    "Date": "field_type_date",
    "TimeOfDay": "field_type_time",
    "Time": "field_type_time",
    "Guid": "field_type_guid",
    "Binary": "field_type_binary",
}


def _pick(instance: Mapping[str, str] | None, known: str | None, language: str, code: str) -> str:
    if instance and instance.get(language):
        return instance[language]
    if known:
        return known
    if instance:
        return next((text for text in instance.values() if text), code)
    return code


def _texts(raw: Any) -> dict[str, str]:
    """A caption as the DataService writes it: `{"ru-RU": "…"}` by culture, or a bare string."""
    if isinstance(raw, str):
        return {_script_language(raw): raw} if raw.strip() else {}
    if isinstance(raw, Mapping):
        return {str(culture)[:2].lower(): text for culture, text in raw.items() if isinstance(text, str) and text}
    return {}


def _script_language(text: str) -> str:
    # A bare caption does not say its culture; between the two we speak, the script tells.
    return "ru" if _CYRILLIC.search(text) else "en"


# -- reading the instance --------------------------------------------------------------


async def instance_entities(client: BpmClient, *, refresh: bool = False) -> InstanceCaptions:
    """Entity captions of the instance ({} when it gives none: no access, a failure)."""

    async def fetch() -> InstanceCaptions:
        body = await _post(client, SCHEMA_LIST_PATH, {})
        items = body.get("collection") if isinstance(body, dict) else None
        out: InstanceCaptions = {}
        for item in items if isinstance(items, list) else ():
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                out[item["name"]] = _texts(item.get("caption"))
        return out

    return await captions_cache.get((client.metadata_key, ""), _safe(client, fetch), refresh=refresh)


async def instance_columns(client: BpmClient, entity: str, *, refresh: bool = False) -> InstanceCaptions:
    """Column captions of one entity by schema column name, plus the entity's own under ""."""

    async def fetch() -> InstanceCaptions:
        body = await _post(client, SCHEMA_PATH, {"Name": entity})
        schema = body.get("schema") if isinstance(body, dict) else None
        if not isinstance(schema, dict):
            return {}
        out: InstanceCaptions = {"": _texts(schema.get("caption"))}
        for group in ("columns", "inheritedColumns"):
            items = schema.get(group)
            items = items.get("Items") if isinstance(items, dict) else items
            values = items.values() if isinstance(items, dict) else items if isinstance(items, list) else ()
            for col in values:
                if isinstance(col, dict) and isinstance(col.get("name"), str):
                    out.setdefault(col["name"], _texts(col.get("caption")))
        return out

    return await captions_cache.get((client.metadata_key, entity), _safe(client, fetch), refresh=refresh)


async def _post(client: BpmClient, path: str, payload: dict[str, Any]) -> Any:
    response = await client.request("POST", client.site_url(path), json=payload)
    body = response.json()
    if isinstance(body, dict) and body.get("success") is False:
        raise ValueError(f"{path} answered success=false")
    return body


def _safe(
    client: BpmClient, fetch: Callable[[], Awaitable[InstanceCaptions]]
) -> Callable[[], Awaitable[InstanceCaptions]]:
    async def run() -> InstanceCaptions:
        try:
            return await fetch()
        except (BpmError, ValueError) as exc:  # never fail the entity read: the dictionary stands in
            log.warning("captions of connection %s not read: %s", client.connection.id, exc)
            return {}

    return run
