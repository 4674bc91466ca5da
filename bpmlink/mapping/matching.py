"""How a match value compares: one normalisation for the event's value and the stored one.

`compare[field].as` says how: ``exact`` (text trimmed and case-folded, GUIDs and numbers as
they are), ``phone`` (by the number, not the text), ``email`` (trimmed, any case, optionally
Gmail's aliases), ``text`` (trimmed, optionally case- and ё/е-insensitive).

Each kind gives a *lock key* (`lock_value`) and an equality (`same`). The lock key is never finer
than the equality — two values that are `same` always have one lock key — so every event that
could match one record takes one lock (invariant 3). Phones are keyed by their last
`PHONE_TAIL` digits, as Creatio's own telephony search compares them (docs/creatio-phone-search.md).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Final

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field

from bpmlink.mapping.values import to_text

PHONE_TAIL: Final = 10  # Creatio's SearchNumberLength: numbers compare by their last digits
_NON_DIGITS = re.compile(r"\D+")
_GMAIL_DOMAINS: Final = frozenset({"gmail.com", "googlemail.com"})


class CompareAs(StrEnum):
    EXACT = "exact"
    PHONE = "phone"
    EMAIL = "email"
    TEXT = "text"


class Compare(BaseModel):
    """One field's `compare` entry: ``{"as": "email", "gmail": false}``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True)

    as_: CompareAs = Field(CompareAs.EXACT, alias="as")
    gmail: bool = False  # email: googlemail.com = gmail.com, and dots in a Gmail name ignored
    ignore_case: bool = False  # text: «Анна» = «анна»
    ignore_yo: bool = False  # text: «Алёна» = «Алена»
    region: str | None = Field(None, pattern=r"^[A-Za-z]{2}$")  # phone: for numbers without +country


def phone_tail(value: Any) -> str | None:
    """The last PHONE_TAIL digits of a phone number (all of them if fewer); None without digits."""
    digits = _NON_DIGITS.sub("", to_text(value))
    return digits[-PHONE_TAIL:] or None


def phone_e164(value: Any, region: str | None) -> str | None:
    """The number in E.164 if it can be read as one (with `region` for a national form), else None."""
    try:
        number = phonenumbers.parse(to_text(value).strip(), region.upper() if region else None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email_key(value: Any, gmail: bool = False) -> str:
    text = to_text(value).strip().casefold()
    if not gmail or text.count("@") != 1:
        return text
    name, domain = text.split("@")
    if domain in _GMAIL_DOMAINS:
        return f"{name.split('+')[0].replace('.', '')}@gmail.com"
    return text


def gmail_forms(value: Any) -> list[str]:
    """A Gmail address's canonical forms at both of Gmail's domains (none for another address)."""
    key = email_key(value, gmail=True)
    if not key.endswith("@gmail.com") or key.count("@") != 1:
        return []
    name = key.removesuffix("@gmail.com")
    return [f"{name}@{domain}" for domain in sorted(_GMAIL_DOMAINS)]


def text_key(value: Any, compare: Compare) -> str:
    text = " ".join(to_text(value).split())  # trimmed, inner runs of spaces as one
    if compare.ignore_case:
        text = text.casefold()
    if compare.ignore_yo:
        text = text.replace("ё", "е").replace("Ё", "Е")
    return text


def lock_value(value: Any, compare: Compare) -> str:
    """The value's part of a lock key: equal for every two values that are `same`."""
    match compare.as_:
        case CompareAs.PHONE:
            return phone_tail(value) or ""
        case CompareAs.EMAIL:
            return email_key(value, compare.gmail)
        case CompareAs.TEXT:
            return text_key(value, compare.model_copy(update={"ignore_case": True, "ignore_yo": True}))
        case _:
            return to_text(value).strip().casefold()


def same(stored: Any, new: Any, compare: Compare) -> bool:
    """Whether a stored value matches the event's value under `compare`."""
    if stored is None or new is None:
        return False
    match compare.as_:
        case CompareAs.PHONE:
            return same_phone(stored, new, compare.region)
        case CompareAs.EMAIL:
            return email_key(stored, compare.gmail) == email_key(new, compare.gmail) != ""
        case CompareAs.TEXT:
            return text_key(stored, compare) == text_key(new, compare) != ""
        case _:
            return to_text(stored).strip().casefold() == to_text(new).strip().casefold()


def same_phone(stored: Any, new: Any, region: str | None = None) -> bool:
    """One number: equal E.164 forms where both can be read, else equal last digits."""
    tails = phone_tail(stored), phone_tail(new)
    if tails[0] is None or tails[0] != tails[1]:
        return False
    full = phone_e164(stored, region), phone_e164(new, region)
    if full[0] is not None and full[1] is not None:
        return full[0] == full[1]
    return True


def search_number(value: Any) -> str:
    """The value of Creatio's `SearchNumber` for a stored number: its digits, reversed."""
    return _NON_DIGITS.sub("", to_text(value))[::-1]


def search_prefix(value: Any) -> str | None:
    """What a `SearchNumber` starts with for every form of this number (its tail, reversed)."""
    tail = phone_tail(value)
    return tail[::-1] if tail else None


def text_fragment(value: Any, compare: Compare) -> str:
    """A piece every matching stored text contains in lower case (for a `contains` search):
    the longest run of the normalised value without е/ё when those are ignored."""
    text = text_key(value, compare.model_copy(update={"ignore_case": True, "ignore_yo": False})).lower()
    if not compare.ignore_yo:
        return text
    return max(re.split(r"[её]", text), key=len)
