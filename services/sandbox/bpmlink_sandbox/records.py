"""Server-side record rules: defaults on insert, Contact name parts, derived columns (§3.4, §8.6)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .schema import FILE_PARENTS, MIN_DATE, Entity
from .values import parse_dt

SUPERVISOR_CONTACT = "410006e1-ca4e-4502-a9ec-e54d922d2c00"
OUR_COMPANY = "e308b781-3c5b-4ecb-89ef-5c1ed4da488e"
ENGLISH = "6ebc31fa-ee6c-48e9-81bf-8003ac03b019"
TASK_TYPE = "fbe0acdc-cfc0-df11-b00f-001d60e938c6"
TODO_CATEGORY = "f2c0ce0e-cfc1-df11-b00f-001d60e938c6"
NOT_STARTED = "384d4b84-58e6-df11-971b-001d60e938c6"
MEDIUM_PRIORITY = "ab96fa02-7fe6-df11-971b-001d60e938c6"
FILE_TYPE = "529bc2f8-0ee0-df11-971b-001d60e938c6"  # FileType "File" (an uploaded body)
LINK_TYPE = "539bc2f8-0ee0-df11-971b-001d60e938c6"  # FileType "Link" (a URL, no body)
FILE_ENTITIES = tuple(f"{p}File" for p in FILE_PARENTS)

# Schema defaults applied when a POST omits the column (the lookup columns' default values).
SCHEMA_DEFAULTS: dict[str, dict[str, Any]] = {
    "Contact": {"LanguageId": ENGLISH, "Confirmed": True},
    "Activity": {
        "TypeId": TASK_TYPE, "ActivityCategoryId": TODO_CATEGORY, "StatusId": NOT_STARTED,
        "PriorityId": MEDIUM_PRIORITY, "ShowInScheduler": True,
    },
    **{name: {"TypeId": FILE_TYPE, "Version": 1} for name in FILE_ENTITIES},
}


def split_name(name: str) -> tuple[str, str, str]:
    """`"API Test"` → (GivenName "API", Surname "Test", MiddleName ""), the en-US name format."""
    parts = name.split()
    if not parts:
        return "", "", ""
    if len(parts) == 1:
        return parts[0], "", ""
    return parts[0], parts[-1], " ".join(parts[1:-1])


def join_name(given: str, middle: str, surname: str) -> str:
    return " ".join(p for p in (given, middle, surname) if p)


def age_from(birth: str, today: datetime) -> int:
    if not birth or birth == MIN_DATE:
        return 0
    b = parse_dt(birth)
    years = today.year - b.year - ((today.month, today.day) < (b.month, b.day))
    return max(years, 0)


def empties(entity: Entity) -> dict[str, Any]:
    """Every (non-stream) column with its empty value; cached until columns are added."""
    cached = entity.cache.get("empties")
    if cached is None or cached[0] != len(entity.columns):
        cached = (len(entity.columns), {p: c.empty() for p, c in entity.columns.items() if c.kind != "stream"})
        entity.cache["empties"] = cached
    result: dict[str, Any] = cached[1]
    return result


def _template(entity: Entity) -> dict[str, Any]:
    cached = entity.cache.get("template")
    if cached is None or cached[0] != len(entity.columns):
        row = dict(empties(entity))
        row.update({k: v for k, v in SCHEMA_DEFAULTS.get(entity.name, {}).items() if k in row})
        cached = (len(entity.columns), row)
        entity.cache["template"] = cached
    result: dict[str, Any] = cached[1]
    return result


def sparse(entity: Entity, row: dict[str, Any]) -> dict[str, Any]:
    """The stored form: only values that differ from the column's empty value."""
    empty = empties(entity)
    return {k: v for k, v in row.items() if k not in empty or v != empty[k] or type(v) is not type(empty[k])}


def inflate(entity: Entity, stored: dict[str, Any]) -> dict[str, Any]:
    row = dict(empties(entity))
    row.update(stored)
    return row


def new_row(
    entity: Entity, values: dict[str, Any], *, stamp: str, caller: str, today: datetime | None = None
) -> dict[str, Any]:
    """A complete row: every column present, schema defaults or empty values where nothing was given."""
    row = dict(_template(entity))
    row.update(values)
    row["CreatedOn"] = row["ModifiedOn"] = stamp
    row["CreatedById"] = row["ModifiedById"] = caller
    row["ProcessListeners"] = 0
    if entity.has_owner() and "OwnerId" not in values:
        row["OwnerId"] = caller
    if entity.name == "Activity" and "AuthorId" not in values:
        row["AuthorId"] = caller
    apply_rules(entity, row, set(values), today or datetime.now(UTC))
    return row


def apply_rules(entity: Entity, row: dict[str, Any], changed: set[str], today: datetime) -> None:
    """Derived columns: Contact Name ↔ GivenName/Surname/MiddleName, Age from BirthDate."""
    if entity.name == "Contact":
        if "Name" in changed:
            row["GivenName"], row["Surname"], row["MiddleName"] = split_name(row["Name"])
        elif changed & {"GivenName", "Surname", "MiddleName"}:
            row["Name"] = join_name(row["GivenName"], row["MiddleName"], row["Surname"])
        if "BirthDate" in changed or "Age" not in changed:
            row["Age"] = age_from(row.get("BirthDate", ""), today)
    if entity.name == "Lead" and not row.get("LeadName") and (row.get("Contact") or row.get("Account")):
        row["LeadName"] = ", ".join(p for p in (row.get("Contact"), row.get("Account")) if p)
