"""Convert a mapped value to the JSON value Creatio expects for a field's OData type."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from bpmlink.mapping.errors import ConversionError
from bpmlink.mapping.types import (
    EDM_BOOLEAN,
    EDM_DATE,
    EDM_DATETIMEOFFSET,
    EDM_DECIMAL,
    EDM_DOUBLE,
    EDM_GUID,
    EDM_INT32,
    EDM_INT64,
    EDM_STRING,
    TargetField,
)
from bpmlink.mapping.values import (
    as_utc_datetime,
    format_datetime_utc,
    parse_boolean,
    parse_datetime,
    parse_number,
    show_value,
    to_text,
)

_INT_RANGES = {EDM_INT32: (-(2**31), 2**31 - 1), EDM_INT64: (-(2**63), 2**63 - 1)}


def coerce_value(value: Any, field: TargetField) -> Any:
    """The JSON value for `field` built from `value`; ``None`` (and blank text for a
    non-text field) gives ``None``.

    Raises ConversionError (a MappingError) naming the field when the value cannot
    be that type.
    """
    if value is None:
        return None
    if isinstance(value, str) and not value.strip() and field.type != EDM_STRING:
        return None  # a blank form field means "no value" for a number, date, id…
    try:
        return _coerce(value, field)
    except ConversionError as exc:
        raise ConversionError(exc.message, field=field.name, code=exc.code, params=exc.params) from None


def _coerce(value: Any, field: TargetField) -> Any:
    kind = field.type
    if kind == EDM_STRING:
        return _string(value, field)
    if kind in _INT_RANGES:
        return _integer(value, kind)
    if kind in (EDM_DECIMAL, EDM_DOUBLE):
        return _float(value)
    if kind == EDM_BOOLEAN:
        return parse_boolean(value.strip() if isinstance(value, str) else value)
    if kind == EDM_GUID:
        return _guid(value, field)
    if kind == EDM_DATETIMEOFFSET:
        return format_datetime_utc(as_utc_datetime(_moment(value)))
    if kind == EDM_DATE:
        moment = _moment(value)
        # The calendar day where the value was written, not the UTC day.
        return (moment.date() if isinstance(moment, datetime) else moment).isoformat()
    return to_json_value(value)


def _string(value: Any, field: TargetField) -> str:
    text = to_text(value)
    limit = field.max_length
    if limit is not None and limit > 0 and len(text) > limit:
        raise ConversionError(
            f"the text is {len(text)} characters long; the field holds at most {limit}"
            " (add the truncate conversion to cut it)",
            code="text_too_long",
            params={"length": len(text), "limit": limit},
        )
    return text


def _integer(value: Any, kind: str) -> int:
    number = parse_number(value.strip() if isinstance(value, str) else value)
    if number != number.to_integral_value():
        raise ConversionError(
            f"{show_value(value)} has a fractional part; the field takes whole numbers",
            code="not_whole_number",
            params={"value": show_value(value)},
        )
    result = int(number)
    low, high = _INT_RANGES[kind]
    if not low <= result <= high:
        raise ConversionError(
            f"{show_value(value)} is too large for the field (from {low} to {high})",
            code="number_out_of_range",
            params={"value": show_value(value), "low": low, "high": high},
        )
    return result


def _float(value: Any) -> int | float:
    number = parse_number(value.strip() if isinstance(value, str) else value)
    # Whole numbers stay ints so that 1234 is sent as 1234, not 1234.0.
    if number == number.to_integral_value() and abs(number) < 2**53:
        return int(number)
    result = float(number)
    if not math.isfinite(result):
        raise ConversionError(f"{show_value(value)} is too large for the field")
    return result


def _guid(value: Any, field: TargetField) -> str:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, str):
        try:
            return str(UUID(value.strip()))
        except ValueError:
            pass
    hint = (
        f" (to find the {field.lookup_entity} by its name, use a lookup rule or a value map)"
        if field.lookup_entity
        else ""
    )
    raise ConversionError(f"{show_value(value)} is not an id (GUID){hint}")


def _moment(value: Any) -> datetime | date:
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, str | int | float | Decimal) and not isinstance(value, bool):
        return parse_datetime(value)
    raise ConversionError(f"{show_value(value)} is not a date", code="not_a_date", params={"value": show_value(value)})


def to_json_value(value: Any) -> Any:
    """A mapped value made JSON-ready without a target type (numbers, dates, GUIDs as text)."""
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    if isinstance(value, Decimal):
        return _float(value)
    if isinstance(value, datetime):
        return format_datetime_utc(value)
    if isinstance(value, date | UUID):
        return to_text(value)
    return value
