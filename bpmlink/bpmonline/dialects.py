"""OData 4 (`/0/odata`) and OData 3 (`EntityDataService.svc`) behind one interface.

Everything that differs between the two protocols lives here: the service root, entity-set
names, key syntax, literals in `$filter`, the JSON envelopes and the headers. The rest of the
client speaks to a `Dialect` and never tests the version itself.
"""

from __future__ import annotations

import re
import uuid
from abc import ABC, abstractmethod
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_V3_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")

JSON = dict[str, Any]


def check_entity_name(entity: str) -> str:
    """Entity names become URL path segments: allow identifiers only."""
    if not isinstance(entity, str) or not _NAME.match(entity):
        raise ValueError(f"invalid entity name {entity!r}")
    return entity


def as_uuid(value: uuid.UUID | str) -> uuid.UUID:
    """Parse a record id; anything that is not a GUID is refused (it would become syntax)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value).strip())
    except ValueError:
        raise ValueError(f"not a GUID: {value!r}") from None


def utc_iso(value: datetime | date) -> str:
    """ISO-8601 in UTC with `Z`; a naive datetime is taken as UTC, a date as midnight UTC."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "Z"


def string_literal(value: str) -> str:
    """An OData string literal: single quotes, an embedded quote doubled (both versions)."""
    return "'" + value.replace("'", "''") + "'"


def number_literal(value: int | float | Decimal) -> str:
    if isinstance(value, bool):  # bool is an int: refuse the confusion
        raise TypeError("booleans are not numbers here")
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        raise ValueError("NaN and infinity cannot be written in a filter")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("NaN and infinity cannot be written in a filter")
        return format(value, "f")
    return repr(value) if isinstance(value, float) else str(int(value))


class Dialect(ABC):
    """What one OData version looks like on the wire."""

    version: ClassVar[int]
    odata_path: ClassVar[str]

    def service_root(self, domain: str, prefix: str) -> str:
        """`{domain}{prefix}{odata_path}`, e.g. `https://x.creatio.com/0/odata`."""
        return f"{domain.rstrip('/')}{prefix}{self.odata_path}"

    @abstractmethod
    def set_name(self, entity: str) -> str: ...

    @abstractmethod
    def key_path(self, entity: str, record_id: uuid.UUID | str) -> str: ...

    @abstractmethod
    def guid_literal(self, value: uuid.UUID) -> str: ...

    @abstractmethod
    def datetime_literal(self, value: datetime | date) -> str: ...

    def typed_number_literal(self, value: int | float | Decimal, edm_type: str | None) -> str:
        return number_literal(value)

    @abstractmethod
    def headers(self, *, write: bool) -> dict[str, str]: ...

    @abstractmethod
    def unwrap_collection(self, body: Any) -> list[JSON]: ...

    @abstractmethod
    def unwrap_entity(self, body: Any) -> JSON: ...

    @abstractmethod
    def count_params(self) -> dict[str, str]: ...

    @abstractmethod
    def unwrap_count(self, body: Any) -> int: ...

    @abstractmethod
    def clean(self, record: JSON) -> JSON:
        """Drop protocol annotations so both versions yield the same plain dict."""

    def collection_path(self, entity: str) -> str:
        return self.set_name(check_entity_name(entity))


class ODataV4(Dialect):
    version = 4
    odata_path = "/odata"

    def set_name(self, entity: str) -> str:
        return check_entity_name(entity)

    def key_path(self, entity: str, record_id: uuid.UUID | str) -> str:
        return f"{self.set_name(entity)}({as_uuid(record_id)})"

    def guid_literal(self, value: uuid.UUID) -> str:
        return str(value)

    def datetime_literal(self, value: datetime | date) -> str:
        return utc_iso(value)

    def headers(self, *, write: bool) -> dict[str, str]:
        h = {"Accept": "application/json"}
        if write:
            h["Content-Type"] = "application/json; charset=utf-8; IEEE754Compatible=true"
        return h

    def unwrap_collection(self, body: Any) -> list[JSON]:
        if not isinstance(body, dict) or not isinstance(body.get("value"), list):
            raise ValueError("expected an OData 4 collection with 'value'")
        return [self.clean(r) for r in body["value"] if isinstance(r, dict)]

    def unwrap_entity(self, body: Any) -> JSON:
        if not isinstance(body, dict):
            raise ValueError("expected an OData 4 entity object")
        return self.clean(body)

    def count_params(self) -> dict[str, str]:
        return {"$count": "true", "$top": "0"}

    def unwrap_count(self, body: Any) -> int:
        if isinstance(body, dict) and "@odata.count" in body:
            return int(body["@odata.count"])
        raise ValueError("expected '@odata.count' in the answer")

    def clean(self, record: JSON) -> JSON:
        # `@odata.context`, `X@odata.mediaEditLink`, … are annotations, not data.
        return {k: v for k, v in record.items() if "@" not in k}


class ODataV3(Dialect):
    version = 3
    odata_path = "/ServiceModel/EntityDataService.svc"

    def set_name(self, entity: str) -> str:
        return f"{check_entity_name(entity)}Collection"

    def key_path(self, entity: str, record_id: uuid.UUID | str) -> str:
        return f"{self.set_name(entity)}(guid'{as_uuid(record_id)}')"

    def guid_literal(self, value: uuid.UUID) -> str:
        return f"guid'{value}'"

    def datetime_literal(self, value: datetime | date) -> str:
        # Edm.DateTime literal: no offset; the instant is sent in UTC.
        return "datetime'" + utc_iso(value).removesuffix("Z") + "'"

    def typed_number_literal(self, value: int | float | Decimal, edm_type: str | None) -> str:
        text = number_literal(value)
        if edm_type == "Edm.Decimal":
            return text + "M"
        if edm_type == "Edm.Int64":
            return text + "L"
        if edm_type == "Edm.Double" and isinstance(value, float):
            return text + "d"
        return text

    def headers(self, *, write: bool) -> dict[str, str]:
        h = {"Accept": "application/json;odata=verbose"}
        if write:
            h["Content-Type"] = "application/json;odata=verbose"
        return h

    def _d(self, body: Any) -> Any:
        if not isinstance(body, dict) or "d" not in body:
            raise ValueError("expected an OData 3 verbose JSON answer with 'd'")
        return body["d"]

    def unwrap_collection(self, body: Any) -> list[JSON]:
        d = self._d(body)
        rows = d.get("results") if isinstance(d, dict) else d  # v1 verbose: `d` is the array
        if not isinstance(rows, list):
            raise ValueError("expected 'd.results' in the answer")
        return [self.clean(r) for r in rows if isinstance(r, dict)]

    def unwrap_entity(self, body: Any) -> JSON:
        d = self._d(body)
        if isinstance(d, dict) and isinstance(d.get("results"), dict):
            d = d["results"]
        if not isinstance(d, dict):
            raise ValueError("expected an OData 3 entity in 'd'")
        return self.clean(d)

    def count_params(self) -> dict[str, str]:
        # `/$count` is retired since 8.0.10; the inline count still works.
        return {"$inlinecount": "allpages", "$top": "0"}

    def unwrap_count(self, body: Any) -> int:
        d = self._d(body)
        if isinstance(d, dict) and "__count" in d:
            return int(d["__count"])
        raise ValueError("expected 'd.__count' in the answer")

    def clean(self, record: JSON) -> JSON:
        out: JSON = {}
        for key, value in record.items():
            if key == "__metadata":
                continue
            if isinstance(value, dict) and "__deferred" in value:
                continue  # an unexpanded navigation property
            if isinstance(value, str):
                m = _V3_DATE.match(value)
                if m:
                    value = utc_iso(datetime.fromtimestamp(int(m.group(1)) / 1000, UTC))
            out[key] = value
        return out


def dialect_for(version: int) -> Dialect:
    if version == 4:
        return ODataV4()
    if version == 3:
        return ODataV3()
    raise ValueError(f"unsupported OData version {version!r} (3 or 4)")
