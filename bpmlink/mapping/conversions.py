"""Conversions a user chains on a rule's value without writing code.

In a rule, ``"convert"`` is a list of steps, each either a bare name or an object
with the name and its arguments::

    "convert": ["trim", "lower"]
    "convert": [{"name": "date", "format": "%d.%m.%Y", "timezone": "Europe/Moscow"}]

Steps run in order. ``None`` passes through every step except ``default``,
``first_non_empty`` and ``value_map``; an empty or blank string counts as "no
value" for the parsing steps (number, boolean, date, phone_e164), which give
``None`` rather than failing. Applied to a list (e.g. after ``split``), the
per-value steps (trim, lower, upper, number, boolean, date, phone_e164,
value_map, truncate) convert each element.

The parsers (`parse_number`, `parse_boolean`, `parse_datetime`,
`normalize_phone`, `to_text`) are public: coercion, filters and template
filters use the same rules, so a value reads the same everywhere.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, Final, Literal
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)

from bpmlink.mapping.errors import ConversionError
from bpmlink.mapping.paths import get_path, parse_path

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
        raise ConversionError(f"{show_value(value)} is a yes/no value, not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConversionError(f"{show_value(value)} is not a finite number")
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ConversionError(f"{show_value(value)} is not a finite number")
        return value
    if not isinstance(value, str):
        raise ConversionError(f"{show_value(value)} is not a number")
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
        raise ConversionError(f"{show_value(value)} is not a number")
    try:
        result = Decimal(text)
    except InvalidOperation:
        raise ConversionError(f"{show_value(value)} is not a number") from None
    if not result.is_finite() or abs(result.adjusted()) > _MAX_EXPONENT:
        raise ConversionError(f"{show_value(value)} is out of range for a number")
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
        f"{show_value(value)} is not a yes/no value (expected e.g. yes/no, true/false, 1/0, да/нет)"
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
        raise ConversionError(f"{show_value(number)} is out of range for a unix timestamp") from None


def parse_datetime(
    value: Any, formats: Sequence[str] | None = None, timezone: str | None = None
) -> datetime | date:
    """A point in time (aware datetime) or a calendar date from a value.

    With `formats` (strptime patterns) the text must match one of them; without,
    ISO 8601, unix timestamps (seconds or milliseconds), RFC 2822 and the common
    ``dd.mm.yyyy [hh:mm[:ss]]`` forms are accepted. A date and time without an
    offset is taken in `timezone` (UTC when not given). A value with no time part
    (``27.11.2026``, ``2026-11-27``) stays a calendar date, so it is not shifted
    to another day by a time zone.
    """
    tz = zone(timezone)
    if isinstance(value, datetime):
        return _localize(value, tz)
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise ConversionError(f"{show_value(value)} is not a date")
    if isinstance(value, int | float | Decimal):
        return _from_timestamp(float(value))
    if not isinstance(value, str):
        raise ConversionError(f"{show_value(value)} is not a date")
    text = value.strip()
    if formats:
        for fmt in formats:
            try:
                parsed = datetime.strptime(text, fmt)  # noqa: DTZ007 - localized just below
            except ValueError:
                continue
            if not _TIME_DIRECTIVE.search(fmt):
                return parsed.date()
            return _localize(parsed, tz)
        shown = " or ".join(formats)
        raise ConversionError(f"{show_value(value)} is not a date in the format {shown}")
    if _TIMESTAMP.match(text):
        return _from_timestamp(float(text))
    if _ISO_DATE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ConversionError(f"{show_value(value)} is not a valid date") from None
    try:
        return _localize(datetime.fromisoformat(text), tz)
    except ValueError:
        pass
    for fmt in _FALLBACK_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt)  # noqa: DTZ007
        except ValueError:
            continue
        return parsed.date() if not _TIME_DIRECTIVE.search(fmt) else _localize(parsed, tz)
    try:
        return _localize(parsedate_to_datetime(text), tz)
    except (TypeError, ValueError, IndexError):
        pass
    raise ConversionError(
        f"{show_value(value)} is not a date (give the format, e.g. %d.%m.%Y, or send ISO 8601)"
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
        raise ConversionError(f"{show_value(value)} is not a phone number")
    text = str(value).strip()
    try:
        number = phonenumbers.parse(text, region.upper() if region else None)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE and not region:
            raise ConversionError(
                f"{show_value(text)} has no country code (+…) and no default region is set for phones"
            ) from None
        raise ConversionError(f"{show_value(text)} is not a phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise ConversionError(f"{show_value(text)} is not a phone number (wrong number of digits)")
    if strict and not phonenumbers.is_valid_number(number):
        raise ConversionError(f"{show_value(text)} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --------------------------------------------------------------------------- steps


@dataclass(frozen=True)
class ConversionContext:
    """What a step may need besides the value: the whole item and bundle settings."""

    item: Any = None
    default_phone_region: str | None = None


def _each(value: Any, fn: Callable[[Any], Any]) -> Any:
    """Apply a per-value step to a value, or to every element of a list."""
    if isinstance(value, list | tuple):
        return [fn(v) for v in value]
    return fn(value)


def _blank_to_none(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda v: None if is_blank(v) else fn(v)


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str

    def apply(self, value: Any, ctx: ConversionContext) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


class Trim(_Step):
    """Remove spaces at both ends."""

    name: Literal["trim"] = "trim"

    def apply(self, value: Any, ctx: ConversionContext) -> Any:
        return _each(value, lambda v: v.strip() if isinstance(v, str) else v)


class Lower(_Step):
    """Lower-case text (any alphabet)."""

    name: Literal["lower"] = "lower"

    def apply(self, value: Any, ctx: ConversionContext) -> Any:
        return _each(value, lambda v: v.lower() if isinstance(v, str) else v)


class Upper(_Step):
    """Upper-case text (any alphabet)."""

    name: Literal["upper"] = "upper"

    def apply(self, value: Any, ctx: ConversionContext) -> Any:
        return _each(value, lambda v: v.upper() if isinstance(v, str) else v)


class ToNumber(_Step):
    """Text to a number; see `parse_number`. Gives a Decimal."""

    name: Literal["number"] = "number"
    decimal: Literal["auto", ",", "."] = "auto"

    def apply(self, value: Any, ctx: ConversionContext) -> Any:
        return _each(value, _blank_to_none(lambda v: parse_number(v, self.decimal)))


class ToBoolean(_Step):
    """Text to yes/no; see `parse_boolean`."""

    name: Literal["boolean"] = "boolean"

    def apply(self, value: Any, ctx: ConversionContext) -> Any:
        return _each(value, _blank_to_none(parse_boolean))


class ToDate(_Step):
    """Text or a timestamp to a date/time; see `parse_datetime`.

    ``format`` is one strptime pattern or a list of them to try in order;
    ``timezone`` is the zone the source writes local times in.
    """

    name: Literal["date"] = "date"
    format: str | list[str] | None = None
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        zone(value)  # raises ConversionError (a ValueError): pydantic reports it on this field
        return value

    @field_validator("format")
    @classmethod
    def _has_directive(cls, value: str | list[str] | None) -> str | list[str] | None:
        for fmt in [value] if isinstance(value, str) else value or []:
            if "%" not in fmt:
                raise ValueError(f"the date format {fmt!r} has no %-codes (e.g. %d.%m.%Y)")
        return value

    def apply(self, value: Any, ctx: ConversionContext) -> Any:
        formats = [self.format] if isinstance(self.format, str) else self.format
        return _each(value, _blank_to_none(lambda v: parse_datetime(v, formats, self.timezone)))


class PhoneE164(_Step):
    """A phone number to E.164; ``region`` defaults to the bundle's default region."""

    name: Literal["phone_e164"] = "phone_e164"
    region: str | None = None
    strict: bool = True

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        if value is not None and value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown phone region {value!r} (expected a country code such as RU)")
        return value.upper() if value else value

    def apply(self, value: Any, ctx: ConversionContext) -> Any:
        region = self.region or ctx.default_phone_region
        return _each(value, _blank_to_none(lambda v: normalize_phone(v, region, self.strict)))


class Default(_Step):
    """Use ``value`` when there is no value (None, blank text, empty list)."""

    name: Literal["default"] = "default"
    value: Any

    def apply(self, value: Any, ctx: ConversionContext) -> Any:
        return self.value if is_blank(value) else value


class FirstNonEmpty(_Step):
    """Keep the value if there is one, else take the first non-empty of ``sources`` (paths)."""

    name: Literal["first_non_empty"] = "first_non_empty"
    sources: list[str] = Field(min_length=1)

    @field_validator("sources")
    @classmethod
    def _valid_paths(cls, value: list[str]) -> list[str]:
        for path in value:
            parse_path(path)
        return value

    def apply(self, value: Any, ctx: ConversionContext) -> Any:
        if not is_blank(value):
            return value
        for path in self.sources:
            candidate = get_path(ctx.item, path)
            if not is_blank(candidate):
                return candidate
        return None


class Split(_Step):
    """Text to a list at ``sep``; parts are trimmed and empty parts dropped."""

    name: Literal["split"] = "split"
    sep: str = Field(default=",", min_length=1)

    def apply(self, value: Any, ctx: ConversionContext) -> Any:
        if not isinstance(value, str):
            return value
        return [part.strip() for part in value.split(self.sep) if part.strip()]


class Join(_Step):
    """A list to text joined with ``sep``, skipping empty elements."""

    name: Literal["join"] = "join"
    sep: str = " "

    def apply(self, value: Any, ctx: ConversionContext) -> Any:
        if not isinstance(value, list | tuple):
            return value
        return self.sep.join(to_text(v) for v in value if not is_blank(v))


class ValueMap(_Step):
    """Replace a value by the one the map gives for it (e.g. ``"site"`` → a lookup id).

    Keys are matched as trimmed text, ignoring case unless ``case_sensitive``. A
    value not in the map takes ``default`` when one is given (``null`` included),
    and is an error otherwise. No value stays no value unless ``""`` is a key.
    """

    name: Literal["value_map"] = "value_map"
    map: dict[str, Any]
    default: Any = None
    case_sensitive: bool = False

    @model_serializer(mode="wrap")
    def _without_unset_default(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # "no default" (an error) and "default null" differ, so a dump must keep them apart.
        data: dict[str, Any] = handler(self)
        if "default" not in self.model_fields_set:
            data.pop("default", None)
        return data

    def _key(self, value: Any) -> str:
        text = to_text(value).strip()
        return text if self.case_sensitive else text.lower()

    def apply(self, value: Any, ctx: ConversionContext) -> Any:
        table = {self._key(k): v for k, v in self.map.items()}

        def one(v: Any) -> Any:
            key = self._key(v)
            if key in table:
                return table[key]
            if is_blank(v):
                return None
            if "default" in self.model_fields_set:
                return self.default
            known = ", ".join(repr(k) for k in list(self.map)[:10])
            raise ConversionError(f"{show_value(v)} is not in the value map (known: {known})")

        return _each(value, one)


class Truncate(_Step):
    """Cut text to at most ``length`` characters (a too-long value is otherwise an error)."""

    name: Literal["truncate"] = "truncate"
    length: int = Field(ge=1)

    def apply(self, value: Any, ctx: ConversionContext) -> Any:
        return _each(value, lambda v: v[: self.length] if isinstance(v, str) else v)


Conversion = Annotated[
    Trim | Lower | Upper | ToNumber | ToBoolean | ToDate | PhoneE164 | Default | FirstNonEmpty
    | Split | Join | ValueMap | Truncate,
    Field(discriminator="name"),
]

# Other spellings users type; the canonical name is stored.
ALIASES: dict[str, str] = {
    "strip": "trim",
    "lowercase": "lower",
    "uppercase": "upper",
    "to_number": "number",
    "to_boolean": "boolean",
    "bool": "boolean",
    "datetime": "date",
    "to_date": "date",
    "phone": "phone_e164",
    "coalesce": "first_non_empty",
    "map": "value_map",
}


def normalize_step(raw: Any) -> Any:
    """``"trim"`` → ``{"name": "trim"}``; aliases to canonical names (a pydantic before-hook)."""
    if isinstance(raw, str):
        raw = {"name": raw}
    if isinstance(raw, Mapping) and isinstance(raw.get("name"), str):
        name = raw["name"].strip().lower()
        raw = {**raw, "name": ALIASES.get(name, name)}
    return raw


def run_conversions(
    value: Any, steps: Sequence[_Step], ctx: ConversionContext, field: str | None = None
) -> Any:
    """Run `steps` in order; a failing step raises ConversionError naming the step
    and, when given, the target `field`."""
    for step in steps:
        try:
            value = step.apply(value, ctx)
        except ConversionError as exc:
            raise ConversionError(f"{step.name}: {exc.message}", field=field) from None
    return value


__all__ = [
    "ALIASES",
    "Conversion",
    "ConversionContext",
    "Default",
    "FirstNonEmpty",
    "Join",
    "Lower",
    "PhoneE164",
    "Split",
    "ToBoolean",
    "ToDate",
    "ToNumber",
    "Trim",
    "Truncate",
    "Upper",
    "ValueMap",
    "as_utc_datetime",
    "format_datetime_utc",
    "format_decimal",
    "is_blank",
    "normalize_phone",
    "normalize_step",
    "parse_boolean",
    "parse_datetime",
    "parse_number",
    "run_conversions",
    "to_text",
    "zone",
]
