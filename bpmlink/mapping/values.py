"""Value primitives: how bpmlink reads a number, a yes/no, a date or a phone in any value.

Conversion steps (`conversions`), type coercion (`coerce`), filters, template
filters and dedup all read values through these functions, so a value reads the
same everywhere. Each raises `ConversionError` with a message a person can act on.

- `parse_number`, `parse_boolean`, `parse_datetime`, `normalize_phone`: text (or
  a number) to a Decimal, a bool, an aware datetime or calendar date, an E.164 number.
- `to_text`, `format_datetime_utc`, `format_decimal`, `as_utc_datetime`: the forms
  values are written in.
- `is_blank` ("no value"), `show_value` (a value quoted for a message), `zone`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any, Final, Literal
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from bpmlink.mapping.errors import ConversionError

# --------------------------------------------------------------------------- helpers


def is_blank(value: Any) -> bool:
    """No value: None, a blank string, an empty list or object."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | dict | set):
        return len(value) == 0
    return False


def show_value(value: Any, limit: int = 60) -> str:
    """A value quoted for an error message, shortened so messages stay readable."""
    text = value if isinstance(value, str) else to_text(value) if _is_scalar(value) else repr(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"'{text}'"


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | Decimal | bool | date | UUID) or value is None


def format_datetime_utc(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``, the form Creatio takes for Edm.DateTimeOffset.

    A naive datetime is taken as UTC.
    """
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def format_decimal(value: Decimal) -> str:
    """A decimal as plain digits, without exponent or trailing zeros (``1234.5``)."""
    text = format(value.normalize(), "f")
    return text


def to_text(value: Any) -> str:
    """The text form of a value, as a user would expect to see it in a text field."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return format_datetime_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, list | tuple):
        if all(_is_scalar(v) for v in value):
            return ", ".join(to_text(v) for v in value if not is_blank(v))
        return json.dumps(value, ensure_ascii=False, default=to_text)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=to_text)
    return str(value)


# --------------------------------------------------------------------------- numbers

# Spaces of every kind and apostrophes group thousands ("1 234", "1'234", "1_234").
_GROUPING = re.compile(r"[\s\u00a0\u2007\u2009\u202f'’_]")
_CURRENCY = re.compile(r"^[₽$€£¥₸₴]+|(?:[₽$€£¥₸₴]+|руб\.?|р\.|rub|usd|eur)$", re.IGNORECASE)
# "1e999999999" is valid Decimal text but converting it to an int would take forever.
_MAX_EXPONENT: Final = 100
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def parse_number(value: Any, decimal: Literal["auto", ",", "."] = "auto") -> Decimal:
    """A number from a number or from text such as ``"1 234,50"`` or ``"1,234.50"``.

    With ``decimal="auto"``: when both ``,`` and ``.`` appear the last one is the
    decimal separator; a single ``,`` or ``.`` is the decimal separator; a
    separator that appears several times groups thousands (``1.234.567``).
    Spaces, apostrophes and a currency sign around the number are ignored.
    """
    if isinstance(value, bool):
        raise ConversionError(
            f"{show_value(value)} is a yes/no value, not a number",
            code="yes_no_not_number",
            params={"value": show_value(value)},
        )
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConversionError(
                f"{show_value(value)} is not a finite number", code="not_finite", params={"value": show_value(value)}
            )
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ConversionError(
                f"{show_value(value)} is not a finite number", code="not_finite", params={"value": show_value(value)}
            )
        return value
    if not isinstance(value, str):
        raise ConversionError(
            f"{show_value(value)} is not a number", code="not_a_number", params={"value": show_value(value)}
        )
    text = _CURRENCY.sub("", value.strip()).strip()
    text = _GROUPING.sub("", text).replace("\u2212", "-")  # U+2212 is the typographic minus
    if decimal == "auto":
        last_comma, last_dot = text.rfind(","), text.rfind(".")
        if last_comma >= 0 and last_dot >= 0:
            decimal = "," if last_comma > last_dot else "."
        elif last_comma >= 0:
            decimal = "," if text.count(",") == 1 else "."
        else:
            decimal = "." if text.count(".") <= 1 else ","
    thousands = "." if decimal == "," else ","
    text = text.replace(thousands, "").replace(decimal, ".")
    if not _PLAIN_NUMBER.match(text):
        raise ConversionError(
            f"{show_value(value)} is not a number", code="not_a_number", params={"value": show_value(value)}
        )
    try:
        result = Decimal(text)
    except InvalidOperation:
        raise ConversionError(
            f"{show_value(value)} is not a number", code="not_a_number", params={"value": show_value(value)}
        ) from None
    if not result.is_finite() or abs(result.adjusted()) > _MAX_EXPONENT:
        raise ConversionError(
            f"{show_value(value)} is out of range for a number",
            code="number_too_large",
            params={"value": show_value(value)},
        )
    return result


# --------------------------------------------------------------------------- booleans

_TRUE = frozenset({"true", "yes", "y", "1", "on", "t", "+", "да", "д", "истина", "вкл", "checked"})
_FALSE = frozenset({"false", "no", "n", "0", "off", "f", "-", "нет", "н", "ложь", "выкл", "unchecked"})


def parse_boolean(value: Any) -> bool:
    """Yes/no from ``true/false``, ``yes/no``, ``1/0``, ``on/off``, ``да/нет`` and the like."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        key = value.strip().lower()
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
    raise ConversionError(
        f"{show_value(value)} is not a yes/no value (expected e.g. yes/no, true/false, 1/0, да/нет)",
        code="not_yes_no",
        params={"value": show_value(value)},
    )


# --------------------------------------------------------------------------- dates

_TIME_DIRECTIVE = re.compile(r"%[-#]?[HIMSfpzXc]")
# Tried, in order, when no format is given and the text is not ISO 8601.
_FALLBACK_FORMATS = (
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^[+-]?\d+(\.\d+)?$")
# Unix timestamps above this are taken as milliseconds (1e11 s is the year 5138).
_MILLIS_THRESHOLD = 100_000_000_000


def zone(name: str | None) -> ZoneInfo | None:
    """The time zone called `name` (IANA, e.g. ``Europe/Moscow``), or None for none."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConversionError(f"unknown time zone {show_value(name)} (expected e.g. Europe/Moscow)") from None


def _localize(value: datetime, tz: ZoneInfo | None) -> datetime:
    if value.tzinfo is not None:
        return value
    return value.replace(tzinfo=tz or UTC)


def _from_timestamp(number: float) -> datetime:
    if abs(number) >= _MILLIS_THRESHOLD:
        number /= 1000
    try:
        return datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ConversionError(
            f"{show_value(number)} is out of range for a unix timestamp",
            code="timestamp_out_of_range",
            params={"value": show_value(number)},
        ) from None


def parse_datetime(value: Any, formats: Sequence[str] | None = None, timezone: str | None = None) -> datetime | date:
    """A point in time (aware datetime) or a calendar date from a value.

    With `formats` (strptime patterns) the text must match one of them; without,
    ISO 8601, unix timestamps (seconds or milliseconds), RFC 2822 and the common
    ``dd.mm.yyyy [hh:mm[:ss]]`` forms are accepted. A date and time without an
    offset is taken in `timezone` (UTC when not given). A value with no time part
    (``27.11.2026``, ``2026-11-27``) stays a calendar date, so it is not shifted
    to another day by a time zone.
    """
    tz = zone(timezone)
    if not isinstance(value, str):
        return _datetime_from_object(value, tz)
    text = value.strip()
    if formats:
        parsed = _strptime_first(text, formats, tz)
        if parsed is None:
            shown = " or ".join(formats)
            raise ConversionError(
                f"{show_value(value)} is not a date in the format {shown}",
                code="not_a_date_in_format",
                params={"value": show_value(value), "format": shown},
            )
        return parsed
    return _datetime_from_text(value, text, tz)


def _datetime_from_object(value: Any, tz: ZoneInfo | None) -> datetime | date:
    """A datetime, a date or a unix timestamp (not text)."""
    if isinstance(value, datetime):
        return _localize(value, tz)
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise ConversionError(
            f"{show_value(value)} is not a date", code="not_a_date", params={"value": show_value(value)}
        )
    if isinstance(value, int | float | Decimal):
        return _from_timestamp(float(value))
    raise ConversionError(f"{show_value(value)} is not a date", code="not_a_date", params={"value": show_value(value)})


def _strptime_first(text: str, formats: Sequence[str], tz: ZoneInfo | None) -> datetime | date | None:
    """`text` read with the first of `formats` it matches (a date when the format has no time), else None."""
    for fmt in formats:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if not _TIME_DIRECTIVE.search(fmt):
            return parsed.date()
        return _localize(parsed, tz)
    return None


def _datetime_from_text(value: str, text: str, tz: ZoneInfo | None) -> datetime | date:
    """`text` (`value` stripped) in any of the forms accepted without a format."""
    if _TIMESTAMP.match(text):
        return _from_timestamp(float(text))
    if _ISO_DATE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ConversionError(
                f"{show_value(value)} is not a valid date", code="not_a_valid_date", params={"value": show_value(value)}
            ) from None
    try:
        return _localize(datetime.fromisoformat(text), tz)
    except ValueError:
        pass
    parsed = _strptime_first(text, _FALLBACK_FORMATS, tz)
    if parsed is not None:
        return parsed
    try:
        return _localize(parsedate_to_datetime(text), tz)
    except (TypeError, ValueError, IndexError):
        pass
    raise ConversionError(
        f"{show_value(value)} is not a date (give the format, e.g. %d.%m.%Y, or send ISO 8601)",
        code="not_a_date_no_format",
        params={"value": show_value(value)},
    )


def as_utc_datetime(value: datetime | date) -> datetime:
    """A date or datetime as an aware UTC datetime (a calendar date at 00:00 UTC)."""
    if isinstance(value, datetime):
        return _localize(value, None).astimezone(UTC)
    return datetime.combine(value, time(0, 0), tzinfo=UTC)


# --------------------------------------------------------------------------- phones


def normalize_phone(value: Any, region: str | None = None, strict: bool = True) -> str:
    """A phone number in E.164 (``+79161234567``) with the `phonenumbers` library.

    `region` (ISO 3166 code, e.g. ``RU``) is used for numbers written without a
    country code (``8 (916) 123-45-67``). `strict` also checks that the number
    exists in the country's numbering plan, not only that its length is possible.
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConversionError(
            f"{show_value(value)} is not a phone number", code="not_a_phone", params={"value": show_value(value)}
        )
    text = str(value).strip()
    try:
        number = phonenumbers.parse(text, region.upper() if region else None)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE and not region:
            raise ConversionError(
                f"{show_value(text)} has no country code (+…) and no default region is set for phones",
                code="phone_no_country",
                params={"value": show_value(text)},
            ) from None
        raise ConversionError(
            f"{show_value(text)} is not a phone number", code="not_a_phone", params={"value": show_value(text)}
        ) from None
    if not phonenumbers.is_possible_number(number):
        raise ConversionError(
            f"{show_value(text)} is not a phone number (wrong number of digits)",
            code="phone_wrong_length",
            params={"value": show_value(text)},
        )
    if strict and not phonenumbers.is_valid_number(number):
        raise ConversionError(
            f"{show_value(text)} is not a valid phone number", code="phone_invalid", params={"value": show_value(text)}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


__all__ = [
    "as_utc_datetime",
    "format_datetime_utc",
    "format_decimal",
    "is_blank",
    "normalize_phone",
    "parse_boolean",
    "parse_datetime",
    "parse_number",
    "show_value",
    "to_text",
    "zone",
]
