"""The duplicate search of one record: a query per match group, and what each found.

Takes (entity, policy, values, fields) and nothing of a bundle, so each step of a bundle can
search with its own policy. The query narrows the candidates on bpm'online's side; `matching`
then confirms each candidate with the same normalisation the event's value had, so a
differently written value matches and a different one never does.

Phones: where the instance has Creatio's communication entity (`ContactCommunication`,
`AccountCommunication`) with its `SearchNumber` column (the number's digits reversed), a phone is
searched there as Creatio's telephony does — by the start of `SearchNumber`, i.e. the number's
last digits — whatever the format it was typed in; elsewhere by the exact value the mapping
wrote (the normalised E.164), and the answer says so (`phone_search`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bpmlink.bpmonline.client import BpmClient
from bpmlink.bpmonline.filters import Expr, F
from bpmlink.bpmonline.metadata import Metadata
from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.mapping.dedup import DedupPolicy, OnSeveral, group_values
from bpmlink.mapping.matching import CompareAs, gmail_forms, same, search_prefix, text_fragment
from bpmlink.mapping.types import TargetField

MATCH_LIMIT = 20  # records read per group; several matches are reported by count
SEARCH_COLUMN = "SearchNumber"


class PhoneSearch(StrEnum):
    SEARCH_COLUMN = "search_column"  # through <Entity>Communication.SearchNumber
    EXACT_FALLBACK = "exact_fallback"  # the instance has no such column: the mapped value, exactly


def communication_entity(metadata: Metadata, entity: str) -> str | None:
    """`<entity>Communication` if the instance has it with `SearchNumber` and a lookup to `entity`."""
    info = metadata.entities.get(f"{entity}Communication")
    if info is None or SEARCH_COLUMN not in info.fields or info.lookups.get(f"{entity}Id") != entity:
        return None
    return info.name


@dataclass(frozen=True)
class GroupQuery:
    """One group's search: the entity queried and its parameters. `via` is the lookup to the
    record when the query runs on the communication entity (the record comes expanded)."""

    index: int
    values: dict[str, Any]
    entity: str
    params: dict[str, str]
    via: str | None = None
    phone_field: str | None = None


@dataclass(frozen=True)
class GroupFound:
    """What the first group that found anything found (newest first), for the decision and history."""

    index: int
    values: dict[str, Any]
    records: list[dict[str, Any]]


def phone_search_of(policy: DedupPolicy, comm_entity: str | None) -> PhoneSearch | None:
    """How this policy's phones are searched (None: it has no phone field)."""
    if not any(policy.compare_of(name).as_ == CompareAs.PHONE for name in policy.fields):
        return None
    return PhoneSearch.SEARCH_COLUMN if comm_entity else PhoneSearch.EXACT_FALLBACK


def group_queries(
    client: BpmClient,
    entity: str,
    policy: DedupPolicy,
    values: dict[str, Any],
    fields: dict[str, TargetField],
    comm_entity: str | None,
    extra: Sequence[str] = (),
) -> list[GroupQuery]:
    """A query for each group whose values are all there (an empty value never matches); `extra`:
    columns later bundle steps read of the record found."""
    queries = []
    select = sorted({"Id", "ModifiedOn", *policy.fields, *values, *(c for c in extra if c in fields)})
    for index in range(len(policy.match)):
        found = group_values(policy, index, values)
        if found is None:
            continue
        phone = next((n for n in found if policy.compare_of(n).as_ == CompareAs.PHONE), None)
        if phone is not None and comm_entity is not None and search_prefix(found[phone]):
            params = client.query_params(
                comm_entity,
                filter=F.startswith(SEARCH_COLUMN, search_prefix(found[phone]) or ""),
                select=["Id", "Number", f"{entity}Id"],
                expand=[entity],
                top=MATCH_LIMIT,
            )
            queries.append(GroupQuery(index, found, comm_entity, params, via=entity, phone_field=phone))
            continue
        params = client.query_params(
            entity,
            filter=F.and_(*(_condition(policy, name, value, fields) for name, value in found.items())),
            select=select,
            # The MATCH_LIMIT read are the newest, or for on_several=oldest the oldest, of all that match.
            orderby=["ModifiedOn asc" if policy.on_several == OnSeveral.OLDEST else "ModifiedOn desc", "Id"],
            top=MATCH_LIMIT,
        )
        queries.append(GroupQuery(index, found, entity, params))
    return queries


def _condition(policy: DedupPolicy, name: str, value: Any, fields: dict[str, TargetField]) -> Expr:
    field, compare = fields.get(name), policy.compare_of(name)
    if field is not None and field.lookup_entity:
        return F.eq_lookup(name, value)  # lookups filter through the navigation path
    text_column = isinstance(value, str) and (field is None or field.type == "Edm.String")
    if text_column and compare.as_ == CompareAs.EMAIL:
        # Gmail: the address as sent and its canonical forms at both domains (a stored form with
        # other dots is not found by bpm'online's filter: docs/creatio-phone-search.md).
        forms = {value.strip().lower(), *gmail_forms(value)} if compare.gmail else {value.strip().lower()}
        return F.or_(*(F.eq_ignore_case(name, form) for form in sorted(forms)))
    if text_column and compare.as_ == CompareAs.TEXT:
        return F.contains_ignore_case(name, text_fragment(value, compare))  # narrowed; `matching` confirms
    if text_column and "@" in value and compare.as_ == CompareAs.EXACT:
        return F.eq_ignore_case(name, value)  # e-mails match whatever their case (round 1)
    return F.eq(name, value)


def confirmed(policy: DedupPolicy, query: GroupQuery, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records of a group's answer that match by `matching`, once each, newest first."""
    records: dict[str, dict[str, Any]] = {}
    for row in rows:
        record = row.get(query.via) if query.via else row
        if not isinstance(record, dict) or record.get("Id") is None:
            continue
        ok = all(
            same(row.get("Number") if name == query.phone_field else record.get(name), value, policy.compare_of(name))
            for name, value in query.values.items()
            if policy.compare_of(name).as_ != CompareAs.EXACT
        )
        if ok:
            records.setdefault(str(record["Id"]).lower(), record)
    ordered = sorted(records.values(), key=lambda r: str(r.get("Id")))
    return sorted(ordered, key=lambda r: str(r.get("ModifiedOn") or ""), reverse=True)


def first_found(
    policy: DedupPolicy, queries: list[GroupQuery], answers: list[list[dict[str, Any]]]
) -> GroupFound | None:
    """The first group (in the policy's order) that found a record."""
    for query, rows in zip(queries, answers, strict=True):
        records = confirmed(policy, query, rows)
        if records:
            return GroupFound(query.index, query.values, records)
    return None


async def search(
    client: BpmClient,
    entity: str,
    policy: DedupPolicy,
    values: dict[str, Any],
    fields: dict[str, TargetField],
    comm_entity: str | None,
    recorder: StepRecorder,
    extra: Sequence[str] = (),
) -> GroupFound | None:
    """Every group's search, one request each, in order until one finds (read-only)."""
    for query in group_queries(client, entity, policy, values, fields, comm_entity, extra):
        rows = await client.query_with_params(query.entity, query.params, recorder=recorder)
        found = first_found(policy, [query], [rows])
        if found is not None:
            return found
    return None
