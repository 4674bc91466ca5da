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

The steps read values with the primitives of `bpmlink.mapping.values`, as
coercion, filters and template filters do, so a value reads the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)

from bpmlink.kit.messages import Message
from bpmlink.mapping.errors import ConversionError
from bpmlink.mapping.paths import get_path, parse_path
from bpmlink.mapping.values import (
    is_blank,
    normalize_phone,
    parse_boolean,
    parse_datetime,
    parse_number,
    show_value,
    to_text,
    zone,
)

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
            raise ConversionError(
                f"{show_value(v)} is not in the value map (known: {known})",
                code="not_in_value_map",
                params={"value": show_value(v), "known": known},
            )

        return _each(value, one)


class Truncate(_Step):
    """Cut text to at most ``length`` characters (a too-long value is otherwise an error)."""

    name: Literal["truncate"] = "truncate"
    length: int = Field(ge=1)

    def apply(self, value: Any, ctx: ConversionContext) -> Any:
        return _each(value, lambda v: v[: self.length] if isinstance(v, str) else v)


Conversion = Annotated[
    Trim
    | Lower
    | Upper
    | ToNumber
    | ToBoolean
    | ToDate
    | PhoneE164
    | Default
    | FirstNonEmpty
    | Split
    | Join
    | ValueMap
    | Truncate,
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


def run_conversions(value: Any, steps: Sequence[_Step], ctx: ConversionContext, field: str | None = None) -> Any:
    """Run `steps` in order; a failing step raises ConversionError naming the step
    and, when given, the target `field`."""
    for step in steps:
        try:
            value = step.apply(value, ctx)
        except ConversionError as exc:
            inner = Message(code=exc.code or "mapping_problem", params=exc.params, text=exc.message)
            params = {"step": step.name, "problem": inner.model_dump(exclude_none=True)}
            raise ConversionError(
                f"{step.name}: {exc.message}", field=field, code="conversion_failed", params=params
            ) from None
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
    "normalize_step",
    "run_conversions",
]
