"""The save checks of a bundle's steps, each problem naming its step (`loc`: body, steps, i, …).

Before any request: the steps' order and references (`check_steps`), their caps, and that each
step's connection is a bpm'online connection of this workspace (another workspace's id reads as an
unknown one). Then against each connection's $metadata: the entity, the mapping's targets, the
required fields of a create, the dedup policy. A process's parameters and a file's two fields are
checked by name only: $metadata does not describe them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

from bpmlink.bpmonline.client import BpmClient
from bpmlink.bpmonline.metadata import Metadata
from bpmlink.bundle_steps import ENTITY_NAME, MAX_STEPS, BundleStep, StepAction, check_steps
from bpmlink.connections import bpm_connection, get_connection
from bpmlink.db.models import Connection
from bpmlink.mapping.budget import MAX_RULES, too_many
from bpmlink.mapping.dedup import DedupMode, check_policy
from bpmlink.mapping.errors import FieldError
from bpmlink.mapping.filters import check_filter
from bpmlink.mapping.rules import check_rules, unmapped_required
from bpmlink.targets import target_fields
from bpmlink_api.deps import RequestContext

FILE_FIELDS = ("Url", "Name")  # what an attach_file step's mapping builds
_PARAMETER = re.compile(ENTITY_NAME)
_INDEX = re.compile(r"^(\w+)\[(\d+)\]$")


def step_problem(
    i: int, where: str, message: str, code: str | None, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A problem of step `i` at `where` (`mapping.LeadName`, `activity.participants[0]`)."""
    loc: list[str | int] = ["body", "steps", i]
    for part in where.split(".") if where else ():
        if (indexed := _INDEX.match(part)) is not None:
            loc += [indexed.group(1), int(indexed.group(2))]
        else:
            loc.append(part)
    problem: dict[str, Any] = {"field": ".".join(map(str, loc[1:])), "message": message, "loc": loc}
    return problem if code is None else {**problem, "code": code, "params": params or {}}


def _field_problem(i: int, prefix: str, error: FieldError) -> dict[str, Any]:
    return step_problem(i, f"{prefix}.{error.field}", error.message, error.code, error.params)


def structure_problems(steps: Sequence[BundleStep]) -> list[dict[str, Any]]:
    """Order and references (`check_steps`) and each step's caps: nothing here asks bpm'online."""
    first = {step.key: i for i, step in reversed(list(enumerate(steps)))}
    problems: list[dict[str, Any]] = []
    for p in check_steps(steps):
        if p.step in first:
            problems.append(step_problem(first[p.step], p.where, p.text, p.code, p.params))
        else:
            problems.append(
                {"field": "steps", "message": p.text, "loc": ["body", "steps"], "code": p.code, "params": p.params}
            )
    if len(steps) > MAX_STEPS:
        return problems  # no further work for a body over the cap
    for i, step in enumerate(steps):
        if len(step.mapping) > MAX_RULES:
            limit = too_many("rules", len(step.mapping), MAX_RULES)
            problems.append(step_problem(i, "mapping", limit.message, limit.code, limit.params))
        if step.condition is not None:
            problems += [step_problem(i, f"condition.{f}", m, None) for f, m in check_filter(step.condition)]
    return problems


async def connections_of(
    ctx: RequestContext, steps: Sequence[BundleStep]
) -> tuple[dict[uuid.UUID, Connection], list[dict[str, Any]]]:
    """Each step's bpm'online connection of this workspace, and a problem for each step whose is not."""
    found: dict[uuid.UUID, Connection] = {}
    problems: list[dict[str, Any]] = []
    for i, step in enumerate(steps):
        cid = step.connection_id
        if cid not in found:
            row = await get_connection(ctx.session, ctx.workspace_id, cid)
            if row is None or row.app != "bpmonline":
                message = "no bpm'online connection with this id"
                problems.append(step_problem(i, "connection_id", message, "connection_unknown", {"step": step.key}))
                continue
            found[cid] = row
    return found, problems


async def metadata_of(ctx: RequestContext, connections: dict[uuid.UUID, Connection]) -> dict[uuid.UUID, Metadata]:
    """$metadata of each connection (cached by the client as every read of it)."""
    out: dict[uuid.UUID, Metadata] = {}
    for cid, row in connections.items():
        async with BpmClient(bpm_connection(row, ctx.box), settings=ctx.settings, redis=ctx.redis) as client:
            out[cid] = await client.metadata()
    return out


def step_problems(i: int, step: BundleStep, metadata: Metadata) -> list[dict[str, Any]]:
    """One step against its connection's $metadata (or, for a process or a file, by name)."""
    if step.action == StepAction.run_process:
        return [
            step_problem(i, f"mapping.{r.target}", "not a process parameter code", "process_parameter_invalid")
            for r in step.mapping
            if not _PARAMETER.match(r.target)
        ]
    problems: list[dict[str, Any]] = []
    if step.action == StepAction.attach_file:
        targets = {r.target for r in step.mapping}
        for name in sorted(targets - set(FILE_FIELDS)):
            message = "a file step maps only Url and Name"
            problems.append(step_problem(i, f"mapping.{name}", message, "file_field_unknown", {"field": name}))
        if "Url" not in targets:
            problems.append(step_problem(i, "mapping.Url", "the file's URL must be mapped", "file_url_required"))
        if step.entity is None:
            return problems  # the file entity of the record's entity (ContactFile, …), named by the worker
    assert step.entity is not None
    info = metadata.entities.get(step.entity)
    if info is None:
        message = f"bpm'online has no entity {step.entity!r}"
        return [*problems, step_problem(i, "entity", message, "entity_unknown", {"entity": step.entity})]
    if step.action == StepAction.attach_file:
        return problems
    fields = target_fields(info)
    problems += [_field_problem(i, "mapping", e) for e in check_rules(step.mapping, fields)]
    creates = step.action == StepAction.create_activity or (
        step.action == StepAction.create_record and step.dedup.mode != DedupMode.UPDATE_ONLY
    )
    if creates:
        problems += [_field_problem(i, "mapping", e) for e in unmapped_required(step.mapping, fields)]
    if step.searches:
        problems += _dedup_problems(i, step, set(fields))
    return problems


def _dedup_problems(i: int, step: BundleStep, fields: set[str]) -> list[dict[str, Any]]:
    """Match fields the mapping or the entity lacks; an update with a policy that never updates."""
    problems = [
        step_problem(i, f"dedup.{p.field}", p.message, p.code, p.params)
        for p in check_policy(step.dedup, step.mapping)
    ]
    for n, group in enumerate(step.dedup.match):
        for name in group.fields:
            if name not in fields:
                message = f"{step.entity} has no field {name!r}"
                params = {"field": name, "group": n + 1, "entity": step.entity}
                problems.append(step_problem(i, f"dedup.{name}", message, "dedup_match_field_unknown", params))
    if step.action == StepAction.update_record and step.dedup.mode in (
        DedupMode.ALWAYS_CREATE,
        DedupMode.SKIP_IF_FOUND,
    ):
        message = "updating existing records needs update_only or update_if_found"
        problems.append(step_problem(i, "dedup.mode", message, "dedup_mode_never_updates", {"mode": step.dedup.mode}))
    return problems
