"""Value conversion between JSON bodies, stored rows and the wire (§3.4 conventions)."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from .schema import MIN_DATE, Column

GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_MS_DATE_RE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
MIN_DT = datetime(1, 1, 1, tzinfo=UTC)


class BadValue(ValueError):
    """A body value that cannot be converted to the column type (→ 400)."""


def _seconds(dt: datetime) -> str:
    # Hand-formatted: strftime is several times slower and this runs on every write.
    return f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"


def fmt_dt(dt: datetime) -> str:
    """Stored/GET form: UTC, `Z`, fraction without trailing zeros (`.139505Z`, `.683Z`, none)."""
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC)
    if dt.year == 1 and dt.month == 1 and dt.day == 1 and not dt.hour and not dt.minute:
        return MIN_DATE
    base = _seconds(dt)
    if dt.microsecond:
        base += "." + f"{dt.microsecond:06d}".rstrip("0")
    return base + "Z"


def fmt_dt7(dt: datetime, tick: int) -> str:
    """POST-echo form: seven fraction digits (.NET ticks), e.g. `.1395058Z`."""
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC)
    return _seconds(dt) + f".{dt.microsecond:06d}{tick % 10}Z"


@functools.lru_cache(maxsize=65536)
def parse_dt(text: str) -> datetime:
    """ISO-8601 (with or without offset/fraction; naive means UTC) → aware datetime."""
    if text == MIN_DATE:
        return MIN_DT
    t = text.strip()
    m = _MS_DATE_RE.match(t.replace("\\/", "/"))
    if m:  # OData 3 verbose JSON `/Date(ms)/`
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(m.group(1)))
    if t.endswith("Z") or t.endswith("z"):
        t = t[:-1] + "+00:00"
    # .NET sends 7 fraction digits; Python accepts at most 6.
    t = re.sub(r"(\.\d{6})\d+", r"\1", t)
    dt = datetime.fromisoformat(t)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def coerce(col: Column, value: Any) -> Any:
    """A JSON body value → the stored value for `col`; raise BadValue with the OData message."""
    kind = col.kind
    if value is None:
        return col.empty()
    if kind in ("guid", "lookup"):
        if isinstance(value, str) and GUID_RE.match(value):
            return value.lower()
        raise BadValue(f"Cannot convert the literal '{value}' to the expected type 'Edm.Guid'.")
    if kind == "text":
        if isinstance(value, str):
            return value
        raise BadValue("Cannot convert a primitive value to the expected type 'Edm.String'. See the inner "
                       "exception for more details.")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise BadValue(f"Cannot convert the literal '{value}' to the expected type 'Edm.Boolean'.")
    if kind == "int":
        if isinstance(value, bool):
            raise BadValue(f"Cannot convert the literal '{value}' to the expected type 'Edm.Int32'.")
        if isinstance(value, int) and -(2**31) <= value < 2**31:
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d{1,10}", value):
            return int(value)
        raise BadValue(f"Cannot convert the literal '{value}' to the expected type 'Edm.Int32'.")
    if kind == "decimal":
        # IEEE754Compatible clients send decimals as strings; both forms are accepted.
        if isinstance(value, bool):
            raise BadValue(f"Cannot convert the literal '{value}' to the expected type 'Edm.Decimal'.")
        if isinstance(value, int | float):
            return value
        if isinstance(value, str):
            try:
                d = Decimal(value)
            except InvalidOperation:
                raise BadValue(
                    f"Cannot convert the literal '{value}' to the expected type 'Edm.Decimal'."
                ) from None
            return int(d) if d == d.to_integral_value() else float(d)
        raise BadValue(f"Cannot convert the literal '{value}' to the expected type 'Edm.Decimal'.")
    if kind in ("datetime", "date"):
        if isinstance(value, str):
            try:
                dt = parse_dt(value)
            except ValueError:
                raise BadValue(
                    f"Cannot convert the literal '{value}' to the expected type 'Edm.DateTimeOffset'."
                ) from None
            if kind == "date":
                dt = dt.replace(hour=0, minute=0, second=0, microsecond=0)
            return fmt_dt(dt)
        raise BadValue(f"Cannot convert the literal '{value}' to the expected type 'Edm.DateTimeOffset'.")
    raise BadValue(f"The property '{col.prop}' cannot be written.")
